"""``m2p timeline``: audio/video in, emotion-aligned palette timelines out (DESIGN §2, §3)."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference

from m2p_core.checkpoint import default_checkpoint_path, model_version_of_bytes
from m2p_core.model import ModelConfig
from m2p_core.timeline import TimelineParams
from pipelines.options import add_common_arguments, make_pipeline, new_run_id
from pipelines.summary import RunSummary, summarise
from transforms import fsio
from transforms.decode import DecodeWindows
from transforms.inference import Music2PaletteModelHandler
from transforms.match import MatchMedia
from transforms.rows import ToTimelineRows
from transforms.write import WriteFailures, WriteTimelines


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

    @property
    def timelines_dir(self) -> str:
        return fsio.join(self.output, "timelines")

    @property
    def failures_dir(self) -> str:
        return fsio.join(self.output, "failures")

    @property
    def params(self) -> TimelineParams:
        return TimelineParams(self.model_version, self.window_s, self.hop_s)


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="m2p timeline", description=__doc__)
    parser.add_argument("inputs", nargs="+", help="files, folders (recursive) or glob patterns")
    parser.add_argument("--output", required=True, help="output folder (local or gs://)")
    add_common_arguments(parser)
    return parser.parse_known_args(argv)


def resolve_options(args: argparse.Namespace) -> TimelineOptions:
    if args.window_s <= 0 or args.hop_s <= 0:
        raise SystemExit("--window and --hop must be positive")
    model_path = args.model_path or default_checkpoint_path()
    model_version = model_version_of_bytes(model_path, fsio.read_bytes(model_path))
    return TimelineOptions(
        inputs=list(args.inputs), output=args.output.rstrip("/") or "/",
        window_s=args.window_s, hop_s=args.hop_s, model_path=model_path,
        model_version=model_version, sample_rate=ModelConfig().sample_rate,
        batch_size=args.batch_size, min_batch_size=args.min_batch_size, device=args.device,
        force=args.force, run_id=new_run_id(),
    )


def build(p: beam.Pipeline, opts: TimelineOptions) -> None:
    handler = Music2PaletteModelHandler(
        opts.model_path, device=opts.device, min_batch_size=opts.min_batch_size,
        max_batch_size=opts.batch_size,
    )
    media = p | "Match" >> MatchMedia(opts.inputs, opts.run_id)
    windows = media.media | "Window" >> DecodeWindows(
        opts.window_s, opts.hop_s, opts.sample_rate, opts.timelines_dir, opts.params,
        opts.run_id, opts.force,
    )
    predictions = windows.windows | "Infer" >> RunInference(KeyedModelHandler(handler))
    rows = predictions | "Rows" >> ToTimelineRows()
    written = (rows, windows.done) | "Write" >> WriteTimelines(
        opts.timelines_dir, opts.params, opts.run_id
    )
    (media.failures, windows.failures, written.failures) | "Failures" >> WriteFailures(
        opts.failures_dir, opts.run_id
    )


def run(argv: list[str] | None = None, test_pipeline: beam.Pipeline | None = None) -> RunSummary:
    args, beam_argv = parse_args(argv)
    opts = resolve_options(args)
    fsio.makedirs(opts.timelines_dir)
    fsio.makedirs(opts.failures_dir)
    t0 = time.perf_counter()
    p = make_pipeline(args, beam_argv, test_pipeline)
    build(p, opts)
    result = p.run()
    result.wait_until_finish()
    return summarise(result, opts.run_id, opts.output, time.perf_counter() - t0)
