"""The runner choice and run ids of the pipelines (their command lines: pipelines/args.py).

The flags Beam's PipelineOptions know are handed to Beam (pipelines/args.py sorts them out).
The default runner is Beam's in-process FnApiRunner (what DirectRunner runs portable pipelines
on) instantiated directly, so no run ever tries to download the Prism runner binary.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import uuid
from datetime import datetime, timezone

import apache_beam as beam
from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    StandardOptions,
    TestOptions,
)
from apache_beam.options.pipeline_options_context import scoped_pipeline_options
from apache_beam.portability import python_urns
from apache_beam.portability.api import beam_runner_api_pb2
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from pipelines import local_workers
from pipelines.args import add_common_arguments  # noqa: F401 - its old home

LOCAL_RUNNERS = {"directrunner", "fnapirunner", "direct"}


def new_run_id() -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


def local_running_mode(workers: int) -> str:
    """Beam's ``direct_running_mode`` for ``--workers N`` (``--direct_running_mode`` given
    explicitly wins): N > 1 runs N worker processes ("multi_processing"), forked from a warm
    fork server (:mod:`pipelines.local_workers`) so that they start in milliseconds instead of
    importing Beam, torch and the package anew each; one worker runs in this process."""
    return "multi_processing" if workers > 1 else "in_memory"


#: Top-level packages whose loaded modules a fork server preloads for its workers.
_PRELOAD_PACKAGES = ("m2p_core", "transforms", "pipelines")


class LocalRunner(FnApiRunner):
    """Beam's in-process FnApiRunner, whose multi-processing workers run ``worker_command``
    instead of Beam's ``python -m apache_beam.runners.worker.sdk_worker_main`` (the command is
    an environment payload of the job; everything else is Beam's)."""

    def __init__(self, worker_command: str | None = None) -> None:
        super().__init__()
        self.worker_command = worker_command

    def run_via_runner_api(self, pipeline_proto, options):
        if self.worker_command:
            for env in pipeline_proto.components.environments.values():
                if env.urn == python_urns.SUBPROCESS_SDK:
                    env.payload = self.worker_command.encode("utf-8")
        self._last_proto = beam_runner_api_pb2.Pipeline()
        self._last_proto.CopyFrom(pipeline_proto)
        return super().run_via_runner_api(pipeline_proto, options)

    def run_again(self, options: PipelineOptions):
        """Run the pipeline this runner ran last once more, as it was translated then (a
        chunked run's next chunk, :mod:`pipelines.chunked`: no building, no translating)."""
        proto = beam_runner_api_pb2.Pipeline()
        proto.CopyFrom(self._last_proto)
        with scoped_pipeline_options(options):
            return self.run_via_runner_api(proto, options)


def worker_command(workers: int, model_path: str | None = None) -> str:
    """The command of each of ``workers`` local worker processes: a fork of the warm fork
    server where supported, else Beam's own worker; either way with the thread-pool variables
    that give each process its share of the cores (unless the user set them)."""
    preload = sorted(m for m in sys.modules
                     if m.split(".", 1)[0] in _PRELOAD_PACKAGES and m != "commands.main")
    server = local_workers.fork_server(workers, preload, model_path)
    if server is not None:
        return server.command()
    env = local_workers.thread_env(workers)
    prefix = "".join(f"{k}={shlex.quote(v)} " for k, v in env.items())
    return f"{prefix}{shlex.quote(sys.executable)} -m {local_workers.BEAM_WORKER_MODULE}"


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
        command = None
        if workers > 1 and direct.direct_running_mode == "multi_processing":
            command = worker_command(workers, getattr(args, "model_path", None))
        return beam.Pipeline(runner=LocalRunner(command), options=options)
    options = PipelineOptions([*beam_argv, f"--runner={args.runner}"])
    options.view_as(StandardOptions).runner = args.runner
    return beam.Pipeline(options=options)


def prepare_output(output: str, subdirs: tuple[str, ...] = ("timelines", "failures")) -> None:
    """Create the output folders, or stop with one line saying why they cannot be written
    (a file in the way, no permission, a read-only disk): before any work starts."""
    from pipelines.args import UsageError
    from transforms import fsio

    if fsio.is_local(output) and os.path.exists(output) and not os.path.isdir(output):
        raise UsageError(f"--output {output} is a file, not a folder")
    try:
        for sub in subdirs:
            folder = fsio.join(output, sub)
            fsio.makedirs(folder)
            if fsio.is_local(folder):  # a probe: permissions, read-only disks
                probe = os.path.join(folder, f".m2p-write-probe-{os.getpid()}")
                with open(probe, "wb"):
                    pass
                os.remove(probe)
    except OSError as e:
        raise UsageError(f"cannot write to --output {output}: "
                         f"{e.strerror or type(e).__name__}"
                         f"{f' ({e.filename})' if getattr(e, 'filename', None) else ''}") from None
    except Exception as e:  # noqa: BLE001 - e.g. an unknown filesystem scheme
        raise UsageError(f"cannot write to --output {output}: {e}") from None
