"""``m2p generate``: music in, a music-driven video out (palette timeline + the music's own
energy, onsets and beats), with the music as its soundtrack.

    audio --Match--> Window --> Infer --> Rows --> WriteTimelines   (the timeline pipeline's)
      `------------------------------------------------(side input)--> GenerateVideo
                                                         --> DIR/media/<stem>.<style>.mp4
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from dataclasses import dataclass

import apache_beam as beam

from m2p_core.generate.video import DEFAULT_FPS, DEFAULT_STYLE, STYLES, VideoSpec, parse_size
from m2p_core.outputs.progress import PROGRESS
from pipelines.chunked import (
    DEFAULT_CHUNK_SIZE,
    ChunkFile,
    add_chunk_arguments,
    is_chunked,
    run_command,
)
from pipelines.options import add_common_arguments
from pipelines.summary import RunSummary, _counter, summarise
from pipelines.timeline import TimelineOptions, build_timelines, resolve_options
from transforms import fsio
from transforms.generate import GenerateVideo
from transforms.match import LoadMedia
from transforms.write import WriteFailures


@dataclass(frozen=True)
class GenerateSummary:
    timeline: RunSummary
    videos: int
    skipped: int
    frames: int

    @property
    def failures(self) -> int:
        return self.timeline.failures

    @property
    def frames_per_s(self) -> float:
        return self.frames / self.timeline.wall_s if self.timeline.wall_s > 0 else 0.0

    def text(self) -> str:
        return (f"{self.timeline.text()}\ngenerate: {self.videos} videos written, {self.skipped} "
                f"skipped (already done), {self.frames} frames "
                f"({self.frames_per_s:.0f} frames/s overall) -> "
                f"{fsio.join(self.timeline.output, 'media')}")


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="m2p generate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", help="audio (or video) files, folders or globs")
    parser.add_argument("--output", required=True, help="output folder (local or gs://)")
    parser.add_argument("--size", default="640x360", help="WIDTHxHEIGHT, even (default 640x360)")
    parser.add_argument("--fps", type=int, default=DEFAULT_FPS, help="frames per second")
    parser.add_argument("--style", default=DEFAULT_STYLE, choices=sorted(STYLES),
                        help=f"visual style (default {DEFAULT_STYLE})")
    parser.add_argument("--crf", type=int, default=VideoSpec.crf, help="libx264 CRF")
    parser.add_argument("--preset", default=VideoSpec.preset, help="libx264 preset")
    add_common_arguments(parser)
    add_chunk_arguments(parser, DEFAULT_CHUNK_SIZE["video"])
    return parser.parse_known_args(argv)


def build(p: beam.Pipeline, opts: TimelineOptions, spec: VideoSpec,
          chunk: ChunkFile | None = None) -> None:
    """Over ``opts.inputs`` (matched in the pipeline), or over one chunk of inputs matched
    beforehand (:mod:`pipelines.chunked`), with its own failures file."""
    extra_failures = []
    if chunk is None:
        parts = build_timelines(p, opts)
    else:
        media = p | "Media" >> LoadMedia(chunk.inputs)
        parts = build_timelines(p, opts, media=media)
        extra_failures.append(media.failures)
    videos = parts.media | "Generate" >> GenerateVideo(
        parts.written, fsio.join(opts.output, "media"), opts.timelines_dir, spec, opts.run_id,
        opts.force,
    )
    (*extra_failures, *parts.failures, videos.failures) | "Failures" >> WriteFailures(
        opts.failures_dir, opts.run_id, None if chunk is None else chunk.index)


def run(argv: list[str] | None = None,
        test_pipeline: beam.Pipeline | None = None) -> GenerateSummary:
    args, beam_argv = parse_args(argv)
    try:
        width, height = parse_size(args.size)
        spec = VideoSpec(width, height, args.fps, args.style, args.crf, args.preset)
    except ValueError as e:
        raise SystemExit(f"m2p generate: {e}") from None
    is_chunked(args, beam_argv)  # (checks --chunk-size/--chunk-mb)
    opts = resolve_options(args)
    for sub in ("timelines", "failures", "media"):
        fsio.makedirs(fsio.join(opts.output, sub))
    PROGRESS.reset()
    t0 = time.perf_counter()

    def summary_of(result, wall_s: float) -> GenerateSummary:
        timeline = summarise(result, opts.run_id, opts.output, wall_s)
        return GenerateSummary(timeline, _counter(result, "videos_generated"),
                               _counter(result, "videos_skipped"),
                               _counter(result, "frames_generated"))

    summary = run_command(
        args, beam_argv, opts.inputs, opts.run_id, lambda p, chunk: build(p, opts, spec, chunk),
        summary_of, lambda s: (s.videos, s.skipped, s.failures), test_pipeline)
    return dataclasses.replace(summary, timeline=dataclasses.replace(
        summary.timeline, wall_s=time.perf_counter() - t0))


def main(argv: list[str] | None = None) -> int:
    print(run(argv).text())
    return 0
