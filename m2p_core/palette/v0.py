"""v0 palette head: a fixed, documented mapping from emotion + audio descriptors to colours.

No learned parameters. Grounded in the human studies summarised in docs/ARCHITECTURE.md "Science":

* Base hue follows the position on Russell's plane, interpolated around the circle between four
  anchors: Q1 happy -> yellow (h≈85°), Q2 angry/tense -> red (h≈30°), Q3 sad -> blue (h≈260°),
  Q4 calm -> teal/green (h≈165°) (Palmer et al. 2013; Lindborg & Friberg 2015).
* Lightness rises with valence and falls with arousal (Valdez & Mehrabian 1994; Whiteford et al.
  2018); brighter timbre (spectral centroid) lifts it a little.
* Chroma (saturation) rises with arousal and, less, with valence (Palmer; Whiteford).
* Weights: anger -> a large red area, sadness -> small dark areas (Lindborg & Friberg 2015):
  the base colour's share grows with arousal.

Song-specific variation (so that different songs of one mood get different palettes):
* the tonal centre's angle on the circle of fifths rotates the hue by up to ±25°;
* key clarity narrows the hue spread (clear tonality -> analogous palette; ambiguous or noisy ->
  wider spread), onset density widens it further;
* brightness shifts lightness, and the accent colour sits opposite the base hue, offset by the
  tonal angle.

Output colours are CIELAB D65 and may fall slightly outside sRGB; rows are gamut-mapped on write.
"""

from __future__ import annotations

import math

import torch

from m2p_core.model.frontend import DESCRIPTOR_INDEX

#: (angle on the valence/arousal plane in degrees, CIELAB hue in degrees) per quadrant.
QUADRANT_HUE_ANCHORS = ((45.0, 85.0), (135.0, 30.0), (225.0, 260.0), (315.0, 165.0))


def _circular_blend(theta: torch.Tensor, concentration: float = 2.5) -> torch.Tensor:
    """Blend the anchor hues by von-Mises weights around the VA angle ``theta`` (radians)."""
    anchor_theta = torch.tensor([math.radians(a) for a, _ in QUADRANT_HUE_ANCHORS])
    anchor_hue = torch.tensor([math.radians(h) for _, h in QUADRANT_HUE_ANCHORS])
    anchor_theta = anchor_theta.to(theta)
    anchor_hue = anchor_hue.to(theta)
    w = torch.softmax(concentration * torch.cos(theta[:, None] - anchor_theta[None, :]), dim=1)
    x = (w * torch.cos(anchor_hue)).sum(1)
    y = (w * torch.sin(anchor_hue)).sum(1)
    return torch.atan2(y, x)


def palette_from_emotion(
    valence_arousal: torch.Tensor,
    brightness: torch.Tensor,
    onset_density: torch.Tensor,
    key_clarity: torch.Tensor,
    tonal_cos_sin: torch.Tensor,
    n_colours: int = 5,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Map emotion and descriptors to a palette.

    Args:
        valence_arousal: (B, 2) in [-1, 1].
        brightness: (B,) spectral centroid / Nyquist, 0..1.
        onset_density: (B,) 0..1.
        key_clarity: (B,) Pearson correlation with the best key profile, -1..1.
        tonal_cos_sin: (B, 2) unit vector of the tonal centre on the circle of fifths.
        n_colours: K; the fixed layout defines exactly 5 colour roles.

    Returns:
        palette_lab (B, K, 3) CIELAB D65 and weights (B, K) summing to 1.
    """
    if n_colours != 5:
        raise ValueError(f"the v0 palette mapping defines 5 colours, not {n_colours}")
    v = valence_arousal[:, 0]
    a = valence_arousal[:, 1]
    theta = torch.atan2(a, v)
    base_hue = _circular_blend(theta)
    tonal_angle = torch.atan2(tonal_cos_sin[:, 1], tonal_cos_sin[:, 0])
    base_hue = base_hue + math.radians(25.0) * torch.sin(tonal_angle)

    clarity01 = ((key_clarity + 1.0) / 2.0).clamp(0.0, 1.0)
    spread = math.radians(18.0) + math.radians(40.0) * (1.0 - clarity01) + math.radians(
        20.0
    ) * onset_density.clamp(0.0, 1.0)
    accent = math.pi - 0.5 * spread + 0.35 * torch.cos(tonal_angle)
    # roles: base, light analogue, dark analogue, accent (complement side), deep shadow
    hue_offsets = torch.stack([torch.zeros_like(spread), spread, -spread, accent, 0.5 * spread], 1)

    bright = brightness.clamp(0.0, 1.0)
    centre_l = 58.0 + 20.0 * v - 5.0 * a + 14.0 * (bright - 0.15)
    range_l = 34.0 + 10.0 * a.abs()
    l_steps = torch.tensor([0.1, 0.55, -0.25, 0.25, -0.8]).to(v)
    lightness = (centre_l[:, None] + range_l[:, None] * l_steps[None, :]).clamp(12.0, 95.0)

    chroma = (30.0 + 22.0 * a + 8.0 * v).clamp(14.0, 72.0)
    c_steps = torch.tensor([1.0, 0.7, 0.85, 0.9, 0.55]).to(v)
    chroma_k = chroma[:, None] * c_steps[None, :]

    hue_k = base_hue[:, None] + hue_offsets
    lab = torch.stack(
        [lightness, chroma_k * torch.cos(hue_k), chroma_k * torch.sin(hue_k)], dim=-1
    )
    a_pos = a.clamp(min=0.0)
    raw_w = torch.stack(
        [
            0.30 + 0.20 * a_pos,  # base: anger -> large areas
            0.22 - 0.05 * a_pos,
            0.20 - 0.05 * a_pos,
            0.10 + 0.06 * onset_density.clamp(0.0, 1.0),
            0.18 - 0.08 * a_pos,
        ],
        dim=1,
    ).clamp_min(0.02)
    weights = raw_w / raw_w.sum(1, keepdim=True)
    return lab, weights


def palette_from_descriptors(valence_arousal: torch.Tensor, descriptors: torch.Tensor,
                             n_colours: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`palette_from_emotion` with its cues read from the model's descriptor vectors.

    Parameters
    ----------
    valence_arousal : (B, 2) float tensor in [-1, 1]
    descriptors : (B, D) float tensor, columns as :data:`m2p_core.model.frontend.DESCRIPTOR_NAMES`
    n_colours : K (must be 5)

    Returns
    -------
    palette_lab : (B, K, 3) CIELAB D65
    weights : (B, K), summing to 1
    """
    idx, d = DESCRIPTOR_INDEX, descriptors
    return palette_from_emotion(
        valence_arousal, brightness=d[:, idx["brightness"]],
        onset_density=d[:, idx["onset_density"]], key_clarity=d[:, idx["key_clarity"]],
        tonal_cos_sin=d[:, [idx["tonal_cos"], idx["tonal_sin"]]], n_colours=n_colours)
