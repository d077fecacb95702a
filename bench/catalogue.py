"""Benchmark: `m2p timeline` at catalogue sizes: peak memory and throughput (issue #14).

Issue #14: memory flat in the catalogue's size (the 5,000-input run's peak RSS within 20 % of
the 100-input run's), and the cost of running a local catalogue in chunks.

The catalogue: ``--base`` short real MP3 clips (``--clip-s`` seconds of tones and noise,
generated once) and, for every input, a copy of one of them with its own ID3v1 tag (a unique
title) appended: every input has different content bytes (its own sha256, so nothing is
skipped as a duplicate) and decodes as an ordinary MP3. Folders of each size share files by
hard links. Generated once into ``--cache``.

Each size is one fresh `m2p timeline FOLDER --output NEW` command (a new process, as a user
runs it), timed from launch to exit. Its peak RSS is the kernel's (``os.wait4``'s
``ru_maxrss``, the largest the process reached); RSS is also sampled every 0.5 s from
``/proc/PID/status`` to show its course (medians of the run's second and last quarters).
Throughput is given on the command's wall time and on the pipeline's own (its summary's: no
interpreter start-up, imports or exit).

``--overhead N`` also runs an N-input catalogue with chunks of N (one chunk), 64, 32 and 16
inputs and prints the cost of one more chunk, from least-squares fits of wall time and of CPU
time on the number of chunks (CPU time moves less with the machine's load).

Usage: python bench/catalogue.py [--sizes 100 1000 5000] [--chunk-size 32] [--overhead 256]
                                 [--workers 1] [--extra ARGS...] [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from m2p_core.synth.writers import write_audio  # noqa: E402

RATE = 22050


def _id3v1(title: str) -> bytes:
    """A 128-byte ID3v1 tag (title, year; genre 255 = none)."""
    field = title.encode("ascii")[:30].ljust(30, b"\0")
    return b"TAG" + field + b"\0" * 60 + b"2025" + b"\0" * 30 + b"\xff"


def make_catalogue(cache: Path, n: int, base: int, clip_s: float) -> Path:
    """``cache/inputs-<n>``: n MP3 inputs with distinct bytes (see the module docstring)."""
    master = cache / f"all-{clip_s:g}s-{base}"
    master.mkdir(parents=True, exist_ok=True)
    bases = []
    rng = np.random.default_rng(14)
    t = np.arange(int(clip_s * RATE)) / RATE
    for b in range(base):
        path = master / f"base{b:03d}.mp3"
        if not path.exists():
            f0 = 110.0 * 2 ** (b % 24 / 12)
            tone = 0.3 * np.sin(2 * np.pi * f0 * t) + 0.1 * rng.standard_normal(t.size)
            write_audio(path, tone.astype(np.float32), RATE)
        bases.append(path.read_bytes())
    folder = cache / f"inputs-{clip_s:g}s-{n}"
    folder.mkdir(exist_ok=True)
    for i in range(n):
        name = f"clip{i:05d}.mp3"
        src = master / name
        if not src.exists():
            tmp = master / f".{name}.tmp"
            tmp.write_bytes(bases[i % base] + _id3v1(f"m2p bench input {i:05d}"))
            os.replace(tmp, src)
        dst = folder / name
        if not dst.exists():
            os.link(src, dst)
    return folder


@dataclass
class Run:
    label: str
    inputs: int
    chunk_size: int
    wall_s: float  # command launch to exit
    cpu_s: float  # CPU seconds of the command (os.wait4: it and the children it waited for)
    pipeline_s: float  # the run's own time, from its summary (no start-up, imports, exit)
    peak_rss_mb: float
    early_rss_mb: float  # median of the samples of the run's second quarter (imports done)
    late_rss_mb: float  # median of its last quarter
    summary: str


def _rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_cli(folder: Path, n: int, chunk_size: int, extra: list[str], label: str) -> Run:
    out = Path(tempfile.mkdtemp(prefix="m2p-catalogue-out-"))
    cmd = [sys.executable, "-m", "commands.main", "timeline", str(folder), "--output", str(out),
           "--chunk-size", str(chunk_size), *extra]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "M2P_PROGRESS_S": "30"}
    log = out.parent / f"{out.name}.log"
    samples: list[float] = []
    try:
        with open(log, "w") as f:
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT)
            done = threading.Event()

            def sample() -> None:
                while not done.wait(0.5):
                    v = _rss_mb(proc.pid)
                    if v is not None:
                        samples.append(v)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
            done.set()
            sampler.join()
            proc.returncode = os.waitstatus_to_exitcode(status)
        text = log.read_text()
        if proc.returncode != 0:
            sys.stderr.write(text[-3000:])
            raise SystemExit(f"{label}: m2p timeline exited with {proc.returncode}")
        m = re.search(r"^run \S+: .*$", text, re.M)
        summary = m.group(0) if m else "(no summary)"
        written = re.search(r"(\d+) written", summary)
        if not written or int(written.group(1)) != n:
            raise SystemExit(f"{label}: expected {n} written: {summary}")
        pipeline = re.search(r" in ([\d.]+) s \(", summary)
        q = max(1, len(samples) // 4)
        return Run(label, n, chunk_size, wall, usage.ru_utime + usage.ru_stime,
                   float(pipeline.group(1)) if pipeline else float("nan"),
                   usage.ru_maxrss / 1024,
                   statistics.median(samples[q:2 * q] or samples) if samples else float("nan"),
                   statistics.median(samples[-q:]) if samples else float("nan"), summary)
    finally:
        shutil.rmtree(out, ignore_errors=True)
        log.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--chunk-size", type=int, default=32,
                        help="the runs' --chunk-size (0: one pipeline, for comparison)")
    parser.add_argument("--overhead", type=int, default=0, metavar="N",
                        help="also measure the cost of a chunk on N inputs (0: skip)")
    parser.add_argument("--clip-s", type=float, default=1.0)
    parser.add_argument("--base", type=int, default=48, help="distinct base clips")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(),
                                                        "m2p-bench-catalogue"))
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[],
                        help="more `m2p timeline` arguments (last)")
    args = parser.parse_args(argv)
    extra = ["--workers", str(args.workers), *args.extra]

    t0 = time.perf_counter()
    cache = Path(args.cache)
    folders = {n: make_catalogue(cache, n, args.base, args.clip_s)
               for n in sorted({*args.sizes, *([args.overhead] if args.overhead else [])})}
    print(f"catalogue: up to {max(folders)} x {args.clip_s:g}-s MP3 inputs in {cache} (ready in "
          f"{time.perf_counter() - t0:.1f} s); cores: {os.cpu_count()}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)

    runs = []
    for n in args.sizes:
        load = os.getloadavg()[0]
        r = run_cli(folders[n], n, args.chunk_size, extra, f"{n} inputs")
        runs.append(r)
        print(f"  {n:>6} inputs, chunks of {args.chunk_size or 'all'}: {r.wall_s:7.1f} s, "
              f"{n / r.wall_s:6.1f} inputs/s, peak RSS {r.peak_rss_mb:6.0f} MB (2nd quarter "
              f"{r.early_rss_mb:.0f}, last quarter {r.late_rss_mb:.0f}); load before "
              f"{load:.2f}, after {os.getloadavg()[0]:.2f}\n         {r.summary}", flush=True)

    print(f"\n{'inputs':>7} {'wall s':>8} {'pipeline s':>10} {'inputs/s':>9} "
          f"{'ms/input (pipeline)':>20} {'peak RSS MB':>12} {'RSS 2nd/last quarter MB':>24}")
    for r in runs:
        print(f"{r.inputs:>7} {r.wall_s:8.1f} {r.pipeline_s:10.1f} {r.inputs / r.wall_s:9.1f} "
              f"{1000 * r.pipeline_s / r.inputs:20.1f} {r.peak_rss_mb:12.0f} "
              f"{r.early_rss_mb:12.0f} / {r.late_rss_mb:.0f}")
    if len(runs) > 1:
        small, large = runs[0], runs[-1]
        ratio = large.peak_rss_mb / small.peak_rss_mb
        print(f"peak RSS, {large.inputs} vs {small.inputs} inputs: {ratio:.2f}x (issue #14 "
              f"target: within 20 %: {'met' if abs(ratio - 1) <= 0.2 else 'NOT met'})")

    if args.overhead:
        n = args.overhead
        points = []
        for cs in (n, 64, 32, 16):  # multiples of the batch size: no extra padding
            r = run_cli(folders[n], n, cs, extra, f"overhead, chunks of {cs}")
            chunks = -(-n // cs)
            points.append((chunks, r.wall_s, r.cpu_s))
            print(f"  {n} inputs in {chunks:>3} chunks of {cs:>4}: {r.wall_s:6.1f} s, "
                  f"{r.cpu_s:6.1f} CPU-s", flush=True)
        xs = np.array([p[0] for p in points], float)
        for name, col in (("wall", 1), ("CPU", 2)):
            ys = np.array([p[col] for p in points])
            slope, intercept = np.polyfit(xs, ys, 1)
            per_input = (intercept + slope) / n  # one chunk's run, per input
            print(f"one more chunk costs {slope:.2f} {name}-s (least-squares fit over "
                  f"{len(points)} runs), {slope / per_input:.1f} inputs' worth; chunks of 32 "
                  f"add {100 * slope / (32 * per_input):.0f} % here")
    print(f"\nload average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"(on {os.cpu_count()} cores; timings mean little when it is well above 0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
