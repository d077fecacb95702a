"""Palette-based colour transfer after Chang et al. 2015, "Palette-based Photo Recoloring".

Two correspondences/chroma moves (``TransferParams.match``):

- ``"ot"`` (default, issue 15): :mod:`m2p_core.recolor.palette_ot` — source and target colours are
  matched by optimal transport with the palette weights as marginals (a 5% accent receives 5%
  of the frame), each source colour goes to its OT-barycentric target, the a*b* shift is a
  smooth field whose gradient is bounded (close colours stay close: no tearing), and
  near-neutral colours only take a tint. The L* curve (step 2) runs through the same
  correspondences. Steps 1 and 3 below describe ``"rank"``; 2 and 4–6 hold for both.
- ``"rank"``: Chang's, as follows.

Given a source palette (from the picture) and a target palette (from the music), a colour x in
CIELAB moves as follows:

1. Correspondence: source and target colours are paired by lightness rank (both sorted by L*),
   which makes the luminance transfer monotonic by construction.
2. Luminance: L* goes through a monotonic piecewise-linear curve with knots (0, 0), the paired
   palette lightnesses and (100, 100). ``luminance`` scales how far the knots move (1 = Chang's
   full transfer) and the curve's slope is kept within [min_slope, max_slope], so contrast is
   neither crushed nor blown out.
3. Chroma: each palette colour i contributes its a*b* shift (target − source), blended by
   Chang's normalised radial-basis weights w_i(x) (Gaussian kernel, interpolating:
   w_i(S_j) = δ_ij; negative weights clamped). Black and white are extra palette entries that
   never move (as in Chang et al.), so neutrals at the ends stay put. The kernel width is
   ``rbf_scale`` (default ½) × Chang's σ (the mean distance between the palette's colours):
   with Chang's full σ the kernel spans the whole palette, the interpolation system is
   ill-conditioned (cond(Φ) ≈ 150, |λ| up to ≈ 24 on the bench footage) and the weights swing
   steeply around each palette colour — a grainy foliage cluster took ~10% of the distant sky's
   shift and 10% of black's zero shift, so on average it moved a third of its palette colour's
   move, and grain was amplified into chroma speckle. At ½σ (cond ≈ 8, |λ| ≤ 2.3) each weight is
   a smooth bump around its own colour; palette colours still map exactly to their targets.
4. Skin tones (hue ≈ 60°, moderate chroma) keep most of their hue by default.
5. Strength blends between the identity (0, exact) and the full transfer (1).
6. Gamut: a result outside sRGB keeps its L* and hue and loses chroma until it is displayable
   (:func:`m2p_core.colour.space.gamut_map_lab`), so colours never clip to a different hue and
   the transfer stays a continuous function of the colour. (Shortening each move along its own
   direction, the earlier rule, was not: a saturated colour on the gamut boundary whose move
   pointed outwards did not move at all while its in-gamut neighbours moved fully, which drew
   lines across saturated gradients — the demo's colour bars showed them.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from m2p_core.colour.space import gamut_map_lab
from m2p_core.recolor.palette_ot import OTChromaShift

#: the looks :func:`m2p_core.recolor.looks.make_look` builds (``TransferParams.look``)
LOOKS = ("transfer", "grade")


@dataclass(frozen=True)
class TransferParams:
    strength: float = 1.0
    luminance: float = 0.5  # fraction of Chang's luminance move applied at strength 1
    protect_skin: bool = True
    skin_keep: float = 0.85  # fraction of a skin colour's chroma move that is cancelled
    min_slope: float = 0.6
    max_slope: float = 1.7
    rbf_scale: float = 0.5  # RBF kernel width as a fraction of Chang's σ (1 = the paper's)
    # correspondence and chroma move: "ot" (m2p_core.recolor.palette_ot: optimal transport by
    # weight and
    # ΔE, smooth bounded-gradient field, near-neutrals tinted) or "rank" (Chang's, above)
    match: str = "ot"
    ot_reg: float = 0.05  # entropic regularisation of the plan (fraction of the mean cost)
    ot_chroma_weight: float = 0.2  # weight of Δa*²+Δb*² against ΔL*² in the transport cost
    max_gradient: float = 2.5  # bound on |d(a*b* shift)/d(Lab)| of the "ot" field
    neutral_tint: float = 2.5  # largest a*b* shift (ΔE) of a neutral colour ("ot"), 0 = off
    neutral_slope: float = 3.0  # how fast that bound grows with the colour's chroma
    look: str = "transfer"  # what m2p_core.recolor.looks.make_look builds: "transfer" or "grade"
    arousal: float | None = None  # in [-1, 1], for the "grade" look (None: from the palette)

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"strength must be in [0, 1], got {self.strength}")
        if self.rbf_scale <= 0.0:
            raise ValueError(f"rbf_scale must be > 0, got {self.rbf_scale}")
        if self.match not in ("ot", "rank"):
            raise ValueError(f"match must be 'ot' or 'rank', got {self.match!r}")
        if self.look not in LOOKS:
            raise ValueError(f"look must be one of {LOOKS}, got {self.look!r}")
        if self.max_gradient <= 0.0:
            raise ValueError(f"max_gradient must be > 0, got {self.max_gradient}")


def order_by_lightness(palette: np.ndarray) -> np.ndarray:
    palette = np.asarray(palette, dtype=np.float64).reshape(-1, 3)
    return palette[np.argsort(palette[:, 0], kind="stable")]


def match_palettes(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pair colours by lightness rank; a target of another size is resampled by rank."""
    s = order_by_lightness(source)
    t = order_by_lightness(target)
    if len(t) != len(s):
        pos = np.linspace(0, len(t) - 1, len(s))
        t = np.stack([np.interp(pos, np.arange(len(t)), t[:, c]) for c in range(3)], axis=1)
    return s, t


def luminance_knots(src_l: np.ndarray, tgt_l: np.ndarray, params: TransferParams
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Knots (x, y) of the monotonic L* curve, from lightness-sorted paired palettes."""
    x = np.clip(np.asarray(src_l, dtype=np.float64), 0.5, 99.5)
    x = np.maximum.accumulate(x)
    y = x + params.luminance * (np.clip(tgt_l, 0.0, 100.0) - x)
    xs = np.concatenate([[0.0], x, [100.0]])
    ys = np.concatenate([[0.0], y, [100.0]])
    keep = np.concatenate([[True], np.diff(xs) > 1.0])  # merge near-equal source lightnesses
    keep[-1] = True
    xs, ys = xs[keep], ys[keep]
    if xs[-2] >= 99.0 and len(xs) > 2:  # the last kept palette knot collides with white
        xs, ys = np.delete(xs, -2), np.delete(ys, -2)
    dx = np.diff(xs)
    dy = np.clip(np.diff(ys), params.min_slope * dx, params.max_slope * dx)
    ys = np.concatenate([[0.0], np.cumsum(dy)])
    ys *= 100.0 / ys[-1]  # white stays white; slopes change by the same small factor
    return xs, ys


def skin_membership(lab: np.ndarray) -> np.ndarray:
    """Soft [0, 1] membership of the skin-tone region of CIELAB (hue ≈ 30–90°, chroma
    ≈ 8–50, L* ≈ 20–95), covering light to dark complexions."""
    lab = np.asarray(lab, dtype=np.float64)
    a, b = lab[..., 1], lab[..., 2]
    hue = np.degrees(np.arctan2(b, a))
    chroma = np.hypot(a, b)
    m_h = np.exp(-0.5 * ((hue - 60.0) / 18.0) ** 2)
    m_c = np.clip((chroma - 6.0) / 6.0, 0, 1) * np.clip((60.0 - chroma) / 12.0, 0, 1)
    m_l = np.clip((lab[..., 0] - 15.0) / 10.0, 0, 1) * np.clip((98.0 - lab[..., 0]) / 6.0, 0, 1)
    return m_h * m_c * m_l


class PaletteTransfer:
    """The transfer for one (source, target) palette pair; call :meth:`apply` on CIELAB.

    ``source``/``target`` are (K, 3) and (M, 3) CIELAB palettes; ``source_weights`` (the
    colours' shares of the picture) and ``target_weights`` (the palette's weights), (K,) and
    (M,), are the transport marginals of ``match="ot"`` (uniform if None; "rank" ignores them).
    Attributes ``source``/``target`` hold the lightness-sorted, rank-paired palettes; with
    "ot", ``ot`` (:class:`m2p_core.recolor.palette_ot.OTChromaShift`) holds the plan, the
    barycentric targets and the field (None with "rank").
    """

    def __init__(self, source: np.ndarray, target: np.ndarray,
                 params: TransferParams = TransferParams(),
                 source_weights: np.ndarray | None = None,
                 target_weights: np.ndarray | None = None) -> None:
        self.params = params
        self.source, self.target = match_palettes(source, target)
        self._lx, self._ly = luminance_knots(self.source[:, 0], self.target[:, 0], params)
        self.ot = None
        if params.match == "ot":  # the palettes in their given order, with their weights
            self.ot = OTChromaShift(source, target, source_weights, target_weights,
                                     params.ot_reg, params.max_gradient, params.neutral_tint,
                                     params.neutral_slope, params.ot_chroma_weight)
            # the L curve through the same correspondences (monotonic: luminance_knots)
            order = np.argsort(self.ot.source[:, 0], kind="stable")
            self._lx, self._ly = luminance_knots(self.ot.source[order, 0],
                                                 self.ot.mapped[order, 0], params)
            return
        anchors = np.array([[0.0, 0.0, 0.0], [100.0, 0.0, 0.0]])
        self._centres = np.concatenate([self.source, anchors])
        self._shifts = np.concatenate([self.target[:, 1:] - self.source[:, 1:],
                                       np.zeros((2, 2))])
        d = np.linalg.norm(self.source[:, None] - self.source[None], axis=-1)
        k = len(self.source)
        sigma = float(d.sum() / max(1, k * (k - 1))) if k > 1 else 50.0  # Chang's σ
        self._sigma = max(params.rbf_scale * sigma, 5.0)
        phi = self._phi(np.linalg.norm(self._centres[:, None] - self._centres[None], axis=-1))
        self._lambda = np.linalg.inv(phi + 1e-6 * np.eye(len(phi)))

    def _phi(self, r: np.ndarray) -> np.ndarray:
        return np.exp(-(r ** 2) / (2.0 * self._sigma ** 2))

    def luminance(self, l_star: np.ndarray) -> np.ndarray:
        """The full-strength L* curve."""
        return np.interp(l_star, self._lx, self._ly)

    def weights(self, lab: np.ndarray) -> np.ndarray:
        """Chang's RBF weights (..., K+2) of each palette entry (last two: black, white);
        ``match="rank"`` only."""
        lab = np.asarray(lab, dtype=np.float64)
        r = np.linalg.norm(lab[..., None, :] - self._centres, axis=-1)
        w = np.clip(self._phi(r) @ self._lambda.T, 0.0, None)
        total = w.sum(axis=-1, keepdims=True)
        return np.where(total > 1e-12, w / np.maximum(total, 1e-12), 0.0)

    def apply(self, lab: np.ndarray, gamut_iterations: int = 12) -> np.ndarray:
        """CIELAB (..., 3) -> recoloured CIELAB (..., 3), strength and skin protection included."""
        lab = np.asarray(lab, dtype=np.float64)
        s = self.params.strength
        if s == 0.0:
            return lab.copy()
        move = np.empty_like(lab)
        move[..., 0] = self.luminance(lab[..., 0]) - lab[..., 0]
        move[..., 1:] = self.ot(lab) if self.ot is not None else self.weights(lab) @ self._shifts
        if self.params.protect_skin:
            move[..., 1:] *= (1.0 - self.params.skin_keep * skin_membership(lab))[..., None]
        move *= s
        # gamut: the result's chroma is reduced at constant L* and hue until it is displayable
        return gamut_map_lab(lab + move, iterations=gamut_iterations)
