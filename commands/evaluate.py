"""m2p evaluate: artist-disjoint cross-validation of the model against baselines."""

from __future__ import annotations

import json
from pathlib import Path

from commands.args import evaluate_parser
from commands.recipe import cache_dir_of, recipe_of
from m2p_core.model.network import ModelConfig
from m2p_core.training import load_features, load_waves, with_synthetic
from m2p_core.training.evaluation import cross_validate, format_table
from m2p_core.training.manifest import read_manifest


def main(argv: list[str] | None = None) -> int:
    args, _ = evaluate_parser().parse(argv)
    cache_dir = cache_dir_of(args)
    cfg = recipe_of(args, val_folds=args.folds)
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
