"""``m2p train-head``: build the v2 model from a v1 checkpoint and the musicnn weights, fit its
calibrated emotion head on a manifest, optionally cross-validate the head variants, and save.

The v1 network and musicnn stay frozen: only the head (a per-axis logistic regression with
inner-CV regularisation and Platt calibration, :mod:`m2p_core.training.head`) is fitted, on
per-window features cached outside the repository (:mod:`m2p_core.training.head_features`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from m2p_core.files import atomic_write_bytes
from m2p_core.model.checkpoint import load_checkpoint, save_checkpoint, shipped_checkpoint_path
from m2p_core.model.musicnn import MusicNN
from m2p_core.model.v2 import HeadConfig, Music2PaletteV2, fold_scaler
from m2p_core.training.head import HeadFit, HeadRecipe, fit_head
from m2p_core.training.head_features import HeadFeatures, extract_head_features
from m2p_core.training.head_report import (
    VARIANTS,
    format_head_table,
    palette_alignment,
    plot_reliability,
    run_head_cv,
    window_labels,
)
from m2p_core.training.manifest import read_manifest

#: the shipped head (chosen by the cross-validation in docs/MODEL_CARD.md "v2")
SHIPPED_HEAD = HeadConfig()


def musicnn_weights_path() -> str:
    return shipped_checkpoint_path("musicnn_msd.pt")


def build_v2(base_path: str, head: HeadConfig,
             musicnn_path: str | None = None) -> tuple[Music2PaletteV2, dict]:
    """(an unfitted v2 model around the v1 checkpoint at ``base_path``, v1's info)."""
    loaded = load_checkpoint(base_path)
    musicnn = MusicNN.from_pretrained(musicnn_path or musicnn_weights_path(), dataset="msd")
    model = Music2PaletteV2.from_parts(loaded.model, musicnn, head)
    info = {"base_model_version": loaded.model_version, "base_train_info": loaded.train_info}
    return model, info


def set_head(model: Music2PaletteV2, fit: HeadFit) -> None:
    """Load a fitted head into ``model`` (scaler, regression and calibration folded)."""
    cfg = model.head_config
    if (tuple(fit.features), fit.kind, fit.lapse) != (cfg.features, cfg.kind, cfg.lapse):
        raise ValueError(f"head fitted on {fit.features} ({fit.kind}), model expects "
                         f"{model.head_config}")
    weight, bias = fold_scaler(*(torch.from_numpy(np.asarray(a))
                                 for a in (fit.mean, fit.scale, fit.coef, fit.intercept)))
    model.head.set_parts(weight, bias, torch.from_numpy(fit.platt_a).float(),
                         torch.from_numpy(fit.platt_b).float())


def run_train_head(
    manifest_path: str, base_path: str, output_path: str,
    features: tuple[str, ...] = SHIPPED_HEAD.features, kind: str = SHIPPED_HEAD.kind,
    threads: int = 1,
    cv_json: str | None = None, reliability_png: str | None = None,
    feature_cache: Path | None = None, audio_cache: Path | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Extract features, (optionally) cross-validate the variants, fit, save. Returns info."""
    if threads > 0:
        torch.set_num_threads(threads)
    rows = read_manifest(manifest_path)
    head = HeadConfig(tuple(features), kind, SHIPPED_HEAD.lapse)
    model, info = build_v2(base_path, head)
    t0 = time.time()
    feats: HeadFeatures = extract_head_features(rows, model, audio_cache=audio_cache,
                                                feature_cache=feature_cache, log=log)
    log(f"[head] {len(feats.clip_index)} windows of {len(rows)} clips ({time.time() - t0:.0f}s)")
    recipe = HeadRecipe(head.features, kind=head.kind, lapse=head.lapse)
    if cv_json or reliability_png:
        variants = dict(VARIANTS)
        if recipe not in [r for r, _ in variants.values()]:
            variants["chosen"] = (recipe, any(f.endswith("_logits") for f in features))
        table, cvs = run_head_cv(feats, rows, variants, log=log)
        chosen = next(n for n, (r, _) in variants.items() if r == recipe)
        table[chosen]["palette"] = palette_alignment(model, feats, rows,
                                                     cvs[chosen].window_logits, audio_cache)
        log(format_head_table(table))
        log(f"[head] palettes of {chosen}'s out-of-fold emotion through the v1 decoder: "
            + ", ".join(f"{k} {v:.3f}" for k, v in table[chosen]["palette"].items()))
        info["cv"] = table
        if cv_json:
            atomic_write_bytes(cv_json, json.dumps(table, indent=2).encode())
        if reliability_png:
            y = window_labels(feats, rows)
            plot_reliability(reliability_png, {
                f"v2 head, calibrated ({chosen}, out of fold)": cvs[chosen].window_logits,
                "same, before Platt (out of fold)": cvs[chosen].window_raw_logits,
                "v1 shipped (in-sample: trained on these clips)":
                    feats.blocks["v1_logits"].astype(np.float64),
            }, y)
    fit = fit_head(feats, rows, recipe)
    set_head(model, fit)
    log(f"[head] fitted on all {len(rows)} clips: C {fit.c.tolist()}, "
        f"platt a {np.round(fit.platt_a, 3).tolist()} b {np.round(fit.platt_b, 3).tolist()}")
    with open(manifest_path, "rb") as f:
        info["manifest_sha256"] = hashlib.sha256(f.read()).hexdigest()
    info["manifest"] = os.path.basename(manifest_path)
    info["command"] = " ".join(["m2p", *sys.argv[1:]]) if sys.argv else ""
    info["head"] = fit.to_payload()
    info["head"]["inner_log_loss"] = fit.inner
    info["n_train_clips"] = len(rows)
    info["n_train_windows"] = int(len(feats.clip_index))
    info["model_version"] = save_checkpoint(model, output_path, Path(output_path).stem, info)
    return info
