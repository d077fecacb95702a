"""A chroma move for palette transfer that is smooth in colour space (issue 15).

Chang et al.'s transfer pairs source and target palette colours by lightness rank and moves
every colour by an *interpolating* RBF blend of the palette colours' a*b* shifts. With vivid
target palettes that tears: two source colours a few ΔE apart (two greens of one lawn) can be
paired with target colours 60 ΔE apart (cyan and orange), and the interpolant then swings
between the two shifts within a few ΔE, so grass turns into interleaved cyan and orange blades;
a 5% accent can be paired with the frame's largest colour; and near-neutral colours, whose hue
is noise, are sent to whichever palette colour their noise points at.

Here instead:

1. **Correspondence by optimal transport** (:func:`transport_plan`). Source colours (with
   their frame shares as mass) are transported onto the target colours (with the palette
   weights as mass) at cost ΔL*² + κ·(Δa*² + Δb*²), exactly (``reg = 0``, a linear programme)
   or with entropic regularisation (Sinkhorn, which spreads each source colour over nearby
   targets). Each source colour's target is the OT-barycentric image Σ_j P_ij T_j / a_i: a
   colour is sent where its mass goes, close colours go to close targets, and a target colour
   receives only as much of the frame as its weight: a 5% accent stays an accent.
   κ (``chroma_weight``) is 0.2 by default rather than 1 (plain ΔE76²): the L* curve runs
   through the same correspondences and must be monotonic, and with κ = 1 the plan often sends
   a light source colour to a dark target and a dark one to a light target (nearest in hue);
   the monotonic L* curve then cannot follow, and each colour takes one target's chroma at
   another target's lightness, which is no target at all (on the recolour test footage the
   palette moved only ~20% of the way to the target instead of > 50%).
2. **A smooth shift field** (:class:`ShiftField`). The a*b* shifts of the source colours (and
   zero shifts at black and white, as in Chang et al.) are blended with normalised Gaussian
   (Nadaraya–Watson) weights — not interpolated. Its Jacobian has the closed form
   J(x) = Cov_w(shift, centre) / σ², so the kernel width σ is chosen
   (:func:`fit_sigma`) as the smallest one whose ‖J‖₂ over the whole sRGB gamut stays within
   ``max_gradient``: two colours d ΔE apart never receive shifts more than
   ``max_gradient`` × d apart. (An interpolant cannot offer this: it must reach every palette
   shift exactly, however close two palette colours are.) The blend reaches only part of each
   centre's shift, so the centre shifts are pre-compensated (see :class:`OTChromaShift`).
3. **Near-neutrals get a tint** (:func:`limit_neutral_shift`). The shift's magnitude is
   softly limited to ``neutral_tint + neutral_slope × h(C*)`` (h: 0 at C* = 0, growing like
   C*²/2c₀ up to the knee c₀, then linearly), a bound that rises with the colour's own chroma:
   a grey gets at most a small tint in the direction the smooth field gives its neighbourhood
   (so all greys of one object share one hue: no hue flips, no pink grey character), saturated
   colours move freely.

The price of 2 and 3 together: a colour of chroma C* lies C* ΔE from the grey of its
lightness, so it can move only about ``neutral_tint + neutral_slope × h(C*)`` — a low-chroma
colour (a hazy blue-grey sky, C* ≈ 12) cannot be turned into a saturated yellow without either
tinting the greys next to it or tearing its texture. That is deliberate: palettes move less far
on near-neutral content than with the rank transfer.

All colours are CIELAB (D65); shifts are in a*b* units (ΔE76).
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.optimize import linprog

from m2p_core.colour.space import srgb01_to_lab

#: kernel widths (ΔE76) between which :func:`fit_sigma` searches
SIGMA_MIN, SIGMA_MAX = 8.0, 400.0
#: chroma below which the neutral limit grows quadratically (flat at the grey axis), C*
NEUTRAL_KNEE = 14.0
#: sharpness of the soft limit (higher: closer to a hard clip)
LIMIT_POWER = 4.0
#: rounds of pre-compensation of the centre shifts against the kernel's smoothing
COMPENSATION_ROUNDS = 3


def palette_masses(weights: np.ndarray | None, k: int, floor: float = 0.0) -> np.ndarray:
    """Palette weights as masses.

    Parameters
    ----------
    weights : (k,) non-negative, or None (uniform)
    k : number of colours
    floor : smallest mass before renormalising (e.g. 1e-4: a colour of zero weight keeps a
        tiny place in a transport plan)

    Returns
    -------
    (k,) float64, summing to 1 (uniform when ``weights`` is None or all zero)
    """
    if weights is None:
        return np.full(k, 1.0 / k)
    w = np.clip(np.asarray(weights, dtype=np.float64).reshape(-1), 0.0, None)
    if w.shape != (k,):
        raise ValueError(f"expected {k} weights, got {w.shape}")
    if w.sum() <= 1e-12:
        return np.full(k, 1.0 / k)
    w = np.maximum(w / w.sum(), floor)
    return w / w.sum()


def transport_plan(source: np.ndarray, target: np.ndarray,
                   source_weights: np.ndarray | None = None,
                   target_weights: np.ndarray | None = None, reg: float = 0.05,
                   chroma_weight: float = 1.0, iterations: int = 5000,
                   tol: float = 1e-6) -> np.ndarray:
    """Optimal transport plan between two weighted palettes at cost ΔE76².

    Parameters
    ----------
    source, target : np.ndarray
        (K, 3) and (M, 3) CIELAB palettes.
    source_weights, target_weights : np.ndarray, optional
        (K,) and (M,) non-negative weights (the marginals, normalised here); uniform if None.
    reg : float
        Entropic regularisation as a fraction of the mean cost; 0 = the exact (unregularised)
        plan from a linear programme. Larger values spread each source colour over more target
        colours (softer, greyer correspondences).
    chroma_weight : float
        The cost is ΔL*² + ``chroma_weight`` · (Δa*² + Δb*²) (1: ΔE76²).
    iterations, tol : int, float
        Sinkhorn iterations at most (log domain); it stops once the source marginals match to
        ``tol`` (the target marginals are matched exactly by each iteration's last step).

    Returns
    -------
    np.ndarray
        (K, M) plan P ≥ 0 with P.sum(1) = source masses and P.sum(0) = target masses.
    """
    s = np.asarray(source, dtype=np.float64).reshape(-1, 3)
    t = np.asarray(target, dtype=np.float64).reshape(-1, 3)
    a = palette_masses(source_weights, len(s), floor=1e-4)
    b = palette_masses(target_weights, len(t), floor=1e-4)
    d = s[:, None, :] - t[None, :, :]
    cost = d[..., 0] ** 2 + chroma_weight * (d[..., 1] ** 2 + d[..., 2] ** 2)
    if reg <= 0.0:
        k, m = cost.shape
        a_eq = np.zeros((k + m, k * m))
        for i in range(k):
            a_eq[i, i * m:(i + 1) * m] = 1.0
        for j in range(m):
            a_eq[k + j, j::m] = 1.0
        res = linprog(cost.reshape(-1), A_eq=a_eq, b_eq=np.concatenate([a, b]),
                      bounds=(0, None), method="highs")
        if not res.success:  # pragma: no cover - a feasible LP always solves
            raise RuntimeError(f"transport LP failed: {res.message}")
        return np.clip(res.x.reshape(k, m), 0.0, None)
    eps = reg * max(float(cost.mean()), 1e-9)
    f, g = np.zeros(len(a)), np.zeros(len(b))
    log_a, log_b = np.log(a), np.log(b)
    for _ in range(iterations):  # log-domain Sinkhorn
        f = eps * (log_a - _lse((g[None, :] - cost) / eps, axis=1))
        g = eps * (log_b - _lse((f[:, None] - cost) / eps, axis=0))
        plan = np.exp((f[:, None] + g[None, :] - cost) / eps)
        if np.abs(plan.sum(1) - a).max() < tol:  # columns are exact after the g step
            break
    return plan


def _lse(x: np.ndarray, axis: int) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def barycentric_targets(plan: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(K, M) plan, (M, 3) target -> (K, 3): where each source colour's mass goes, on average."""
    plan = np.asarray(plan, dtype=np.float64)
    return plan @ np.asarray(target, dtype=np.float64) / np.maximum(plan.sum(1), 1e-12)[:, None]


class ShiftField:
    """A smooth a*b* shift field: the Nadaraya–Watson blend of shifts given at centres.

    Parameters
    ----------
    centres : np.ndarray
        (N, 3) CIELAB positions.
    shifts : np.ndarray
        (N, 2) a*b* shifts at the centres.
    sigma : float
        Gaussian kernel width, ΔE76.
    """

    def __init__(self, centres: np.ndarray, shifts: np.ndarray, sigma: float) -> None:
        self.centres = np.asarray(centres, dtype=np.float64).reshape(-1, 3)
        self.shifts = np.asarray(shifts, dtype=np.float64).reshape(-1, 2)
        self.sigma = float(sigma)

    def weights(self, lab: np.ndarray) -> np.ndarray:
        """(..., 3) CIELAB -> (..., N) normalised kernel weights (a softmax: never 0/0)."""
        lab = np.asarray(lab, dtype=np.float64)
        d2 = ((lab[..., None, :] - self.centres) ** 2).sum(-1)
        logits = -d2 / (2.0 * self.sigma ** 2)
        logits -= logits.max(axis=-1, keepdims=True)
        w = np.exp(logits)
        return w / w.sum(axis=-1, keepdims=True)

    def __call__(self, lab: np.ndarray) -> np.ndarray:
        """(..., 3) CIELAB -> (..., 2) a*b* shift."""
        return self.weights(lab) @ self.shifts

    def jacobian_norm(self, lab: np.ndarray) -> np.ndarray:
        """(..., 3) CIELAB -> (...,) spectral norm of ∂shift/∂Lab (2 x 3), exactly:
        J = Σ_i w_i (s_i − s̄)(c_i − c̄)ᵀ / σ² = (Σ_i w_i s_i c_iᵀ − s̄ c̄ᵀ) / σ², with
        s̄ = Σ_i w_i s_i and c̄ = Σ_i w_i c_i."""
        w = self.weights(lab)
        cbar = w @ self.centres
        sbar = w @ self.shifts
        outer = (self.shifts[:, :, None] * self.centres[:, None, :]).reshape(-1, 6)  # s_n c_nᵀ
        jac = ((w @ outer).reshape(w.shape[:-1] + (2, 3))
               - sbar[..., :, None] * cbar[..., None, :]) / self.sigma ** 2
        # spectral norm of a 2 x 3 matrix: sqrt of the larger eigenvalue of J Jᵀ (2 x 2)
        g = jac @ np.swapaxes(jac, -1, -2)
        tr = g[..., 0, 0] + g[..., 1, 1]
        det = g[..., 0, 0] * g[..., 1, 1] - g[..., 0, 1] * g[..., 1, 0]
        return np.sqrt(np.maximum(0.5 * (tr + np.sqrt(np.maximum(tr * tr - 4 * det, 0.0))), 0.0))


@functools.lru_cache(maxsize=4)
def gamut_probes(n: int = 13) -> np.ndarray:
    """(n³, 3) CIELAB of an n x n x n grid over the sRGB cube: where a LUT is evaluated
    (cached: treat as read-only)."""
    axis = np.linspace(0.0, 1.0, n)
    rgb = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    return srgb01_to_lab(rgb)



def fit_sigma(centres: np.ndarray, shifts: np.ndarray, max_gradient: float,
              sigma_min: float = SIGMA_MIN, probes: np.ndarray | None = None,
              rel_tol: float = 0.02) -> float:
    """The smallest kernel width (ΔE76, to ``rel_tol``) whose field's ‖∂shift/∂Lab‖₂ stays
    within ``max_gradient`` over the sRGB gamut (probed on a grid plus the centres).

    A narrower kernel follows each palette colour's shift more closely; a wider one is
    smoother. The gradient falls as σ grows (∝ 1/σ² once the kernel spans the palette), so a
    bisection on log σ finds the width; ``SIGMA_MAX`` if even that is too steep."""
    if probes is None:
        probes = gamut_probes()
    pts = np.concatenate([probes, np.asarray(centres, dtype=np.float64).reshape(-1, 3)])

    def steepest(sigma: float) -> float:
        return float(ShiftField(centres, shifts, sigma).jacobian_norm(pts).max())

    lo = float(sigma_min)
    if steepest(lo) <= max_gradient:
        return lo
    hi = min(2.0 * lo, SIGMA_MAX)  # bracket upwards from sigma_min
    while steepest(hi) > max_gradient:
        if hi >= SIGMA_MAX:
            return SIGMA_MAX
        lo, hi = hi, min(2.0 * hi, SIGMA_MAX)
    while hi / lo > 1.0 + rel_tol:
        mid = float(np.sqrt(lo * hi))
        if steepest(mid) <= max_gradient:
            hi = mid
        else:
            lo = mid
    return hi


def neutral_limit(c: np.ndarray, tint: float, slope: float,
                  knee: float = NEUTRAL_KNEE) -> np.ndarray:
    """The largest a*b* shift (ΔE76) a colour of chroma ``c`` receives:
    ``tint + slope · h(c)`` with h(c) = c²/(2·knee) below ``knee`` and c − knee/2 above it (C¹:
    flat at the neutral axis, so near-neutral noise hardly modulates the tint)."""
    c = np.asarray(c, dtype=np.float64)
    h = np.where(c < knee, c * c / (2.0 * knee), c - 0.5 * knee)
    return tint + slope * h


def limit_neutral_shift(lab: np.ndarray, shift: np.ndarray, tint: float, slope: float,
                        knee: float = NEUTRAL_KNEE, power: float = LIMIT_POWER) -> np.ndarray:
    """Soft-limit each shift's magnitude m to L = :func:`neutral_limit` (C*):
    m' = m / (1 + (m/L)^power)^(1/power) (≈ m well below L, → L above it; the direction is
    kept, and dm'/dm ≤ 1, so the limit never steepens the field).

    Parameters
    ----------
    lab : np.ndarray
        (..., 3) CIELAB input colours (their chroma sets the limit).
    shift : np.ndarray
        (..., 2) a*b* shifts.

    Returns
    -------
    np.ndarray
        (..., 2) limited shifts."""
    lab = np.asarray(lab, dtype=np.float64)
    shift = np.asarray(shift, dtype=np.float64)
    lim = neutral_limit(np.hypot(lab[..., 1], lab[..., 2]), tint, slope, knee)
    m = np.hypot(shift[..., 0], shift[..., 1])
    scale = (1.0 + (m / lim) ** power) ** (-1.0 / power)
    return shift * scale[..., None]


class OTChromaShift:
    """The a*b* move of the smooth transfer: OT correspondences, smooth field, neutral limit.

    Parameters
    ----------
    source, target : np.ndarray
        (K, 3), (M, 3) CIELAB palettes (any order).
    source_weights, target_weights : np.ndarray, optional
        (K,), (M,) weights: the source colours' shares of the frame and the target palette's
        weights. Uniform if None.
    reg : float
        Entropic regularisation of the plan (:func:`transport_plan`).
    max_gradient : float
        Bound on ‖∂shift/∂Lab‖₂ of the field (:func:`fit_sigma`), before the neutral limit.
    neutral_tint, neutral_slope : float
        The neutral limit (:func:`neutral_limit`); ``neutral_tint`` ≤ 0 disables the limit.
    chroma_weight : float
        Weight of Δa*² + Δb*² against ΔL*² in the transport cost (1 = plain ΔE76²).

    Attributes
    ----------
    plan : np.ndarray
        (K, M) transport plan.
    mapped : np.ndarray
        (K, 3) OT-barycentric target of each source colour.
    field : ShiftField
        The field (centres: the source colours, then black and white).

    Notes
    -----
    The kernel blend reaches only part of each centre's shift (its neighbours' shifts are
    mixed in). The centre shifts are therefore pre-compensated: a few Richardson steps
    u ← u + (s − W u) towards W u = s (W: the kernel weights between centres, row-stochastic
    and positive definite, so the steps converge and amplify by at most their count), each
    round followed by a new :func:`fit_sigma`, so the final field keeps the gradient bound.
    """

    def __init__(self, source: np.ndarray, target: np.ndarray,
                 source_weights: np.ndarray | None = None,
                 target_weights: np.ndarray | None = None, reg: float = 0.05,
                 max_gradient: float = 2.5, neutral_tint: float = 2.5,
                 neutral_slope: float = 3.0, chroma_weight: float = 0.2) -> None:
        self.source = np.asarray(source, dtype=np.float64).reshape(-1, 3)
        self.target = np.asarray(target, dtype=np.float64).reshape(-1, 3)
        self.plan = transport_plan(self.source, self.target, source_weights, target_weights,
                                   reg, chroma_weight)
        self.mapped = barycentric_targets(self.plan, self.target)
        anchors = np.array([[0.0, 0.0, 0.0], [100.0, 0.0, 0.0]])
        centres = np.concatenate([self.source, anchors])
        wanted = np.concatenate([self.mapped[:, 1:] - self.source[:, 1:], np.zeros((2, 2))])
        u = wanted
        sigma = fit_sigma(centres, u, max_gradient)
        for _ in range(COMPENSATION_ROUNDS):
            w = ShiftField(centres, u, sigma).weights(centres)
            for _ in range(3):
                u = u + (wanted - w @ u)
            u[-2:] = 0.0  # black and white stay put
            sigma = fit_sigma(centres, u, max_gradient, sigma_min=sigma)  # (σ only grows)
        self.field = ShiftField(centres, u, sigma)
        self.neutral_tint, self.neutral_slope = float(neutral_tint), float(neutral_slope)

    def __call__(self, lab: np.ndarray) -> np.ndarray:
        """(..., 3) CIELAB -> (..., 2) a*b* move at full strength (skin protection and
        strength are the caller's)."""
        shift = self.field(lab)
        if self.neutral_tint > 0.0:
            shift = limit_neutral_shift(lab, shift, self.neutral_tint, self.neutral_slope)
        return shift
