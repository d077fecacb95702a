"""Training and evaluating the model (``m2p train``, ``m2p evaluate``).

Recipe and data
    :class:`TrainConfig`, :data:`SHIPPED_SYNTHETIC_CLIPS` (:mod:`.config`);
    :func:`read_manifest`, :class:`ManifestRow` (:mod:`.manifest`);
    :func:`load_waves`, :func:`load_features`, :func:`default_cache_dir` (:mod:`.data`, decoded
    audio and front-end features cached outside the repository; codec variants in
    :mod:`.codec_augment`, features in :mod:`.feature_cache`)
Splits and metrics
    :func:`artist_disjoint_split`, :func:`with_synthetic` (:mod:`.splits`);
    :func:`quadrant_metrics` (:mod:`.metrics`)
Stages
    :func:`train`, :func:`run_training`, :func:`train_encoder`, :func:`train_decoder`,
    :func:`fit_descriptor_svm`, :func:`clip_logits` (:mod:`.stages`); the decoder's
    multi-objective loss in :mod:`.losses`; augmentation in :mod:`.augment`
Evaluation
    :func:`cross_validate`, :func:`format_table` (:mod:`.evaluation`), against the baselines of
    :mod:`.baselines`
"""

from m2p_core.training.config import SHIPPED_SYNTHETIC_CLIPS, TrainConfig
from m2p_core.training.data import default_cache_dir, load_features, load_waves
from m2p_core.training.evaluation import cross_validate, format_table
from m2p_core.training.manifest import ManifestRow, read_manifest
from m2p_core.training.metrics import quadrant_metrics
from m2p_core.training.splits import artist_disjoint_split, with_synthetic
from m2p_core.training.stages import (
    clip_logits,
    fit_descriptor_svm,
    run_training,
    train,
    train_decoder,
    train_encoder,
)

__all__ = ["SHIPPED_SYNTHETIC_CLIPS", "ManifestRow", "TrainConfig", "artist_disjoint_split",
           "clip_logits", "cross_validate", "default_cache_dir", "fit_descriptor_svm",
           "format_table", "load_features", "load_waves", "quadrant_metrics", "read_manifest",
           "run_training", "train", "train_decoder", "train_encoder", "with_synthetic"]
