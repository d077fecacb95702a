"""m2p evaluate: artist-disjoint cross-validation of the model against baselines."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from commands.args import evaluate_parser
from m2p_core.model.network import ModelConfig
from m2p_core.training.evaluation import cross_validate, format_table
from m2p_core.training.manifest import read_manifest
from m2p_core.training.stages import (
    TrainConfig,
    default_cache_dir,
    load_features,
    load_waves,
    with_synthetic,
)


def main(argv: list[str] | None = None) -> int:
    d = TrainConfig()
    args, _ = evaluate_parser().parse(argv)
    cache_dir = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    cfg = replace(d, val_folds=args.folds, epochs=args.epochs,
                  decoder_epochs=args.decoder_epochs, seed=args.seed, threads=args.threads,
                  codec_variants=() if args.no_codec_augmentation else d.codec_variants,
                  synthetic_clips=args.synthetic_clips, synthetic_weight=args.synthetic_weight)
    model_config = ModelConfig()
    real_rows = read_manifest(args.manifest)
    rows = with_synthetic(real_rows, cfg, cache_dir)  # synthetic rows appended after them
    # the MP3 variant is always computed, for the codec-robustness column
    variants = tuple(dict.fromkeys((*cfg.codec_variants, "mp3_128k")))
    feats = load_features(rows, model_config, variants, cache_dir)
    train_feats = {v: f for v, f in feats.items() if v == "orig" or v in cfg.codec_variants}
    # raw audio only for the splice test, which uses held-out (real) clips: same indices as rows
    waves = load_waves(real_rows, model_config.sample_rate, cache_dir)
    folds = [args.only_fold] if args.only_fold is not None else list(range(args.folds))
    table = cross_validate(rows, train_feats, waves, cfg, model_config, folds,
                           eval_feats=feats)
    print(format_table(table))
    if args.json:
        json_path = Path(args.json)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({"folds": folds, "config": {
            "epochs": cfg.epochs, "decoder_epochs": cfg.decoder_epochs,
            "codec_variants": list(cfg.codec_variants),
            "synthetic_clips": cfg.synthetic_clips, "synthetic_weight": cfg.synthetic_weight,
        }, "table": table}, indent=2))
    return 0
