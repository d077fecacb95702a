"""Colour harmony: Ou & Luo (2006) two-colour harmony model, and palette-level scores.

Ou, L.-C. & Luo, M. R. (2006). A colour harmony model for two-colour combinations.
Color Research & Application 31(3), 191–204. For CIELAB colours 1, 2 (hue angles in degrees):

    CH  = H_C + H_L + H_H
    H_C = 0.04 + 0.53·tanh(0.8 − 0.045·ΔC),   ΔC = sqrt(ΔH*ab² + (ΔC*ab / 1.46)²)
    H_L = H_Lsum + H_ΔL
          H_Lsum = 0.28 + 0.54·tanh(−3.88 + 0.029·(L1 + L2))
          H_ΔL   = 0.14 + 0.15·tanh(−2 + 0.2·|L1 − L2|)
    H_H = H_SY1 + H_SY2,  H_SY = E_C·(H_S + E_Y)
          E_C = 0.5 + 0.5·tanh(−2 + 0.5·C*ab)
          H_S = −0.08 − 0.14·sin(h + 50°) − 0.07·sin(2h + 90°)
          E_Y = ((0.22·L* − 12.8)/10)·exp((90° − h)/10 − exp((90° − h)/10))

CH > 0 predicts a harmonious pair (published range about −1.24 … +1.39). A palette's harmony is
the weight-free mean of CH over its colour pairs. Implemented in torch (differentiable, used as a
training loss); :func:`palette_harmony_np` wraps it for numpy callers.
"""

from __future__ import annotations

import numpy as np
import torch


def _hue_deg(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    h = torch.rad2deg(torch.atan2(b, a))
    return torch.where(h < 0, h + 360.0, h)


def _h_sy(L: torch.Tensor, C: torch.Tensor, h_deg: torch.Tensor) -> torch.Tensor:
    e_c = 0.5 + 0.5 * torch.tanh(-2.0 + 0.5 * C)
    h_s = (
        -0.08
        - 0.14 * torch.sin(torch.deg2rad(h_deg + 50.0))
        - 0.07 * torch.sin(torch.deg2rad(2.0 * h_deg + 90.0))
    )
    # E_Y only matters near yellow (h ≈ 90°); the double exponential underflows far from it,
    # so the hue difference is wrapped to (−180°, 180°] first.
    dh = torch.remainder(90.0 - h_deg + 180.0, 360.0) - 180.0
    x = (dh / 10.0).clamp(max=30.0)
    e_y = ((0.22 * L - 12.8) / 10.0) * torch.exp(x - torch.exp(x))
    return e_c * (h_s + e_y)


def pair_harmony(lab1: torch.Tensor, lab2: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Ou & Luo (2006) CH for broadcastable (..., 3) CIELAB tensors."""
    L1, a1, b1 = lab1.unbind(-1)
    L2, a2, b2 = lab2.unbind(-1)
    c1 = torch.sqrt(a1 * a1 + b1 * b1 + eps)
    c2 = torch.sqrt(a2 * a2 + b2 * b2 + eps)
    d_c = c1 - c2
    d_h2 = ((a1 - a2) ** 2 + (b1 - b2) ** 2 - d_c**2).clamp_min(0.0)  # ΔH*ab²
    delta_c = torch.sqrt(d_h2 + (d_c / 1.46) ** 2 + eps)
    h_c = 0.04 + 0.53 * torch.tanh(0.8 - 0.045 * delta_c)
    h_lsum = 0.28 + 0.54 * torch.tanh(-3.88 + 0.029 * (L1 + L2))
    h_dl = 0.14 + 0.15 * torch.tanh(-2.0 + 0.2 * (L1 - L2).abs())
    h_h = _h_sy(L1, c1, _hue_deg(a1, b1)) + _h_sy(L2, c2, _hue_deg(a2, b2))
    return h_c + h_lsum + h_dl + h_h


def palette_harmony(palette_lab: torch.Tensor) -> torch.Tensor:
    """(B, K, 3) -> (B,) mean pairwise CH."""
    k = palette_lab.shape[-2]
    i, j = torch.triu_indices(k, k, offset=1)
    return pair_harmony(palette_lab[..., i, :], palette_lab[..., j, :]).mean(-1)


def palette_harmony_np(palette_lab: np.ndarray) -> np.ndarray:
    """numpy (..., K, 3) -> (...) mean pairwise CH."""
    t = torch.as_tensor(np.asarray(palette_lab, dtype=np.float64))
    flat = t.reshape(-1, t.shape[-2], 3)
    return palette_harmony(flat).reshape(t.shape[:-2]).numpy()


def lightness_order_smoothness(palette_lab: torch.Tensor) -> torch.Tensor:
    """(B, K, 3) -> (B,) in [0, 1]: how evenly the palette's lightness steps are spaced.

    1 for equal steps between the sorted L* values; lower when colours bunch together in
    lightness and leave gaps (a "smooth lightness ordering", docs/ARCHITECTURE.md "Science").
    """
    sorted_l = torch.sort(palette_lab[..., 0], dim=-1).values
    if sorted_l.shape[-1] <= 2:  # one or two colours: at most one step, trivially even
        return torch.ones_like(sorted_l[..., 0])
    steps = sorted_l[..., 1:] - sorted_l[..., :-1]
    total = steps.sum(-1, keepdim=True).clamp_min(1e-6)
    share = steps / total
    k = steps.shape[-1]
    return 1.0 - (share - 1.0 / k).abs().sum(-1) * k / (2.0 * (k - 1))
