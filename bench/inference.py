"""Benchmark: batched model inference (front end included), windows per second by batch size.

Runs the shipped checkpoint's forward on random 10-s windows at batch sizes 32..2048 on the CPU
and, when CUDA is available, on the GPU (synchronised timings, warm-up excluded). The reference
in the same run is batch 32 on the CPU: every row prints its speed-up over it.

Usage: python bench/inference.py [--max-batch 2048] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from m2p_core.model.checkpoint import load_checkpoint


def windows_per_s(model, device: str, batch: int, repeats: int) -> float:
    n = model.config.window_samples
    x = (torch.randn(batch, n) * 0.1).to(device)
    with torch.no_grad():
        model(x)  # warm-up (allocations, cuDNN autotune)
        if device == "cuda":
            torch.cuda.synchronize()
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            if device == "cuda":
                torch.cuda.synchronize()
            best = min(best, time.perf_counter() - t0)
    return batch / best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-batch", type=int, default=512,
                        help="largest batch on the CPU (GPU always goes to 2048)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    loaded = load_checkpoint()
    print(f"model {loaded.model_version}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    if len(devices) == 1:
        print("(no CUDA device here: GPU rows are measured on a GPU machine, see the README)")
    ref = None
    print(f"{'device':<6} {'batch':>6} {'windows/s':>10} {'x realtime':>11} {'vs cpu@32':>10}")
    for device in devices:
        model = load_checkpoint(device=device).model
        for batch in (32, 64, 128, 256, 512, 1024, 2048):
            if device == "cpu" and batch > args.max_batch:
                break
            wps = windows_per_s(model, device, batch, args.repeats)
            ref = ref or wps
            # each window advances the timeline by one hop (5 s) at the default settings
            print(f"{device:<6} {batch:>6} {wps:>10.1f} {wps * 5.0:>11.0f} {wps / ref:>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
