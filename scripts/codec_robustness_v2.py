"""Codec robustness of the shipped default model ``m2p-v2``: its emotion head under MP3/AAC
re-encodes, in the artist-disjoint cross-validation of ``m2p train-head --cv-json``.

For each of the 5 artist-disjoint folds of ``m2p evaluate``
(:func:`~m2p_core.training.splits.artist_disjoint_split`, seed 0) the shipped head recipe
(the checkpoint's :class:`~m2p_core.model.v2.HeadConfig`: musicnn penultimate + tags + v1's
descriptors, 4-class, inner-CV C, Platt, lapse) is fitted with
:func:`~m2p_core.training.head.fit_head` on the ORIGINAL features of the training folds, exactly
as :func:`~m2p_core.training.head.cross_validate_head` does, and the held-out fold is scored on
the features of each input: the original clips (``orig``) and their re-encodes through the
codec variants of :data:`~m2p_core.training.codec_augment.CODEC_VARIANTS` (default
``mp3_128k``, ``aac_96k``). A clip's prediction is the mean of its windows' calibrated logits.

Reported per input: quadrant macro-F1 / accuracy, valence- and arousal-sign accuracy (pooled
over folds, and the per-fold macro-F1), the fraction of clips whose predicted quadrant equals
the one predicted from the original, and the mean (p95, max) |Δvalence|, |Δarousal| of the
calibrated outputs (valence = 2·P(V>0) − 1) per window against the same window of the original
(windows matched by clip and start time), plus per-window sign flips.

Features of a re-encode: each clip decoded through the variant at 16 kHz by the training audio
cache (:func:`~m2p_core.training.data.load_waves`, which caches the decoded variant), cut into
the windows of the original (10 s every 5 s) and passed through the checkpoint's musicnn and v1
by :func:`~m2p_core.training.head_features.extract_head_features` with ``variant=``: cached per
clip, variant and network beside the original's features (``cache_dir("head-features")``,
keyed by :func:`~m2p_core.training.head_features.clip_key`: the audio file's content, the
variant, the network's weight digest, the windowing) and written atomically, so a rerun only
refits the heads.

Caveat: the dev set's audio is 40-kbps Opus; the MP3/AAC inputs here are re-encodes of those
Opus copies (decoded at 44.1 kHz, re-encoded, decoded at 16 kHz), so they add a second lossy
generation rather than replacing the first. The distributed MP3 originals are not available.

Run (from the repository root, one torch thread)::

    OMP_NUM_THREADS=1 nice -n 19 .venv/bin/python scripts/codec_robustness_v2.py \
        [--manifest ../shared/data/emotion4q/labels.csv] [--variants mp3_128k,aac_96k] \
        [--json out/codec-v2.json]

Cost: the first run computes v2's window features for every clip of every variant. Measured on
2 shared cores (one torch thread, nice 19): 0.39-0.55 CPU-s per window including the
re-encode, i.e. 18-26 CPU-minutes per variant (2779 windows for MP3, 2790 for AAC); the whole
first run took 44 CPU-minutes (72 min wall) with the original's features already cached (cold,
add about 15-20 CPU-minutes). The five head fits (inner 4-fold CV over 8 C values each) take
~20 CPU-s: a rerun with warm caches takes well under a minute.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from m2p_core.files import atomic_write_bytes  # noqa: E402
from m2p_core.model.checkpoint import load_checkpoint, shipped_checkpoint_path  # noqa: E402
from m2p_core.model.russell import quadrant_of  # noqa: E402
from m2p_core.training.codec_augment import CODEC_VARIANTS  # noqa: E402
from m2p_core.training.head import HeadRecipe, clip_mean, fit_head  # noqa: E402
from m2p_core.training.head_features import (  # noqa: E402
    HeadFeatures,
    extract_head_features,
    missing_head_features,
)
from m2p_core.training.manifest import read_manifest  # noqa: E402
from m2p_core.training.metrics import quadrant_metrics  # noqa: E402
from m2p_core.training.splits import artist_disjoint_split  # noqa: E402

HOP_S = 5.0  # the head's (and m2p evaluate's) window hop
N_FOLDS, SEED = 5, 0  # the folds of m2p evaluate


def variant_features(rows, model, variant: str, log=print) -> tuple[HeadFeatures, dict]:
    """Per-window features of every clip re-encoded through ``variant`` (cached per clip by
    :func:`~m2p_core.training.head_features.extract_head_features`), and what they cost."""
    t0, c0 = time.time(), time.process_time()
    computed = len(missing_head_features(rows, model, HOP_S, variant))
    feats = extract_head_features(rows, model, HOP_S, log=log, variant=variant)
    cost = {"clips_computed": computed, "windows": int(len(feats.clip_index)),
            "wall_s": round(time.time() - t0, 1), "cpu_s": round(time.process_time() - c0, 1)}
    log(f"[codec] {variant}: {cost}")
    return feats, cost


def concat_features(parts: list[HeadFeatures]) -> HeadFeatures:
    """The windows of ``parts`` (the same clips through different codecs) as one set: a clip's
    windows keep its index, so :func:`~m2p_core.training.head.window_weights` still gives
    every clip a total weight of 1 and the artist-grouped inner CV keeps its copies together."""
    return HeadFeatures(
        blocks={n: np.concatenate([p.blocks[n] for p in parts]) for n in parts[0].blocks},
        clip_index=np.concatenate([p.clip_index for p in parts]),
        start_s=np.concatenate([p.start_s for p in parts]))


def matched_windows(a: HeadFeatures, b: HeadFeatures) -> tuple[np.ndarray, np.ndarray]:
    """Indices (ia, ib) of the windows present in both (same clip, same start time)."""
    key_b = {(int(c), round(float(s), 3)): j
             for j, (c, s) in enumerate(zip(b.clip_index, b.start_s, strict=True))}
    pairs = [(i, key_b[k]) for i, k in enumerate(
        (int(c), round(float(s), 3)) for c, s in zip(a.clip_index, a.start_s, strict=True))
        if k in key_b]
    ia, ib = (np.array(p, dtype=int) for p in zip(*pairs, strict=True))
    return ia, ib


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", default=str(ROOT.parent / "shared/data/emotion4q/labels.csv"))
    ap.add_argument("--variants", default="mp3_128k,aac_96k",
                    help="comma-separated, of "
                    + ", ".join(v for v in CODEC_VARIANTS if v != "orig"))
    ap.add_argument("--json", type=Path, default=ROOT / "out/codec-v2.json")
    ap.add_argument("--model", default=shipped_checkpoint_path("m2p-v2.pt"),
                    help="v2 checkpoint (default: the shipped m2p-v2)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--augment", action="store_true",
                    help="fit each fold's head on the training clips' original AND re-encoded "
                    "windows (codec augmentation, as v1's training), not the originals alone")
    args = ap.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in CODEC_VARIANTS or v == "orig"]
    if unknown:
        ap.error(f"unknown codec variants {unknown}")
    torch.set_num_threads(args.threads)
    t_all, c_all = time.time(), time.process_time()

    rows = read_manifest(args.manifest)
    loaded = load_checkpoint(args.model)
    model = loaded.model.eval()
    cfg = model.head_config
    recipe = HeadRecipe(cfg.features, kind=cfg.kind, lapse=cfg.lapse)  # as m2p train-head

    inputs: dict[str, HeadFeatures] = {}
    cost: dict[str, dict] = {}
    for v in variants:  # the re-encodes first: nothing else computes them
        inputs[v], cost[v] = variant_features(rows, model, v)
    t0, c0 = time.time(), time.process_time()
    inputs = {"orig": extract_head_features(rows, model), **inputs}
    cost["orig"] = {"wall_s": round(time.time() - t0, 1),
                    "cpu_s": round(time.process_time() - c0, 1)}

    # per input: out-of-fold calibrated window logits; per fold: clip predictions
    t0, c0 = time.time(), time.process_time()
    orig = inputs["orig"]
    fit_feats = concat_features(list(inputs.values())) if args.augment else orig
    z = {v: np.full((len(f.clip_index), 2), np.nan) for v, f in inputs.items()}
    x = {v: f.stack(recipe.features) for v, f in inputs.items()}
    clip_true, clip_pred = [], {v: [] for v in inputs}
    fold_f1: dict[str, list] = {v: [] for v in inputs}
    chosen = []
    for fold in range(N_FOLDS):
        tr, va = artist_disjoint_split(rows, N_FOLDS, fold, SEED)
        fit = fit_head(fit_feats, rows, recipe,
                       np.flatnonzero(np.isin(fit_feats.clip_index, tr)))
        chosen.append({"C": fit.c.tolist(), "platt_a": fit.platt_a.round(3).tolist()})
        clips = [int(c) for c in va]
        truth = np.array([[np.sign(rows[c].valence), np.sign(rows[c].arousal)] for c in clips])
        clip_true.append(truth)
        for v, f in inputs.items():
            w_va = np.flatnonzero(np.isin(f.clip_index, va))
            z[v][w_va] = fit.logits(x[v][w_va])
            pred = np.tanh(0.5 * clip_mean(z[v], f.clip_index, clips))
            clip_pred[v].append(pred)
            fold_f1[v].append(quadrant_metrics(truth, pred)["macro_f1"])
        print(f"[codec] fold {fold}: C {fit.c.tolist()}, macro-F1 "
              + ", ".join(f"{v} {f1[-1]:.3f}" for v, f1 in fold_f1.items()), flush=True)
    fit_cost = {"wall_s": round(time.time() - t0, 1), "cpu_s": round(time.process_time() - c0, 1)}

    true = np.concatenate(clip_true)
    pred = {v: np.concatenate(p) for v, p in clip_pred.items()}
    q_orig = [quadrant_of(a, b) for a, b in pred["orig"]]
    table: dict[str, dict] = {}
    for v, f in inputs.items():
        m = quadrant_metrics(true, pred[v])
        m["fold_macro_f1"] = [round(s, 4) for s in fold_f1[v]]
        q = [quadrant_of(a, b) for a, b in pred[v]]
        m["quadrant_agreement_with_orig"] = float(np.mean([a == b for a, b in zip(q, q_orig,
                                                                                 strict=True)]))
        m["clip_mean_abs_delta"] = dict(zip(
            ("valence", "arousal"), np.abs(pred[v] - pred["orig"]).mean(0).tolist(), strict=True))
        io, iv = matched_windows(orig, f)
        va_o, va_v = np.tanh(0.5 * z["orig"][io]), np.tanh(0.5 * z[v][iv])
        d = np.abs(va_v - va_o)
        m["windows"] = int(len(f.clip_index))
        m["windows_matched"] = int(len(io))
        for k, axis in enumerate(("valence", "arousal")):
            m[f"window_{axis}_abs_delta"] = {
                "mean": float(d[:, k].mean()), "p95": float(np.percentile(d[:, k], 95)),
                "max": float(d[:, k].max())}
            m[f"window_{axis}_sign_flips"] = float(np.mean(np.sign(va_v[:, k])
                                                           != np.sign(va_o[:, k])))
        table[v] = m

    out = {
        "model": loaded.model_version, "manifest": str(args.manifest), "n_clips": len(rows),
        "recipe": {"features": list(recipe.features), "kind": recipe.kind,
                   "lapse": recipe.lapse},
        "protocol": "artist-disjoint 5-fold CV (folds of m2p evaluate, seed 0); head fitted on "
                    + ("the original and re-encoded features" if args.augment
                       else "the original (Opus) features")
                    + " of the training folds; held-out fold scored "
                    "on each input; clip = mean of window logits; deltas against the same "
                    "window of the original, same fold's head",
        "caveat": "MP3/AAC inputs are re-encodes of the 40-kbps Opus dev copies (decoded at "
                  "44.1 kHz, re-encoded, decoded at 16 kHz), not the distributed originals",
        "augment": args.augment, "folds": chosen, "by_input": table,
        "cost": {"features": cost, "cv": fit_cost,
                 "total_wall_s": round(time.time() - t_all, 1),
                 "total_cpu_s": round(time.process_time() - c_all, 1)},
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.json, json.dumps(out, indent=2).encode())
    print(f"{'input':<10}{'F1':>7}{'V-acc':>7}{'A-acc':>7}{'agree':>7}{'|dv|':>7}{'|da|':>7}"
          "  per-fold F1")
    for v, m in table.items():
        print(f"{v:<10}{m['macro_f1']:>7.3f}{m['valence_sign_acc']:>7.3f}"
              f"{m['arousal_sign_acc']:>7.3f}{m['quadrant_agreement_with_orig']:>7.3f}"
              f"{m['window_valence_abs_delta']['mean']:>7.3f}"
              f"{m['window_arousal_abs_delta']['mean']:>7.3f}  "
              f"{min(m['fold_macro_f1']):.3f}-{max(m['fold_macro_f1']):.3f}")
    print(f"[codec] wrote {args.json} ({out['cost']['total_wall_s']:.0f}s wall, "
          f"{out['cost']['total_cpu_s']:.0f}s CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
