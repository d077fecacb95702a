"""m2p report DIR -> DIR/report.html: one page per run folder (m2p_core/outputs/report_html.py).

Per track: the palette strip and the valence/arousal curves on one time axis, the path on
Russell's plane, the sections, players for the source and for the videos made from it
(recoloured, generated), before/after stills, links to its exports; then the failures, in
words. Media are linked relatively (the page stays in DIR, next to media/), never embedded,
except audio below ``--inline-kb``. The folders are listed once, so a catalogue of a thousand
tracks makes a page of a few megabytes in seconds.
"""

from __future__ import annotations

import json
import mimetypes
import os
import re
from collections import defaultdict
from datetime import datetime, timezone
from urllib.parse import quote

from commands.args import REPORT_AUDIO_INLINE_KB, report_parser
from commands.export import read_table, read_timelines, run_dir_of
from m2p_core.outputs.failures import by_input, display_name
from m2p_core.outputs.naming import output_stem
from m2p_core.outputs.progress import Progress
from m2p_core.outputs.report_html import (
    Link,
    MediaEntry,
    Player,
    RunFacts,
    Still,
    Timeline,
    data_uri,
    render_report,
)
from m2p_core.palette.sections import DEFAULT_THRESHOLD, find_sections

_MIMES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
          ".mkv": "video/x-matroska", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
          ".opus": "audio/ogg", ".flac": "audio/flac", ".wav": "audio/wav", ".m4a": "audio/mp4",
          ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
          ".webp": "image/webp"}
_VIDEO_EXT = {".mp4", ".mov", ".webm", ".mkv", ".m4v"}
_IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp"}
_SEP = "--"  # transforms.layout.PALETTE_SEPARATOR (not imported: it would import Beam)
#: ``<stem>-before-tNNs.png``, ``-after-`` (the recoloured video's own look) and
#: ``-after_<look>-`` (the same moment under another look, :func:`commands.demo.recolor_demo`)
_STILL = re.compile(r"-(?:(before)|after(?:_([a-z][a-z0-9]*))?)-t(\d+)s\.png$")


def _mime(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    return _MIMES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"


class _Linker:
    """Relative links from the report's folder; audio under the cap is embedded instead."""

    def __init__(self, out_dir: str, audio_inline_bytes: int) -> None:
        self.out_dir = os.path.abspath(out_dir)
        self.audio_inline = audio_inline_bytes

    def href(self, path: str) -> str:
        rel = os.path.relpath(os.path.abspath(path), self.out_dir)
        return quote(rel.replace(os.sep, "/"))

    def media(self, path: str) -> tuple[str, bool]:
        """(src, embedded): audio smaller than the cap as a data: URI, the rest linked."""
        if not _mime(path).startswith("video/") and 0 < os.path.getsize(path) < self.audio_inline:
            with open(path, "rb") as f:
                return data_uri(f.read(), _mime(path)), True
        return self.href(path), False


class _Folder:
    """One listing of a folder, by output stem (``<readable>-<12 hex>``)."""

    _STEM = re.compile(r"^(.+?-[0-9a-f]{12})(?=[.-]|$)")

    def __init__(self, path: str) -> None:
        self.path = path
        self.by_stem: dict[str, list[str]] = defaultdict(list)
        self.by_palette: dict[str, list[str]] = defaultdict(list)  # "<video>--<music>" files
        if not os.path.isdir(path):
            return
        for name in sorted(os.listdir(path)):
            if name.startswith(".") or name.endswith(".json"):
                continue
            head = self._STEM.match(name)
            if head is None:
                continue
            self.by_stem[head.group(1)].append(name)
            rest = name[len(head.group(1)):]
            if rest.startswith(_SEP):
                palette = self._STEM.match(rest[len(_SEP):])
                if palette is not None:
                    self.by_palette[palette.group(1)].append(name)


def _readable(stem: str) -> str:
    return stem.rsplit("-", 1)[0]


def _players(uri: str, stem: str, media: _Folder, link: _Linker) -> list[Player]:
    players = []
    for name in media.by_stem.get(stem, []):
        path = os.path.join(media.path, name)
        rest = name[len(stem):]
        if rest == ".mp4":
            players.append(Player("video", "after · recoloured by its own soundtrack",
                                  link.href(path), "video/mp4", False))
        elif rest.startswith(".") and rest.endswith(".mp4") and rest.count(".") == 2:
            players.append(Player("video", f"generated · {rest[1:-4]}", link.href(path),
                                  "video/mp4", False))
    for name in media.by_palette.get(stem, []):  # videos recoloured by this music
        path = os.path.join(media.path, name)
        video = _readable(name.split(_SEP, 1)[0])
        ext = os.path.splitext(name)[1].lower()
        if ext in _VIDEO_EXT:
            players.append(Player("video", f"after · recoloured by this music · {video}",
                                  link.href(path), _mime(name), False))
    if os.path.isfile(uri):  # the source itself (local inputs only), first: before | after
        src, inline = link.media(uri)
        kind = "video" if os.path.splitext(uri)[1].lower() in _VIDEO_EXT else "audio"
        players.insert(0, Player(kind, f"before · source · {os.path.basename(uri)}", src,
                                 _mime(uri), inline))
    return players


def _look_of(stem: str, media: _Folder) -> str | None:
    """The look the video recoloured by its own soundtrack was made with (its sidecar record),
    or None. ``media/<stem>.mp4`` is that video (as in :func:`_players`), its record
    ``<video>.json`` (transforms.layout.sidecar_path; not imported: it would import Beam)."""
    try:
        with open(os.path.join(media.path, f"{stem}.mp4.json"), encoding="utf-8") as f:
            look = json.load(f).get("look")
    except (OSError, ValueError, AttributeError):
        return None
    return look if isinstance(look, str) else None


def _stills(stem: str, stills: _Folder, link: _Linker, look: str | None = None
            ) -> list[Still]:
    """``stills/<stem>-before-tNNs.png`` with its ``-after-`` twin (made with ``look``) and
    any ``-after_<look>-`` ones (other looks), in time order."""
    pairs: dict[int, dict[str, str]] = defaultdict(dict)
    for name in stills.by_stem.get(stem, []):
        m = _STILL.search(name)
        if m is not None:
            kind = "before" if m.group(1) else "after" if m.group(2) is None else m.group(2)
            pairs[int(m.group(3))][kind] = os.path.join(stills.path, name)
    out = []
    for t in sorted(pairs):
        pair = pairs[t]
        if "before" in pair and "after" in pair:
            others = tuple((name, link.href(path)) for name, path in sorted(pair.items())
                           if name not in ("before", "after", look))
            out.append(Still(f"{t // 60}:{t % 60:02d}", link.href(pair["before"]),
                             link.href(pair["after"]), look, others))
    return out


def _exports(stem: str, exports: _Folder, link: _Linker) -> list[Link]:
    out = []
    for name in exports.by_stem.get(stem, []):
        label = name[len(stem):].lstrip(".") or name
        out.append(Link(label, link.href(os.path.join(exports.path, name))))
    return out


def _read_failures(out_dir: str) -> list[dict]:
    table = read_table(os.path.join(out_dir, "failures"))
    rows = table.to_pylist() if table is not None else []
    return sorted(rows, key=lambda r: (str(r.get("timestamp")), r.get("source_uri") or ""))


_TIMELINE_STAGES = {"match", "read", "decode", "inference", "write"}


def _latest_failures(rows: list[dict], timelines: dict[str, list[dict]]) -> list[dict]:
    """The failures that still stand: failures/ keeps every run's rows, but an input that has a
    timeline now was analysed since, so its old analysis failures are history (its partial-decode
    warnings and its recolour/encode/generate failures stay)."""
    return [r for r in rows if r.get("source_uri") not in timelines
            or r.get("stage") not in _TIMELINE_STAGES or r.get("error_type") == "PartialDecode"]


def build_report(out_dir: str, audio_inline_mb: float = REPORT_AUDIO_INLINE_KB / 1000.0,
                 threshold: float = DEFAULT_THRESHOLD, progress: Progress | None = None) -> str:
    """Write ``out_dir/report.html``; returns its path."""
    link = _Linker(out_dir, int(audio_inline_mb * 1e6))
    media = _Folder(os.path.join(out_dir, "media"))
    stills = _Folder(os.path.join(out_dir, "stills"))
    exports_dir = os.path.join(out_dir, "exports")
    exports = _Folder(exports_dir)
    timelines = read_timelines(out_dir)
    names = [u.rstrip("/").rsplit("/", 1)[-1] for u in timelines]
    counts: dict[str, int] = defaultdict(int)
    for n in names:
        counts[n] += 1
    progress = progress or Progress()
    task = progress.begin("report", len(timelines), "tracks")
    entries: list[MediaEntry] = []
    windows = 0
    audio_s = 0.0
    for uri, rows in sorted(timelines.items(), key=lambda kv: kv[0].rsplit("/", 1)[-1]):
        rows = sorted(rows, key=lambda r: r["window_index"])
        title = uri.rstrip("/").rsplit("/", 1)[-1]
        if counts[title] > 1:  # same name in two folders: show the folder too
            title = "/".join(uri.rstrip("/").rsplit("/", 2)[-2:])
        duration = float(rows[0].get("duration_s") or rows[-1]["end_s"])
        stem = output_stem(uri)
        windows += len(rows)
        audio_s += duration
        entries.append(MediaEntry(
            title=title, source_uri=uri, media_id=rows[0]["media_id"],
            model_version=rows[0]["model_version"], duration_s=duration, windows=len(rows),
            valence=sum(r["valence"] for r in rows) / len(rows),
            arousal=sum(r["arousal"] for r in rows) / len(rows),
            sections=find_sections(rows, threshold), timeline=Timeline.of_rows(rows),
            players=_players(uri, stem, media, link),
            stills=_stills(stem, stills, link, _look_of(stem, media)),
            exports=_exports(stem, exports, link), anchor=f"m{len(entries) + 1}"))
        task.add()
    task.finish()
    failed = by_input(_latest_failures(_read_failures(out_dir), timelines))
    facts = RunFacts(
        output=os.path.abspath(out_dir), media=len(entries), windows=windows, audio_s=audio_s,
        generated_videos=sum(p.label.startswith("generated") for e in entries for p in e.players),
        recoloured=sum(p.label.startswith("recoloured") for e in entries for p in e.players),
        failures=sum(not f.partial for f in failed),
        model_versions=sorted({e.model_version for e in entries}),
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        exports_href=link.href(exports_dir) + "/" if os.path.isdir(exports_dir) else None)
    failure_names = {f.source_uri: display_name(f.source_uri, out_dir) for f in failed}
    failures_dir = os.path.join(out_dir, "failures")
    page = render_report(entries, facts, failed, failure_names,
                         link.href(failures_dir) + "/" if os.path.isdir(failures_dir) else None)
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
    size = os.path.getsize(path)
    print(f"report: {path} ({size / 1e6:.1f} MB)\nopen it: file://{quote(os.path.abspath(path))}")
    return 0
