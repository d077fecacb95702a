"""A palette-driven colour grade: the second "look" (issue 15), what a colourist would do with a
mood palette instead of recolouring every object toward it.

Where the transfer (:mod:`m2p_core.recolor.transfer`) moves each colour of the picture toward a
colour
of the palette, the grade leaves the picture's own colours in place and treats it as a whole,
with the three controls of a grading panel, all smooth functions of L* (no colour is ever
sent somewhere because of its hue, so nothing can tear):

1. **Tone** (lift/gamma/gain in effect): a monotonic, slope-bounded L* curve that moves the
   picture's weighted lightness quantiles part of the way (``TransferParams.luminance``) to the
   palette's (:func:`tonal_knots`; the same :func:`m2p_core.recolor.transfer.luminance_knots`
   shaping
   as the transfer).
2. **Split-toning** (the colour wheels): shadows are tinted toward the palette's dark colours,
   mid-tones toward its middle, highlights toward its light colours. Each palette colour
   belongs to the three tonal bands by its lightness (Gaussian memberships around L* 20, 50,
   80) times its weight, so a 5% accent barely tints anything; each band's tint is the
   direction of its members' weighted mean a*b*, at most ``GradeParams.tint`` ΔE (less when the
   members disagree in hue and their mean is greyish). A pixel's tint blends the three with
   quadratic Bernstein weights of its L*: (1−t)², 2t(1−t), t² (t = L*/100) — a smooth partition
   of the tonal range. The tint is an offset of a*b*, the same for every hue, so a grey ramp
   comes out as a single smoothly drifting tint, never a hue flip; chromatic colours take up
   to ``GradeParams.chromatic_tint`` times the greys' tint (fading in with chroma).
3. **Saturation** follows arousal: chroma × (1 + ``saturation`` × arousal), arousal in [−1, 1]
   (``TransferParams.arousal``; if None, estimated from the palette with Valdez & Mehrabian's
   arousal term, as in :mod:`m2p_core.colour.emotion`). The change fades in with chroma (none
   at the grey axis), so greys keep their neutrality up to the tint.

Skin tones keep most of their hue (tint and saturation change scaled down as in the transfer);
strength blends with the identity (0: exact); results outside sRGB lose chroma at constant L*
and hue (:func:`m2p_core.colour.space.gamut_map_lab`).

:class:`PaletteGrade` has the transfer's interface (``params``, ``luminance``, ``apply``), so
the LUT bakers (:mod:`m2p_core.recolor.lut`) take it as they take a
:class:`~m2p_core.recolor.transfer.PaletteTransfer`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from m2p_core.colour.space import gamut_map_lab
from m2p_core.recolor.palette_ot import palette_masses
from m2p_core.recolor.transfer import TransferParams, luminance_knots, skin_membership

#: L* at the centres of the shadow, mid-tone and highlight bands
BAND_CENTRES = np.array([20.0, 50.0, 80.0])
#: width (L*) of a palette colour's membership of a band
BAND_WIDTH = 15.0
#: the grade's default shared parameters
DEFAULT_PARAMS = TransferParams(look="grade")
#: C* below which colours count as neutral: they take the plain tint
NEUTRAL_CHROMA = 5.0
#: cumulative levels at which the picture's and the palette's lightness distributions are paired
TONE_LEVELS = np.array([0.05, 0.25, 0.5, 0.75, 0.95])


@dataclass(frozen=True)
class GradeParams:
    """Knobs of the grade (the shared ones — strength, luminance, skin, arousal — are in
    :class:`~m2p_core.recolor.transfer.TransferParams`).

    Attributes
    ----------
    tint : float
        Largest a*b* offset (ΔE76) of a tonal band.
    tint_chroma : float
        A band whose palette colours average to this C* (or more) gets the full ``tint``; a
        greyer band proportionally less.
    chromatic_tint : float
        Factor on the tint of chromatic colours (it fades in from C* 5 over
        ``saturation_knee``): greys take a gentle tint, coloured objects a stronger push.
    saturation : float
        Chroma gain per unit of arousal: C* × (1 + saturation × arousal).
    saturation_knee : float
        C* over which the saturation change fades in (smoothstep from 0).
    lightness_sigma : float
        Spread (L*) of each palette colour when the lightness distributions are formed.
    """

    tint: float = 6.0
    tint_chroma: float = 25.0
    chromatic_tint: float = 3.0
    saturation: float = 0.3
    saturation_knee: float = 20.0
    lightness_sigma: float = 8.0


def palette_arousal(palette_lab: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Arousal in (−1, 1) of a palette (K, 3) from its lightness and chroma: the weighted mean
    of Valdez & Mehrabian's −0.31·B + 0.60·S (B = (L* − 50)/20, S = (C* − 30)/20), squashed
    with tanh. Vivid, dark-to-mid palettes are aroused; pale or grey ones calm."""
    lab = np.asarray(palette_lab, dtype=np.float64).reshape(-1, 3)
    w = palette_masses(weights, len(lab))
    b = (lab[:, 0] - 50.0) / 20.0
    s = (np.hypot(lab[:, 1], lab[:, 2]) - 30.0) / 20.0
    return float(np.tanh(np.sum(w * (-0.31 * b + 0.60 * s))))


def _quantiles(l_star: np.ndarray, w: np.ndarray, sigma: float) -> np.ndarray:
    """L* at TONE_LEVELS of a mixture of Gaussians (centres ``l_star``, weights ``w``)."""
    from scipy.special import ndtr

    grid = np.linspace(0.0, 100.0, 1001)
    cdf = (w[:, None] * ndtr((grid[None, :] - l_star[:, None]) / sigma)).sum(0)
    cdf = (cdf - cdf[0]) / max(cdf[-1] - cdf[0], 1e-12)
    return np.interp(TONE_LEVELS, cdf, grid)


def tonal_knots(source: np.ndarray, target: np.ndarray, source_weights: np.ndarray | None,
                target_weights: np.ndarray | None, params: TransferParams,
                sigma: float = 8.0) -> tuple[np.ndarray, np.ndarray]:
    """Knots (x, y) of the grade's L* curve: the weighted lightness quantiles of the source
    palette paired with the target palette's (1-D optimal transport), shaped by
    :func:`m2p_core.recolor.transfer.luminance_knots` (fraction ``params.luminance``, slopes within
    [min_slope, max_slope], 0 -> 0 and 100 -> 100)."""
    s = np.asarray(source, dtype=np.float64).reshape(-1, 3)
    t = np.asarray(target, dtype=np.float64).reshape(-1, 3)
    qs = _quantiles(s[:, 0], palette_masses(source_weights, len(s)), sigma)
    qt = _quantiles(t[:, 0], palette_masses(target_weights, len(t)), sigma)
    return luminance_knots(qs, qt, params)


def band_tints(target: np.ndarray, target_weights: np.ndarray | None,
               grade: GradeParams = GradeParams()) -> np.ndarray:
    """(3, 2) a*b* tints of the shadow, mid-tone and highlight bands (see the module doc)."""
    t = np.asarray(target, dtype=np.float64).reshape(-1, 3)
    w = palette_masses(target_weights, len(t))
    member = np.exp(-0.5 * ((t[:, 0][:, None] - BAND_CENTRES[None, :]) / BAND_WIDTH) ** 2)
    member /= member.sum(axis=1, keepdims=True)  # each colour's weight split over the bands
    mass = w[:, None] * member  # (K, 3)
    tints = np.zeros((3, 2))
    for k in range(3):
        if mass[:, k].sum() < 1e-9:
            continue
        mean_ab = (mass[:, k, None] * t[:, 1:]).sum(0) / mass[:, k].sum()
        c = float(np.hypot(*mean_ab))
        if c > 1e-9:
            tints[k] = mean_ab / c * grade.tint * min(1.0, c / grade.tint_chroma)
    return tints


class PaletteGrade:
    """The grade for one (source, target) palette pair; call :meth:`apply` on CIELAB.

    Parameters
    ----------
    source, target : np.ndarray
        (K, 3) and (M, 3) CIELAB palettes: the picture's and the mood's.
    params : TransferParams
        strength, luminance (tone curve fraction), min/max_slope, protect_skin, skin_keep,
        arousal (None: :func:`palette_arousal` of the target).
    source_weights, target_weights : np.ndarray, optional
        (K,), (M,) weights; uniform if None.
    grade : GradeParams
        The grade's own knobs.
    """

    def __init__(self, source: np.ndarray, target: np.ndarray,
                 params: TransferParams = DEFAULT_PARAMS,
                 source_weights: np.ndarray | None = None,
                 target_weights: np.ndarray | None = None,
                 grade: GradeParams = GradeParams()) -> None:
        self.params, self.grade = params, grade
        self.source = np.asarray(source, dtype=np.float64).reshape(-1, 3)
        self.target = np.asarray(target, dtype=np.float64).reshape(-1, 3)
        self._lx, self._ly = tonal_knots(self.source, self.target, source_weights,
                                         target_weights, params, grade.lightness_sigma)
        self.tints = band_tints(self.target, target_weights, grade)
        a = params.arousal
        self.arousal = float(np.clip(a, -1.0, 1.0)) if a is not None else \
            palette_arousal(self.target, target_weights)

    def luminance(self, l_star: np.ndarray) -> np.ndarray:
        """The full-strength L* curve."""
        return np.interp(l_star, self._lx, self._ly)

    def tint(self, l_star: np.ndarray) -> np.ndarray:
        """(...,) L* -> (..., 2) the split-tone a*b* offset at that lightness."""
        t = np.clip(np.asarray(l_star, dtype=np.float64) / 100.0, 0.0, 1.0)[..., None]
        return ((1 - t) ** 2) * self.tints[0] + 2 * t * (1 - t) * self.tints[1] \
            + t * t * self.tints[2]

    def apply(self, lab: np.ndarray, gamut_iterations: int = 12) -> np.ndarray:
        """CIELAB (..., 3) -> graded CIELAB (..., 3), strength and skin protection included."""
        lab = np.asarray(lab, dtype=np.float64)
        s = self.params.strength
        if s == 0.0:
            return lab.copy()
        ab = lab[..., 1:]
        c = np.hypot(ab[..., 0], ab[..., 1])
        x = np.clip(c / self.grade.saturation_knee, 0.0, 1.0)
        fade = x * x * (3.0 - 2.0 * x)
        gain = 1.0 + self.grade.saturation * self.arousal * fade
        move = np.empty_like(lab)
        move[..., 0] = self.luminance(lab[..., 0]) - lab[..., 0]
        y = np.clip((c - NEUTRAL_CHROMA) / self.grade.saturation_knee, 0.0, 1.0)
        more = (self.grade.chromatic_tint - 1.0) * y * y * (3.0 - 2.0 * y)
        tint = self.tint(lab[..., 0]) * (1.0 + more)[..., None]
        move[..., 1:] = ab * (gain - 1.0)[..., None] + tint
        if self.params.protect_skin:
            move[..., 1:] *= (1.0 - self.params.skin_keep * skin_membership(lab))[..., None]
        move *= s
        return gamut_map_lab(lab + move, iterations=gamut_iterations)
