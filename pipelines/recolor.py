"""``m2p recolor``: videos in, recoloured videos out, following the music's palettes
(docs/ARCHITECTURE.md "Recolouring").

    videos --Match--> RecolorVideo --> DIR/media/<name>.mp4
    music  --Match--> Window --> Infer --> Rows --> WriteTimelines --(side input)--^
Palette source: each video's own soundtrack, or ``--music`` (one track for all videos). The
timeline half is the timeline pipeline's (same Parquet, same incremental rules).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from dataclasses import dataclass

import apache_beam as beam

from m2p_core.recolor.segments import DEFAULT_SEGMENT_S
from m2p_core.recolor.video import RecolorParams
from pipelines.args import UsageError, recolor_parser
from pipelines.chunked import ChunkFile, is_chunked, run_command
from pipelines.options import LOCAL_RUNNERS, is_dry_run, prepare_output
from pipelines.summary import RunSummary, finish, metric_count, summarise
from pipelines.timeline import TimelineOptions, build_timelines, resolve_options
from transforms import fsio
from transforms.match import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    LoadMedia,
    MatchedMedia,
    MatchMedia,
    match_inputs,
)
from transforms.recolor import RecolorImages, RecolorVideo
from transforms.write import WriteFailures


@dataclass(frozen=True)
class RecolorSummary:
    timeline: RunSummary  # the palette analysis (the videos' soundtracks, or the --music)
    recolored: int
    skipped: int
    frames: int
    segments: int = 0  # segments of long videos recoloured apart (--segment-s)
    inputs: int = 0  # videos (images) that reached the recolour step
    images: bool = False

    @property
    def failures(self) -> int:
        return self.timeline.failures

    @property
    def done(self) -> int:
        return self.recolored + self.skipped

    def text(self) -> str:
        t = self.timeline
        kind = "image" if self.images else "video"
        failed = max(self.inputs - self.done, 0)
        split = f" (long videos as {self.segments} segments)" if self.segments else ""
        frames = "" if self.images or not self.recolored else f", {self.frames} frames{split}"
        ignored = f", {t.ignored} ignored (not {kind}s)" if t.ignored else ""
        return (f"run {t.run_id}: {self.inputs} {kind}{'s' if self.inputs != 1 else ''}: "
                f"{self.recolored} recoloured, {self.skipped} skipped (already done), "
                f"{failed} failed{ignored}{frames} in {t.wall_s:.1f} s -> "
                f"{fsio.join(t.output, 'media')}\n"
                f"palettes: {t.text('sources', run_prefix=False)}")


def parse_args(argv: list[str] | None, images: bool = False
               ) -> tuple[argparse.Namespace, list[str]]:
    """(options, the flags for Beam); see :func:`pipelines.args.recolor_parser`."""
    return recolor_parser(images).parse(argv)


def check_music(music: str | None) -> None:
    """A local ``--music`` must be a readable file: said in one line before the run starts
    (a remote one is checked by the run itself: nothing remote is touched before it)."""
    if not music or not fsio.is_local(music):
        return
    if not os.path.exists(music):
        raise UsageError(f"--music {music}: no such file")
    if os.path.isdir(music):
        raise UsageError(f"--music {music} is a folder: pass one audio file")
    if not os.access(music, os.R_OK):
        raise UsageError(f"--music {music} cannot be read (permission denied)")


def segment_seconds(args: argparse.Namespace) -> float:
    """``--segment-s``, or its default: split only where segments can run in parallel (one
    local worker would run them one after the other, only adding the analysis pass)."""
    value = getattr(args, "segment_s", None)
    if value is not None:
        if value < 0:
            raise UsageError("--segment-s must be >= 0")
        return float(value)
    if args.runner.lower() in LOCAL_RUNNERS and args.workers <= 1:
        return 0.0
    return DEFAULT_SEGMENT_S


def matched_uri(user_input: str) -> str:
    """The URI MatchMedia gives a single named file (timelines are keyed by it)."""
    return os.path.abspath(user_input) if fsio.is_local(user_input) else user_input


def build(p: beam.Pipeline, opts: TimelineOptions, params: RecolorParams, music: str | None,
          videos: list[str], images: bool = False, segment_s: float = 0.0,
          chunk: ChunkFile | None = None, music_media: list[MatchedMedia] = ()) -> None:
    """Match videos; the timeline stage (:func:`pipelines.timeline.build_timelines`) on the
    music or on the videos' own soundtracks; then Recolor, once those timelines are written.
    With ``chunk`` (:mod:`pipelines.chunked`): that chunk's videos, matched beforehand, and the
    ``--music`` as ``music_media`` (its timeline is made in the first chunk only)."""
    if chunk is None:
        media = p | "MatchVideos" >> MatchMedia(
            videos, opts.run_id, IMAGE_EXTENSIONS if images else VIDEO_EXTENSIONS)
        audio = p | "MatchMusic" >> MatchMedia([music], opts.run_id) if music else media
    else:
        media = p | "Videos" >> LoadMedia(chunk.inputs)
        # the music's timeline is made in the first chunk; the others read it from timelines/
        audio = (p | "Music" >> LoadMedia(chunk.in_first_chunk(music_media))
                 if music else media)
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
    tuple(failures) | "Failures" >> WriteFailures(
        opts.failures_dir, opts.run_id, None if chunk is None else chunk.index)


def run(argv: list[str] | None = None, test_pipeline: beam.Pipeline | None = None,
        images: bool = False) -> RecolorSummary:
    args, beam_argv = parse_args(argv, images)
    if not 0.0 <= args.strength <= 1.0:
        raise UsageError(f"--strength must be in [0, 1] (got {args.strength:g})")
    check_music(args.music)
    chunked = is_chunked(args, beam_argv, test_pipeline)
    opts = resolve_options(args)
    params = RecolorParams(strength=args.strength, protect_skin=args.protect_skin,
                           look=args.look,
                           crf=getattr(args, "crf", RecolorParams.crf),
                           preset=getattr(args, "preset", RecolorParams.preset))
    segment_s = 0.0 if images else segment_seconds(args)
    dry_run = is_dry_run(beam_argv)
    prepare_output(opts.output, ("timelines", "failures", "media"))
    if not dry_run:  # temp files (segments too) left by a killed run
        fsio.remove_stale_temps(fsio.join(opts.output, "media"), older_than=time.time())
    t0 = time.perf_counter()
    music_media, music_failures = [], []
    if chunked and args.music:  # matched once, like the videos
        music_media, music_failures, _ = match_inputs([args.music], opts.run_id)

    def summary_of(result, wall_s: float) -> RecolorSummary:
        timeline = summarise(result, opts.run_id, opts.output, wall_s, dry_run=dry_run)
        return RecolorSummary(timeline, metric_count(result, "recolored"),
                              metric_count(result, "recolor_skipped"),
                              metric_count(result, "frames"),
                              metric_count(result, "recolor_segments"),
                              metric_count(result, "recolor_inputs"), images)

    summary = run_command(
        args, beam_argv, list(args.inputs), opts.run_id,
        lambda p, chunk: build(p, opts, params, args.music, list(args.inputs), images,
                               segment_s, chunk, music_media),
        summary_of, lambda s: (s.recolored, s.skipped, s.failures), test_pipeline,
        extra_failures=music_failures, what="images" if images else "videos",
        extensions=IMAGE_EXTENSIONS if images else VIDEO_EXTENSIONS,
        add_ignored=lambda s, n: dataclasses.replace(s, timeline=dataclasses.replace(
            s.timeline, ignored=s.timeline.ignored + n)))
    return dataclasses.replace(summary, timeline=dataclasses.replace(
        summary.timeline, wall_s=time.perf_counter() - t0))


def run_images(argv: list[str] | None = None,
               test_pipeline: beam.Pipeline | None = None) -> RecolorSummary:
    """``m2p recolor-image IMAGE... --music AUDIO --output DIR``."""
    return run(argv, test_pipeline, images=True)


def main(argv: list[str] | None = None) -> int:
    s = run(argv)
    return finish("recolor", s.text(), s.done, s.timeline)


def main_images(argv: list[str] | None = None) -> int:
    s = run_images(argv)
    return finish("recolor-image", s.text(), s.done, s.timeline)
