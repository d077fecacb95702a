"""The training-recipe options shared by ``m2p train`` and ``m2p evaluate``."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from m2p_core.training import SHIPPED_SYNTHETIC_CLIPS, TrainConfig, default_cache_dir


def add_recipe_arguments(parser: argparse.ArgumentParser) -> None:
    """``--manifest``, the epochs, seed, threads, codec augmentation, synthetic clips and the
    cache folder, with the shipped recipe's defaults."""
    d = TrainConfig()
    parser.add_argument("--manifest", required=True,
                        help="CSV with path + quadrant (or valence, arousal), artist, weight")
    parser.add_argument("--epochs", type=int, default=d.epochs)
    parser.add_argument("--decoder-epochs", type=int, default=d.decoder_epochs)
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--threads", type=int, default=d.threads,
                        help="torch threads (0 = torch's default)")
    parser.add_argument("--no-codec-augmentation", action="store_true",
                        help="train on the manifest's audio only (no MP3/AAC re-encodes)")
    parser.add_argument("--synthetic-clips", type=int, default=SHIPPED_SYNTHETIC_CLIPS,
                        help="add this many labelled synthetic clips (m2p_core/synth/"
                             "training_set.py) to training; never to validation")
    parser.add_argument("--synthetic-weight", type=float, default=d.synthetic_weight,
                        help="loss weight of a synthetic clip relative to a real one")
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir(),
                        help="where decoded audio is cached (never inside the repository)")


def recipe_of(args: argparse.Namespace, **overrides) -> TrainConfig:
    """The :class:`TrainConfig` of parsed recipe arguments (plus command-specific fields)."""
    d = TrainConfig()
    return replace(d, epochs=args.epochs, decoder_epochs=args.decoder_epochs, seed=args.seed,
                   threads=args.threads,
                   codec_variants=() if args.no_codec_augmentation else d.codec_variants,
                   synthetic_clips=args.synthetic_clips,
                   synthetic_weight=args.synthetic_weight, **overrides)
