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

from m2p_core.generate.render import VideoSpec
from m2p_core.outputs.progress import PROGRESS
from pipelines.args import UsageError, generate_parser
from pipelines.chunked import ChunkFile, is_chunked, run_command
from pipelines.options import is_dry_run, prepare_output
from pipelines.summary import RunSummary, finish, metric_count, summarise
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

    @property
    def done(self) -> int:
        return self.videos + self.skipped

    def text(self) -> str:
        frames = (f", {self.frames} frames ({self.frames_per_s:.0f} frames/s overall)"
                  if self.videos else "")
        return (f"{self.timeline.text()}\ngenerate: {self.videos} videos written, {self.skipped} "
                f"skipped (already done){frames} -> {fsio.join(self.timeline.output, 'media')}")


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """(options, the flags for Beam); see :func:`pipelines.args.generate_parser`."""
    return generate_parser().parse(argv)


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size must look like 640x360, got {text!r}") from None
    return w, h


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
        raise UsageError(str(e)) from None
    is_chunked(args, beam_argv)  # (checks --chunk-size/--chunk-mb)
    opts = resolve_options(args)
    dry_run = is_dry_run(beam_argv)
    prepare_output(opts.output, ("timelines", "failures", "media"))
    PROGRESS.reset()
    t0 = time.perf_counter()

    def summary_of(result, wall_s: float) -> GenerateSummary:
        timeline = summarise(result, opts.run_id, opts.output, wall_s, dry_run=dry_run)
        return GenerateSummary(timeline, metric_count(result, "videos_generated"),
                               metric_count(result, "videos_skipped"),
                               metric_count(result, "frames_generated"))

    summary = run_command(
        args, beam_argv, opts.inputs, opts.run_id, lambda p, chunk: build(p, opts, spec, chunk),
        summary_of, lambda s: (s.videos, s.skipped, s.failures), test_pipeline,
        add_ignored=lambda s, n: dataclasses.replace(s, timeline=dataclasses.replace(
            s.timeline, ignored=s.timeline.ignored + n)))
    return dataclasses.replace(summary, timeline=dataclasses.replace(
        summary.timeline, wall_s=time.perf_counter() - t0))


def main(argv: list[str] | None = None) -> int:
    s = run(argv)
    return finish("generate", s.text(), s.done, s.timeline)
