"""m2p export: palette timelines -> palettes for designers' and colourists' tools.

    m2p export DIR --format cube|gpl|ase|css|json|mpl[,...]|all --output OUT

``DIR`` is a run's output folder (or its ``timelines/`` folder). Per media, sections of similar
consecutive windows are found (:mod:`m2p_core.palette.sections`), then written to ``OUT``:

- cube: ``<stem>.cube`` (whole media) and ``<stem>.s01.cube`` … (one LUT per section)
- gpl:  ``<stem>.gpl`` and ``<stem>.s01.gpl`` … (GIMP lists palettes by their Name: line)
- ase:  ``<stem>.ase`` (one swatch group for the media, one per section)
- css:  ``<stem>.css`` (``:root`` and ``[data-m2p-section="N"]``)
- json: ``<stem>.json``
- mpl:  ``<stem>.mpl.json`` (``m2p_core.outputs.exports.load_mpl_colormap(path, section=None)``)

No Beam: the timelines are small (one row per window), read with pyarrow.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict

import pyarrow.dataset as ds

from commands.args import export_parser
from m2p_core.outputs import exports
from m2p_core.outputs.exports import FORMATS, NamedPalette
from m2p_core.outputs.naming import output_stem
from m2p_core.palette.sections import DEFAULT_THRESHOLD, find_sections, whole_media
from pipelines.args import EXIT_NOTHING_DONE, EXIT_OK, UsageError
from transforms import fsio


def timelines_dir_of(path: str) -> str:
    """The timelines folder of ``path``: a run's output folder (``DIR/timelines``) or that
    ``timelines/`` folder itself. A folder that is neither is a usage error saying what to
    pass."""
    path = path.rstrip("/") or "/"
    sub = fsio.join(path, "timelines")
    if fsio.is_local(path):
        if not os.path.exists(path):
            raise UsageError(f"{path}: no such folder")
        if not os.path.isdir(path):
            raise UsageError(f"{path} is a file: pass the --output folder of an m2p run")
        if os.path.isdir(sub):
            return sub
        if os.path.basename(path) == "timelines" or parquet_files(path):
            return path
        raise UsageError(f"{path} has no timelines/ folder: pass the --output folder of an m2p "
                         "run (the folder that holds timelines/)")
    if parquet_files(sub):
        return sub
    return path


def run_dir_of(path: str) -> str:
    """The run folder of ``path`` (a run's output folder or its ``timelines/`` folder)."""
    tdir = timelines_dir_of(path)
    return tdir[: -len("/timelines")] if tdir.endswith("/timelines") else tdir


def parquet_files(folder: str) -> list[str]:
    """The Parquet files in ``folder`` (not hidden temp files, nothing else that lies there)."""
    if fsio.is_local(folder):
        if not os.path.isdir(folder):
            return []
        return sorted(os.path.join(folder, n) for n in os.listdir(folder)
                      if n.endswith(".parquet") and not n.startswith((".", "_"))
                      and os.path.isfile(os.path.join(folder, n)))
    try:
        found = fsio.FileSystems.match([fsio.join(folder, "*.parquet")])
    except Exception:  # noqa: BLE001 - an unreachable or empty prefix
        return []
    return sorted(m.path for r in found for m in r.metadata_list
                  if not m.path.rsplit("/", 1)[-1].startswith((".", "_")))


def read_table(folder: str):
    """All Parquet rows of ``folder`` as one pyarrow Table (None when it has none); files that
    are not Parquet are ignored."""
    if fsio.is_local(folder):
        files = parquet_files(folder)
        return ds.dataset(files, format="parquet").to_table() if files else None
    if not parquet_files(folder):
        return None
    return ds.dataset(folder, format="parquet", exclude_invalid_files=True).to_table()


def read_timelines(path: str) -> dict[str, list[dict]]:
    """source_uri -> its timeline rows (empty if there are none)."""
    table = read_table(timelines_dir_of(path))
    by_media: dict[str, list[dict]] = defaultdict(list)
    for row in (table.to_pylist() if table is not None else []):
        by_media[row["source_uri"]].append(row)
    return dict(by_media)


def parse_formats(text: str) -> list[str]:
    names = [f.strip().lower() for f in text.split(",") if f.strip()]
    if names == ["all"]:
        return list(FORMATS)
    bad = [n for n in names if n not in FORMATS]
    if bad or not names:
        raise UsageError(f"unknown format(s) {', '.join(bad) or repr(text)}; choose from "
                         f"{', '.join(FORMATS)} or all")
    return names


def media_palettes(rows: list[dict], threshold: float = DEFAULT_THRESHOLD
                   ) -> tuple[NamedPalette, list[NamedPalette]]:
    whole = whole_media(rows)
    media = NamedPalette.of_section(whole, "media")
    media.extra.pop("section", None)
    sections = [NamedPalette.of_section(s, s.label) for s in find_sections(rows, threshold)]
    return media, sections


def export_media(uri: str, rows: list[dict], formats: list[str], out_dir: str,
                 threshold: float = DEFAULT_THRESHOLD, lut_size: int = exports.LUT_SIZE,
                 strength: float = 1.0) -> list[str]:
    """Write ``formats`` for one media; returns the written paths."""
    stem = output_stem(uri)
    title = uri.rstrip("/").rsplit("/", 1)[-1]
    media, sections = media_palettes(rows, threshold)
    written = []

    def put(name: str, data: str | bytes) -> None:
        path = fsio.join(out_dir, name)
        fsio.atomic_write_bytes(path, data.encode("utf-8") if isinstance(data, str) else data)
        written.append(path)

    meta = {"source_uri": uri, "media_id": rows[0]["media_id"],
            "model_version": rows[0]["model_version"], "threshold_de2000": threshold}
    for fmt in formats:
        if fmt == "cube":
            for p, suffix in [(media, "")] + [(s, "." + s.name) for s in sections]:
                lut = exports.bake_lut(p.palette_lab, p.weights, lut_size, strength)
                put(f"{stem}{suffix}.cube",
                    exports.cube_text(lut, f"{title} {exports.describe(p)}"))
        elif fmt == "gpl":
            put(f"{stem}.gpl", exports.gpl_text([media], f"{title} (media)"))
            for s in sections:
                put(f"{stem}.{s.name}.gpl", exports.gpl_text([s], f"{title} {s.name}"))
        elif fmt == "ase":
            put(f"{stem}.ase", exports.ase_bytes([media, *sections]))
        elif fmt == "css":
            put(f"{stem}.css", exports.css_text(media, sections, title))
        elif fmt == "json":
            put(f"{stem}.json", exports.export_json(media, sections, meta))
        elif fmt == "mpl":
            put(f"{stem}.mpl.json", exports.mpl_json(media, sections, "m2p_" + stem))
    return written


def run(argv: list[str] | None = None) -> dict[str, list[str]]:
    args, _ = export_parser().parse(argv)
    formats = parse_formats(args.format)
    if not 2 <= args.lut_size <= 129:
        raise UsageError("--lut-size must be in 2..129")
    if not 0.0 <= args.strength <= 1.0:
        raise UsageError("--strength must be in [0, 1]")
    tdir = timelines_dir_of(args.timelines)
    if fsio.is_local(tdir) and fsio.is_local(args.output):
        out, tl = os.path.realpath(args.output), os.path.realpath(tdir)
        if out == tl or out.startswith(tl + os.sep):
            raise UsageError(f"--output {args.output} is inside {tdir}, which holds only "
                             f"timelines: pass another folder, e.g. {run_dir_of(tdir)}/exports")
    try:
        fsio.makedirs(args.output)
    except OSError as e:
        raise UsageError(f"cannot write to --output {args.output}: {e.strerror or e}") from None
    timelines = read_timelines(tdir)
    out: dict[str, list[str]] = {}
    for uri, rows in sorted(timelines.items()):
        out[uri] = export_media(uri, rows, formats, args.output, args.threshold, args.lut_size,
                                args.strength)
    return out


def main(argv: list[str] | None = None) -> int:
    written = run(argv)
    n = sum(len(v) for v in written.values())
    if not written:
        print("export: no timelines to export (run m2p timeline first)", file=sys.stderr)
        return EXIT_NOTHING_DONE
    print(f"export: {n} files for {len(written)} media")
    return EXIT_OK
