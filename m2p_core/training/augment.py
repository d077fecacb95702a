"""Training-time augmentation of front-end features: gain and SpecAugment-style masks."""

from __future__ import annotations

import numpy as np
import torch

from m2p_core.model.frontend import DESCRIPTOR_INDEX
from m2p_core.training.config import TrainConfig


def augment_features(logmel: torch.Tensor, desc: torch.Tensor, rng: np.random.Generator,
             cfg: TrainConfig, n_mels: int) -> tuple[torch.Tensor, torch.Tensor]:
    b = logmel.shape[0]
    gain_db = torch.from_numpy(rng.uniform(-cfg.gain_db_range, cfg.gain_db_range, b)).float()
    logmel = logmel + (gain_db * (np.log(10.0) / 10.0))[:, None, None]  # power gain in ln units
    desc = desc.clone()
    desc[:, DESCRIPTOR_INDEX["loudness_db"]] += gain_db
    desc[:, DESCRIPTOR_INDEX["mfcc0_mean"]] += gain_db * float(np.sqrt(n_mels))
    if cfg.spec_augment:
        fill = logmel.mean()
        for i in range(b):
            if rng.random() < 0.5:
                f0, fw = int(rng.integers(0, n_mels - 8)), int(rng.integers(1, 9))
                logmel[i, f0 : f0 + fw, :] = fill
            if rng.random() < 0.5:
                t_len = logmel.shape[2]
                t0, tw = int(rng.integers(0, t_len - 40)), int(rng.integers(1, 41))
                logmel[i, :, t0 : t0 + tw] = fill
    return logmel, desc
