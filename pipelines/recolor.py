"""``m2p recolor``: videos in, recoloured videos out, following the music's palettes
(docs/ARCHITECTURE.md "Recolouring").

    videos --Match--> RecolorVideo --> DIR/media/<name>.mp4
    music  --Match--> Window --> Infer --> Rows --> WriteTimelines --(side input)--^
Palette source: each video's own soundtrack, or ``--music`` (one track for all videos). The
timeline half is the timeline pipeline's (same Parquet, same incremental rules).
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass

import apache_beam as beam

from m2p_core.recolor.segments import DEFAULT_SEGMENT_S
from m2p_core.recolor.transfer import LOOKS
from m2p_core.recolor.video import RecolorParams
from pipelines.options import LOCAL_RUNNERS, add_common_arguments, is_dry_run, make_pipeline
from pipelines.summary import RunSummary, metric_count, summarise
from pipelines.timeline import TimelineOptions, build_timelines, resolve_options
from transforms import fsio
from transforms.match import MatchMedia
from transforms.recolor import RecolorImages, RecolorVideo
from transforms.write import WriteFailures


@dataclass(frozen=True)
class RecolorSummary:
    timeline: RunSummary
    recolored: int
    skipped: int
    frames: int
    segments: int = 0  # segments of long videos recoloured apart (--segment-s)

    @property
    def failures(self) -> int:
        return self.timeline.failures

    def text(self) -> str:
        split = f" (long videos as {self.segments} segments)" if self.segments else ""
        return (f"{self.timeline.text()}\nrecolor: {self.recolored} written, {self.skipped} "
                f"skipped (already done), {self.frames} frames{split} -> "
                f"{fsio.join(self.timeline.output, 'media')}")


def add_recolor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", required=True, help="output folder (local or gs://)")
    parser.add_argument("--strength", type=float, default=RecolorParams.strength,
                        help="0 = unchanged (exact), 1 = full transfer (default %(default)s)")
    parser.add_argument("--no-skin-protection", dest="protect_skin", action="store_false",
                        help="let skin tones follow the palette too")
    parser.add_argument("--look", choices=LOOKS, default=RecolorParams.look,
                        help="transfer (default): the picture's colours move to the music's "
                             "palette; grade: a colourist's grade from the palette (shadows, "
                             "mid-tones and highlights tinted by its dark, mid and light "
                             "colours, saturation following arousal) that keeps the scene's "
                             "own colours")
    add_common_arguments(parser)


def parse_args(argv: list[str] | None, images: bool = False
               ) -> tuple[argparse.Namespace, list[str]]:
    prog = "m2p recolor-image" if images else "m2p recolor"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("inputs", nargs="+",
                        help="images" if images else "videos: files, folders or glob patterns")
    music_help = "audio whose palettes drive the colours"
    if not images:
        music_help += " (default: each video's own soundtrack)"
    parser.add_argument("--music", required=images, default=None, help=music_help)
    add_recolor_arguments(parser)
    if not images:
        parser.add_argument("--crf", type=int, default=RecolorParams.crf,
                            help="libx264 CRF (default %(default)s)")
        parser.add_argument("--preset", default=RecolorParams.preset,
                            help="libx264 preset (default %(default)s)")
        parser.add_argument("--segment-s", dest="segment_s", type=float, default=None,
                            metavar="SECONDS",
                            help="recolour videos longer than 1.5 x SECONDS as segments of about "
                                 "SECONDS in parallel, joined without re-encoding; 0 = never "
                                 f"(default: {DEFAULT_SEGMENT_S:g} with parallel workers, i.e. "
                                 "another runner or --workers > 1; else 0)")
    return parser.parse_known_args(argv)


def segment_seconds(args: argparse.Namespace) -> float:
    """``--segment-s``, or its default: split only where segments can run in parallel (one
    local worker would run them one after the other, only adding the analysis pass)."""
    value = getattr(args, "segment_s", None)
    if value is not None:
        if value < 0:
            raise SystemExit("--segment-s must be >= 0")
        return float(value)
    if args.runner.lower() in LOCAL_RUNNERS and args.workers <= 1:
        return 0.0
    return DEFAULT_SEGMENT_S


def matched_uri(user_input: str) -> str:
    """The URI MatchMedia gives a single named file (timelines are keyed by it)."""
    return os.path.abspath(user_input) if fsio.is_local(user_input) else user_input


def build(p: beam.Pipeline, opts: TimelineOptions, params: RecolorParams, music: str | None,
          videos: list[str], images: bool = False, segment_s: float = 0.0) -> None:
    """Match videos; the timeline stage (:func:`pipelines.timeline.build_timelines`) on the
    music or on the videos' own soundtracks; then Recolor, once those timelines are written."""
    media = p | "MatchVideos" >> MatchMedia(videos, opts.run_id)
    audio = p | "MatchMusic" >> MatchMedia([music], opts.run_id) if music else media
    timelines = build_timelines(p, opts, media=audio)
    step = RecolorImages if images else RecolorVideo
    recolored = media.media | "Recolor" >> step(
        timelines.written, fsio.join(opts.output, "media"), opts.timelines_dir, params,
        opts.model_version, opts.run_id, opts.force,
        matched_uri(music) if music else None, 0.0 if images else segment_s,
    )
    failures = [media.failures, *timelines.failures, recolored.failures]
    if music:
        failures.append(audio.failures)
    tuple(failures) | "Failures" >> WriteFailures(opts.failures_dir, opts.run_id)


def run(argv: list[str] | None = None, test_pipeline: beam.Pipeline | None = None,
        images: bool = False) -> RecolorSummary:
    args, beam_argv = parse_args(argv, images)
    if not 0.0 <= args.strength <= 1.0:
        raise SystemExit("--strength must be in [0, 1]")
    opts = resolve_options(args)
    params = RecolorParams(strength=args.strength, protect_skin=args.protect_skin,
                           look=args.look,
                           crf=getattr(args, "crf", RecolorParams.crf),
                           preset=getattr(args, "preset", RecolorParams.preset))
    segment_s = 0.0 if images else segment_seconds(args)
    for sub in ("timelines", "failures", "media"):
        fsio.makedirs(fsio.join(opts.output, sub))
    if not is_dry_run(beam_argv):  # temp files (segments too) left by a killed run
        fsio.remove_stale_temps(fsio.join(opts.output, "media"), older_than=time.time())
    t0 = time.perf_counter()
    p = make_pipeline(args, beam_argv, test_pipeline)
    build(p, opts, params, args.music, list(args.inputs), images, segment_s)
    result = p.run()
    result.wait_until_finish()
    timeline = summarise(result, opts.run_id, opts.output, time.perf_counter() - t0)
    return RecolorSummary(timeline, metric_count(result, "recolored"),
                          metric_count(result, "recolor_skipped"), metric_count(result, "frames"),
                          metric_count(result, "recolor_segments"))


def run_images(argv: list[str] | None = None,
               test_pipeline: beam.Pipeline | None = None) -> RecolorSummary:
    """``m2p recolor-image IMAGE... --music AUDIO --output DIR``."""
    return run(argv, test_pipeline, images=True)


def main(argv: list[str] | None = None) -> int:
    print(run(argv).text())
    return 0


def main_images(argv: list[str] | None = None) -> int:
    print(run_images(argv).text())
    return 0
