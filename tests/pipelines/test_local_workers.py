"""``--workers N``: local worker processes, forked from a warm fork server (issue #6)."""

from __future__ import annotations

import argparse
import os

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import DirectOptions

from pipelines import local_workers, timeline
from pipelines.options import LocalRunner, add_common_arguments, make_pipeline

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
needs_fork = pytest.mark.skipif(not local_workers.supported(), reason="fork server: Linux only")


def _args(*argv: str) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser()
    add_common_arguments(parser)
    return parser.parse_known_args(list(argv))


@pytest.fixture
def no_thread_vars(monkeypatch):
    for var in THREAD_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.mark.parametrize(("argv", "workers", "mode"), [
    ((), 1, "in_memory"),
    (("--workers", "2"), 2, "multi_processing"),
    (("--workers", "3"), 3, "multi_processing"),
    (("--workers", "2", "--direct_running_mode", "multi_threading"), 2, "multi_threading"),
])
def test_workers_choose_the_local_running_mode(argv, workers, mode, monkeypatch, no_thread_vars):
    monkeypatch.setenv("M2P_NO_FORK_SERVER", "1")  # Beam's own worker command, no process
    args, beam_argv = _args(*argv)
    p = make_pipeline(args, beam_argv)
    direct = p.options.view_as(DirectOptions)
    assert (direct.direct_num_workers, direct.direct_running_mode) == (workers, mode)
    assert isinstance(p.runner, LocalRunner)
    command = p.runner.worker_command
    if mode != "multi_processing":
        assert command is None
        return
    # each worker process gets its share of the cores for its thread pools ...
    share = max(1, (os.cpu_count() or 1) // workers)
    for var in THREAD_VARS:
        assert f"{var}={share} " in command
    assert command.endswith("-m apache_beam.runners.worker.sdk_worker_main")
    # ... without touching this process's environment
    assert not any(var in os.environ for var in THREAD_VARS)


def test_a_thread_variable_the_user_set_is_kept(monkeypatch, no_thread_vars):
    monkeypatch.setenv("M2P_NO_FORK_SERVER", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    args, beam_argv = _args("--workers", "2")
    command = make_pipeline(args, beam_argv).runner.worker_command
    assert "OMP_NUM_THREADS" not in command and "MKL_NUM_THREADS=" in command


def test_the_cli_starts_the_fork_server_only_for_local_worker_processes(monkeypatch):
    started = []
    monkeypatch.setattr(local_workers, "fork_server", lambda *a, **k: started.append(a))
    local_workers.prestart(["x.mp3", "--output", "o"], ["pipelines.timeline"])
    local_workers.prestart(["x.mp3", "--workers", "2", "--runner", "DataflowRunner"], [])
    local_workers.prestart(["--workers", "2", "--direct_running_mode", "multi_threading"], [])
    local_workers.prestart(["--workers", "2", "--help"], [])
    assert started == []
    local_workers.prestart(["x.mp3", "--workers", "2", "--output", "o"], ["pipelines.timeline"])
    assert started == [(2, ["pipelines.timeline"], None)]


def _pids(_):
    import os

    return os.getpid(), os.getppid(), os.environ.get("OMP_NUM_THREADS")


def _check_pids(main_pid: int, server_pid: int, threads: str):
    def check(seen):  # runs in a worker: a failure fails the pipeline
        workers = {pid for pid, _, _ in seen}
        assert len(seen) == 16 and len(workers) == 2 and main_pid not in workers, seen
        assert {ppid for _, ppid, _ in seen} == {server_pid}, seen
        assert {t for _, _, t in seen} == {threads}, seen
    return check


@needs_fork
def test_worker_processes_are_forks_of_the_server_and_share_the_work(no_thread_vars):
    """Two worker processes, both forked from the fork server with their share of the cores,
    each take part of a collection (the runner splits grouped collections across workers)."""
    from apache_beam.testing.util import assert_that

    args, beam_argv = _args("--workers", "2")
    p = make_pipeline(args, beam_argv)
    server = local_workers._SERVER
    assert server is not None and server.command() == p.runner.worker_command
    assert server.wait_ready()
    threads = str(max(1, (os.cpu_count() or 1) // 2))
    with p:
        seen = p | beam.Create(range(16)) | beam.Reshuffle() | beam.Map(_pids)
        assert_that(seen, _check_pids(os.getpid(), server.pid, threads))


_FORK_AFTER_PRELOAD = """
import os, signal, sys
from pipelines import local_workers

local_workers._preload(["pipelines.timeline"], None)  # what the server does before forking
pid = os.fork()
if pid == 0:
    signal.alarm(60)  # a deadlocked child dies instead of hanging around
    import torch
    torch.set_num_threads(2)
    a = torch.randn(600, 600)
    (a @ a).sum()
    torch.nn.functional.conv2d(torch.randn(4, 8, 64, 64), torch.randn(16, 8, 3, 3))
    os._exit(0)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@needs_fork
def test_a_child_of_the_preloaded_server_can_run_multi_threaded_torch():
    """GNU OpenMP (torch's) deadlocks a forked child's thread that reuses a team the parent
    started: the server must preload without ever running a parallel region, so that workers
    with several torch threads work whichever thread runs them."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", _FORK_AFTER_PRELOAD], capture_output=True,
                       text=True, timeout=180)
    assert r.returncode == 0, (r.returncode, r.stderr[-3000:])


@needs_fork
def test_a_worker_still_starts_when_the_server_is_gone(tmp_path, no_thread_vars):
    """The worker command falls back to Beam's own worker if the fork server died."""
    import subprocess
    import sys

    server = local_workers.ForkServer(2, [], None)
    assert server.wait_ready()
    server.close()
    env = {k: v for k, v in os.environ.items() if k != "CONTROL_API_SERVICE_DESCRIPTOR"}
    # Beam's worker without a control address fails fast: proof it ran instead of the client
    r = subprocess.run(server.command(), shell=True, env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode != 0 and "CONTROL_API_SERVICE_DESCRIPTOR" in r.stderr, r.stderr[-2000:]
    assert sys.executable  # (same interpreter: the command names it)


def test_two_worker_processes_write_the_same_timelines_as_one(tmp_path, tiny_checkpoint,
                                                            caplog):
    """Bit for bit: fixed-size inference batches make a window's result independent of which
    windows share its batch (worker count, bundle boundaries); and the workers log no warning
    (Beam's "no main session" warning is dropped: the pipelines pickle none)."""
    import logging

    import pyarrow.dataset as ds
    from media_factory import music

    lib = tmp_path / "lib"
    for i, mood in enumerate(("happy", "sad", "calm", "angry")):
        music(lib / f"m{i}.mp3", 12.0 + 3 * i, mood)
    tables = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        summary = timeline.run([str(lib), "--output", str(out), "--model", tiny_checkpoint,
                                "--workers", str(workers), "--batch-size", "4"])
        assert summary.media_written == 4 and summary.failures == 0
        t = ds.dataset(str(out / "timelines"), format="parquet").to_table()
        tables.append(t.sort_by([("source_uri", "ascending"), ("window_index", "ascending")]))
    one, two = tables
    assert one.num_rows > 4
    assert one.equals(two)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not warnings, warnings[:3]


def test_threads_share_one_model_on_the_cpu_with_device_auto(tmp_path, tiny_checkpoint):
    """Two worker threads (--direct_running_mode multi_threading) share one loaded model; the
    copy of the handler that did not load it must still send batches to the model's device
    (the CPU here), not the requested GPU."""
    from media_factory import music

    lib = tmp_path / "lib"
    for i in range(3):
        music(lib / f"m{i}.mp3", 12.0, "happy")
    summary = timeline.run([str(lib), "--output", str(tmp_path / "out"), "--model",
                            tiny_checkpoint, "--workers", "2", "--device", "auto",
                            "--direct_running_mode", "multi_threading"])
    assert (summary.media_written, summary.failures) == (3, 0), summary
