"""m2p_core.palette.v0: the fixed emotion -> palette mapping (docs/ARCHITECTURE.md "Science")."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from m2p_core.colour.space import gamut_map_lab, mean_pairwise_delta_e2000, palette_distance
from m2p_core.palette.v0 import palette_from_emotion

QUADRANT_VA = {"Q1": (0.7, 0.7), "Q2": (-0.7, 0.7), "Q3": (-0.7, -0.7), "Q4": (0.7, -0.7)}


def _random_descriptors(n: int, seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    angle = torch.rand(n, generator=g) * 2 * math.pi
    return {
        "brightness": torch.rand(n, generator=g) * 0.4,
        "onset_density": torch.rand(n, generator=g),
        "key_clarity": -0.2 + 1.1 * torch.rand(n, generator=g),
        "tonal_cos_sin": torch.stack([torch.cos(angle), torch.sin(angle)], 1),
    }


def _palettes(va: torch.Tensor, desc: dict[str, torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
    """Gamut-mapped palettes (B, 5, 3) and weights (B, 5) as float64 numpy."""
    lab, w = palette_from_emotion(va.float(), **desc)
    return gamut_map_lab(lab.double().numpy()), w.double().numpy()


def _at(v: float, a: float, n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    va = torch.tensor([[v, a]]).repeat(n, 1)
    return _palettes(va, _random_descriptors(n, seed))


def _hue_deg(lab: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360.0


def _chroma(lab: np.ndarray) -> np.ndarray:
    return np.hypot(lab[..., 1], lab[..., 2])


def _circ_mean_deg(h: np.ndarray) -> float:
    r = np.radians(h)
    return float(np.degrees(np.arctan2(np.sin(r).mean(), np.cos(r).mean())) % 360.0)


@pytest.fixture(scope="module")
def grid():
    vals = torch.linspace(-1.0, 1.0, 9)
    v, a = torch.meshgrid(vals, vals, indexing="ij")
    va = torch.stack([v.reshape(-1), a.reshape(-1)], 1).repeat(8, 1)  # 81 points × 8 songs
    desc = _random_descriptors(len(va), seed=123)
    lab, w = _palettes(va, desc)
    return va.numpy(), lab, w


def test_shapes_and_dtype():
    desc = _random_descriptors(3, 0)
    lab, w = palette_from_emotion(torch.zeros(3, 2), **desc)
    assert lab.shape == (3, 5, 3)
    assert w.shape == (3, 5)
    assert lab.dtype == torch.float32 and w.dtype == torch.float32
    assert torch.isfinite(lab).all() and torch.isfinite(w).all()


def test_diversity_every_palette(grid):
    _, lab, _ = grid
    div = np.array([mean_pairwise_delta_e2000(p) for p in lab])
    assert div.min() >= 20.0, f"least diverse palette: {div.min():.2f}"


def test_lightness_in_range(grid):
    _, lab, _ = grid
    assert lab[..., 0].min() >= 0.0 and lab[..., 0].max() <= 100.0


def test_weights_non_negative_sum_to_one(grid):
    _, _, w = grid
    assert (w >= 0.0).all()
    np.testing.assert_allclose(w.sum(1), 1.0, atol=1e-6)


@pytest.mark.parametrize("a", [-0.8, -0.3, 0.0, 0.4, 0.9])
def test_lightness_increases_with_valence(a):
    means = [_at(v, a)[0][..., 0].mean() for v in (-0.9, -0.3, 0.3, 0.9)]
    assert all(x < y for x, y in zip(means, means[1:], strict=False)), means


@pytest.mark.parametrize("v", [-0.8, -0.3, 0.0, 0.4, 0.9])
def test_chroma_increases_with_arousal(v):
    means = [_chroma(_at(v, a)[0]).mean() for a in (-0.9, -0.3, 0.3, 0.9)]
    assert all(x < y for x, y in zip(means, means[1:], strict=False)), means


def _base_hues(q: str) -> np.ndarray:
    lab, _ = _at(*QUADRANT_VA[q], n=128, seed=7)
    return _hue_deg(lab[:, 0])


def test_q1_happy_is_yellowish():
    h = _base_hues("Q1")
    assert 50.0 <= _circ_mean_deg(h) <= 110.0
    # individual songs: the tonal angle rotates the hue by up to ±25°; allow 10° beyond the band
    assert ((h >= 40.0) & (h <= 120.0)).all()


def test_q2_angry_is_reddish():
    h = _base_hues("Q2")
    m = _circ_mean_deg(h)
    assert m <= 60.0 or m > 340.0
    assert ((h <= 70.0) | (h > 330.0)).all()


def test_q3_sad_is_bluish_and_darker_than_q1():
    h = _base_hues("Q3")
    assert 200.0 <= _circ_mean_deg(h) <= 290.0
    assert ((h >= 190.0) & (h <= 300.0)).all()
    l_q1 = _at(*QUADRANT_VA["Q1"])[0][..., 0].mean()
    l_q3 = _at(*QUADRANT_VA["Q3"])[0][..., 0].mean()
    assert l_q3 < l_q1


def test_q4_calm_is_between_green_and_blue():
    m = _circ_mean_deg(_base_hues("Q4"))
    assert 120.0 <= m <= 220.0


@pytest.mark.parametrize("v", [-0.7, 0.0, 0.7])
def test_base_weight_larger_for_high_arousal(v):
    _, w_hi = _at(v, 0.9)
    _, w_lo = _at(v, -0.9)
    assert w_hi[:, 0].mean() > w_lo[:, 0].mean()
    # the base colour is the largest area when arousal is high (anger -> large red areas)
    assert (w_hi.argmax(1) == 0).all()


@pytest.mark.parametrize("q", ["Q1", "Q2", "Q3", "Q4"])
def test_same_mood_different_songs_differ(q):
    v, a = QUADRANT_VA[q]
    va = torch.tensor([[v, a], [v, a]])

    def song(angle_deg: float, clarity: float, onset: float, bright: float):
        r = math.radians(angle_deg)
        return {
            "brightness": torch.tensor([bright]),
            "onset_density": torch.tensor([onset]),
            "key_clarity": torch.tensor([clarity]),
            "tonal_cos_sin": torch.tensor([[math.cos(r), math.sin(r)]]),
        }

    s1 = song(90.0, 0.85, 0.1, 0.1)
    s2 = song(270.0, -0.1, 0.8, 0.3)
    desc = {k: torch.cat([s1[k], s2[k]]) for k in s1}
    lab, _ = _palettes(va, desc)
    assert palette_distance(lab[0], lab[1]) >= 10.0


def test_random_songs_of_one_mood_are_not_collapsed():
    lab, _ = _at(*QUADRANT_VA["Q1"], n=24, seed=3)
    d = [palette_distance(lab[i], lab[j]) for i in range(24) for j in range(i + 1, 24)]
    assert np.median(d) >= 5.0


def test_deterministic():
    desc = _random_descriptors(4, 9)
    va = torch.tensor([[0.1, 0.2], [-0.5, 0.9], [0.0, 0.0], [1.0, -1.0]])
    a1, w1 = palette_from_emotion(va, **desc)
    a2, w2 = palette_from_emotion(va, **desc)
    assert torch.equal(a1, a2) and torch.equal(w1, w2)


def test_batch_independence():
    desc = _random_descriptors(6, 11)
    va = torch.rand(6, 2, generator=torch.Generator().manual_seed(1)) * 2 - 1
    lab, w = palette_from_emotion(va, **desc)
    one = {k: t[2:3] for k, t in desc.items()}
    lab1, w1 = palette_from_emotion(va[2:3], **one)
    torch.testing.assert_close(lab[2:3], lab1)
    torch.testing.assert_close(w[2:3], w1)


@pytest.mark.parametrize("k", [1, 3, 4, 6, 8])
def test_non_five_colours_raises(k):
    desc = _random_descriptors(2, 0)
    with pytest.raises(ValueError):
        palette_from_emotion(torch.zeros(2, 2), n_colours=k, **desc)
