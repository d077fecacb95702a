"""The colour decoder's multi-objective loss (docs/ARCHITECTURE.md "Science"), one function per
term.

For a batch of B windows with palettes P_b (K CIELAB colours c_bk, weights w_bk) and the music's
valence/arousal m_b (the encoder's prediction, detached):

* emotion alignment   L_emo  = mean_b [(E_v − m_v)² + λ_a·(E_a − m_a)²]
  where E = E(P_b, w_b) is the calibrated colour→emotion estimator of
  :mod:`m2p_core.colour.emotion`; λ_a > 1 because arousal is the harder axis to hold against
  the diversity terms (it moves with chroma, which the gamut and variety terms also pull on).
* within-palette diversity   L_div = mean_b relu(τ_div − D(P_b)) / τ_div,
  D = mean pairwise CIEDE2000 (:func:`m2p_core.colour.differentiable.mean_pairwise_delta_e2000`).
* across-song diversity (no collapse to one palette per mood)
  L_song = mean over pairs (a, b) of *different clips* in the same predicted quadrant of
  relu(τ_song − Ch(P_a, P_b)) / τ_song, with Ch the symmetric Chamfer CIEDE2000 distance.
* alternatives: two latents z1, z2 for the same music must give palettes at Chamfer distance
  ≥ τ_alt:  L_alt = mean_b relu(τ_alt − Ch(P_b(z1), P_b(z2))) / τ_alt.
* harmony  L_harm = mean_b relu(τ_harm − CH(P_b)), CH = Ou & Luo (2006) mean pairwise harmony.
* lightness structure  L_light = mean_b (1 − S(P_b)), S = evenness of the sorted L* steps.
* gamut  L_gamut = mean_{b,k} excess of c_bk outside the sRGB cube (linear RGB units).
* reconstruction  L_rec = mean_b [Σ_k w_bk·min_j ΔE(c_bk, t_bj) + mean_j min_k ΔE(t_bj, c_bk)] / 200
  (a Chamfer distance whose palette side is weighted by the colour proportions, so a large
  off-prior colour costs in proportion to its area) against a *constructed* target palette T_b:
  the fixed v0 mapping of :mod:`m2p_core.palette.v0` for the same emotion and descriptors
  (a prior that keeps hues near their published places — yellow for happy, red for anger, dark
  blue for sadness — so the decoder cannot satisfy the emotion estimator with garish colours).
* vividness  L_viv = mean_{b,k} relu(C*_bk − 85) / 20: no neon primaries (C* above ≈ 85 is
  reached only by the sRGB corner colours, which the estimator's saturation terms would
  otherwise reward without limit).
* proportions  L_prop = mean_b relu(0.85·ln K − H(w_b)) / ln K, H the entropy of the weights:
  several colours, not one dominant colour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from m2p_core.colour.differentiable import delta_e2000, mean_pairwise_delta_e2000, srgb_gamut_excess
from m2p_core.colour.emotion import palette_emotion
from m2p_core.colour.harmony import lightness_order_smoothness, palette_harmony


@dataclass(frozen=True)
class LossWeights:
    emotion: float = 4.0
    arousal_emphasis: float = 1.0
    diversity: float = 1.0
    song: float = 0.5
    alternatives: float = 0.3
    harmony: float = 0.5
    lightness: float = 0.3
    gamut: float = 2.0
    reconstruction: float = 5.0
    proportions: float = 1.0
    vividness: float = 2.0
    tau_div: float = 32.0
    tau_song: float = 15.0
    tau_alt: float = 10.0
    tau_harm: float = 0.3


def chamfer_delta_e(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Symmetric Chamfer CIEDE2000 between palettes a (..., K, 3) and b (..., K, 3) -> (...)."""
    d = delta_e2000(a[..., :, None, :], b[..., None, :, :])
    return 0.5 * (d.min(-1).values.mean(-1) + d.min(-2).values.mean(-1))


def emotion_loss(palette: torch.Tensor, weights: torch.Tensor, music_va: torch.Tensor,
                 arousal_emphasis: float = 1.0) -> torch.Tensor:
    err = (palette_emotion(palette, weights) - music_va).square()
    return (err[..., 0] + arousal_emphasis * err[..., 1]).mean()


def diversity_loss(palette: torch.Tensor, tau: float) -> torch.Tensor:
    return torch.relu(tau - mean_pairwise_delta_e2000(palette)).mean() / tau


def song_collapse_loss(
    palette: torch.Tensor, clip_ids: torch.Tensor, quadrant_ids: torch.Tensor, tau: float
) -> torch.Tensor:
    """Penalise palettes of different clips with the same quadrant for being too similar."""
    same_q = quadrant_ids[:, None] == quadrant_ids[None, :]
    diff_clip = clip_ids[:, None] != clip_ids[None, :]
    mask = torch.triu(same_q & diff_clip, diagonal=1)
    if not bool(mask.any()):
        return palette.sum() * 0.0
    i, j = mask.nonzero(as_tuple=True)
    return torch.relu(tau - chamfer_delta_e(palette[i], palette[j])).mean() / tau


def alternatives_loss(palette_1: torch.Tensor, palette_2: torch.Tensor, tau: float):
    return torch.relu(tau - chamfer_delta_e(palette_1, palette_2)).mean() / tau


def harmony_loss(palette: torch.Tensor, tau: float) -> torch.Tensor:
    return torch.relu(tau - palette_harmony(palette)).mean()


def lightness_loss(palette: torch.Tensor) -> torch.Tensor:
    return (1.0 - lightness_order_smoothness(palette)).mean()


def gamut_loss(palette: torch.Tensor) -> torch.Tensor:
    return srgb_gamut_excess(palette).mean()


def reconstruction_loss(palette: torch.Tensor, target: torch.Tensor,
                        weights: torch.Tensor | None = None) -> torch.Tensor:
    d = delta_e2000(palette[..., :, None, :], target[..., None, :, :])
    near_target = d.min(-1).values  # (B, K) each palette colour to its nearest target colour
    if weights is None:
        weights = torch.full_like(near_target, 1.0 / near_target.shape[-1])
    return ((weights * near_target).sum(-1) + d.min(-2).values.mean(-1)).mean() / 200.0


def vividness_loss(palette: torch.Tensor) -> torch.Tensor:
    chroma = torch.sqrt(palette[..., 1].square() + palette[..., 2].square() + 1e-8)
    return torch.relu(chroma - 85.0).mean() / 20.0


def proportions_loss(weights: torch.Tensor) -> torch.Tensor:
    k = weights.shape[-1]
    entropy = -(weights * torch.log(weights.clamp_min(1e-8))).sum(-1)
    return torch.relu(0.85 * math.log(k) - entropy).mean() / math.log(k)


def total_loss(
    w: LossWeights,
    palette: torch.Tensor,
    weights: torch.Tensor,
    alt_palette: torch.Tensor,
    music_va: torch.Tensor,
    clip_ids: torch.Tensor,
    quadrant_ids: torch.Tensor,
    target_palette: torch.Tensor,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted sum of all terms, and each term's value for logging."""
    terms = {
        "emotion": emotion_loss(palette, weights, music_va, w.arousal_emphasis),
        "diversity": diversity_loss(palette, w.tau_div),
        "song": song_collapse_loss(palette, clip_ids, quadrant_ids, w.tau_song),
        "alternatives": alternatives_loss(palette, alt_palette, w.tau_alt),
        "harmony": harmony_loss(palette, w.tau_harm),
        "lightness": lightness_loss(palette),
        "gamut": gamut_loss(palette),
        "reconstruction": reconstruction_loss(palette, target_palette, weights),
        "vividness": vividness_loss(palette),
        "proportions": proportions_loss(weights),
    }
    total = sum(getattr(w, name) * value for name, value in terms.items())
    return total, {k: float(v.detach()) for k, v in terms.items()}
