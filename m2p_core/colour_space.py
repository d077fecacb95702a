"""Colour conversions and colour differences (numpy).

Conventions used throughout the project:
- CIELAB is D65 / CIE 1931 2° observer, L* in [0, 100].
- sRGB "01" arrays are floats in [0, 1] (non-linear, IEC 61966-2-1 transfer function).
- sRGB hex strings are ``#rrggbb`` (0–255 per channel).

The formulas and constants are colour-science's (0.4: ``sRGB_to_XYZ``/``XYZ_to_sRGB`` with the
IEC 61966-2-1 matrices, ``XYZ_to_Lab``/``Lab_to_XYZ``, ``delta_E_CIE2000``), written out in
numpy: the same values (tested against colour-science to ~1e-12) without importing it on every
run (~1 s with its matplotlib plotting module) or its per-call overhead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: CIE 1931 2° D65 chromaticity and its XYZ (Y = 1), the Lab reference white
_D65 = np.array([0.3127, 0.3290])
_WHITE = np.array([_D65[0] / _D65[1], 1.0, (1.0 - _D65[0] - _D65[1]) / _D65[1]])
#: IEC 61966-2-1 (as colour-science's sRGB colourspace holds them; not exact inverses)
_RGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805],
                        [0.2126, 0.7152, 0.0722],
                        [0.0193, 0.1192, 0.9505]])
_XYZ_TO_RGB = np.array([[3.2406, -1.5372, -0.4986],
                        [-0.9689, 1.8758, 0.0415],
                        [0.0557, -0.2040, 1.0570]])
_EPS = (24.0 / 116.0) ** 3


def _encode_srgb(linear: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.where(linear <= 0.0031308, linear * 12.92,
                        1.055 * np.sign(linear) * np.abs(linear) ** (1 / 2.4) - 0.055)


_DECODE_KNEE = float(_encode_srgb(np.array(0.0031308)))


def _decode_srgb(v: np.ndarray) -> np.ndarray:
    x = (v + 0.055) / 1.055
    return np.where(v <= _DECODE_KNEE, v / 12.92, np.sign(x) * np.abs(x) ** 2.4)


def lab_to_srgb01(lab: np.ndarray) -> np.ndarray:
    """CIELAB D65 (..., 3) -> sRGB (..., 3) in [0, 1] nominally; *not* clipped."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16.0) / 116.0
    f = np.stack([lab[..., 1] / 500.0 + fy, fy, fy - lab[..., 2] / 200.0], axis=-1)
    xyz = _WHITE * np.where(f > 24.0 / 116.0, f ** 3, (f - 16.0 / 116.0) * (108.0 / 841.0))
    return _encode_srgb(xyz @ _XYZ_TO_RGB.T)


def srgb01_to_lab(rgb01: np.ndarray) -> np.ndarray:
    """sRGB (..., 3) in [0, 1] -> CIELAB D65 (..., 3)."""
    xyz = _decode_srgb(np.asarray(rgb01, dtype=np.float64)) @ _RGB_TO_XYZ.T
    t = xyz / _WHITE
    f = np.where(t > _EPS, np.sign(t) * np.abs(t) ** (1.0 / 3.0),
                 (841.0 / 108.0) * t + 16.0 / 116.0)
    return np.stack([116.0 * f[..., 1] - 16.0, 500.0 * (f[..., 0] - f[..., 1]),
                     200.0 * (f[..., 1] - f[..., 2])], axis=-1)


def in_srgb_gamut(lab: np.ndarray, tol: float = 1e-4) -> np.ndarray:
    """Boolean (...,) mask: the CIELAB colour is representable in sRGB."""
    rgb = lab_to_srgb01(lab)
    return np.all((rgb >= -tol) & (rgb <= 1.0 + tol), axis=-1)


def gamut_map_lab(lab: np.ndarray, iterations: int = 20) -> np.ndarray:
    """Map CIELAB colours into the sRGB gamut by reducing chroma at constant L* and hue.

    L* is first clamped to [0, 100]; then a bisection on the chroma scale finds the largest
    in-gamut chroma (to ~1e-6 of the original chroma). In-gamut colours are returned unchanged.
    """
    lab = np.array(lab, dtype=np.float64, copy=True)
    lab[..., 0] = np.clip(lab[..., 0], 0.0, 100.0)
    inside = in_srgb_gamut(lab)
    if np.all(inside):
        return lab
    lo = np.zeros(lab.shape[:-1])
    hi = np.ones(lab.shape[:-1])
    hi[inside] = 1.0
    lo[inside] = 1.0
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        trial = lab.copy()
        trial[..., 1:] *= mid[..., None]
        ok = in_srgb_gamut(trial)
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    out = lab.copy()
    out[..., 1:] *= lo[..., None]
    return out


def lab_to_hex(lab: np.ndarray) -> list[str]:
    """CIELAB D65 (N, 3) -> list of ``#rrggbb`` (gamut-mapped by chroma reduction, then clipped)."""
    rgb = np.clip(lab_to_srgb01(gamut_map_lab(np.atleast_2d(lab))), 0.0, 1.0)
    rgb255 = np.rint(rgb * 255.0).astype(int)
    return ["#{:02x}{:02x}{:02x}".format(*c) for c in rgb255]


def hex_to_srgb01(hexes: Sequence[str]) -> np.ndarray:
    """List of ``#rrggbb`` -> (N, 3) sRGB in [0, 1]."""
    vals = [[int(h.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)] for h in hexes]
    return np.asarray(vals, dtype=np.float64) / 255.0


def hex_to_lab(hexes: Sequence[str]) -> np.ndarray:
    """List of ``#rrggbb`` -> (N, 3) CIELAB D65."""
    return srgb01_to_lab(hex_to_srgb01(hexes))


def delta_e2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference between broadcastable CIELAB arrays (..., 3)."""
    lab1 = np.asarray(lab1, dtype=np.float64)
    lab2 = np.asarray(lab2, dtype=np.float64)
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c_bar7 = ((np.hypot(a1, b1) + np.hypot(a2, b2)) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(c_bar7 / (c_bar7 + 25.0 ** 7)))
    ap1, ap2 = (1 + g) * a1, (1 + g) * a2
    cp1, cp2 = np.hypot(ap1, b1), np.hypot(ap2, b2)
    hp1 = np.where((b1 == 0) & (ap1 == 0), 0, np.degrees(np.arctan2(b1, ap1)) % 360)
    hp2 = np.where((b2 == 0) & (ap2 == 0), 0, np.degrees(np.arctan2(b2, ap2)) % 360)
    dl = l2 - l1
    dc = cp2 - cp1
    dh_raw = hp2 - hp1
    cc = cp1 * cp2
    dh = np.select([cc == 0, np.fabs(dh_raw) <= 180, dh_raw > 180, dh_raw < -180],
                   [0, dh_raw, dh_raw - 360, dh_raw + 360])
    d_h = 2 * np.sqrt(cc) * np.sin(np.deg2rad(dh / 2))
    l_bar = (l1 + l2) / 2
    c_bar = (cp1 + cp2) / 2
    adiff, hsum = np.fabs(hp1 - hp2), hp1 + hp2
    h_bar = np.select([cc == 0, adiff <= 180, (adiff > 180) & (hsum < 360),
                       (adiff > 180) & (hsum >= 360)],
                      [hsum, hsum / 2, (hsum + 360) / 2, (hsum - 360) / 2])
    t = (1 - 0.17 * np.cos(np.deg2rad(h_bar - 30)) + 0.24 * np.cos(np.deg2rad(2 * h_bar))
         + 0.32 * np.cos(np.deg2rad(3 * h_bar + 6)) - 0.20 * np.cos(np.deg2rad(4 * h_bar - 63)))
    d_theta = 30 * np.exp(-(((h_bar - 275) / 25) ** 2))
    c_bar_7 = c_bar ** 7
    r_c = 2 * np.sqrt(c_bar_7 / (c_bar_7 + 25.0 ** 7))
    l50 = (l_bar - 50) ** 2
    s_l = 1 + (0.015 * l50) / np.sqrt(20 + l50)
    s_c = 1 + 0.045 * c_bar
    s_h = 1 + 0.015 * c_bar * t
    r_t = -np.sin(np.deg2rad(2 * d_theta)) * r_c
    return np.sqrt((dl / s_l) ** 2 + (dc / s_c) ** 2 + (d_h / s_h) ** 2
                   + r_t * (dc / s_c) * (d_h / s_h))


def mean_pairwise_delta_e2000(palette_lab: np.ndarray) -> float:
    """Mean CIEDE2000 over all unordered pairs of a palette (K, 3): within-palette diversity."""
    palette_lab = np.asarray(palette_lab, dtype=np.float64)
    i, j = np.triu_indices(len(palette_lab), k=1)
    if len(i) == 0:
        return 0.0
    return float(np.mean(delta_e2000(palette_lab[i], palette_lab[j])))


def palette_distance(palette_a: np.ndarray, palette_b: np.ndarray) -> float:
    """Order-free distance between two palettes (K, 3) in CIEDE2000 units.

    Symmetric mean of nearest-colour distances (a Chamfer distance), so that two palettes with
    the same colours in another order are at distance 0.
    """
    a = np.asarray(palette_a, dtype=np.float64)
    b = np.asarray(palette_b, dtype=np.float64)
    d = delta_e2000(a[:, None, :], b[None, :, :])
    return float(0.5 * (d.min(axis=1).mean() + d.min(axis=0).mean()))
