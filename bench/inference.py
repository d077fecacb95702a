"""Benchmark: batched model inference (front end included), windows per second.

1. The trade-off of the two shipped models (``m2p-v2.pt``, the default, and ``m2p-v1.pt``,
   ``--model fast``) on the CPU at batch 16 (the pipelines' default) with 1 and 2 torch
   threads: windows/s and × realtime from wall-clock time, and CPU seconds per window (process
   CPU time: robust on a shared machine), beside each model's cross-validated macro-F1 (read
   from the checkpoints' train_info; v1's from docs/MODEL_CARD.md). Each window advances the
   timeline by one 5-s hop, so × realtime = windows/s × 5.
2. v2's musicnn under the CPU speed options: float32 (shipped), channels_last, bfloat16
   autocast (and both), with the largest change of the calibrated valence/arousal they cause.
3. Each model's forward at batch sizes 32..2048 on the CPU (v2 up to 64) and, when CUDA is
   available, on the GPU (synchronised timings, warm-up excluded); reference: batch 32 on the
   CPU.

Usage: python bench/inference.py [--max-batch 512] [--repeats 3] [--skip-sweep]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time

import torch

from m2p_core.model.checkpoint import load_checkpoint, resolve_model_path

#: v1's artist-disjoint 5-fold CV macro-F1 (docs/MODEL_CARD.md; its checkpoint has no CV record)
V1_CV_MACRO_F1 = 0.628
HOP_S = 5.0


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


def cpu_speed(model, batch: int, threads: int, repeats: int,
              context=contextlib.nullcontext) -> tuple[float, float, torch.Tensor]:
    """(windows/s by wall clock, CPU seconds per window, valence_arousal) on random windows;
    the best of ``repeats`` runs after a warm-up."""
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        x = torch.randn(batch, model.config.window_samples, generator=torch.Generator()
                        .manual_seed(0)) * 0.1
        with torch.no_grad(), context():
            out = model(x)["valence_arousal"].float()
            best_wall = best_cpu = float("inf")
            for _ in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                model(x)
                best_wall = min(best_wall, time.perf_counter() - t0)
                best_cpu = min(best_cpu, time.process_time() - c0)
    finally:
        torch.set_num_threads(old)
    return batch / best_wall, best_cpu / batch, out


def cv_macro_f1(loaded) -> float:
    cv = (loaded.train_info.get("cv") or {})
    shipped = loaded.train_info.get("head", {})
    for row in cv.values():
        if isinstance(row, dict) and row.get("features") == shipped.get("features") \
                and row.get("kind", "axes") == shipped.get("kind", "axes") \
                and row.get("calibrated", True):
            return float(row["macro_f1"])
    return V1_CV_MACRO_F1 if not shipped else float("nan")


def trade_off(repeats: int, batch: int = 16) -> None:
    print(f"\n== models: CPU, batch {batch}, random 10-s windows (x realtime = windows/s x "
          f"{HOP_S:g} s hop) ==")
    print(f"{'model':<22} {'CV F1':>6} {'threads':>7} {'windows/s':>10} {'x realtime':>11} "
          f"{'CPU s/window':>13}")
    for alias in ("default", "fast"):
        loaded = load_checkpoint(resolve_model_path(alias))
        f1 = cv_macro_f1(loaded)
        for threads in (1, 2):
            wps, cpu, _ = cpu_speed(loaded.model, batch, threads, repeats)
            print(f"{loaded.model_version:<22} {f1:>6.3f} {threads:>7} {wps:>10.1f} "
                  f"{wps * HOP_S:>11.0f} {cpu:>13.4f}")


def musicnn_options(repeats: int, batch: int = 16, threads: int = 1) -> None:
    model = load_checkpoint(resolve_model_path("default")).model
    if not hasattr(model, "musicnn"):
        return
    print(f"\n== v2's musicnn speed options: CPU, batch {batch}, {threads} thread(s) ==")
    print(f"{'option':<26} {'windows/s':>10} {'x realtime':>11} {'CPU s/window':>13} "
          f"{'max |dVA|':>10}")
    bf16 = lambda: torch.autocast("cpu", dtype=torch.bfloat16)  # noqa: E731
    ref = None
    for name, layout, context in (("float32 (shipped)", torch.contiguous_format,
                                   contextlib.nullcontext),
                                  ("channels_last", torch.channels_last, contextlib.nullcontext),
                                  ("bfloat16 autocast", torch.contiguous_format, bf16),
                                  ("channels_last + bf16", torch.channels_last, bf16)):
        model.musicnn.to(memory_format=layout)
        wps, cpu, va = cpu_speed(model, batch, threads, repeats, context)
        ref = va if ref is None else ref
        print(f"{name:<26} {wps:>10.1f} {wps * HOP_S:>11.0f} {cpu:>13.4f} "
              f"{float((va - ref).abs().max()):>10.4f}")
    model.musicnn.to(memory_format=torch.contiguous_format)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-batch", type=int, default=512,
                        help="largest batch on the CPU (GPU always goes to 2048)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-sweep", action="store_true",
                        help="only the model trade-off and the musicnn options")
    args = parser.parse_args(argv)
    trade_off(args.repeats)
    musicnn_options(args.repeats)
    if args.skip_sweep:
        return 0
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for alias, cpu_cap in (("default", min(args.max_batch, 64)), ("fast", args.max_batch)):
        loaded = load_checkpoint(resolve_model_path(alias))
        print(f"\n== batch sweep: {loaded.model_version} (--model {alias}), torch "
              f"{torch.__version__}, {torch.get_num_threads()} CPU threads ==")
        if len(devices) == 1:
            print("(no CUDA device here: GPU rows are measured on a GPU machine, see the README)")
        ref = None
        print(f"{'device':<6} {'batch':>6} {'windows/s':>10} {'x realtime':>11} "
              f"{'vs cpu@32':>10}")
        for device in devices:
            model = load_checkpoint(resolve_model_path(alias), device=device).model
            for batch in (32, 64, 128, 256, 512, 1024, 2048):
                if device == "cpu" and batch > cpu_cap:
                    break
                wps = windows_per_s(model, device, batch, args.repeats)
                ref = ref or wps
                # each window advances the timeline by one hop (5 s) at the default settings
                print(f"{device:<6} {batch:>6} {wps:>10.1f} {wps * HOP_S:>11.0f} "
                      f"{wps / ref:>10.2f}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
