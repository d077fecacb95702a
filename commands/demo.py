"""m2p demo: the product end to end on embedded (generated) demo media."""

from __future__ import annotations

import os
from collections import defaultdict

from commands.args import DEMO_OWN_OPTIONS, demo_parser
from commands.export import read_table
from m2p_core.outputs.naming import output_stem
from m2p_core.outputs.plots import render_timeline_png
from m2p_core.synth.demo import VIDEO_NAME, write_demo_media
from pipelines import recolor, timeline
from transforms import fsio

#: the demo piece that also gets a generated (music-driven) video
GENERATE_PIECE = "happy.mp3"


def render_plots(output: str) -> list[str]:
    """One timeline PNG per media in ``output/timelines`` -> ``output/plots/``."""
    table = read_table(os.path.join(output, "timelines"))
    by_media: dict[str, list[dict]] = defaultdict(list)
    for row in (table.to_pylist() if table is not None else []):
        by_media[row["source_uri"]].append(row)
    plots_dir = os.path.join(output, "plots")
    os.makedirs(plots_dir, exist_ok=True)
    paths = []
    for uri, rows in sorted(by_media.items()):
        path = os.path.join(plots_dir, output_stem(uri) + ".png")
        render_timeline_png(rows, path, title=os.path.basename(uri))
        paths.append(path)
    return paths


def _without(argv: list[str], names: tuple[str, ...]) -> list[str]:
    """``argv`` less the options ``names`` and their values (``--name V`` or ``--name=V``)."""
    out, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token in names:
            skip = True
        elif token.split("=", 1)[0] not in names:
            out.append(token)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(argv or [])
    args, _ = demo_parser().parse(argv)
    rest = _without(argv, DEMO_OWN_OPTIONS)  # for the pipelines
    media_dir = os.path.join(args.output, "media")
    print(f"demo media -> {media_dir}")
    demo_paths = write_demo_media(media_dir)
    # the demo inputs by name: media/ also receives generated and recoloured videos
    summary = timeline.run([*demo_paths, "--output", args.output, *rest])
    print(summary.text())
    for path in render_plots(args.output):
        print(f"timeline plot: {path}")
    print(f"timelines: {os.path.join(args.output, 'timelines')} "
          f"(pyarrow.dataset.dataset(...) / DuckDB read_parquet('.../timelines/*.parquet'))")
    # recolour the demo video by its own soundtrack; before/after stills -> stills/
    video = os.path.join(media_dir, VIDEO_NAME)
    for path in recolor_demo(args.output, video, rest):
        print(f"recolour still: {path}")
    _generate_export_report(args.output, demo_paths, args.video_size, rest)
    return 0


def _generate_export_report(output: str, demo_paths: list[str], video_size: str,
                            rest: list[str]) -> None:
    """A music-driven video for one demo piece, palette exports, and the report page."""
    from commands import export, report
    from pipelines import generate

    piece = next(p for p in demo_paths if os.path.basename(p) == GENERATE_PIECE)
    gen = generate.run([piece, "--output", output, "--size", video_size, *rest])
    print(gen.text().splitlines()[-1])
    exports_dir = os.path.join(output, "exports")
    written = export.run([output, "--format", "all", "--output", exports_dir])
    print(f"exports: {sum(map(len, written.values()))} files (cube, gpl, ase, css, json, mpl) "
          f"-> {exports_dir}")
    path = report.build_report(output)
    print(f"report: open {path}")


def recolor_demo(output: str, video: str, rest: list[str], times_s: tuple[float, ...] = (5.0, 25.0)
                 ) -> list[str]:
    """The demo's recolouring step: recolour ``video`` into ``output/media`` by its own
    soundtrack (with ``rest``'s ``--look``, default the transfer), and again with each other
    look into ``output/looks/<look>/``; write before/after stills to ``output/stills/``
    (``<stem>-before-``, ``-after-`` and ``-after_<look>-tNNs.png``, and a ``before_after``
    composite); returns the still paths."""
    import numpy as np
    from PIL import Image

    from m2p_core.outputs.naming import output_stem
    from m2p_core.recolor.looks import LOOKS
    from m2p_core.video.transcode import frames_rgb_at
    from transforms.layout import video_output_path

    summary = recolor.run([video, "--output", output, *rest])
    print(summary.text().splitlines()[0])  # the videos' line
    own_look = recolor.parse_args([video, "--output", output, *rest])[0].look
    uri = recolor.matched_uri(video)
    afters = {"after": video_output_path(fsio.join(output, "media"), uri)}
    for look in (name for name in LOOKS if name != own_look):
        look_dir = os.path.join(output, "looks", look)
        other = recolor.run([video, "--output", look_dir, *_without(rest, ("--look",)),
                             "--look", look])
        print(f"{look} look: {other.text().splitlines()[0]}")
        afters[f"after_{look}"] = video_output_path(fsio.join(look_dir, "media"), uri)
    stills_dir = os.path.join(output, "stills")
    os.makedirs(stills_dir, exist_ok=True)
    stem = output_stem(uri)
    paths = []
    before = frames_rgb_at(video, list(times_s))
    after_frames = {name: frames_rgb_at(path, list(times_s)) for name, path in afters.items()}
    found = min(len(times_s), len(before), *(len(f) for f in after_frames.values()))
    for i, (t, b) in enumerate(zip(times_s[:found], before[:found], strict=True)):
        a = after_frames["after"][i]
        h, w = min(b.shape[0], a.shape[0]), min(b.shape[1], a.shape[1])
        gap = np.full((h, 8, 3), 255, np.uint8)
        images = [("before", b), *((name, frames[i]) for name, frames in after_frames.items()),
                  ("before_after", np.concatenate([b[:h, :w], gap, a[:h, :w]], axis=1))]
        for name, img in images:
            path = os.path.join(stills_dir, f"{stem}-{name}-t{int(t):02d}s.png")
            Image.fromarray(img).save(path)
            paths.append(path)
    return paths
