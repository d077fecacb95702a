"""The training recipe of ``m2p train`` and ``m2p evaluate`` from their parsed options (the
options themselves, with the shipped recipe's defaults, are in commands/args.py)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from m2p_core.training import TrainConfig, default_cache_dir


def recipe_of(args: argparse.Namespace, **overrides) -> TrainConfig:
    """The :class:`TrainConfig` of parsed recipe arguments (plus command-specific fields)."""
    d = TrainConfig()
    return replace(d, epochs=args.epochs, decoder_epochs=args.decoder_epochs, seed=args.seed,
                   threads=args.threads,
                   codec_variants=() if args.no_codec_augmentation else d.codec_variants,
                   synthetic_clips=args.synthetic_clips,
                   synthetic_weight=args.synthetic_weight, **overrides)


def cache_dir_of(args: argparse.Namespace) -> Path:
    """``--cache-dir``, or the default cache folder (outside the repository)."""
    return Path(args.cache_dir) if args.cache_dir else default_cache_dir()
