"""A differentiable colour -> (valence, arousal) estimator built from published human findings.

Per colour, with L* lightness, C* chroma, h hue (CIELAB D65):

* Valdez & Mehrabian (1994), with standardised brightness B and saturation S (here
  B = (L* − 50)/20 and S = (C* − 30)/20 as stand-ins for their Munsell-based z-scores):
  pleasure = 0.69·B + 0.22·S, arousal = −0.31·B + 0.60·S.
* Ou et al. (2004) colour emotions: activity = −2.1 + 0.06·√((L*−50)² + (a*−3)² + ((b*−17)/1.4)²),
  weight = −1.8 + 0.04·(100 − L*) + 0.45·cos(h − 100°), heat = −0.5 + 0.02·C*^1.07·cos(h − 50°).
  Activity and heat raise arousal (Whiteford et al. 2018: redder, more saturated = more
  aroused); weight (dark, heavy) lowers valence.
* Hue: yellow is the happiest hue and blue the saddest (Palmer et al. 2013; Lindborg & Friberg
  2015): a hue term cos(h − 90°) scaled by how chromatic the colour is.

    valence_raw = pleasure − 0.25·weight + 0.45·cos(h − 90°)·C*/(C* + 20)
    arousal_raw = 0.6·arousal_VM + 0.25·activity + 0.25·heat

Each raw score is standardised against uniformly random sRGB colours (the constants below were
computed that way, see :func:`calibration_stats`, and are checked by a test) and squashed with
tanh, so a random colour is 0 ± 1σ ≈ ±0.76. A palette's emotion is the weight-averaged raw score
of its colours, then squashed.
"""

from __future__ import annotations

import numpy as np
import torch

#: (mean, std) of valence_raw and arousal_raw over uniform random sRGB colours (seed 0, 20000).
VALENCE_RAW_STATS = (0.6116, 1.0116)
AROUSAL_RAW_STATS = (0.6556, 0.8271)


def _raw_scores(palette_lab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    L, a, b = palette_lab.unbind(-1)
    C = torch.sqrt(a * a + b * b + 1e-8)
    h = torch.atan2(b, a)
    brightness = (L - 50.0) / 20.0
    saturation = (C - 30.0) / 20.0
    pleasure_vm = 0.69 * brightness + 0.22 * saturation
    arousal_vm = -0.31 * brightness + 0.60 * saturation
    activity = -2.1 + 0.06 * torch.sqrt((L - 50.0) ** 2 + (a - 3.0) ** 2 + ((b - 17.0) / 1.4) ** 2
                                        + 1e-8)
    weight = -1.8 + 0.04 * (100.0 - L) + 0.45 * torch.cos(h - np.deg2rad(100.0))
    heat = -0.5 + 0.02 * C**1.07 * torch.cos(h - np.deg2rad(50.0))
    hue_valence = torch.cos(h - np.deg2rad(90.0)) * C / (C + 20.0)
    valence_raw = pleasure_vm - 0.25 * weight + 0.45 * hue_valence
    arousal_raw = 0.6 * arousal_vm + 0.25 * activity + 0.25 * heat
    return valence_raw, arousal_raw


def colour_emotion(palette_lab: torch.Tensor) -> torch.Tensor:
    """(..., 3) CIELAB -> (..., 2) estimated (valence, arousal) of each colour, in (−1, 1)."""
    v, a = _raw_scores(palette_lab)
    return torch.stack([
        torch.tanh((v - VALENCE_RAW_STATS[0]) / VALENCE_RAW_STATS[1]),
        torch.tanh((a - AROUSAL_RAW_STATS[0]) / AROUSAL_RAW_STATS[1]),
    ], dim=-1)


def palette_emotion(palette_lab: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """(B, K, 3) CIELAB + (B, K) weights -> (B, 2) estimated (valence, arousal) of the palette."""
    v, a = _raw_scores(palette_lab)
    if weights is None:
        weights = torch.full_like(v, 1.0 / v.shape[-1])
    v = (v * weights).sum(-1)
    a = (a * weights).sum(-1)
    return torch.stack([
        torch.tanh((v - VALENCE_RAW_STATS[0]) / VALENCE_RAW_STATS[1]),
        torch.tanh((a - AROUSAL_RAW_STATS[0]) / AROUSAL_RAW_STATS[1]),
    ], dim=-1)


def palette_emotion_np(palette_lab: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """numpy wrapper of :func:`palette_emotion` for (N, K, 3) palettes."""
    lab = torch.as_tensor(np.asarray(palette_lab, dtype=np.float64))
    w = None if weights is None else torch.as_tensor(np.asarray(weights, dtype=np.float64))
    return palette_emotion(lab, w).numpy()


def calibration_stats(n: int = 20000, seed: int = 0) -> tuple[tuple[float, float], ...]:
    """Recompute the standardisation constants from uniform random sRGB colours."""
    from m2p_core.colour.space import srgb01_to_lab

    rgb = np.random.default_rng(seed).uniform(0.0, 1.0, (n, 3))
    v, a = _raw_scores(torch.as_tensor(srgb01_to_lab(rgb)))
    return (float(v.mean()), float(v.std())), (float(a.mean()), float(a.std()))
