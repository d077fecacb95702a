"""Metrics of a recolouring "look": tearing, neutrals, and how much of the frame each palette
colour takes (issue 15).

*Tearing* is what a colour transfer that is not smooth in colour space does to texture: two
neighbouring pixels of almost the same colour (two blades of grass, two grains of a grey car's
paint) are sent to very different colours, so the texture turns into interleaved speckle of two
palette colours. :func:`tearing_stats` measures it as the amplification of small colour
differences between adjacent pixels: for each horizontally or vertically adjacent pixel pair
whose *input* colours differ by 2–6 ΔE76 (CIELAB; below 2 the ratio is dominated by 8-bit
rounding, above 6 the pair straddles a real edge), the ratio of the output difference to the
input difference. A smooth look keeps the ratios near 1 (a global contrast or saturation boost
makes them 1.2–2); a tearing one has a long tail (ratios of 5–15).

All ΔE in this module are CIE 1976 (Euclidean CIELAB, D65), computed with colour-science.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from m2p_core.colour.lib import colour
from m2p_core.colour.space import srgb01_to_lab

#: default bounds a smooth look meets on the look test frame (see tests/core/test_grade_look.py)
MAX_P99_RATIO = 3.0
MAX_FRAC_OVER_4 = 0.005
MIN_MEAN_MOVE = 4.0


def as_lab(image: np.ndarray) -> np.ndarray:
    """An sRGB image -> CIELAB (H, W, 3).

    ``image`` is (H, W, 3) uint8 (0–255) or float in [0, 1]."""
    image = np.asarray(image)
    rgb01 = image / 255.0 if image.dtype == np.uint8 else image.astype(np.float64)
    return srgb01_to_lab(rgb01)


def delta_e76(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIE 1976 colour difference (Euclidean CIELAB) of broadcastable arrays (..., 3) -> (...)."""
    return np.asarray(colour.delta_E(np.asarray(lab1), np.asarray(lab2), method="CIE 1976"))


def chroma(lab: np.ndarray) -> np.ndarray:
    """C*ab (...,) of CIELAB (..., 3)."""
    lab = np.asarray(lab, dtype=np.float64)
    return np.hypot(lab[..., 1], lab[..., 2])


def hue_deg(lab: np.ndarray) -> np.ndarray:
    """CIELAB hue angle h_ab (...,) in degrees, [0, 360)."""
    lab = np.asarray(lab, dtype=np.float64)
    return np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360.0


@dataclass(frozen=True)
class TearingStats:
    """What :func:`tearing_stats` reports.

    Attributes
    ----------
    p99 : float
        99th percentile of the output/input ΔE76 ratio over the qualifying pixel pairs.
    frac_over : float
        Fraction of those pairs whose ratio exceeds ``ratio_limit`` (4 by default).
    mean_move : float
        Mean ΔE76 between each input pixel and its output pixel (all pixels): how strong the
        look is.
    pairs : int
        Number of qualifying adjacent pairs (input ΔE76 in [lo, hi]).
    """

    p99: float
    frac_over: float
    mean_move: float
    pairs: int

    def passes(self, max_p99: float = MAX_P99_RATIO, max_frac: float = MAX_FRAC_OVER_4,
               min_move: float = MIN_MEAN_MOVE) -> bool:
        """Whether the look is smooth (p99 and tail bounds) *and* visibly moves the colours."""
        return self.p99 <= max_p99 and self.frac_over <= max_frac and self.mean_move >= min_move

    def row(self) -> str:
        return (f"p99 {self.p99:5.2f}  >4x {100 * self.frac_over:5.2f}%  "
                f"move {self.mean_move:5.2f}  ({self.pairs} pairs)")


def _pair_ratios(lab_in: np.ndarray, lab_out: np.ndarray, lo: float, hi: float,
                 mask: np.ndarray) -> np.ndarray:
    ratios = []
    for a, b in (((slice(None, -1), slice(None)), (slice(1, None), slice(None))),  # vertical
                 ((slice(None), slice(None, -1)), (slice(None), slice(1, None)))):  # horizontal
        d_in = delta_e76(lab_in[a], lab_in[b])
        sel = (d_in >= lo) & (d_in <= hi) & mask[a] & mask[b]
        ratios.append(delta_e76(lab_out[a][sel], lab_out[b][sel]) / d_in[sel])
    return np.concatenate(ratios)


def tearing_stats(before_rgb: np.ndarray, after_rgb: np.ndarray, lo: float = 2.0,
                  hi: float = 6.0, ratio_limit: float = 4.0,
                  mask: np.ndarray | None = None) -> TearingStats:
    """How much a look amplifies small colour differences between neighbouring pixels.

    Parameters
    ----------
    before_rgb, after_rgb : np.ndarray
        (H, W, 3) sRGB images, uint8 or float in [0, 1]: the input and the recoloured output.
    lo, hi : float
        Adjacent pairs (4-neighbourhood: each pixel with its right and its lower neighbour)
        qualify when their input colours differ by ``lo`` to ``hi`` ΔE76.
    ratio_limit : float
        The ratio above which a pair counts as torn (``frac_over``).
    mask : np.ndarray, optional
        (H, W) bool: only pairs with both pixels inside the mask (and ``mean_move`` over the
        mask's pixels).

    Returns
    -------
    TearingStats
        p99 of output ΔE76 / input ΔE76 over the qualifying pairs, the fraction of pairs above
        ``ratio_limit``, the mean input -> output ΔE76 (CIELAB units) and the number of pairs.
        With no qualifying pair, p99 and frac_over are 0.
    """
    lab_in, lab_out = as_lab(before_rgb), as_lab(after_rgb)
    if lab_in.shape != lab_out.shape:
        raise ValueError(f"shape mismatch {lab_in.shape} vs {lab_out.shape}")
    mask = np.ones(lab_in.shape[:2], bool) if mask is None else np.asarray(mask, dtype=bool)
    move = delta_e76(lab_in, lab_out)[mask]
    r = _pair_ratios(lab_in, lab_out, lo, hi, mask)
    if r.size == 0:
        return TearingStats(0.0, 0.0, float(np.mean(move)) if move.size else 0.0, 0)
    return TearingStats(float(np.percentile(r, 99)), float(np.mean(r > ratio_limit)),
                        float(np.mean(move)), int(r.size))


@dataclass(frozen=True)
class NeutralStats:
    """What :func:`neutral_stats` reports.

    Attributes
    ----------
    max_chroma : float
        Largest output C* among the input pixels with C* < ``c_in`` (a grey that turns
        saturated shows here).
    ab_gain : float
        RMS deviation of the output a*b* from their mean over those pixels, divided by the
        same for the input: how much the look amplifies the chroma noise of near-neutrals. A
        grey object tinted one way keeps ≈ 1; one whose noise is sent to two different palette
        colours pixel to pixel (orange and red grains of grey car paint) shows a large gain.
        (Hue itself is no measure here: below C* ≈ 5 it is mostly the input's noise.)
    pixels : int
        Number of near-neutral input pixels.
    """

    max_chroma: float
    ab_gain: float
    pixels: int


def neutral_stats(before_rgb: np.ndarray, after_rgb: np.ndarray, c_in: float = 5.0,
                  mask: np.ndarray | None = None) -> NeutralStats:
    """Do near-neutral input colours stay near neutral, with one tint rather than noise?

    Parameters
    ----------
    before_rgb, after_rgb : np.ndarray
        (H, W, 3) sRGB images, uint8 or float in [0, 1] (for CIELAB arrays use
        :func:`neutral_stats_lab`).
    c_in : float
        Input pixels with C* below this count as near-neutral.
    mask : np.ndarray, optional
        (H, W) bool: only these pixels.
    """
    return neutral_stats_lab(as_lab(before_rgb), as_lab(after_rgb), c_in, mask)


def neutral_stats_lab(lab_in: np.ndarray, lab_out: np.ndarray, c_in: float = 5.0,
                      mask: np.ndarray | None = None) -> NeutralStats:
    """:func:`neutral_stats` on CIELAB arrays (..., 3) of the same shape."""
    sel = chroma(lab_in) < c_in
    if mask is not None:
        sel &= np.asarray(mask, dtype=bool)
    ab_in = np.asarray(lab_in, dtype=np.float64)[sel][:, 1:]
    ab_out = np.asarray(lab_out, dtype=np.float64)[sel][:, 1:]
    if len(ab_out) == 0:
        return NeutralStats(0.0, 0.0, 0)

    def rms(ab: np.ndarray) -> float:
        return float(np.sqrt(((ab - ab.mean(axis=0)) ** 2).sum(axis=1).mean()))

    gain = rms(ab_out) / max(rms(ab_in), 1e-6)
    return NeutralStats(float(np.hypot(ab_out[:, 0], ab_out[:, 1]).max()), gain, int(sel.sum()))


def ramp_hue_steps(lab_out: np.ndarray, min_chroma: float = 2.0) -> np.ndarray:
    """Hue change (degrees, absolute, wrapped to [0, 180]) between consecutive samples of an
    output ramp (N, 3), counted where both samples have C* ≥ ``min_chroma`` (0 elsewhere).

    A neutral ramp (L* 0 -> 100 at a* = b* = 0) through a look should come out as one tint
    that drifts slowly with L* (a split-tone rotates its hue gradually); a step of tens of
    degrees between neighbouring greys is a hue flip."""
    lab_out = np.asarray(lab_out, dtype=np.float64)
    h = hue_deg(lab_out)
    c = chroma(lab_out)
    d = np.abs((np.diff(h) + 180.0) % 360.0 - 180.0)
    both = (c[:-1] >= min_chroma) & (c[1:] >= min_chroma)
    return np.where(both, d, 0.0)


def _nearest_colour(image_rgb: np.ndarray, palette_lab: np.ndarray,
                    mask: np.ndarray | None) -> np.ndarray:
    """(N,) index of the nearest (ΔE76) palette colour of each (masked) pixel."""
    lab = as_lab(image_rgb)
    if mask is not None:
        lab = lab[np.asarray(mask, dtype=bool)]
    lab = lab.reshape(-1, 3)
    return np.argmin(delta_e76(lab[:, None, :], palette_lab[None, :, :]), axis=1)


def palette_share(image_rgb: np.ndarray, palette_lab: np.ndarray,
                  mask: np.ndarray | None = None) -> np.ndarray:
    """Fraction of pixels nearest (ΔE76) to each palette colour.

    Parameters
    ----------
    image_rgb : np.ndarray
        (H, W, 3) sRGB, uint8 or float in [0, 1].
    palette_lab : np.ndarray
        (K, 3) CIELAB.
    mask : np.ndarray, optional
        (H, W) bool: only these pixels.

    Returns
    -------
    np.ndarray
        (K,) fractions summing to 1.
    """
    pal = np.asarray(palette_lab, dtype=np.float64).reshape(-1, 3)
    nearest = _nearest_colour(image_rgb, pal, mask)
    return np.bincount(nearest, minlength=len(pal)) / max(len(nearest), 1)


def claimed_share(before_rgb: np.ndarray, after_rgb: np.ndarray, palette_lab: np.ndarray,
                  mask: np.ndarray | None = None) -> np.ndarray:
    """Fraction of pixels each palette colour *claims*: nearest (ΔE76) to it in the output but
    to another palette colour in the input.

    :func:`palette_share` of the output also counts what already was that colour (a blue sky
    stays nearest to a palette's only blue whatever the look does); this counts what the look
    sent there — a 5% accent that claims a third of the frame shows here.

    Parameters
    ----------
    before_rgb, after_rgb : np.ndarray
        (H, W, 3) sRGB, uint8 or float in [0, 1].
    palette_lab : np.ndarray
        (K, 3) CIELAB.
    mask : np.ndarray, optional
        (H, W) bool: only these pixels.

    Returns
    -------
    np.ndarray
        (K,) fractions of all (masked) pixels.
    """
    pal = np.asarray(palette_lab, dtype=np.float64).reshape(-1, 3)
    n0, n1 = _nearest_colour(before_rgb, pal, mask), _nearest_colour(after_rgb, pal, mask)
    moved = n1 != n0
    return np.bincount(n1[moved], minlength=len(pal)) / max(len(n1), 1)
