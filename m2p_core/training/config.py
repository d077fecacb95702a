"""The training recipe: every setting of ``m2p train`` in one dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field

from m2p_core.training.losses import LossWeights

#: synthetic clips in the shipped recipe (the default of ``m2p train`` / ``m2p evaluate``)
SHIPPED_SYNTHETIC_CLIPS = 240


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
    codec_variants: tuple[str, ...] = ("mp3_128k", "aac_96k")  # () = no codec augmentation
    windows_per_clip: int = 1  # random windows per clip per epoch
    spec_augment: bool = True
    decoder_epochs: int = 25
    decoder_batch_size: int = 128
    decoder_learning_rate: float = 2e-3
    synthetic_clips: int = 0  # labelled synthetic clips added to training (never validation)
    synthetic_weight: float = 0.5  # their loss weight relative to a real clip
    loss_weights: LossWeights = field(default_factory=LossWeights)
