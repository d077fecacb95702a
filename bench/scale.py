"""Benchmark: local parallelism, `m2p timeline --workers N`, on one generated catalogue.

The same catalogue as bench/timeline.py (N generated 30-s MP3 clips, cached in a temp folder) is
run end to end with each worker count in one run (default: 1 and 2), each on a fresh output
folder. Prints wall time, seconds of audio per wall second, the speed-up over the first worker
count, and checks that every run wrote the same timelines: the same rows, palettes and
quadrants bit for bit, and the largest numeric difference (batch composition may differ between
worker counts, which can move float32 results in the last bits).

The machine's load average is printed before and after: on a busy machine the workers share
cores with other work, and the speed-up says little about the pipeline.

Each worker count first gets an untimed warm-up run on two clips, so first-use costs of the process
(imports, kernels) do not all land on whichever count runs first.

Usage: python bench/scale.py [--clips 100] [--workers 1 2] [--repeats 1] [--mode NAME]
                             [--device auto|CPU|GPU] [--model CKPT] [--keep]
Target (issue #6): >= 1.7x with 2 workers on the 2-core machine, outputs identical.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timeline import CLIP_S, make_catalogue  # noqa: E402  (bench/timeline.py)

from pipelines import timeline  # noqa: E402

KEY = ["source_uri", "window_index"]
EXACT = ["media_id", "start_s", "end_s", "palette_hex", "quadrant", "padded", "model_version"]
NUMERIC = ["valence", "arousal", "palette_lab", "weights"]


def _table(out: Path):
    t = ds.dataset(str(out / "timelines"), format="parquet").to_table()
    return t.sort_by([(k, "ascending") for k in KEY]).to_pydict()


def compare(a: dict, b: dict) -> tuple[bool, float]:
    """(identical rows on the exact columns, max |difference| on the numeric ones)."""
    if a["source_uri"] != b["source_uri"] or a["window_index"] != b["window_index"]:
        return False, float("inf")
    same = all(a[c] == b[c] for c in EXACT if c in a)
    worst = 0.0
    for c in NUMERIC:
        x = np.asarray(a[c], dtype=np.float64)
        y = np.asarray(b[c], dtype=np.float64)
        if x.shape != y.shape:
            return False, float("inf")
        worst = max(worst, float(np.abs(x - y).max(initial=0.0)))
    return same, worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--mode", default=None,
                        help="Beam --direct_running_mode for N > 1 (default: the pipeline's)")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "m2p-bench-clips"))
    parser.add_argument("--model", default=None, help="checkpoint (default: the shipped one)")
    parser.add_argument("--device", default=None, choices=["auto", "CPU", "GPU"],
                        help="RunInference device (default: the pipeline's, auto)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per worker count; the fastest counts (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the output folders")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    # Its own folder of exactly --clips clips (the pipeline reads the whole folder).
    folder = Path(args.cache) / f"scale-{args.clips}"
    paths = make_catalogue(folder, args.clips)
    print(f"catalogue: {len(paths)} x {CLIP_S:.0f}-s MP3 clips in {folder} "
          f"(ready in {time.perf_counter() - t0:.1f} s); cores: {os.cpu_count()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    def run(workers: int, inputs: list[str]) -> tuple[float, object, Path]:
        out = Path(tempfile.mkdtemp(prefix=f"m2p-scale-{workers}w-"))
        extra = ["--direct_running_mode", args.mode] if args.mode and workers > 1 else []
        extra += ["--model", args.model] if args.model else []
        extra += ["--device", args.device] if args.device else []
        t = time.perf_counter()
        summary = timeline.run([*inputs, "--output", str(out), "--workers", str(workers),
                                *extra])
        return time.perf_counter() - t, summary, out

    # Warm-up (not timed): first-use costs of this process (imports, kernels) would otherwise
    # all land on whichever worker count runs first.
    for workers in sorted(set(args.workers)):
        _, _, out = run(workers, [str(p) for p in paths[:2]])
        shutil.rmtree(out, ignore_errors=True)

    results = []
    for workers in args.workers:
        best = None
        for _ in range(args.repeats):
            wall, summary, out = run(workers, [str(folder)])
            assert summary.media_written == len(paths), summary
            if best is None or wall < best[0]:
                best = (wall, summary, _table(out))
            print(f"--workers {workers}: {wall:.2f} s, {summary.audio_s / wall:.0f}x realtime "
                  f"({summary.windows} windows, {summary.windows / wall:.1f} windows/s)")
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
        wall, summary, rows = best
        results.append((workers, summary.audio_s, wall, rows))
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    base_workers, _, base_wall, base_rows = results[0]
    print(f"\n{'workers':>7} {'wall s':>7} {'x realtime':>11} {'speed-up':>9} "
          f"{'identical':>10} {'max diff':>9}")
    ok = True
    for workers, audio_s, wall, rows in results:
        same, worst = compare(base_rows, rows)
        ok &= same and worst < 1e-3
        print(f"{workers:7d} {wall:7.2f} {audio_s / wall:11.0f} {base_wall / wall:8.2f}x "
              f"{'yes' if same else 'NO':>10} {worst:9.1e}")
    print(f"\n(speed-up over --workers {base_workers}; target >= 1.7x with 2 workers on 2 cores; "
          f"identical = same rows, palettes (hex) and quadrants)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
