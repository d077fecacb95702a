"""Differentiable colour maths in torch, for training losses only.

Each function mirrors a numpy/colour-science counterpart in :mod:`m2p_core.colour.space` and is
tested against it: CIEDE2000 (Sharma, Wu & Dalal 2005) and CIELAB D65 -> linear/non-linear sRGB.
"""

from __future__ import annotations

import math

import torch

# D65 white (CIE 1931 2°) in XYZ, Y = 1, matching colour-science's CCS_ILLUMINANTS D65.
_XN, _YN, _ZN = 0.95045592705167, 1.0, 1.08905775075988
_XYZ_TO_LINEAR_SRGB = torch.tensor(
    [
        [3.2404542, -1.5371385, -0.4985314],
        [-0.9692660, 1.8760108, 0.0415560],
        [0.0556434, -0.2040259, 1.0572252],
    ]
)


def _atan2_deg(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    h = torch.rad2deg(torch.atan2(y, x))
    return torch.where(h < 0, h + 360.0, h)


def delta_e2000(lab1: torch.Tensor, lab2: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """CIEDE2000 between broadcastable (..., 3) CIELAB tensors (kL = kC = kH = 1).

    ``eps`` keeps the square roots differentiable at zero chroma / zero difference.
    """
    L1, a1, b1 = lab1.unbind(-1)
    L2, a2, b2 = lab2.unbind(-1)
    c1 = torch.sqrt(a1 * a1 + b1 * b1 + eps)
    c2 = torch.sqrt(a2 * a2 + b2 * b2 + eps)
    c_bar7 = ((c1 + c2) / 2.0) ** 7
    g = 0.5 * (1.0 - torch.sqrt(c_bar7 / (c_bar7 + 25.0**7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p = torch.sqrt(a1p * a1p + b1 * b1 + eps)
    c2p = torch.sqrt(a2p * a2p + b2 * b2 + eps)
    h1p = _atan2_deg(b1, a1p)
    h2p = _atan2_deg(b2, a2p)

    dLp = L2 - L1
    dCp = c2p - c1p
    dh = h2p - h1p
    dh = torch.where(dh > 180.0, dh - 360.0, torch.where(dh < -180.0, dh + 360.0, dh))
    zero_c = (a1p * a1p + b1 * b1) * (a2p * a2p + b2 * b2) < 1e-12  # a neutral colour
    dh = torch.where(zero_c, torch.zeros_like(dh), dh)
    dHp = 2.0 * torch.sqrt(c1p * c2p + eps) * torch.sin(torch.deg2rad(dh) / 2.0)

    L_bar = (L1 + L2) / 2.0
    C_bar = (c1p + c2p) / 2.0
    h_sum = h1p + h2p
    h_bar = torch.where(
        (h1p - h2p).abs() > 180.0,
        torch.where(h_sum < 360.0, (h_sum + 360.0) / 2.0, (h_sum - 360.0) / 2.0),
        h_sum / 2.0,
    )
    h_bar = torch.where(zero_c, h_sum, h_bar)
    t = (
        1.0
        - 0.17 * torch.cos(torch.deg2rad(h_bar - 30.0))
        + 0.24 * torch.cos(torch.deg2rad(2.0 * h_bar))
        + 0.32 * torch.cos(torch.deg2rad(3.0 * h_bar + 6.0))
        - 0.20 * torch.cos(torch.deg2rad(4.0 * h_bar - 63.0))
    )
    d_theta = 30.0 * torch.exp(-(((h_bar - 275.0) / 25.0) ** 2))
    c_bar7p = C_bar**7
    r_c = 2.0 * torch.sqrt(c_bar7p / (c_bar7p + 25.0**7) + eps)
    s_l = 1.0 + 0.015 * (L_bar - 50.0) ** 2 / torch.sqrt(20.0 + (L_bar - 50.0) ** 2)
    s_c = 1.0 + 0.045 * C_bar
    s_h = 1.0 + 0.015 * C_bar * t
    r_t = -torch.sin(torch.deg2rad(2.0 * d_theta)) * r_c
    term = (
        (dLp / s_l) ** 2
        + (dCp / s_c) ** 2
        + (dHp / s_h) ** 2
        + r_t * (dCp / s_c) * (dHp / s_h)
    )
    return torch.sqrt(term.clamp_min(0.0) + eps)


def mean_pairwise_delta_e2000(palette_lab: torch.Tensor) -> torch.Tensor:
    """(B, K, 3) -> (B,) mean CIEDE2000 over the K·(K−1)/2 colour pairs."""
    k = palette_lab.shape[-2]
    i, j = torch.triu_indices(k, k, offset=1)
    return delta_e2000(palette_lab[..., i, :], palette_lab[..., j, :]).mean(-1)


def lab_to_linear_srgb(lab: torch.Tensor) -> torch.Tensor:
    """CIELAB D65 (..., 3) -> linear sRGB (..., 3), unclipped (out of [0, 1] = out of gamut)."""
    L, a, b = lab.unbind(-1)
    fy = (L + 16.0) / 116.0
    fx = fy + a / 500.0
    fz = fy - b / 200.0
    delta = 6.0 / 29.0

    def f_inv(t: torch.Tensor) -> torch.Tensor:
        return torch.where(t > delta, t**3, 3.0 * delta**2 * (t - 4.0 / 29.0))

    xyz = torch.stack([_XN * f_inv(fx), _YN * f_inv(fy), _ZN * f_inv(fz)], dim=-1)
    return xyz @ _XYZ_TO_LINEAR_SRGB.to(lab).T


_LINEAR_SRGB_TO_XYZ = torch.linalg.inv(_XYZ_TO_LINEAR_SRGB.double()).float()


def srgb01_to_lab(rgb01: torch.Tensor) -> torch.Tensor:
    """Non-linear sRGB (..., 3) in [0, 1] -> CIELAB D65 (..., 3) (IEC 61966-2-1 transfer)."""
    linear = torch.where(rgb01 <= 0.04045, rgb01 / 12.92,
                         ((rgb01.clamp_min(0.04045) + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _LINEAR_SRGB_TO_XYZ.to(rgb01).T
    delta = 6.0 / 29.0

    def f(t: torch.Tensor) -> torch.Tensor:
        return torch.where(t > delta**3, t.clamp_min(delta**3) ** (1.0 / 3.0),
                           t / (3.0 * delta**2) + 4.0 / 29.0)

    fx, fy, fz = f(xyz[..., 0] / _XN), f(xyz[..., 1] / _YN), f(xyz[..., 2] / _ZN)
    return torch.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], dim=-1)


def srgb_gamut_excess(lab: torch.Tensor) -> torch.Tensor:
    """(...,) how far outside the sRGB cube a colour is (0 inside), in linear-RGB units."""
    rgb = lab_to_linear_srgb(lab)
    return (torch.relu(-rgb) + torch.relu(rgb - 1.0)).sum(-1)


def lch(lab: torch.Tensor, eps: float = 1e-8) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(L*, C*ab, h in radians) of CIELAB (..., 3)."""
    L, a, b = lab.unbind(-1)
    return L, torch.sqrt(a * a + b * b + eps), torch.atan2(b, a)


DEG = math.pi / 180.0
