"""Worker processes for ``--workers N``: Beam's multi-processing mode, forked from a warm server.

Beam's DirectRunner engine (FnApiRunner) in ``multi_processing`` mode starts every SDK worker as
a fresh ``python -m apache_beam.runners.worker.sdk_worker_main``, which imports Beam, torch,
PyAV, pyarrow and this package and loads the model before it can process anything: about 4
CPU-seconds per worker process per run on the 2-core machine (more on a busy one), on top of the
launching process's own start-up. For a 100-clip catalogue that is 20-30 % of the whole run.

Here the same worker processes are forked from a *fork server*: one process, started once, that
imports those modules (and builds the model once, so its front end's filterbanks are warm)
and then waits. Each worker Beam asks for is a ``fork()`` of it, ready in milliseconds, sharing
its loaded pages copy-on-write. The CLI starts the server before it imports the pipeline itself,
so the two imports run side by side on two cores; in a process that runs several pipelines
(bench, tests, the demo) the server is reused.

Beam keeps managing the workers as it does its own: the worker command it runs is a tiny client
(``python -S``, ~20 ms) that hands its environment (control and logging addresses, pipeline
options, worker id, set by Beam) to the server over a Unix socket and waits for the forked
worker's exit status; killing the client kills the worker. If the server is gone, the client
execs Beam's own worker instead, so a run never depends on the server.

Fork safety: the server never starts a Python thread, a gRPC channel or a torch/OpenMP parallel
region before it forks (it preloads with one torch thread: GNU OpenMP, torch's, deadlocks a
forked child's thread that reuses a team its parent started). Each forked worker then sets its
own torch thread count. (Native threads the preloaded libraries keep, numpy's OpenBLAS and
pyarrow's jemalloc, have their own fork handlers.)

Linux only (``fork`` + ``AF_UNIX``); elsewhere ``--workers N`` uses Beam's plain command.

This module imports nothing heavy at import time: the CLI uses it before torch and Beam load.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

#: Thread-pool variables each worker process gets (its share of the cores) unless the user set
#: them. (Not NUMBA_NUM_THREADS: numba refuses a changed value once its threads have started.)
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

#: Modules every worker needs: Beam's worker entry point (gRPC, protobuf, the harness).
BASE_PRELOAD = ("apache_beam.runners.worker.sdk_worker_main",)

#: Beam's own worker command (what FnApiRunner runs in multi_processing mode).
BEAM_WORKER_MODULE = "apache_beam.runners.worker.sdk_worker_main"

# The client Beam runs as the worker command. Plain stdlib, started with ``-S`` (no site
# import): ~20 ms. argv: socket path, server pid.
_CLIENT = r"""
import json, os, socket, sys, time
path, pid = sys.argv[1], int(sys.argv[2])
def server_alive():
    try:
        with open('/proc/' + str(pid) + '/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] not in ('Z', 'X')
    except OSError:
        return False
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
deadline = time.monotonic() + 600
while True:
    try:
        s.connect(path)
        break
    except OSError:
        if not server_alive() or time.monotonic() > deadline:
            os.execv(sys.executable, [sys.executable, '-m', '@WORKER_MODULE@'])
        time.sleep(0.02)
s.sendall(json.dumps(dict(os.environ)).encode() + b'\n')
reply = b''
while True:
    chunk = s.recv(64)
    if not chunk:
        break
    reply += chunk
try:
    sys.exit(int(reply))
except ValueError:
    sys.exit(1)
""".replace("@WORKER_MODULE@", BEAM_WORKER_MODULE)


def supported() -> bool:
    """Whether worker processes can be forked from a server here (Linux)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def threads_per_worker(workers: int) -> int:
    """Each of ``workers`` processes' share of the cores (at least 1)."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def thread_env(workers: int) -> dict[str, str]:
    """The thread-pool variables for worker processes: their share of the cores, except where
    the user set a variable (then theirs is kept). Without it every worker process starts one
    torch/OpenMP thread per core and N workers oversubscribe the machine N times over (spinning
    OpenMP threads then make N workers slower than one)."""
    share = str(threads_per_worker(workers))
    return {var: share for var in THREAD_VARS if var not in os.environ}


class ForkServer:
    """A running fork server (see the module docstring) and the worker command that uses it."""

    def __init__(self, workers: int, preload: Sequence[str], model_path: str | None) -> None:
        self.workers = workers
        self.preload = tuple(dict.fromkeys([*BASE_PRELOAD, *preload]))
        self.model_path = model_path
        self.env = thread_env(workers)
        self._dir = tempfile.mkdtemp(prefix="m2p-w-")
        self.socket_path = os.path.join(self._dir, "s")
        cmd = [sys.executable, "-m", "pipelines.local_workers", "serve", self.socket_path,
               "--preload", ",".join(self.preload)]
        if model_path:
            cmd += ["--model", model_path]
        # stdin: a pipe the server watches; it exits when this process closes it or dies.
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, env={**os.environ, **self.env})

    @property
    def pid(self) -> int:
        return self._proc.pid

    def alive(self) -> bool:
        return self._proc.poll() is None

    def wait_ready(self, timeout: float = 120.0) -> bool:
        """Block until the server accepts workers (tests, benchmarks); False if it died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.socket_path):
                return True
            if not self.alive():
                return False
            time.sleep(0.02)
        return False

    def command(self) -> str:
        """Shell command for Beam's subprocess worker environment."""
        prefix = "".join(f"{k}={shlex.quote(v)} " for k, v in self.env.items())
        return (f"{prefix}{shlex.quote(sys.executable)} -S -c {shlex.quote(_CLIENT)} "
                f"{shlex.quote(self.socket_path)} {self.pid}")

    def stop_now(self, timeout: float = 2.0) -> None:
        """Stop the workers at once (Ctrl-C): the server terminates them (SIGTERM: no
        tracebacks) while this process still answers them, then exits."""
        try:
            if self._proc.stdin is not None:
                self._proc.stdin.write(b"stop\n")
                self._proc.stdin.flush()
                self._proc.stdin.close()
            self._proc.wait(timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            pass

    def close(self) -> None:
        if self._proc.stdin is not None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)


_SERVER: ForkServer | None = None


def fork_server(workers: int, preload: Sequence[str] = (),
                model_path: str | None = None) -> ForkServer | None:
    """The process's fork server for ``workers`` workers, started (or restarted, when the
    workers' thread share differs) as needed; None where unsupported or disabled
    (``M2P_NO_FORK_SERVER=1``). ``model_path`` only warms the server up: workers load the
    model the pipeline names."""
    global _SERVER
    if not supported() or os.environ.get("M2P_NO_FORK_SERVER"):
        return None
    s = _SERVER
    if s is not None and s.alive() and s.env == thread_env(workers):
        return s
    if s is not None:
        s.close()
    _SERVER = ForkServer(workers, preload, model_path)
    return _SERVER


def stop_workers_now() -> None:
    """Ctrl-C in the launcher: terminate this process's local workers before it leaves."""
    if _SERVER is not None and _SERVER.alive():
        _SERVER.stop_now()


def close_fork_server() -> None:
    global _SERVER
    if _SERVER is not None:
        _SERVER.close()
        _SERVER = None


atexit.register(close_fork_server)


def prestart(argv: Sequence[str], preload: Sequence[str]) -> None:
    """Start the fork server early (the CLI calls this before importing the pipeline) when
    ``argv`` asks for local worker processes, so its imports overlap this process's own."""
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--runner", default="DirectRunner")
    parser.add_argument("--direct_running_mode", default=None)
    parser.add_argument("--model", default=None)
    try:
        args, _ = parser.parse_known_args(list(argv))
    except (argparse.ArgumentError, SystemExit):  # malformed: the real parser will say so
        return
    local = args.runner.lower() in {"directrunner", "fnapirunner", "direct"}
    if (local and args.workers > 1
            and args.direct_running_mode in (None, "multi_processing")
            and "--help" not in argv and "-h" not in argv):
        fork_server(args.workers, preload, args.model)


# --- the server side ------------------------------------------------------------------------


def _read_line(conn) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(1 << 16)
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


def _no_main_session_warning(record) -> bool:
    """logging filter: False for Beam's worker warning that no main session was staged."""
    return not str(record.msg).startswith("No semi_persistent_directory found")


def _run_worker(conn) -> None:
    """In a forked child: become one Beam SDK worker with the client's environment."""
    import signal
    import threading
    import traceback

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    code = 1
    try:
        os.environ.update(json.loads(_read_line(conn)))
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or 1))

        def watch_client() -> None:  # the client was killed (Beam stops a failed worker)
            try:
                while conn.recv(1):
                    pass
            except OSError:
                pass
            os._exit(1)

        threading.Thread(target=watch_client, name="m2p-client-watch", daemon=True).start()
        import logging

        # Beam's worker warns in every local run that it has no directory with a pickled main
        # session; the pipelines pickle none (nothing is defined in __main__), so the warning,
        # forwarded to the launcher's log, would only be noise before every run's output.
        logging.getLogger(BEAM_WORKER_MODULE).addFilter(_no_main_session_warning)
        from apache_beam.runners.worker import sdk_worker_main

        sdk_worker_main.main([])
        code = 0
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the launcher says it
        code = 130
    except BaseException:  # noqa: BLE001 - report anything, then exit with a status
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        try:
            conn.sendall(f"{code}\n".encode())
        except OSError:
            pass
        os._exit(code)


def _preload(modules: Sequence[str], model_path: str | None) -> None:
    import importlib
    import logging

    import torch

    # One thread while preloading: no OpenMP team may exist when the server forks.
    torch.set_num_threads(1)
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as e:  # the worker imports it again (and reports) if it needs it
            logging.getLogger(__name__).warning("fork server: cannot preload %s: %s", name, e)
    try:  # builds the model once: front-end filterbanks and everything it imports are warm,
        # and the forked workers find it loaded (transforms.inference.load_model_cached)
        from m2p_core.model.checkpoint import resolve_model_path
        from transforms import fsio
        from transforms.inference import load_model_cached

        path = resolve_model_path(model_path)
        if fsio.is_local(path):
            load_model_cached(path, "cpu")
    except Exception as e:
        logging.getLogger(__name__).warning("fork server: cannot preload the model: %s", e)


def _reap_workers(timeout: float = 0.0, children: set[int] | None = None) -> None:
    """Reap finished workers (removed from ``children``); with ``timeout``, wait up to that
    long for all of them."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # none left
            return
        if pid == 0:
            if time.monotonic() >= deadline:
                return
            time.sleep(0.01)
        elif children is not None:
            children.discard(pid)


def serve(socket_path: str, preload: Sequence[str], model_path: str | None) -> int:
    import select
    import signal
    import socket

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the launcher closes our stdin
    _preload(preload, model_path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp = socket_path + ".tmp"
    listener.bind(tmp)
    listener.listen(64)
    os.rename(tmp, socket_path)  # clients connect only once the server is ready
    stdin = sys.stdin.fileno()
    children: set[int] = set()
    while True:
        ready, _, _ = select.select([listener, stdin], [], [], 1.0)
        _reap_workers(children=children)
        data = os.read(stdin, 1 << 12) if stdin in ready else b"-"
        if not data or b"stop" in data:  # the launcher is done, or stopped (Ctrl-C)
            listener.close()
            if data:  # stop: end the workers now, quietly (SIGTERM is theirs by default)
                for pid in children:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGTERM)
            _reap_workers(timeout=2.0)  # (so their CPU time is accounted to this process)
            os._exit(0)  # nothing else to clean up; skips seconds of interpreter teardown
        if listener in ready:
            conn, _ = listener.accept()
            pid = os.fork()
            if pid == 0:
                listener.close()
                os.close(stdin)
                _run_worker(conn)  # never returns
            children.add(pid)
            conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.local_workers")
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run a fork server (started by the pipelines themselves)")
    s.add_argument("socket")
    s.add_argument("--preload", default="")
    s.add_argument("--model", default=None)
    args = parser.parse_args(argv)
    return serve(args.socket, [m for m in args.preload.split(",") if m], args.model)


if __name__ == "__main__":
    sys.exit(main())
