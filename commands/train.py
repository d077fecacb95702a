"""m2p train: train the model from a manifest CSV (path + labels) and write a checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

from commands.args import train_parser
from m2p_core.training.stages import (
    TrainConfig,
    default_cache_dir,
    run_training,
)


def main(argv: list[str] | None = None) -> int:
    d = TrainConfig()
    args, _ = train_parser().parse(argv)
    cfg = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.learning_rate,
        val_folds=args.val_folds, val_fold=args.val_fold, seed=args.seed, threads=args.threads,
        decoder_epochs=args.decoder_epochs,
        codec_variants=() if args.no_codec_augmentation else d.codec_variants,
        synthetic_clips=args.synthetic_clips, synthetic_weight=args.synthetic_weight,
    )
    cache_dir = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    info = run_training(args.manifest, args.output, cfg=cfg, cache_dir=cache_dir)
    print(json.dumps({"model_version": info["model_version"], "n_train": info["n_train"],
                      "n_val": info["n_val"], "validation": info["val_metrics"]}, indent=2))
    return 0
