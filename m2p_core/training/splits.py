"""Artist-disjoint train/validation splits, with the synthetic clips always on the training side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from m2p_core.synth.training_set import SYNTHETIC_ARTIST, write_synthetic_set
from m2p_core.training.config import TrainConfig
from m2p_core.training.manifest import ManifestRow, read_manifest


def artist_disjoint_split(
    rows: Sequence[ManifestRow], n_folds: int, fold: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) with no artist in both, stratified by quadrant. Synthetic rows
    (artist :data:`~m2p_core.synth.training_set.SYNTHETIC_ARTIST`) are always in train; the real
    rows' split does not depend on them."""
    real = np.array([i for i, r in enumerate(rows) if r.artist != SYNTHETIC_ARTIST], dtype=int)
    synthetic = np.setdiff1d(np.arange(len(rows)), real)
    y = [rows[i].quadrant for i in real]
    groups = [rows[i].artist for i in real]
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for i, (tr, va) in enumerate(splitter.split(np.zeros(len(real)), y, groups)):
        if i == fold:
            return np.concatenate([real[tr], synthetic]), real[va]
    raise ValueError(f"fold {fold} out of range for {n_folds} folds")


def with_synthetic(rows: Sequence[ManifestRow], cfg: TrainConfig,
                   cache_dir: Path) -> list[ManifestRow]:
    """``rows`` followed by ``cfg.synthetic_clips`` generated clips (rendered once under the cache,
    next to the decoded-audio cache), their weights scaled by ``cfg.synthetic_weight``."""
    if cfg.synthetic_clips <= 0:
        return list(rows)
    manifest = write_synthetic_set(cache_dir.parent / "synthetic", cfg.synthetic_clips, cfg.seed)
    synthetic = [replace(r, weight=r.weight * cfg.synthetic_weight)
                 for r in read_manifest(manifest)]
    return [*rows, *synthetic]
