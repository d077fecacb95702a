"""Benchmark: `m2p timeline` throughput vs decode-only, on a generated catalogue.

Generates (once, cached in a temp folder) N 30-s MP3 clips with the project's synthesiser, then
measures in the same run, all as seconds of audio per wall-clock second ("x realtime"):

* decode-only: PyAV decode + resample to the model's rate of the same files (the ceiling),
  with 1 process and with as many processes as the pipeline gets workers;
* model-only: the model's forward (front end included) over the same number of windows;
* `m2p timeline` end to end (match, hash, decode, windows, RunInference, Parquet) with 1 worker
  and with --workers 2, each on a fresh output folder.

Usage: python bench/timeline.py [--clips 50] [--workers 2] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import torch

from m2p_core.audio.decode import iter_audio
from m2p_core.model.checkpoint import load_checkpoint
from m2p_core.model.network import ModelConfig
from m2p_core.synth.music import PRESETS, synthesize_music
from m2p_core.synth.writers import write_audio
from pipelines import timeline

CLIP_S = 30.0
SYNTH_RATE = 44100


def make_catalogue(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    presets = ["happy", "angry", "sad", "calm", "neutral"]
    paths = []
    for i in range(n):
        path = folder / f"clip{i:03d}.mp3"
        if not path.exists():
            spec = replace(PRESETS[presets[i % len(presets)]], seed=1000 + i)
            write_audio(path, synthesize_music(spec, CLIP_S, SYNTH_RATE), SYNTH_RATE)
        paths.append(path)
    return paths


def _decode_one(path: str) -> int:
    sr = ModelConfig().sample_rate
    return sum(len(c) for c in iter_audio(path, sr))


def decode_only(paths: list[Path], processes: int) -> tuple[float, float]:
    """(audio seconds, wall seconds) to decode + resample all files."""
    t0 = time.perf_counter()
    if processes <= 1:
        samples = sum(_decode_one(str(p)) for p in paths)
    else:
        with ProcessPoolExecutor(processes) as pool:
            samples = sum(pool.map(_decode_one, [str(p) for p in paths], chunksize=4))
    return samples / ModelConfig().sample_rate, time.perf_counter() - t0


def model_only(n_windows: int, batch_size: int = 16) -> float:
    """Wall seconds for the model's forward over n_windows random 10-s windows (batched)."""
    model = load_checkpoint().model
    n = model.config.window_samples
    x = torch.randn(batch_size, n) * 0.1
    with torch.no_grad():
        model(x[:2])  # warm up
        t0 = time.perf_counter()
        done = 0
        while done < n_windows:
            b = min(batch_size, n_windows - done)
            model(x[:b])
            done += b
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "m2p-bench-clips"))
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    paths = make_catalogue(Path(args.cache), args.clips)
    print(f"catalogue: {len(paths)} x {CLIP_S:.0f}-s MP3 clips in {args.cache} "
          f"(ready in {time.perf_counter() - t0:.1f} s)")
    audio_total = len(paths) * CLIP_S

    rows = []
    a, w = decode_only(paths, 1)
    rows.append(("decode-only, 1 process", a, w))
    a, w = decode_only(paths, args.workers)
    rows.append((f"decode-only, {args.workers} processes", a, w))

    windows_per_clip = 5  # 30 s, window 10, hop 5
    n_windows = windows_per_clip * len(paths)
    w = model_only(n_windows)
    rows.append((f"model forward only ({n_windows} windows, batch 16 (the pipeline default), "
                 f"{torch.get_num_threads()} threads)", audio_total, w))

    for workers in (1, args.workers):
        out = Path(tempfile.mkdtemp(prefix="m2p-bench-out-"))
        try:
            t = time.perf_counter()
            summary = timeline.run([*map(str, paths), "--output", str(out),
                                    "--workers", str(workers)])
            wall = time.perf_counter() - t
            assert summary.media_written == len(paths), summary
            rows.append((f"m2p timeline end to end, --workers {workers}", summary.audio_s, wall))
        finally:
            shutil.rmtree(out, ignore_errors=True)

    ref = rows[1][1] / rows[1][2]
    print(f"\n{'what':<62} {'audio s':>8} {'wall s':>7} {'x realtime':>11} {'vs decode':>10}")
    for name, audio_s, wall_s in rows:
        rt = audio_s / wall_s
        print(f"{name:<62} {audio_s:8.0f} {wall_s:7.2f} {rt:11.0f} {rt / ref:10.2f}")
    print(f"\n('vs decode' = throughput relative to decode-only with {args.workers} processes; "
          f"target for m2p timeline: >= 500x realtime on 2 cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
