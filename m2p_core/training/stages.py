"""Training (``m2p train``): music encoder + emotion head, then the learned colour decoder.

Data: any manifest (:mod:`m2p_core.training.manifest`); the shipped checkpoint is trained on
``../shared/data/emotion4q/labels.csv``. Each clip is decoded once per codec variant
(:mod:`m2p_core.training.codec_augment`) and its front-end features cached
(:mod:`m2p_core.training.feature_cache`),
all under ``cache_dir``, outside the repository.

Stage 1 — encoder and valence/arousal head. Per-axis logistic loss on the sign of valence and
arousal (targets from the quadrant), weighted by the manifest weight (``quadrant_tag_ratio``).
The model's ``valence_arousal`` is ``2·P(axis > 0) − 1``. Augmentation: random window position,
random codec variant (MP3 128k / AAC 96k re-encodes of the clip), random gain, SpecAugment
masks. A clip's prediction averages the logits of its windows.

Stage 2 — colour decoder, with the encoder frozen, on every training window: the
multi-objective loss of :mod:`m2p_core.training.losses` (emotion alignment to the encoder's
valence/arousal, diversity within and across songs, alternatives per latent, harmony,
lightness structure, gamut, a weak reconstruction prior toward the v0 mapping).
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from m2p_core.model.checkpoint import save_checkpoint
from m2p_core.model.network import ModelConfig, Music2Palette
from m2p_core.palette.v0 import palette_from_descriptors
from m2p_core.synth.training_set import SYNTHETIC_ARTIST
from m2p_core.training.augment import augment_features
from m2p_core.training.config import TrainConfig
from m2p_core.training.data import default_cache_dir, load_features
from m2p_core.training.feature_cache import WindowFeatures
from m2p_core.training.losses import total_loss
from m2p_core.training.manifest import ManifestRow, read_manifest
from m2p_core.training.metrics import quadrant_metrics
from m2p_core.training.splits import artist_disjoint_split, with_synthetic


@torch.no_grad()
def clip_logits(model: Music2Palette, feats: WindowFeatures, clips: Sequence[int],
                batch_size: int = 128, key: str = "va_logits") -> np.ndarray:
    """(n_clips, 2) valence/arousal logits, averaged over each clip's windows. ``key`` picks
    the combined logits or one part ("cnn_logits", "svm_logits")."""
    model.eval()
    windows = feats.windows_of()
    idx = np.concatenate([windows[int(c)] for c in clips])
    out = []
    for s in range(0, len(idx), batch_size):
        j = idx[s : s + batch_size]
        enc = model.encode_features(torch.from_numpy(feats.logmel[j].astype(np.float32)),
                                    torch.from_numpy(feats.descriptors[j]))
        out.append(enc[key].numpy())
    logits = np.concatenate(out)
    owner = feats.clip_index[idx]
    return np.stack([logits[owner == c].mean(0) for c in clips])


def train_encoder(
    model: Music2Palette, feats: dict[str, WindowFeatures], rows: Sequence[ManifestRow],
    train_idx: np.ndarray, val_idx: np.ndarray, cfg: TrainConfig, log: Callable[[str], None],
) -> list[dict]:
    """Stage 1: encoder + valence/arousal head (the decoder is untouched)."""
    rng = np.random.default_rng(cfg.seed)
    targets = np.array([[np.sign(r.valence), np.sign(r.arousal)] for r in rows], np.float32)
    targets01 = (targets > 0).astype(np.float32)
    weights = np.array([r.weight for r in rows], dtype=np.float32)
    windows = {v: f.windows_of() for v, f in feats.items()}
    variants = [v for v in feats if v != "orig"]
    params = [p for n, p in model.named_parameters() if not n.startswith("palette_decoder.")]
    opt = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    samples = np.repeat(train_idx, cfg.windows_per_clip)
    steps = cfg.epochs * int(np.ceil(len(samples) / cfg.batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.learning_rate,
                                                total_steps=steps, pct_start=0.15)
    bce = torch.nn.BCEWithLogitsLoss(reduction="none")
    history, t0 = [], time.time()
    n_mels = model.config.n_mels
    for epoch in range(cfg.epochs):
        model.train()
        order = rng.permutation(samples)
        total, count = 0.0, 0
        for s in range(0, len(order), cfg.batch_size):
            clips = order[s : s + cfg.batch_size]
            if len(clips) < 2:  # BatchNorm needs more than one example
                continue
            lm, ds = [], []
            for c in clips:
                v = "orig" if not variants or rng.random() < 0.5 else variants[
                    int(rng.integers(len(variants)))]
                w = rng.choice(windows[v][int(c)])
                lm.append(feats[v].logmel[w])
                ds.append(feats[v].descriptors[w])
            logmel = torch.from_numpy(np.stack(lm).astype(np.float32))
            desc = torch.from_numpy(np.stack(ds))
            logmel, desc = augment_features(logmel, desc, rng, cfg, n_mels)
            logits = model.encode_features(logmel, desc)["va_logits"]
            y = torch.from_numpy(targets01[clips])
            wt = torch.from_numpy(weights[clips])
            loss = (bce(logits, y).mean(1) * wt).sum() / wt.sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(clips)
            count += len(clips)
        entry: dict = {"epoch": epoch + 1, "train_loss": total / max(count, 1)}
        last = epoch + 1 == cfg.epochs
        if len(val_idx) and ((epoch + 1) % 10 == 0 or last):
            logits = clip_logits(model, feats["orig"], val_idx)
            entry.update(quadrant_metrics(targets[val_idx], np.tanh(0.5 * logits)))
        history.append(entry)
        msg = " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in entry.items())
        log(f"[train:encoder] {msg} ({time.time() - t0:.0f}s)")
    model.eval()
    return history


@torch.no_grad()
def _encode_windows(model: Music2Palette, feats: WindowFeatures, idx: np.ndarray,
                    batch_size: int = 256) -> dict[str, torch.Tensor]:
    model.eval()
    parts: dict[str, list[torch.Tensor]] = {}
    for s in range(0, len(idx), batch_size):
        j = idx[s : s + batch_size]
        enc = model.encode_features(torch.from_numpy(feats.logmel[j].astype(np.float32)),
                                    torch.from_numpy(feats.descriptors[j]))
        for k in ("valence_arousal", "descriptors", "descriptors_norm", "tokens"):
            parts.setdefault(k, []).append(enc[k])
    return {k: torch.cat(v) for k, v in parts.items()}


def train_decoder(
    model: Music2Palette, feats: WindowFeatures, train_idx: np.ndarray, cfg: TrainConfig,
    log: Callable[[str], None],
) -> list[dict]:
    """Stage 2: the colour decoder on every window of the training clips (encoder frozen)."""
    if model.config.palette_head != "learned":
        return []
    torch.manual_seed(cfg.seed + 1)
    rng = np.random.default_rng(cfg.seed + 1)
    windows = feats.windows_of()
    widx = np.concatenate([windows[int(c)] for c in train_idx])
    enc = _encode_windows(model, feats, widx)
    va, desc = enc["valence_arousal"], enc["descriptors"]
    target, _ = palette_from_descriptors(va, desc)
    clip_ids = torch.from_numpy(feats.clip_index[widx].astype(np.int64))
    quadrant_ids = (va[:, 0] < 0).long() * 2 + (va[:, 1] < 0).long()
    cond = torch.cat([va, enc["descriptors_norm"]], dim=1)
    dec = model.palette_decoder
    opt = torch.optim.AdamW(dec.parameters(), lr=cfg.decoder_learning_rate, weight_decay=1e-3)
    bs = cfg.decoder_batch_size
    steps = cfg.decoder_epochs * int(np.ceil(len(widx) / bs))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.decoder_learning_rate,
                                                total_steps=steps, pct_start=0.1)
    history, t0 = [], time.time()
    # The decoder's ops are small: one thread avoids OpenMP spin-wait thrash when other work
    # shares the cores (measured: >10x slower with 2 threads beside another process).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _decoder_epochs(dec, enc, cond, va, target, clip_ids, quadrant_ids, widx, opt, sched,
                        cfg, rng, history, t0, log)
    finally:
        torch.set_num_threads(threads)
    dec.eval()
    return history


def _decoder_epochs(dec, enc, cond, va, target, clip_ids, quadrant_ids, widx, opt, sched, cfg,
                    rng, history, t0, log) -> None:
    bs = cfg.decoder_batch_size
    for epoch in range(cfg.decoder_epochs):
        dec.train()
        order = torch.from_numpy(rng.permutation(len(widx)))
        sums: dict[str, float] = {}
        n = 0
        for s in range(0, len(order), bs):
            j = order[s : s + bs]
            if len(j) < 2:
                continue
            z1 = torch.randn(len(j), dec.noise_dim)
            z2 = torch.randn(len(j), dec.noise_dim)
            pal, w = dec(enc["tokens"][j], cond[j], z1)
            alt, _ = dec(enc["tokens"][j], cond[j], z2)
            loss, terms = total_loss(cfg.loss_weights, pal, w, alt, va[j], clip_ids[j],
                                     quadrant_ids[j], target[j])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(dec.parameters(), 1.0)
            opt.step()
            sched.step()
            for k, v in {"loss": loss.item(), **terms}.items():
                sums[k] = sums.get(k, 0.0) + v
            n += 1
        entry = {"epoch": epoch + 1, **{k: v / max(n, 1) for k, v in sums.items()}}
        history.append(entry)
        if (epoch + 1) % 5 == 0 or epoch + 1 == cfg.decoder_epochs:
            msg = " ".join(f"{k}={v:.3f}" for k, v in entry.items() if k != "epoch")
            log(f"[train:decoder] epoch={epoch + 1} {msg} ({time.time() - t0:.0f}s)")


def fit_descriptor_svm(
    model: Music2Palette, feats: WindowFeatures, rows: Sequence[ManifestRow],
    train_idx: np.ndarray, log: Callable[[str], None],
) -> None:
    """Stage 1b: the descriptor SVMs on every window of the real training clips (synthetic
    clips are left out: in cross-validation they lowered the SVM's macro-F1 on real music,
    0.615 → 0.576 on fold 0, while the CNN was unchanged)."""
    t0 = time.time()
    windows = feats.windows_of()
    train_idx = np.array([c for c in train_idx if rows[c].artist != SYNTHETIC_ARTIST])
    widx = np.concatenate([windows[int(c)] for c in train_idx])
    clips = feats.clip_index[widx]
    signs = np.array([[np.sign(rows[c].valence), np.sign(rows[c].arousal)] for c in clips])
    weight = np.array([rows[c].weight for c in clips])
    model.descriptor_svm.fit(feats.descriptors[widx].astype(np.float64), signs, weight)
    model.config = replace(model.config, svm_support=model.descriptor_svm.n_support)
    log(f"[train:svm] {len(widx)} windows, support vectors {model.descriptor_svm.n_support} "
        f"({time.time() - t0:.0f}s)")


def train(
    rows: Sequence[ManifestRow],
    feats: dict[str, WindowFeatures],
    model_config: ModelConfig,
    cfg: TrainConfig,
    log: Callable[[str], None] = print,
    split: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[Music2Palette, dict]:
    """Both stages; returns the model and a dict of validation metrics and split facts."""
    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if split is not None:
        tr_idx, va_idx = split
    elif cfg.val_fold >= 0:
        tr_idx, va_idx = artist_disjoint_split(rows, cfg.val_folds, cfg.val_fold, cfg.seed)
    else:
        tr_idx, va_idx = np.arange(len(rows)), np.array([], dtype=int)
    n_synthetic = sum(rows[i].artist == SYNTHETIC_ARTIST for i in tr_idx)
    if n_synthetic:
        log(f"[train] {len(tr_idx) - n_synthetic} real + {n_synthetic} synthetic training clips")
    model = Music2Palette(model_config)
    t0 = time.time()
    enc_hist = train_encoder(model, feats, rows, tr_idx, va_idx, cfg, log)
    fit_descriptor_svm(model, feats["orig"], rows, tr_idx, log)
    if len(va_idx):
        targets = np.array([[np.sign(rows[i].valence), np.sign(rows[i].arousal)] for i in va_idx])
        combined = quadrant_metrics(targets, np.tanh(0.5 * clip_logits(model, feats["orig"],
                                                                        va_idx)))
        enc_hist.append({"epoch": "cnn+svm", **combined})
        log("[train] validation, CNN + descriptor SVM: "
            + " ".join(f"{k}={v:.4f}" for k, v in combined.items()))
    dec_hist = train_decoder(model, feats["orig"], tr_idx, cfg, log)
    model.eval()
    final = enc_hist[-1] if enc_hist else {}
    info = {
        "train_config": {k: v for k, v in asdict(cfg).items() if k != "loss_weights"},
        "loss_weights": asdict(cfg.loss_weights),
        "n_train": int(len(tr_idx)),
        "n_train_synthetic": int(n_synthetic),
        "n_val": int(len(va_idx)),
        "n_train_artists": len({rows[i].artist for i in tr_idx}),
        "n_val_artists": len({rows[i].artist for i in va_idx}),
        "val_metrics": {k: v for k, v in final.items() if k not in ("epoch", "train_loss")},
        "history": enc_hist,
        "decoder_history": dec_hist[-1:] if dec_hist else [],
        "seconds": round(time.time() - t0, 1),
    }
    return model, info


def run_training(
    manifest_path: str,
    output_path: str,
    name: str | None = None,
    cfg: TrainConfig | None = None,
    model_config: ModelConfig | None = None,
    cache_dir: Path | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    """Read a manifest, decode its audio, train, save the checkpoint. Returns train_info."""
    cfg = cfg or TrainConfig()
    model_config = model_config or ModelConfig()
    cache_dir = cache_dir or default_cache_dir()
    rows = with_synthetic(read_manifest(manifest_path), cfg, cache_dir)
    feats = load_features(rows, model_config, cfg.codec_variants, cache_dir, log)
    model, info = train(rows, feats, model_config, cfg, log)
    with open(manifest_path, "rb") as f:
        info["manifest_sha256"] = hashlib.sha256(f.read()).hexdigest()
    info["manifest"] = os.path.basename(manifest_path)
    info["command"] = " ".join(["m2p", *sys.argv[1:]]) if sys.argv else ""
    name = name or Path(output_path).stem
    info["model_version"] = save_checkpoint(model, output_path, name, info)
    return info
