"""Baseline palette generators the model is evaluated against (docs/ARCHITECTURE.md "Science").

Each takes the windows' valence/arousal (N, 2) and descriptors (N, D) and returns palettes
(N, K, 3) CIELAB and weights (N, K):

* ``single_colour``: one dominant colour per window (the v0 mapping's base colour), K = 1;
* ``quadrant_fixed``: one fixed 5-colour palette per quadrant (the v0 mapping at the quadrant's
  centre with neutral descriptors) — emotion-aligned but identical for every song of a mood;
* ``random``: uniform random sRGB colours with Dirichlet(1) weights;
* ``v0``: the foundation's fixed mapping from emotion + descriptors.
"""

from __future__ import annotations

import numpy as np
import torch

from m2p_core.colour.space import srgb01_to_lab
from m2p_core.model.frontend import DESCRIPTOR_INDEX, DESCRIPTOR_NAMES
from m2p_core.palette.v0 import palette_from_descriptors

BASELINES = ("single_colour", "quadrant_fixed", "random", "v0")


def _v0(va: np.ndarray, desc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lab, w = palette_from_descriptors(torch.as_tensor(va, dtype=torch.float32),
                                      torch.as_tensor(desc, dtype=torch.float32))
    return lab.numpy().astype(np.float64), w.numpy().astype(np.float64)


def _neutral_descriptors(n: int) -> np.ndarray:
    d = np.zeros((n, len(DESCRIPTOR_NAMES)))
    d[:, DESCRIPTOR_INDEX["brightness"]] = 0.15
    d[:, DESCRIPTOR_INDEX["onset_density"]] = 0.5
    d[:, DESCRIPTOR_INDEX["key_clarity"]] = 0.5
    d[:, DESCRIPTOR_INDEX["tonal_cos"]] = 1.0
    return d


def baseline_palettes(
    name: str, va: np.ndarray, desc: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    n = len(va)
    if name == "v0":
        return _v0(va, desc)
    if name == "single_colour":
        lab, _ = _v0(va, desc)
        return lab[:, :1], np.ones((n, 1))
    if name == "quadrant_fixed":
        centre = np.where(va >= 0, 0.7, -0.7)
        return _v0(centre, _neutral_descriptors(n))
    if name == "random":
        lab = srgb01_to_lab(rng.uniform(0.0, 1.0, (n, 5, 3)))
        return lab, rng.dirichlet(np.ones(5), size=n)
    raise ValueError(f"unknown baseline {name!r}")
