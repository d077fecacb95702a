"""The v2 emotion head's fitting: inner-CV regularisation, Platt calibration, folding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from m2p_core.model.v2 import CalibratedEmotionHead, fold_scaler
from m2p_core.training.head import (
    HeadRecipe,
    cross_validate_head,
    expected_calibration_error,
    fit_head,
    fit_platt,
    saturated_fraction,
    window_weights,
)
from m2p_core.training.head_features import HeadFeatures, head_window_starts
from m2p_core.training.manifest import ManifestRow

TRUE_W = np.array([[1.2, -0.8, 0.0, 0.0, 0.5, 0.0], [0.0, 0.6, 1.0, -0.7, 0.0, 0.0]])


def _problem(n_clips: int, windows: int, seed: int):
    """Windows of clips whose features share a clip-level part; each clip's labels drawn from
    a logistic model of its mean features (so the true P(axis > 0 | window) is known)."""
    rng = np.random.default_rng(seed)
    clip_x = rng.normal(size=(n_clips, TRUE_W.shape[1]))
    x = np.repeat(clip_x, windows, axis=0) + 0.3 * rng.normal(size=(n_clips * windows, 6))
    clip_p = 1 / (1 + np.exp(-(clip_x @ TRUE_W.T)))
    y = rng.uniform(size=clip_p.shape) < clip_p
    rows = [ManifestRow(f"c{i}", f"/x/{i}.opus", 1.0 if y[i, 0] else -1.0,
                        1.0 if y[i, 1] else -1.0, f"artist{i // 3}", 1.0)
            for i in range(n_clips)]
    clip_index = np.repeat(np.arange(n_clips), windows).astype(np.int32)
    feats = HeadFeatures({"a": x[:, :4].astype(np.float32), "b": x[:, 4:].astype(np.float32)},
                         clip_index, np.tile(np.arange(windows) * 5.0, n_clips))
    return feats, rows, clip_x


def test_window_weights_count_each_clip_once():
    w = window_weights(np.array([0, 0, 0, 1, 2, 2]))
    np.testing.assert_allclose(w, [1 / 3, 1 / 3, 1 / 3, 1, 0.5, 0.5])


def test_head_window_starts():
    assert head_window_starts(30 * 16000, 160000, 80000) == [0, 80000, 160000, 240000, 320000]
    assert head_window_starts(29 * 16000, 160000, 80000) == [0, 80000, 160000, 240000]
    assert head_window_starts(5 * 16000, 160000, 80000) == [0]  # one padded window


def test_platt_recovers_an_overconfident_scale():
    rng = np.random.default_rng(0)
    t = rng.normal(scale=2.0, size=20000)
    y = (rng.uniform(size=t.size) < 1 / (1 + np.exp(-t))).astype(int)
    a, b = fit_platt(3.0 * t, y)  # logits three times too confident
    assert a == pytest.approx(1 / 3, rel=0.06)
    assert abs(b) < 0.05


@pytest.mark.parametrize("kind", ["axes", "quadrants"])
def test_fitted_head_is_calibrated_on_a_logistic_problem(kind):
    feats, rows, _ = _problem(600, 3, seed=1)
    fit = fit_head(feats, rows, HeadRecipe(("a", "b"), cs=(1e-3, 1e-2, 0.1, 1.0), kind=kind,
                                           lapse=0.0))
    assert set(fit.c.tolist()) <= {1e-3, 1e-2, 0.1, 1.0}
    # fresh clips from the same process: predicted probabilities match frequencies
    test, test_rows, clip_x = _problem(4000, 1, seed=2)
    p = 1 / (1 + np.exp(-fit.logits(test.stack(("a", "b")))))
    y = np.array([[r.valence > 0, r.arousal > 0] for r in test_rows], dtype=int)
    for k in range(2):
        assert expected_calibration_error(p[:, k], y[:, k]) < 0.05
        # and close to the true clip-level probability
        true_p = 1 / (1 + np.exp(-(clip_x @ TRUE_W[k])))
        assert np.mean(np.abs(p[:, k] - true_p)) < (0.1 if kind == "axes" else 0.15)
    assert saturated_fraction(fit.logits(test.stack(("a", "b")))) < 0.05


@pytest.mark.parametrize("kind", ["axes", "quadrants"])
def test_folded_torch_head_matches_the_fit(kind):
    feats, rows, _ = _problem(120, 3, seed=3)
    fit = fit_head(feats, rows, HeadRecipe(("a", "b"), cs=(0.01, 0.1), kind=kind, lapse=0.0))
    assert fit.coef.shape == ((2, 6) if kind == "axes" else (4, 6))
    head = CalibratedEmotionHead(6, kind)
    head.set_parts(*fold_scaler(*(torch.from_numpy(np.asarray(v)) for v in (
        fit.mean, fit.scale, fit.coef, fit.intercept))),
        torch.from_numpy(fit.platt_a), torch.from_numpy(fit.platt_b))
    x = feats.stack(("a", "b"))
    with torch.no_grad():
        z = head(torch.from_numpy(x).float()).double().numpy()
    np.testing.assert_allclose(z, fit.logits(x), atol=1e-4)


def test_lapse_bounds_the_probability():
    from m2p_core.model.v2 import with_lapse
    from m2p_core.training.head import with_lapse_np

    z = np.array([-50.0, -3.0, 0.0, 2.0, 50.0])
    p = 1 / (1 + np.exp(-with_lapse_np(z, 0.01)))
    np.testing.assert_allclose(p, 0.01 + 0.98 / (1 + np.exp(-z)))
    assert p.min() >= 0.01 - 1e-12 and p.max() <= 0.99 + 1e-12
    np.testing.assert_allclose(with_lapse(torch.from_numpy(z), 0.01).numpy(),
                               with_lapse_np(z, 0.01))
    np.testing.assert_array_equal(with_lapse_np(z, 0.0), z)
    # the fitted head applies it: |2P - 1| <= 0.98 even far outside the training data
    feats, rows, _ = _problem(60, 2, seed=5)
    fit = fit_head(feats, rows, HeadRecipe(("a", "b"), cs=(1.0,), lapse=0.01))
    va = np.tanh(0.5 * fit.logits(1e3 * feats.stack(("a", "b"))))
    assert np.abs(va).max() <= 0.98 + 1e-9


def test_cross_validation_beats_chance_and_reports_calibration():
    feats, rows, _ = _problem(200, 2, seed=4)
    cv = cross_validate_head(feats, rows, HeadRecipe(("a", "b"), cs=(0.01, 0.1)), n_folds=3)
    assert cv.metrics["valence_sign_acc"] > 0.65
    assert cv.metrics["arousal_sign_acc"] > 0.65
    assert not np.isnan(cv.window_logits).any()
    assert len(cv.chosen_c) == 3
    assert 0 <= cv.metrics["valence_ece"] < 0.15
