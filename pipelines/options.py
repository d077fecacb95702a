"""Command-line options shared by the pipelines, and the runner choice.

Unknown flags are handed to Beam's PipelineOptions. The default runner is Beam's in-process
FnApiRunner (what DirectRunner runs portable pipelines on) instantiated directly, so no run ever
tries to download the Prism runner binary.
"""

from __future__ import annotations

import argparse
import os
import uuid
from datetime import datetime, timezone

import apache_beam as beam
from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    StandardOptions,
    TestOptions,
)
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

LOCAL_RUNNERS = {"directrunner", "fnapirunner", "direct"}


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--window", dest="window_s", type=float, default=10.0,
                        help="analysis window in seconds (default 10)")
    parser.add_argument("--hop", dest="hop_s", type=float, default=5.0,
                        help="hop between window starts in seconds (default 5)")
    parser.add_argument("--model", dest="model_path", default=None,
                        help="checkpoint path/URI (default: the one shipped in the package)")
    parser.add_argument("--batch-size", type=int, default=64,
                        help="maximum windows per inference batch (default 64)")
    parser.add_argument("--min-batch-size", type=int, default=1)
    parser.add_argument("--device", choices=["auto", "CPU", "GPU"], default="auto",
                        help="inference device for RunInference: auto (default) = the GPU "
                             "wherever the worker has a usable CUDA device, else the CPU; GPU "
                             "= the same with a warning when it falls back to the CPU")
    parser.add_argument("--model-copies", type=int, default=None, metavar="N",
                        help="RunInference model copies per worker machine, shared by its "
                             "processes (default: one per worker process); e.g. 1 on a "
                             "Dataflow GPU worker to hold one model in GPU memory")
    parser.add_argument("--runner", default="DirectRunner",
                        help="Beam runner (default: the in-process DirectRunner engine)")
    parser.add_argument("--workers", type=int, default=1,
                        help="local parallel workers (DirectRunner; threads in this process, "
                             "or processes with --direct_running_mode multi_processing)")
    parser.add_argument("--force", action="store_true",
                        help="redo inputs whose outputs are already complete")
    parser.add_argument("--decode-timeout", dest="decode_timeout_s", type=float, default=600.0,
                        metavar="SECONDS",
                        help="time budget for decoding one input; past it the input becomes "
                             "a failures row (default 600)")
    parser.add_argument("--max-duration", dest="max_duration_s", type=float, default=86400.0,
                        metavar="SECONDS",
                        help="inputs declaring or decoding to more audio than this become a "
                             "failures row (default 86400 = 24 h)")


def new_run_id() -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


def local_running_mode(workers: int) -> str:
    """Beam's ``direct_running_mode`` for ``--workers N`` (``--direct_running_mode`` given
    explicitly wins).

    N > 1 runs N SDK worker threads in this process ("multi_threading"): most of the heavy
    work is C/C++ that can run outside the GIL (torch, hashlib, pyarrow, the nogil numba LUT
    kernel, FFmpeg through PyAV), the model is loaded once and shared, and nothing starts up
    per run. Beam's "multi_processing" starts N fresh ``sdk_worker_main`` processes for every
    run, each importing Beam, torch, PyAV and the package (about 4 CPU-seconds each here) and
    loading the model. Measured with bench/scale.py (10 clips, on a 2-core machine already
    loaded by other work, so no speed-up was possible): 1 worker 2.6 s, 2 threads 2.0 s,
    2 processes 12.5 s."""
    return "multi_threading" if workers > 1 else "in_memory"


def limit_threads_per_worker(workers: int) -> None:
    """Give each of ``workers`` local worker processes its share of the cores for torch's
    (OpenMP) and BLAS thread pools, unless the user set them. Without it every worker process
    starts one thread per core, and N workers oversubscribe the machine N times over (spinning
    OpenMP threads then make N workers slower than one). Worker processes inherit the
    environment; this process's own pools are already sized and are left alone."""
    share = str(max(1, (os.cpu_count() or 1) // workers))
    # (Not NUMBA_NUM_THREADS: numba refuses a changed value once its threads have started.)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, share)


def is_dry_run(beam_argv: list[str]) -> bool:
    """``--dry_run=True`` (Beam's TestOptions): build and translate the job, submit nothing. The
    pipelines then touch no remote storage at launch either (no stale-temp cleanup)."""
    return bool(PipelineOptions(beam_argv).view_as(TestOptions).dry_run)


def make_pipeline(args: argparse.Namespace, beam_argv: list[str],
                  test_pipeline: beam.Pipeline | None = None) -> beam.Pipeline:
    """A Pipeline for ``args.runner``: in-process for local runs, else Beam's runner by name."""
    if test_pipeline is not None:
        return test_pipeline
    if args.runner.lower() in LOCAL_RUNNERS:
        options = PipelineOptions(beam_argv)
        direct = options.view_as(DirectOptions)
        workers = max(1, args.workers)
        direct.direct_num_workers = workers
        if not any(a.startswith("--direct_running_mode") for a in beam_argv):
            direct.direct_running_mode = local_running_mode(workers)
        if workers > 1 and direct.direct_running_mode == "multi_processing":
            limit_threads_per_worker(workers)
        return beam.Pipeline(runner=FnApiRunner(), options=options)
    options = PipelineOptions([*beam_argv, f"--runner={args.runner}"])
    options.view_as(StandardOptions).runner = args.runner
    return beam.Pipeline(options=options)
