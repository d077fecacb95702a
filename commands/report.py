"""``m2p report DIR`` -> ``DIR/report.html``: one self-contained page per run folder.

Per media: the palette timeline and valence/arousal plots, the sections with swatches, players
(the source audio/video, generated and recoloured videos from ``DIR/media/``), before/after
stills from ``DIR/stills/`` when there are any; then the run summary and the failures table.
Media smaller than ``--inline-mb`` are embedded as data: URIs (the page works on its own);
bigger ones are linked relatively (keep the page next to ``media/``).
"""

from __future__ import annotations

import glob
import mimetypes
import os
import tempfile
from datetime import datetime, timezone
from urllib.parse import quote

import pyarrow.dataset as ds

from commands.args import report_parser
from commands.export import read_timelines, run_dir_of
from m2p_core.outputs.naming import output_stem
from m2p_core.outputs.plots import render_timeline_png
from m2p_core.outputs.report_html import (
    MediaEntry,
    Player,
    RunFacts,
    Still,
    data_uri,
    render_report,
    va_plot_png,
)
from m2p_core.palette.sections import DEFAULT_THRESHOLD, find_sections

INLINE_LIMIT_MB = 20.0
_MIMES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
          ".mkv": "video/x-matroska", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
          ".opus": "audio/ogg", ".flac": "audio/flac", ".wav": "audio/wav", ".m4a": "audio/mp4",
          ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
_VIDEO_EXT = {".mp4", ".mov", ".webm", ".mkv"}


class _Embedder:
    """data: URIs for small local files (within a total budget), relative links otherwise."""

    def __init__(self, out_dir: str, limit_mb: float, total_mb: float) -> None:
        self.out_dir = os.path.abspath(out_dir)
        self.limit = int(limit_mb * 1e6)
        self.budget = int(total_mb * 1e6)

    def mime(self, path: str) -> str:
        ext = os.path.splitext(path)[1].lower()
        return _MIMES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"

    def src(self, path: str) -> tuple[str, bool]:
        size = os.path.getsize(path)
        if size <= self.limit and size <= self.budget:
            self.budget -= size
            with open(path, "rb") as f:
                return data_uri(f.read(), self.mime(path)), True
        rel = os.path.relpath(os.path.abspath(path), self.out_dir)
        return quote(rel.replace(os.sep, "/")), False


def _timeline_png(rows: list[dict], title: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="m2p-report-") as tmp:
        path = os.path.join(tmp, "timeline.png")
        render_timeline_png(rows, path, title=title, dpi=90)
        with open(path, "rb") as f:
            return f.read()


def _players(uri: str, out_dir: str, emb: _Embedder) -> list[Player]:
    players = []
    stem = output_stem(uri)
    media_dir = os.path.join(out_dir, "media")
    pattern = os.path.join(glob.escape(media_dir), glob.escape(stem))
    generated = sorted(glob.glob(pattern + ".*.mp4"))
    recoloured = [p for p in (os.path.join(media_dir, stem + ".mp4"),) if os.path.isfile(p)]
    for path in recoloured:
        src, inline = emb.src(path)
        players.append(Player("video", "recoloured", src, "video/mp4", inline))
    for path in generated:
        style = os.path.basename(path)[len(stem) + 1:-len(".mp4")]
        src, inline = emb.src(path)
        players.append(Player("video", f"generated · {style}", src, "video/mp4", inline))
    if os.path.isfile(uri):  # the source itself (local inputs only)
        ext = os.path.splitext(uri)[1].lower()
        src, inline = emb.src(uri)
        kind = "video" if ext in _VIDEO_EXT else "audio"
        players.append(Player(kind, f"source · {os.path.basename(uri)}", src, emb.mime(uri),
                              inline))
    return players


def _stills(uri: str, out_dir: str, emb: _Embedder) -> list[Still]:
    """Pairs ``stills/<stem>*before*.png`` / the same name with ``after``."""
    stills_dir = os.path.join(out_dir, "stills")
    if not os.path.isdir(stills_dir):
        return []
    stem = output_stem(uri)
    out = []
    for before in sorted(glob.glob(os.path.join(glob.escape(stills_dir), glob.escape(stem)
                                                + "*before*"))):
        name = os.path.basename(before)
        after = os.path.join(stills_dir, name.replace("before", "after"))
        if not os.path.isfile(after):
            continue
        label = name[len(stem):].replace("before", "").strip("._-") or "frame"
        out.append(Still(os.path.splitext(label)[0] or "frame", emb.src(before)[0],
                         emb.src(after)[0]))
    return out


def _read_failures(out_dir: str) -> list[dict]:
    fdir = os.path.join(out_dir, "failures")
    if not glob.glob(os.path.join(glob.escape(fdir), "*.parquet")):
        return []
    rows = ds.dataset(fdir, format="parquet").to_table().to_pylist()
    return sorted(rows, key=lambda r: (str(r.get("timestamp")), r.get("source_uri") or ""))


def build_report(out_dir: str, inline_mb: float = INLINE_LIMIT_MB,
                 threshold: float = DEFAULT_THRESHOLD) -> str:
    """Write ``out_dir/report.html``; returns its path."""
    emb = _Embedder(out_dir, inline_mb, total_mb=max(inline_mb * 4, 80.0))
    timelines = read_timelines(out_dir)
    entries: list[MediaEntry] = []
    windows = 0
    audio_s = 0.0
    names = [u.rstrip("/").rsplit("/", 1)[-1] for u in timelines]
    for uri, rows in sorted(timelines.items(), key=lambda kv: kv[0].rsplit("/", 1)[-1]):
        rows = sorted(rows, key=lambda r: r["window_index"])
        title = uri.rstrip("/").rsplit("/", 1)[-1]
        if names.count(title) > 1:  # same name in two folders: show the folder too
            title = "/".join(uri.rstrip("/").rsplit("/", 2)[-2:])
        duration = float(rows[0].get("duration_s") or rows[-1]["end_s"])
        windows += len(rows)
        audio_s += duration
        entries.append(MediaEntry(
            title=title, source_uri=uri, media_id=rows[0]["media_id"],
            model_version=rows[0]["model_version"], duration_s=duration, windows=len(rows),
            valence=sum(r["valence"] for r in rows) / len(rows),
            arousal=sum(r["arousal"] for r in rows) / len(rows),
            sections=find_sections(rows, threshold),
            timeline_png=_timeline_png(rows, title), va_png=va_plot_png(rows),
            players=_players(uri, out_dir, emb), stills=_stills(uri, out_dir, emb),
            anchor=f"m{len(entries) + 1}"))
    failures = _read_failures(out_dir)
    facts = RunFacts(
        output=os.path.abspath(out_dir), media=len(entries), windows=windows, audio_s=audio_s,
        generated_videos=sum(p.label.startswith("generated") for e in entries for p in e.players),
        recoloured=sum(p.label == "recoloured" for e in entries for p in e.players),
        failures=len(failures),
        model_versions=sorted({e.model_version for e in entries}),
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    page = render_report(entries, facts, failures)
    path = os.path.join(out_dir, "report.html")
    tmp = os.path.join(out_dir, f".report.html.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    args, _ = report_parser().parse(argv)
    run_dir = run_dir_of(args.dir)  # a run folder, or its timelines/ folder
    if os.path.abspath(run_dir) != os.path.abspath(args.dir):
        print(f"report: using the run folder {run_dir}")
    path = build_report(run_dir, args.inline_kb / 1000.0, args.threshold)
    print(f"report: {path}\nopen it: file://{quote(os.path.abspath(path))}")
    return 0
