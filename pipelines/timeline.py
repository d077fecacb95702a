"""``m2p timeline``: audio/video in, emotion-aligned palette timelines out (docs/ARCHITECTURE.md
"Layers", "Contracts")."""

from __future__ import annotations

import argparse
import dataclasses
import time
from dataclasses import dataclass
from typing import NamedTuple

import apache_beam as beam
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference

from m2p_core.model.checkpoint import (
    CheckpointError,
    load_checkpoint,
    model_version_of_bytes,
    resolve_model_path,
    sha256_of_bytes,
)
from m2p_core.model.network import ModelConfig
from m2p_core.outputs.timeline import TimelineParams
from pipelines.args import UsageError, timeline_parser
from pipelines.chunked import ChunkFile, is_chunked, run_command
from pipelines.options import is_dry_run, new_run_id, prepare_output
from pipelines.summary import RunSummary, finish, summarise
from transforms import fsio
from transforms.decode import DecodeWindows
from transforms.inference import Music2PaletteModelHandler
from transforms.layout import OutputLayout
from transforms.match import LoadMedia, MatchMedia, MatchOutputs
from transforms.rows import ToTimelineRows
from transforms.write import InferenceErrors, WriteFailures, WriteTimelines


@dataclass(frozen=True)
class TimelineOptions:
    inputs: list[str]
    output: str
    window_s: float
    hop_s: float
    model_path: str
    model_version: str
    sample_rate: int
    batch_size: int
    min_batch_size: int
    device: str
    force: bool
    run_id: str
    decode_timeout_s: float | None = 600.0
    max_duration_s: float | None = 86400.0
    model_copies: int | None = None  # RunInference copies per machine (None: per process)

    @property
    def layout(self) -> OutputLayout:
        return OutputLayout(self.output)

    @property
    def timelines_dir(self) -> str:
        return self.layout.timelines_dir

    @property
    def failures_dir(self) -> str:
        return self.layout.failures_dir

    @property
    def params(self) -> TimelineParams:
        return TimelineParams(self.model_version, self.window_s, self.hop_s)


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """(options, the flags for Beam); see :func:`pipelines.args.timeline_parser`."""
    return timeline_parser().parse(argv)


class ModelBundle(NamedTuple):
    """What a run needs to know of its checkpoint, read once: where it is, its version and
    its configuration (the sample rate the decoder must produce comes from here)."""

    path: str
    version: str
    config: ModelConfig


def verified_model(model_path: str) -> ModelBundle:
    """Read, sha256-verify (against ``<path>.sha256`` when present, on any filesystem) and load
    (``weights_only=True``) the checkpoint once before the pipeline starts, so a missing,
    tampered or incompatible model stops the run with a clear message instead of failing
    every worker. Raises :class:`CheckpointError`."""
    try:
        data = fsio.read_bytes(model_path)
    except Exception as e:
        raise CheckpointError(f"cannot read checkpoint {model_path}: {e}") from e
    sidecar = model_path + ".sha256"
    try:
        expected = (fsio.read_bytes(sidecar).decode("utf-8", "replace").split() or [""])[0]
    except Exception:  # no sidecar: nothing to verify against
        expected = None
    digest = sha256_of_bytes(data)
    if expected is not None and expected.lower() != digest:
        raise CheckpointError(f"checkpoint {model_path} fails its sha256 check (expected "
                              f"{expected[:12]}…, got {digest[:12]}…): refusing to load it")
    try:
        loaded = load_checkpoint(model_path, data=data)
    except CheckpointError:
        raise
    except Exception as e:  # e.g. weights that do not fit this version's model
        raise CheckpointError(f"checkpoint {model_path} does not load: "
                              f"{type(e).__name__}: {str(e)[:500]}") from e
    return ModelBundle(model_path, model_version_of_bytes(model_path, data), loaded.model.config)


def resolve_options(args: argparse.Namespace) -> TimelineOptions:
    for flag, value in (("--window", args.window_s), ("--hop", args.hop_s),
                        ("--decode-timeout", args.decode_timeout_s),
                        ("--max-duration", args.max_duration_s)):
        if not value > 0:
            raise UsageError(f"{flag} must be positive (got {value:g})")
    min_batch_size = args.batch_size if args.min_batch_size is None else args.min_batch_size
    if not 1 <= min_batch_size <= args.batch_size:
        raise UsageError("need 1 <= --min-batch-size <= --batch-size")
    model_path = resolve_model_path(args.model_path)  # None: v2; "fast": v1
    try:
        model = verified_model(model_path)
    except CheckpointError as e:
        raise UsageError(f"cannot run: {e}") from e
    return TimelineOptions(
        inputs=list(args.inputs), output=args.output.rstrip("/") or "/",
        window_s=args.window_s, hop_s=args.hop_s, model_path=model.path,
        model_version=model.version, sample_rate=model.config.sample_rate,
        batch_size=args.batch_size, min_batch_size=min_batch_size, device=args.device,
        force=args.force, run_id=new_run_id(), decode_timeout_s=args.decode_timeout_s,
        max_duration_s=args.max_duration_s, model_copies=getattr(args, "model_copies", None),
    )


class TimelineParts(NamedTuple):
    """The timeline stage's collections, for pipelines that build on it (generate, ...)."""

    media: beam.PCollection  # MatchedMedia
    written: beam.PCollection  # URIs whose timelines were written in this run
    failures: list[beam.PCollection]  # failure rows, not yet written


def build_timelines(p: beam.Pipeline, opts: TimelineOptions,
                    media: MatchOutputs | None = None) -> TimelineParts:
    """Match -> Window -> Infer -> Rows -> WriteTimelines; failures left to the caller.

    ``media``: already matched inputs to analyse (their match failures are then the caller's);
    default: match ``opts.inputs`` here."""
    handler = Music2PaletteModelHandler(
        opts.model_path, device=opts.device, min_batch_size=opts.min_batch_size,
        max_batch_size=opts.batch_size, model_copies=opts.model_copies,
    )
    match_failures = []
    if media is None:
        media = p | "Match" >> MatchMedia(opts.inputs, opts.run_id)
        match_failures = [media.failures]
    windows = media.media | "Window" >> DecodeWindows(
        opts.window_s, opts.hop_s, opts.sample_rate, opts.timelines_dir, opts.params,
        opts.run_id, opts.force, opts.decode_timeout_s, opts.max_duration_s,
    )
    predictions, bad = windows.windows | "Infer" >> RunInference(
        KeyedModelHandler(handler)).with_exception_handling()
    errors = bad.failed_inferences | "InferenceErrors" >> InferenceErrors()
    rows = predictions | "Rows" >> ToTimelineRows()
    written = (rows, windows.done, errors) | "Write" >> WriteTimelines(
        opts.timelines_dir, opts.params, opts.run_id
    )
    return TimelineParts(media.media, written.written,
                         [*match_failures, windows.failures, written.failures])


def build(p: beam.Pipeline, opts: TimelineOptions, chunk: ChunkFile | None = None) -> None:
    """The whole pipeline: over ``opts.inputs`` (matched in the pipeline), or over one chunk of
    inputs matched beforehand (:mod:`pipelines.chunked`), with its own failures file."""
    if chunk is None:
        parts = build_timelines(p, opts)
        failures = parts.failures
    else:
        media = p | "Media" >> LoadMedia(chunk.inputs)
        parts = build_timelines(p, opts, media=media)
        failures = [media.failures, *parts.failures]
    tuple(failures) | "Failures" >> WriteFailures(
        opts.failures_dir, opts.run_id, None if chunk is None else chunk.index)


def run(argv: list[str] | None = None, test_pipeline: beam.Pipeline | None = None) -> RunSummary:
    args, beam_argv = parse_args(argv)
    is_chunked(args, beam_argv)  # (checks --chunk-size/--chunk-mb)
    opts = resolve_options(args)
    dry_run = is_dry_run(beam_argv)
    prepare_output(opts.output)
    t0 = time.perf_counter()
    # Temp files older than this run were left by a killed one (writes are short). A dry run
    # (--dry_run=True: translate the job, submit nothing) touches no storage.
    removed = 0 if dry_run else sum(
        fsio.remove_stale_temps(d, older_than=time.time())
        for d in (opts.timelines_dir, opts.failures_dir))
    summary = run_command(
        args, beam_argv, opts.inputs, opts.run_id,
        lambda p, chunk: build(p, opts, chunk),
        lambda result, wall_s: summarise(result, opts.run_id, opts.output, wall_s,
                                            dry_run=dry_run),
        lambda s: (s.media_written, s.media_skipped, s.failures), test_pipeline,
        add_ignored=lambda s, n: dataclasses.replace(s, ignored=s.ignored + n))
    return dataclasses.replace(summary, wall_s=time.perf_counter() - t0,
                               temp_files_removed=removed)


def main(argv: list[str] | None = None) -> int:
    """``m2p timeline``: run, print the summary and the failed inputs; the exit status."""
    summary = run(argv)
    return finish("timeline", summary.text(), summary.media_written + summary.media_skipped,
                  summary)
