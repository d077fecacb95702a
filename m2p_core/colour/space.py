"""Colour conversions and colour differences (numpy, via colour-science).

Conventions used throughout the project:
- CIELAB is D65 / CIE 1931 2° observer, L* in [0, 100].
- sRGB "01" arrays are floats in [0, 1] (non-linear, IEC 61966-2-1 transfer function).
- sRGB hex strings are ``#rrggbb`` (0–255 per channel).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from m2p_core.colour.lib import colour

_D65 = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]


def lab_to_srgb01(lab: np.ndarray) -> np.ndarray:
    """CIELAB D65 (..., 3) -> sRGB (..., 3) in [0, 1] nominally; *not* clipped."""
    lab = np.asarray(lab, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xyz = colour.Lab_to_XYZ(lab, _D65)
        return colour.XYZ_to_sRGB(xyz, _D65)


def srgb01_to_lab(rgb01: np.ndarray) -> np.ndarray:
    """sRGB (..., 3) in [0, 1] -> CIELAB D65 (..., 3)."""
    rgb01 = np.asarray(rgb01, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return colour.XYZ_to_Lab(colour.sRGB_to_XYZ(rgb01, _D65), _D65)


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
    outside = lab[~inside]  # (M, 3): only these are searched
    lo = np.zeros(len(outside))
    hi = np.ones(len(outside))
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        trial = outside.copy()
        trial[:, 1:] *= mid[:, None]
        ok = in_srgb_gamut(trial)
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    outside[:, 1:] *= lo[:, None]
    lab[~inside] = outside
    return lab


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
    return np.asarray(colour.delta_E(np.asarray(lab1), np.asarray(lab2), method="CIE 2000"))


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


def palette_distances(palettes_a: np.ndarray, palettes_b: np.ndarray) -> np.ndarray:
    """:func:`palette_distance` for every pair of two stacks of palettes (M, K, 3) and
    (N, K, 3): an (M, N) array, in one CIEDE2000 call (the same values as M × N calls, without
    colour-science's per-call overhead of ~2 ms)."""
    a = np.asarray(palettes_a, dtype=np.float64)
    b = np.asarray(palettes_b, dtype=np.float64)
    d = delta_e2000(a[:, None, :, None, :], b[None, :, None, :, :])  # (M, N, K, K)
    return 0.5 * (d.min(axis=3).mean(axis=2) + d.min(axis=2).mean(axis=2))
