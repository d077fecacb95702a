"""``m2p train-head``: the v2 model — v1 + frozen musicnn + a calibrated emotion head fitted on a
manifest — written as one checkpoint (docs/MODEL_CARD.md "v2")."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from m2p_core.model.v2 import FEATURE_BLOCKS, HEAD_KINDS
from m2p_core.training.data import default_cache_dir
from m2p_core.training.head_train import SHIPPED_HEAD, run_train_head


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="m2p train-head", description=__doc__)
    parser.add_argument("--manifest", required=True,
                        help="CSV with path + quadrant (or valence, arousal), artist")
    parser.add_argument("--base", required=True, help="the v1 checkpoint to build on (.pt)")
    parser.add_argument("--output", required=True, help="v2 checkpoint file to write (.pt)")
    shipped = ",".join(SHIPPED_HEAD.features)
    parser.add_argument("--features", default=shipped,
                        help="comma-separated feature blocks of the head, from: "
                             + ", ".join(FEATURE_BLOCKS) + f" (default: {shipped})")
    parser.add_argument("--kind", choices=HEAD_KINDS, default=SHIPPED_HEAD.kind,
                        help="axes: a logistic regression per axis; quadrants: one 4-class "
                             "regression summed per axis (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for the feature extraction (default 1)")
    parser.add_argument("--cv-json", default=None, metavar="FILE",
                        help="also cross-validate the head variants (artist-disjoint, 5 "
                             "folds) and write the table here")
    parser.add_argument("--reliability", default=None, metavar="PNG",
                        help="also write the reliability diagram of the head's out-of-fold "
                             "probabilities (implies the cross-validation)")
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir(),
                        help="where decoded audio is cached (never inside the repository)")
    args = parser.parse_args(argv)
    features = tuple(f.strip() for f in args.features.split(",") if f.strip())
    info = run_train_head(args.manifest, args.base, args.output, features=features,
                          kind=args.kind, threads=args.threads, cv_json=args.cv_json,
                          reliability_png=args.reliability, audio_cache=args.cache_dir)
    print(json.dumps({"model_version": info["model_version"],
                      "base_model_version": info["base_model_version"],
                      "n_train_clips": info["n_train_clips"], "C": info["head"]["C"],
                      "platt_a": info["head"]["platt_a"]}, indent=2))
    return 0
