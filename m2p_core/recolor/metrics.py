"""Quality metrics for recolouring: SSIM of L*, palette movement, temporal change."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from m2p_core.colour.space import palette_distance


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 100.0, sigma: float = 1.5) -> float:
    """Mean structural similarity (Wang et al. 2004, Gaussian window σ=1.5) of two 2-D images."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_a, mu_b = gaussian_filter(a, sigma), gaussian_filter(b, sigma)
    saa = gaussian_filter(a * a, sigma) - mu_a ** 2
    sbb = gaussian_filter(b * b, sigma) - mu_b ** 2
    sab = gaussian_filter(a * b, sigma) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * sab + c2)
    den = (mu_a ** 2 + mu_b ** 2 + c1) * (saa + sbb + c2)
    return float(np.mean(num / den))


def palette_reduction(before: np.ndarray, after: np.ndarray, target: np.ndarray) -> float:
    """Fraction by which the palette distance (CIEDE2000) to ``target`` shrank: 1 = reached."""
    d0 = palette_distance(before, target)
    d1 = palette_distance(after, target)
    return float(1.0 - d1 / d0) if d0 > 0 else 0.0


def mean_abs_change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute per-sample difference of two same-shape arrays (e.g. Lab frames)."""
    return float(np.mean(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))
