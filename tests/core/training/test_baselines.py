"""m2p_core.training.baselines: the palette generators the model is evaluated against."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from m2p_core.colour.space import in_srgb_gamut
from m2p_core.model.frontend import DESCRIPTOR_NAMES
from m2p_core.palette.v0 import palette_from_emotion
from m2p_core.training.baselines import BASELINES, baseline_palettes

IDX = {name: i for i, name in enumerate(DESCRIPTOR_NAMES)}
D = len(DESCRIPTOR_NAMES)
QUADRANT_SIGNS = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=float)  # Q1..Q4


def _windows(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    va = rng.uniform(-1, 1, (n, 2))
    desc = rng.normal(0, 1, (n, D))
    desc[:, IDX["brightness"]] = rng.uniform(0, 0.5, n)
    desc[:, IDX["onset_density"]] = rng.uniform(0, 1, n)
    desc[:, IDX["key_clarity"]] = rng.uniform(-0.2, 0.9, n)
    ang = rng.uniform(0, 2 * np.pi, n)
    desc[:, IDX["tonal_cos"]], desc[:, IDX["tonal_sin"]] = np.cos(ang), np.sin(ang)
    return va, desc


def _quadrant(va: np.ndarray) -> np.ndarray:
    """0..3 for Q1..Q4 (zero counts as positive)."""
    pos_v, pos_a = va[:, 0] >= 0, va[:, 1] >= 0
    return np.select([pos_v & pos_a, ~pos_v & pos_a, ~pos_v & ~pos_a], [0, 1, 2], 3)


def test_baseline_names():
    assert set(BASELINES) == {"single_colour", "quadrant_fixed", "random", "v0"}


@pytest.mark.parametrize("name", BASELINES)
def test_shapes_and_weights(name):
    va, desc = _windows()
    lab, w = baseline_palettes(name, va, desc, np.random.default_rng(0))
    k = 1 if name == "single_colour" else 5
    assert lab.shape == (40, k, 3) and w.shape == (40, k)
    assert np.isfinite(lab).all() and np.isfinite(w).all()
    assert (w >= 0).all()
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)
    assert (lab[..., 0] >= 0).all() and (lab[..., 0] <= 100).all()


@pytest.mark.parametrize("name", BASELINES)
def test_single_window(name):
    va, desc = _windows(1)
    lab, w = baseline_palettes(name, va, desc, np.random.default_rng(0))
    assert lab.shape[0] == w.shape[0] == 1


def test_single_colour_is_v0_base_colour():
    va, desc = _windows()
    rng = np.random.default_rng(0)
    lab1, w1 = baseline_palettes("single_colour", va, desc, rng)
    lab5, _ = baseline_palettes("v0", va, desc, rng)
    np.testing.assert_allclose(lab1[:, 0], lab5[:, 0])
    np.testing.assert_array_equal(w1, 1.0)


def test_quadrant_fixed_same_within_quadrant_different_across():
    va, desc = _windows(80, seed=1)
    lab, w = baseline_palettes("quadrant_fixed", va, desc, np.random.default_rng(0))
    q = _quadrant(va)
    assert set(q) == {0, 1, 2, 3}
    reps = {}
    for quad in range(4):
        idx = np.flatnonzero(q == quad)
        assert len(idx) >= 2
        np.testing.assert_allclose(lab[idx], np.broadcast_to(lab[idx[0]], lab[idx].shape),
                                   atol=1e-5)
        np.testing.assert_allclose(w[idx], np.broadcast_to(w[idx[0]], w[idx].shape), atol=1e-7)
        reps[quad] = lab[idx[0]]
    for a in range(4):
        for b in range(a + 1, 4):
            assert np.abs(reps[a] - reps[b]).max() > 5.0, (a, b)
    # independent of the descriptors and of the position inside the quadrant
    va2 = QUADRANT_SIGNS * np.array([[0.1, 0.9]])
    lab2, _ = baseline_palettes("quadrant_fixed", va2, _windows(4, seed=2)[1],
                                np.random.default_rng(0))
    for quad in range(4):
        np.testing.assert_allclose(lab2[quad], reps[quad], atol=1e-5)


def test_quadrant_fixed_base_hues_follow_the_published_anchors():
    # Q1 yellow-ish, Q2 red, Q3 blue, Q4 teal/green (v0 anchors, docs/ARCHITECTURE.md "Science")
    lab, _ = baseline_palettes("quadrant_fixed", QUADRANT_SIGNS * 0.5, _windows(4)[1],
                               np.random.default_rng(0))
    hue = np.degrees(np.arctan2(lab[:, 0, 2], lab[:, 0, 1])) % 360
    for got, want in zip(hue, (85.0, 30.0, 260.0, 165.0), strict=True):
        assert abs((got - want + 180) % 360 - 180) < 30.0


def test_random_in_gamut_and_varies():
    va, desc = _windows()
    lab, w = baseline_palettes("random", va, desc, np.random.default_rng(0))
    assert in_srgb_gamut(lab).all()
    assert (lab[..., 0] >= 0).all() and (lab[..., 0] <= 100).all()
    # different windows get different palettes and weights; another rng draw differs too
    assert np.abs(lab[0] - lab[1]).max() > 1.0
    assert np.abs(w[0] - w[1]).max() > 1e-3
    lab_b, _ = baseline_palettes("random", va, desc, np.random.default_rng(1))
    assert np.abs(lab - lab_b).max() > 1.0
    lab_c, w_c = baseline_palettes("random", va, desc, np.random.default_rng(0))
    np.testing.assert_array_equal(lab_c, lab)  # reproducible for a seeded rng
    np.testing.assert_array_equal(w_c, w)
    # colours spread over the gamut: the lightness range is wide
    assert lab[..., 0].min() < 20 and lab[..., 0].max() > 80


def test_v0_equals_palette_from_emotion():
    va, desc = _windows()
    lab, w = baseline_palettes("v0", va, desc, np.random.default_rng(0))
    d = torch.tensor(desc, dtype=torch.float32)
    ref_lab, ref_w = palette_from_emotion(
        torch.tensor(va, dtype=torch.float32), d[:, IDX["brightness"]],
        d[:, IDX["onset_density"]], d[:, IDX["key_clarity"]],
        d[:, [IDX["tonal_cos"], IDX["tonal_sin"]]])
    assert lab.dtype == np.float64 and w.dtype == np.float64
    np.testing.assert_allclose(lab, ref_lab.numpy(), atol=1e-5)
    np.testing.assert_allclose(w, ref_w.numpy(), atol=1e-7)


def test_v0_depends_on_emotion_and_descriptors():
    va, desc = _windows()
    rng = np.random.default_rng(0)
    lab, _ = baseline_palettes("v0", va, desc, rng)
    lab_neg, _ = baseline_palettes("v0", -va, desc, rng)
    desc2 = desc.copy()
    desc2[:, IDX["tonal_cos"]], desc2[:, IDX["tonal_sin"]] = desc[:, IDX["tonal_sin"]], \
        desc[:, IDX["tonal_cos"]]
    lab_desc, _ = baseline_palettes("v0", va, desc2, rng)
    assert np.abs(lab - lab_neg).max() > 5.0
    assert np.abs(lab - lab_desc).max() > 1.0


@pytest.mark.parametrize("name", ["", "Random", "v1", "quadrant", "single"])
def test_unknown_name_raises(name):
    va, desc = _windows(3)
    with pytest.raises(ValueError, match="unknown baseline"):
        baseline_palettes(name, va, desc, np.random.default_rng(0))
