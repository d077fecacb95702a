"""``m2p train``: train the model from a manifest CSV (path + labels) and write a checkpoint."""

from __future__ import annotations

import argparse
import json

from commands.recipe import add_recipe_arguments, recipe_of
from m2p_core.training import TrainConfig, run_training


def main(argv: list[str] | None = None) -> int:
    d = TrainConfig()
    parser = argparse.ArgumentParser(prog="m2p train", description=__doc__)
    add_recipe_arguments(parser)
    parser.add_argument("--output", required=True, help="checkpoint file to write (.pt)")
    parser.add_argument("--batch-size", type=int, default=d.batch_size)
    parser.add_argument("--learning-rate", type=float, default=d.learning_rate)
    parser.add_argument("--val-folds", type=int, default=d.val_folds)
    parser.add_argument("--val-fold", type=int, default=d.val_fold,
                        help="artist-disjoint fold held out for validation; -1 = none")
    args = parser.parse_args(argv)
    cfg = recipe_of(args, batch_size=args.batch_size, learning_rate=args.learning_rate,
                    val_folds=args.val_folds, val_fold=args.val_fold)
    info = run_training(args.manifest, args.output, cfg=cfg, cache_dir=args.cache_dir)
    print(json.dumps({"model_version": info["model_version"], "n_train": info["n_train"],
                      "n_val": info["n_val"], "validation": info["val_metrics"]}, indent=2))
    return 0
