"""The splice test of the shipped default model ``m2p-v2``, under the artist-disjoint folds.

``m2p evaluate`` runs the splice test for v1 (docs/MODEL_CARD.md, "Evaluation"): held-out
clips joined at 15 s from two clips of opposite quadrants; a hit when the largest palette change
between consecutive windows falls at one of the two transitions that straddle the splice
(:func:`m2p_core.training.evaluation.splice_hits`, 20 trials per fold, the same seeds as
``m2p evaluate``). Here the model is v2: for each of the 5 folds
(:func:`~m2p_core.training.splits.artist_disjoint_split`, seed 0) the shipped head recipe (the
checkpoint's head settings) is fitted on the training folds' cached window features
(:func:`~m2p_core.training.head.fit_head`, as ``m2p train-head --cv-json`` does), loaded into a
v2 model around the shipped v1 (:func:`~m2p_core.training.head_train.set_head`), and the
held-out fold's clips are spliced and run through the whole model (musicnn on the spliced
audio, the head, v1's colour decoder).

Run from the repository root (the head-feature and audio caches of ``m2p train-head`` must be
warm; a cold cache computes them, ~15 CPU-min)::

    OMP_NUM_THREADS=1 .venv/bin/python scripts/splice_v2.py \
        [--manifest ../shared/data/emotion4q/labels.csv] [--json out/splice-v2.json]

About a minute of CPU with warm caches.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from m2p_core.model.checkpoint import load_checkpoint, shipped_checkpoint_path  # noqa: E402
from m2p_core.training.data import default_cache_dir, load_waves  # noqa: E402
from m2p_core.training.evaluation import splice_hits  # noqa: E402
from m2p_core.training.head import HeadRecipe, fit_head  # noqa: E402
from m2p_core.training.head_features import extract_head_features  # noqa: E402
from m2p_core.training.head_train import build_v2, set_head  # noqa: E402
from m2p_core.training.manifest import read_manifest  # noqa: E402
from m2p_core.training.splits import artist_disjoint_split  # noqa: E402

N_FOLDS, SEED = 5, 0  # the folds of `m2p evaluate` (TrainConfig's val_folds and seed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--manifest", default=str(ROOT.parent / "shared/data/emotion4q/labels.csv"))
    ap.add_argument("--json", default=str(ROOT / "out/splice-v2.json"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    t0, c0 = time.time(), time.process_time()
    rows = read_manifest(args.manifest)
    shipped = load_checkpoint(shipped_checkpoint_path("m2p-v2.pt")).model
    head = shipped.head_config
    model, _ = build_v2(shipped_checkpoint_path("m2p-v1.pt"), head)
    model.eval()
    feats = extract_head_features(rows, model)
    waves = load_waves(rows, model.config.sample_rate, default_cache_dir(), workers=1)
    recipe = HeadRecipe(head.features, kind=head.kind, lapse=head.lapse)
    per_fold = []
    for fold in range(N_FOLDS):
        train, held_out = artist_disjoint_split(rows, N_FOLDS, fold, SEED)
        windows = np.flatnonzero(np.isin(feats.clip_index, train))
        set_head(model, fit_head(feats, rows, recipe, windows))
        rng = np.random.default_rng(SEED + 100 + fold)  # as m2p evaluate's run_fold
        hits = splice_hits(model, waves, rows, held_out, rng)
        per_fold.append(hits)
        print(f"[splice] fold {fold}: {sum(hits)}/{len(hits)} hits", flush=True)
    all_hits = [h for f in per_fold for h in f]
    result = {
        "model": "m2p-v2 (head refitted per fold on the training folds)",
        "trials": len(all_hits),
        "hit_rate": float(np.mean(all_hits)),
        "per_fold": [{"trials": len(f), "hits": int(sum(f))} for f in per_fold],
        "cpu_s": round(time.process_time() - c0, 1),
        "wall_s": round(time.time() - t0, 1),
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2))
    print(f"splices (opposite moods at 15 s): largest palette change at the splice in "
          f"{result['hit_rate']:.0%} of {result['trials']} trials -> {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
