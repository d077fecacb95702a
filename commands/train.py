"""m2p train: train the model from a manifest CSV (path + labels) and write a checkpoint."""

from __future__ import annotations

import json

from commands.args import train_parser
from commands.recipe import cache_dir_of, recipe_of
from m2p_core.training import run_training


def main(argv: list[str] | None = None) -> int:
    args, _ = train_parser().parse(argv)
    cfg = recipe_of(args, batch_size=args.batch_size, learning_rate=args.learning_rate,
                    val_folds=args.val_folds, val_fold=args.val_fold)
    info = run_training(args.manifest, args.output, cfg=cfg, cache_dir=cache_dir_of(args))
    print(json.dumps({"model_version": info["model_version"], "n_train": info["n_train"],
                      "n_val": info["n_val"], "validation": info["val_metrics"]}, indent=2))
    return 0
