"""Fitting and cross-validating the v2 calibrated emotion head (``m2p train-head``).

Per axis (valence sign, arousal sign) the head is a logistic regression on standardised stacked
per-window features (:mod:`m2p_core.training.head_features`), every window labelled with its
clip's sign and weighted ``1 / (windows of its clip)`` so that each clip counts once (kind
``"axes"``); or one 4-class logistic regression on the quadrant, whose probabilities are summed
per axis, P(V>0) = P(Q1) + P(Q4) (kind ``"quadrants"``: the valence boundary may then depend on
arousal, e.g. tense vs happy differs from sad vs calm). Either way:

1. the regularisation ``C`` is chosen from :data:`DEFAULT_CS` by an *inner* cross-validation
   grouped by artist (:class:`~sklearn.model_selection.StratifiedGroupKFold`), minimising the
   weighted out-of-fold window log-loss of the axis (both axes' sum for ``"quadrants"``);
2. a Platt calibration ``sigmoid(a·z + b)`` is fitted on those inner out-of-fold logits ``z``
   of the chosen ``C`` (so the calibration has seen no window whose clip trained its logit);
3. the regression is refitted with that ``C`` on every training window;
4. a fixed lapse rate ε (0.01) bounds the probability to [ε, 1 − ε]
   (:func:`m2p_core.model.v2.with_lapse`), so |valence|, |arousal| ≤ 0.98.

:class:`HeadFit` holds the scaler, the coefficients and the calibration; the scaler folds into
the linear layer of :class:`~m2p_core.model.v2.CalibratedEmotionHead`.
:func:`cross_validate_head` scores recipes on the artist-disjoint folds of
:func:`~m2p_core.training.splits.artist_disjoint_split` (the folds of ``m2p evaluate``); a
clip's prediction is the mean of its windows' logits.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

from m2p_core.model.russell import QUADRANTS
from m2p_core.training.head_features import HeadFeatures
from m2p_core.training.manifest import ManifestRow
from m2p_core.training.metrics import quadrant_metrics
from m2p_core.training.splits import artist_disjoint_split

#: the regularisation grid of the inner cross-validation
DEFAULT_CS: tuple[float, ...] = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3)
AXES = ("valence", "arousal")


@dataclass(frozen=True)
class HeadRecipe:
    """How to fit a head: which feature blocks, the C grid (one value = fixed), calibration."""

    features: tuple[str, ...]
    cs: tuple[float, ...] = DEFAULT_CS
    calibrate: bool = True
    kind: str = "axes"  # "axes" | "quadrants" (see the module doc)
    lapse: float = 0.01  # P = ε + (1 − 2ε)·sigmoid(logit): |valence|, |arousal| ≤ 1 − 2ε
    inner_folds: int = 4
    seed: int = 0


@dataclass
class HeadFit:
    """A fitted head: regression on standardised features, then per-axis Platt calibration."""

    features: tuple[str, ...]
    kind: str  # "axes" | "quadrants"
    mean: np.ndarray  # (F,)
    scale: np.ndarray  # (F,)
    coef: np.ndarray  # (K, F) on standardised features; K = 2 (axes) or 4 (Q1..Q4)
    intercept: np.ndarray  # (K,)
    platt_a: np.ndarray  # (2,)
    platt_b: np.ndarray  # (2,)
    c: np.ndarray  # (2,) chosen regularisation per axis (equal for "quadrants")
    lapse: float = 0.0
    inner: dict = field(default_factory=dict)  # C -> inner OOF log-loss (per axis or joint)

    def raw_logits(self, x: np.ndarray) -> np.ndarray:
        """(W, 2) uncalibrated per-axis logits."""
        z = ((x - self.mean) / self.scale) @ self.coef.T + self.intercept
        return quadrant_axis_logits_np(z) if self.kind == "quadrants" else z

    def logits(self, x: np.ndarray) -> np.ndarray:
        """(W, 2) calibrated logits (lapse included): P(axis > 0) = sigmoid(logit)."""
        return with_lapse_np(self.platt_a * self.raw_logits(x) + self.platt_b, self.lapse)

    def to_payload(self) -> dict:
        """Plain lists/floats for the checkpoint's train_info (the unfolded parts)."""
        return {"features": list(self.features), "kind": self.kind,
                "scaler_mean": self.mean.tolist(), "scaler_scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept.tolist(),
                "platt_a": self.platt_a.tolist(), "platt_b": self.platt_b.tolist(),
                "C": self.c.tolist(), "lapse": self.lapse}


def quadrant_axis_logits_np(q: np.ndarray) -> np.ndarray:
    """numpy twin of :func:`m2p_core.model.v2.quadrant_axis_logits` (Q1..Q4 order)."""
    lse = np.logaddexp
    return np.stack([lse(q[:, 0], q[:, 3]) - lse(q[:, 1], q[:, 2]),
                     lse(q[:, 0], q[:, 1]) - lse(q[:, 2], q[:, 3])], axis=1)


def with_lapse_np(z: np.ndarray, lapse: float) -> np.ndarray:
    """numpy twin of :func:`m2p_core.model.v2.with_lapse`."""
    if lapse <= 0:
        return z
    p = lapse + (1 - 2 * lapse) * expit(z)
    return np.log(p) - np.log1p(-p)


def window_weights(clip_index: np.ndarray) -> np.ndarray:
    """1 / (number of windows of the window's clip): every clip weighs 1 in total."""
    _, inverse, counts = np.unique(clip_index, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse]


def axis_log_loss(z: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """The weighted mean log-loss of one axis: logits ``z`` (N,), signs ``y`` (N,) in
    {-1, +1} or {0, 1} (positive = above 0), weights ``w`` (N,); :func:`fit_head`'s criterion
    for choosing C."""
    # -log sigmoid(±z), stable
    s = np.where(y > 0, z, -z)
    return float(np.sum(w * np.logaddexp(0.0, -s)) / np.sum(w))


def _fit_lr(xs: np.ndarray, y: np.ndarray, w: np.ndarray, c: float) -> LogisticRegression:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(C=c, max_iter=2000, tol=1e-5).fit(xs, y, sample_weight=w)


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(0)
    scale = x.std(0)
    scale[scale < 1e-8] = 1.0
    return mean, scale


def fit_platt(z: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> tuple[float, float]:
    """(a, b) of ``P(y=1) = sigmoid(a·z + b)`` by weighted maximum likelihood (almost no
    regularisation)."""
    w = np.ones(len(z)) if w is None else w
    lr = _fit_lr(z.reshape(-1, 1), y, w * (len(w) / np.sum(w)), 1e4)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _axis_logits(lr: LogisticRegression, x: np.ndarray, kind: str) -> np.ndarray:
    """(W, 2) per-axis logits (kind "axes": ``lr`` is a list of two regressions)."""
    if kind == "axes":
        return np.stack([m.decision_function(x) for m in lr], axis=1)
    return quadrant_axis_logits_np(lr.decision_function(x))


def _fit_kind(xs: np.ndarray, y_axes: np.ndarray, y_quadrant: np.ndarray, w: np.ndarray,
              c: np.ndarray, kind: str):
    if kind == "axes":
        return [_fit_lr(xs, y_axes[:, k], w, float(c[k])) for k in range(2)]
    return _fit_lr(xs, y_quadrant, w, float(c[0]))


def fit_head(feats: HeadFeatures, rows: Sequence[ManifestRow], recipe: HeadRecipe,
             windows: np.ndarray | None = None) -> HeadFit:
    """Fit on ``windows`` (default: all) of ``feats``; labels and artists from ``rows``
    (indexed by ``feats.clip_index``). See the module doc for the procedure."""
    windows = np.arange(len(feats.clip_index)) if windows is None else windows
    x = feats.stack(recipe.features)[windows]
    clips = feats.clip_index[windows]
    groups = np.array([rows[c].artist for c in clips])
    w = window_weights(clips)
    mean, scale = _standardise(x)
    xs = (x - mean) / scale
    y_axes = np.array([[rows[c].valence > 0, rows[c].arousal > 0] for c in clips], dtype=int)
    y_quadrant = np.array([QUADRANTS.index(rows[c].quadrant) for c in clips])
    cs = tuple(recipe.cs)
    inner: dict = {}
    if len(cs) > 1 or recipe.calibrate:
        splitter = StratifiedGroupKFold(recipe.inner_folds, shuffle=True, random_state=recipe.seed)
        splits = list(splitter.split(xs, y_quadrant, groups))
        oof = {}
        for c in cs:
            z = np.zeros((len(xs), 2))
            for tr, te in splits:
                model = _fit_kind(xs[tr], y_axes[tr], y_quadrant[tr], w[tr], np.array([c, c]),
                                  recipe.kind)
                z[te] = _axis_logits(model, xs[te], recipe.kind)
            oof[c] = z
            inner[c] = [axis_log_loss(z[:, k], y_axes[:, k], w) for k in range(2)]
        if recipe.kind == "axes":  # each axis its own C
            chosen = np.array([min(cs, key=lambda c, k=k: inner[c][k]) for k in range(2)])
        else:
            best = min(cs, key=lambda c: sum(inner[c]))
            chosen = np.array([best, best])
        oof_z = np.stack([oof[chosen[k]][:, k] for k in range(2)], axis=1)
    else:
        chosen = np.array([cs[0], cs[0]])
    if recipe.calibrate:
        platt = [fit_platt(oof_z[:, k], y_axes[:, k], w) for k in range(2)]
    else:
        platt = [(1.0, 0.0), (1.0, 0.0)]
    final = _fit_kind(xs, y_axes, y_quadrant, w, chosen, recipe.kind)
    if recipe.kind == "axes":
        coef = np.stack([m.coef_[0] for m in final])
        intercept = np.array([m.intercept_[0] for m in final])
    else:
        coef, intercept = final.coef_.copy(), final.intercept_.copy()
    return HeadFit(tuple(recipe.features), recipe.kind, mean, scale, coef, intercept,
                   np.array([p[0] for p in platt]), np.array([p[1] for p in platt]), chosen,
                   recipe.lapse, {str(c): v for c, v in inner.items()})


def clip_mean(values: np.ndarray, clip_index: np.ndarray,
              clips: Sequence[int]) -> np.ndarray:
    """(len(clips), ...) mean of ``values`` over each clip's windows."""
    return np.stack([values[clip_index == c].mean(0) for c in clips])


def saturated_fraction(logits: np.ndarray, threshold: float = 0.99) -> float:
    """Fraction of windows with |valence| or |arousal| = |tanh(logit/2)| above ``threshold``."""
    va = np.tanh(0.5 * logits)
    return float(np.mean(np.any(np.abs(va) > threshold, axis=1)))


def expected_calibration_error(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Equal-width-bin ECE of probabilities ``p`` against 0/1 outcomes ``y``."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            ece += m.mean() * abs(p[m].mean() - y[m].mean())
    return float(ece)


@dataclass
class HeadCV:
    """Pooled out-of-fold results of one recipe."""

    metrics: dict  # quadrant metrics + saturation, log-loss, ECE
    window_logits: np.ndarray  # (W, 2) calibrated, out of fold, in feats' window order
    window_raw_logits: np.ndarray  # (W, 2) before calibration
    chosen_c: list  # per fold (2,)


def cross_validate_head(
    feats: HeadFeatures, rows: Sequence[ManifestRow], recipe: HeadRecipe,
    n_folds: int = 5, seed: int = 0, log: Callable[[str], None] | None = None,
) -> HeadCV:
    """Artist-disjoint ``n_folds``-fold CV (the folds of ``m2p evaluate``): fit on the other
    folds' windows (inner CV and calibration inside), predict the held-out windows."""
    n_w = len(feats.clip_index)
    z = np.full((n_w, 2), np.nan)
    z_raw = np.full((n_w, 2), np.nan)
    chosen, fold_f1 = [], []
    clip_true, clip_pred = [], []
    x_all = feats.stack(recipe.features)
    for fold in range(n_folds):
        tr, va = artist_disjoint_split(rows, n_folds, fold, seed)
        w_tr = np.flatnonzero(np.isin(feats.clip_index, tr))
        w_va = np.flatnonzero(np.isin(feats.clip_index, va))
        fit = fit_head(feats, rows, recipe, w_tr)
        z[w_va] = fit.logits(x_all[w_va])
        z_raw[w_va] = fit.raw_logits(x_all[w_va])
        chosen.append(fit.c.tolist())
        clips = [int(c) for c in va if c in set(feats.clip_index[w_va].tolist())]
        clip_true.append([[np.sign(rows[c].valence), np.sign(rows[c].arousal)] for c in clips])
        clip_pred.append(np.tanh(0.5 * clip_mean(z, feats.clip_index, clips)))
        fold_f1.append(quadrant_metrics(np.array(clip_true[-1]), clip_pred[-1])["macro_f1"])
        if log:
            log(f"[head] fold {fold}: C {fit.c.tolist()}, platt a {fit.platt_a.round(2)}")
    true = np.concatenate([np.array(t) for t in clip_true])
    pred = np.concatenate(clip_pred)
    metrics = quadrant_metrics(true, pred)
    y = np.array([[rows[c].valence > 0, rows[c].arousal > 0] for c in feats.clip_index],
                 dtype=int)
    w = window_weights(feats.clip_index)
    p = 1.0 / (1.0 + np.exp(-z))
    metrics["fold_macro_f1"] = fold_f1
    metrics["saturated_windows"] = saturated_fraction(z)
    va = np.abs(np.tanh(0.5 * z))
    metrics["saturated_valence"] = float(np.mean(va[:, 0] > 0.99))
    metrics["saturated_arousal"] = float(np.mean(va[:, 1] > 0.99))
    metrics["windows_above_0.95"] = float(np.mean(np.any(va > 0.95, axis=1)))
    for k, axis in enumerate(AXES):
        metrics[f"{axis}_log_loss"] = axis_log_loss(z[:, k], y[:, k], w)
        metrics[f"{axis}_ece"] = expected_calibration_error(p[:, k], y[:, k])
    return HeadCV(metrics, z, z_raw, chosen)
