"""``m2p train``: train the model from a manifest CSV (path + labels) and write a checkpoint."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from m2p_core.training import (
    SHIPPED_SYNTHETIC_CLIPS,
    TrainConfig,
    default_cache_dir,
    run_training,
)


def main(argv: list[str] | None = None) -> int:
    d = TrainConfig()
    parser = argparse.ArgumentParser(prog="m2p train", description=__doc__)
    parser.add_argument("--manifest", required=True,
                        help="CSV with path + quadrant (or valence, arousal), artist, weight")
    parser.add_argument("--output", required=True, help="checkpoint file to write (.pt)")
    parser.add_argument("--epochs", type=int, default=d.epochs)
    parser.add_argument("--batch-size", type=int, default=d.batch_size)
    parser.add_argument("--learning-rate", type=float, default=d.learning_rate)
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--val-folds", type=int, default=d.val_folds)
    parser.add_argument("--val-fold", type=int, default=d.val_fold,
                        help="artist-disjoint fold held out for validation; -1 = none")
    parser.add_argument("--threads", type=int, default=d.threads)
    parser.add_argument("--decoder-epochs", type=int, default=d.decoder_epochs)
    parser.add_argument("--no-codec-augmentation", action="store_true",
                        help="train on the manifest's audio only (no MP3/AAC re-encodes)")
    parser.add_argument("--synthetic-clips", type=int, default=SHIPPED_SYNTHETIC_CLIPS,
                        help="add this many labelled synthetic clips "
                             "(m2p_core/synth/training_set.py) "
                             "to training; never to validation")
    parser.add_argument("--synthetic-weight", type=float, default=d.synthetic_weight,
                        help="loss weight of a synthetic clip relative to a real one")
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir(),
                        help="where decoded audio is cached (never inside the repository)")
    args = parser.parse_args(argv)
    cfg = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        val_folds=args.val_folds, val_fold=args.val_fold, seed=args.seed, threads=args.threads,
        decoder_epochs=args.decoder_epochs,
        codec_variants=() if args.no_codec_augmentation else d.codec_variants,
        synthetic_clips=args.synthetic_clips, synthetic_weight=args.synthetic_weight,
    )
    info = run_training(args.manifest, args.output, cfg=cfg, cache_dir=args.cache_dir)
    print(json.dumps({"model_version": info["model_version"], "n_train": info["n_train"],
                      "n_val": info["n_val"], "validation": info["val_metrics"]}, indent=2))
    return 0
