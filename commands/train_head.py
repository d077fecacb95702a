"""``m2p train-head``: the v2 model — v1 + frozen musicnn + a calibrated emotion head fitted on a
manifest — written as one checkpoint (docs/MODEL_CARD.md "v2")."""

from __future__ import annotations

import json

from commands.args import train_head_parser
from m2p_core.training.data import default_cache_dir
from m2p_core.training.head_train import run_train_head


def main(argv: list[str] | None = None) -> int:
    args, _ = train_head_parser().parse(argv)
    if args.cache_dir is None:
        args.cache_dir = default_cache_dir()
    features = tuple(f.strip() for f in args.features.split(",") if f.strip())
    info = run_train_head(args.manifest, args.base, args.output, features=features,
                          kind=args.kind, threads=args.threads, cv_json=args.cv_json,
                          reliability_png=args.reliability, audio_cache=args.cache_dir)
    print(json.dumps({"model_version": info["model_version"],
                      "base_model_version": info["base_model_version"],
                      "n_train_clips": info["n_train_clips"], "C": info["head"]["C"],
                      "platt_a": info["head"]["platt_a"]}, indent=2))
    return 0
