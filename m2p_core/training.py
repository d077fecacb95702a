"""Training of the valence/arousal head (``m2p train``), with an artist-disjoint validation split.

Data: any manifest (see :mod:`m2p_core.manifest`); the shipped checkpoint is trained on
``../shared/data/emotion4q/labels.csv``. Each clip is decoded once to mono float32 at the model's
sample rate and cached as .npy under ``cache_dir`` (outside the repository).

Objective: per-axis logistic loss on the sign of valence and of arousal (targets from the quadrant),
weighted per clip by the manifest weight (``quadrant_tag_ratio`` for emotion4q). The model's
``valence_arousal`` output is ``2·P(axis > 0) − 1``. Augmentation: random window crops, random gain.
Validation: every window of each held-out clip (hop = window/2), logits averaged per clip, quadrant
from the two signs, macro-F1 over the four quadrants.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold

from m2p_core.checkpoint import save_checkpoint
from m2p_core.manifest import ManifestRow, read_manifest
from m2p_core.media import decode_audio
from m2p_core.model import ModelConfig, Music2Palette
from m2p_core.russell import QUADRANTS, quadrant_of


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 40
    batch_size: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 1e-2
    val_folds: int = 5  # artist-disjoint folds; fold `val_fold` is held out
    val_fold: int = 0  # -1: no validation, train on everything
    seed: int = 0
    gain_db_range: float = 6.0
    threads: int = 0  # torch threads; 0 = torch default


def default_cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "music2palette" / "audio"


def _cache_key(path: str, sample_rate: int) -> str:
    st = os.stat(path)
    ident = f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}|{sample_rate}"
    return hashlib.sha256(ident.encode()).hexdigest()[:24]


def _load_one(args: tuple[str, int, str]) -> np.ndarray:
    path, sample_rate, cache_dir = args
    cached = Path(cache_dir) / f"{_cache_key(path, sample_rate)}.npy"
    if cached.is_file():
        return np.load(cached)
    wave = decode_audio(path, sample_rate).astype(np.float32)
    tmp = cached.with_suffix(".tmp.npy")
    np.save(tmp, wave)
    os.replace(tmp, cached)
    return wave


def load_waves(
    rows: Sequence[ManifestRow], sample_rate: int, cache_dir: Path, workers: int = 2
) -> list[np.ndarray]:
    """Decode (or read from cache) every clip of the manifest, in manifest order."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(r.path, sample_rate, str(cache_dir)) for r in rows]
    if workers <= 1:
        return [_load_one(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_load_one, jobs, chunksize=8))


def artist_disjoint_split(
    rows: Sequence[ManifestRow], n_folds: int, fold: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) with no artist in both, stratified by quadrant."""
    y = [r.quadrant for r in rows]
    groups = [r.artist for r in rows]
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for i, (tr, va) in enumerate(splitter.split(np.zeros(len(rows)), y, groups)):
        if i == fold:
            return tr, va
    raise ValueError(f"fold {fold} out of range for {n_folds} folds")


def _random_crops(
    waves: Sequence[np.ndarray], window_n: int, rng: np.random.Generator, gain_db: float
) -> np.ndarray:
    out = np.zeros((len(waves), window_n), dtype=np.float32)
    for i, w in enumerate(waves):
        if len(w) > window_n:
            s = int(rng.integers(0, len(w) - window_n + 1))
            seg = w[s : s + window_n]
        else:
            seg = w
        gain = 10.0 ** (rng.uniform(-gain_db, gain_db) / 20.0)
        out[i, : len(seg)] = seg * gain
    return out


def clip_windows(wave: np.ndarray, window_n: int, hop_n: int) -> np.ndarray:
    """All analysis windows of one clip (n, window_n), the last zero-padded."""
    n = len(wave)
    count = max(1, int(np.ceil(max(0, n - window_n) / hop_n)) + 1)
    out = np.zeros((count, window_n), dtype=np.float32)
    for k in range(count):
        seg = wave[k * hop_n : k * hop_n + window_n]
        out[k, : len(seg)] = seg
    return out


@torch.no_grad()
def predict_clip_logits(
    model: Music2Palette, waves: Sequence[np.ndarray], batch_size: int = 64
) -> np.ndarray:
    """(n_clips, 2) valence/arousal logits, averaged over each clip's windows."""
    model.eval()
    n = model.config.window_samples
    out = []
    for w in waves:
        wins = clip_windows(w, n, n // 2)
        logits = []
        for s in range(0, len(wins), batch_size):
            logits.append(model(torch.from_numpy(wins[s : s + batch_size]))["va_logits"])
        out.append(torch.cat(logits).mean(0).numpy())
    return np.stack(out)


def quadrant_metrics(true_va: np.ndarray, pred_va: np.ndarray) -> dict[str, float]:
    """Quadrant macro-F1 / accuracy and per-axis sign accuracy from (n, 2) arrays."""
    yt = [quadrant_of(v, a) for v, a in true_va]
    yp = [quadrant_of(v, a) for v, a in pred_va]
    return {
        "macro_f1": float(f1_score(yt, yp, labels=list(QUADRANTS), average="macro")),
        "accuracy": float(accuracy_score(yt, yp)),
        "valence_sign_acc": float(np.mean(np.sign(true_va[:, 0]) == np.sign(pred_va[:, 0]))),
        "arousal_sign_acc": float(np.mean(np.sign(true_va[:, 1]) == np.sign(pred_va[:, 1]))),
    }


def train(
    rows: Sequence[ManifestRow],
    waves: Sequence[np.ndarray],
    model_config: ModelConfig,
    cfg: TrainConfig,
    log: Callable[[str], None] = print,
) -> tuple[Music2Palette, dict]:
    """Train a model; returns it with a dict of validation metrics and split facts."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    if cfg.val_fold >= 0:
        tr_idx, va_idx = artist_disjoint_split(rows, cfg.val_folds, cfg.val_fold, cfg.seed)
    else:
        tr_idx, va_idx = np.arange(len(rows)), np.array([], dtype=int)
    targets = np.array([[np.sign(r.valence), np.sign(r.arousal)] for r in rows], dtype=np.float32)
    weights = np.array([r.weight for r in rows], dtype=np.float32)
    targets01 = (targets > 0).astype(np.float32)

    model = Music2Palette(model_config)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    steps_per_epoch = int(np.ceil(len(tr_idx) / cfg.batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg.learning_rate, total_steps=cfg.epochs * steps_per_epoch, pct_start=0.15
    )
    bce = torch.nn.BCEWithLogitsLoss(reduction="none")
    window_n = model_config.window_samples
    history = []
    t0 = time.time()
    for epoch in range(cfg.epochs):
        model.train()
        order = rng.permutation(tr_idx)
        total, count = 0.0, 0
        for s in range(0, len(order), cfg.batch_size):
            idx = order[s : s + cfg.batch_size]
            if len(idx) < 2:  # BatchNorm needs more than one example
                continue
            x = torch.from_numpy(_random_crops([waves[i] for i in idx], window_n, rng,
                                               cfg.gain_db_range))
            y = torch.from_numpy(targets01[idx])
            w = torch.from_numpy(weights[idx])
            logits = model(x)["va_logits"]
            loss = (bce(logits, y).mean(1) * w).sum() / w.sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            count += len(idx)
        entry = {"epoch": epoch + 1, "train_loss": total / max(count, 1)}
        last = epoch + 1 == cfg.epochs
        if len(va_idx) and ((epoch + 1) % 5 == 0 or last):
            logits = predict_clip_logits(model, [waves[i] for i in va_idx])
            entry.update(quadrant_metrics(targets[va_idx], np.tanh(0.5 * logits)))
        history.append(entry)
        msg = " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in entry.items())
        log(f"[train] {msg} ({time.time() - t0:.0f}s)")
    model.eval()
    final = history[-1] if history else {}
    info = {
        "train_config": asdict(cfg),
        "n_train": int(len(tr_idx)),
        "n_val": int(len(va_idx)),
        "n_train_artists": len({rows[i].artist for i in tr_idx}),
        "n_val_artists": len({rows[i].artist for i in va_idx}),
        "val_metrics": {k: v for k, v in final.items() if k not in ("epoch", "train_loss")},
        "history": history,
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
    rows = read_manifest(manifest_path)
    t0 = time.time()
    waves = load_waves(rows, model_config.sample_rate, cache_dir or default_cache_dir())
    log(f"[train] decoded {len(rows)} clips in {time.time() - t0:.0f}s")
    model, info = train(rows, waves, model_config, cfg, log)
    with open(manifest_path, "rb") as f:
        info["manifest_sha256"] = hashlib.sha256(f.read()).hexdigest()
    info["manifest"] = os.path.basename(manifest_path)
    info["command"] = " ".join(["m2p", *sys.argv[1:]]) if sys.argv else ""
    name = name or Path(output_path).stem
    info["model_version"] = save_checkpoint(model, output_path, name, info)
    return info
