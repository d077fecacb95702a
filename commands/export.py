"""``m2p export``: palette timelines -> palettes for designers' and colourists' tools.

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

import argparse
import os
from collections import defaultdict

import pyarrow.dataset as ds

from m2p_core.outputs import exports
from m2p_core.outputs.exports import FORMATS, NamedPalette
from m2p_core.outputs.naming import output_stem
from m2p_core.palette.sections import DEFAULT_THRESHOLD, find_sections, whole_media
from transforms import fsio


def timelines_dir_of(path: str) -> str:
    sub = fsio.join(path.rstrip("/"), "timelines")
    if fsio.is_local(path):
        return sub if os.path.isdir(sub) else path
    return sub if fsio.FileSystems.match([sub + "/*.parquet"])[0].metadata_list else path


def read_timelines(path: str) -> dict[str, list[dict]]:
    """source_uri -> its timeline rows (empty if there are none)."""
    tdir = timelines_dir_of(path)
    if fsio.is_local(tdir) and not os.path.isdir(tdir):
        return {}
    table = ds.dataset(tdir, format="parquet").to_table()
    by_media: dict[str, list[dict]] = defaultdict(list)
    for row in table.to_pylist():
        by_media[row["source_uri"]].append(row)
    return dict(by_media)


def parse_formats(text: str) -> list[str]:
    names = [f.strip().lower() for f in text.split(",") if f.strip()]
    if names == ["all"]:
        return list(FORMATS)
    bad = [n for n in names if n not in FORMATS]
    if bad or not names:
        raise SystemExit(f"m2p export: unknown format(s) {bad or text!r}; choose from "
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
    parser = argparse.ArgumentParser(prog="m2p export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("timelines", help="a run's output folder or its timelines/ folder")
    parser.add_argument("--format", required=True,
                        help=f"one or more of {','.join(FORMATS)} (comma-separated), or all")
    parser.add_argument("--output", required=True, help="folder for the exported files")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help="CIEDE2000 distance that starts a new section (default %(default)s)")
    parser.add_argument("--lut-size", type=int, default=exports.LUT_SIZE,
                        help="3D LUT grid size for cube (default %(default)s)")
    parser.add_argument("--strength", type=float, default=1.0,
                        help="cube: 0 = identity, 1 = full palette grade (default 1)")
    args = parser.parse_args(argv)
    formats = parse_formats(args.format)
    if not 2 <= args.lut_size <= 129:
        raise SystemExit("m2p export: --lut-size must be in 2..129")
    if not 0.0 <= args.strength <= 1.0:
        raise SystemExit("m2p export: --strength must be in [0, 1]")
    fsio.makedirs(args.output)
    out: dict[str, list[str]] = {}
    for uri, rows in sorted(read_timelines(args.timelines).items()):
        out[uri] = export_media(uri, rows, formats, args.output, args.threshold, args.lut_size,
                                args.strength)
    return out


def main(argv: list[str] | None = None) -> int:
    written = run(argv)
    n = sum(len(v) for v in written.values())
    print(f"export: {n} files for {len(written)} media")
    return 0
