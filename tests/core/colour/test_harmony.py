"""m2p_core.colour.harmony: Ou & Luo (2006) two-colour harmony and palette-level scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from m2p_core.colour import harmony as hm
from m2p_core.colour.space import srgb01_to_lab


def _ou_luo_np(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """Ou & Luo (2006) CH, written independently from the paper's equations (hue in degrees)."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=np.float64), -1, 0)
    C1, C2 = np.hypot(a1, b1), np.hypot(a2, b2)
    h1 = np.degrees(np.arctan2(b1, a1)) % 360.0
    h2 = np.degrees(np.arctan2(b2, a2)) % 360.0

    dE2 = (L1 - L2) ** 2 + (a1 - a2) ** 2 + (b1 - b2) ** 2  # ΔE*ab²
    dCab = C1 - C2
    dH2 = np.maximum(dE2 - (L1 - L2) ** 2 - dCab**2, 0.0)  # ΔH*ab² = ΔE² − ΔL² − ΔC²
    dC = np.sqrt(dH2 + (dCab / 1.46) ** 2)
    H_C = 0.04 + 0.53 * np.tanh(0.8 - 0.045 * dC)

    H_Lsum = 0.28 + 0.54 * np.tanh(-3.88 + 0.029 * (L1 + L2))
    H_dL = 0.14 + 0.15 * np.tanh(-2.0 + 0.2 * np.abs(L1 - L2))
    H_L = H_Lsum + H_dL

    def h_sy(L, C, h):
        E_C = 0.5 + 0.5 * np.tanh(-2.0 + 0.5 * C)
        H_S = (-0.08 - 0.14 * np.sin(np.radians(h + 50.0))
               - 0.07 * np.sin(np.radians(2.0 * h + 90.0)))
        x = (90.0 - h) / 10.0
        E_Y = ((0.22 * L - 12.8) / 10.0) * np.exp(x - np.exp(x))
        return E_C * (H_S + E_Y)

    H_H = h_sy(L1, C1, h1) + h_sy(L2, C2, h2)
    return H_C + H_L + H_H


def _lab(L: float, C: float, h_deg: float) -> torch.Tensor:
    h = np.radians(h_deg)
    return torch.tensor([L, C * np.cos(h), C * np.sin(h)], dtype=torch.float64)


def _ch(lab1: torch.Tensor, lab2: torch.Tensor) -> float:
    return float(hm.pair_harmony(lab1, lab2))


def test_pair_harmony_matches_independent_numpy_random_lab():
    rng = np.random.default_rng(0)
    n = 10000
    lab1 = np.c_[rng.uniform(0, 100, n), rng.uniform(-120, 120, (n, 2))]
    lab2 = np.c_[rng.uniform(0, 100, n), rng.uniform(-120, 120, (n, 2))]
    got = hm.pair_harmony(torch.tensor(lab1), torch.tensor(lab2)).numpy()
    np.testing.assert_allclose(got, _ou_luo_np(lab1, lab2), rtol=0, atol=1e-6)


def test_pair_harmony_matches_numpy_near_yellow_and_srgb():
    # hues around yellow exercise E_Y (the double exponential), sRGB colours the usual range
    rng = np.random.default_rng(1)
    n = 4000
    h = np.radians(rng.uniform(40, 140, (n, 2)))
    c = rng.uniform(0, 100, (n, 2))
    L = rng.uniform(0, 100, (n, 2))
    lab = np.stack([L, c * np.cos(h), c * np.sin(h)], axis=-1)
    got = hm.pair_harmony(torch.tensor(lab[:, 0]), torch.tensor(lab[:, 1])).numpy()
    np.testing.assert_allclose(got, _ou_luo_np(lab[:, 0], lab[:, 1]), atol=1e-6)
    srgb = srgb01_to_lab(rng.uniform(0, 1, (n, 2, 3)))
    got = hm.pair_harmony(torch.tensor(srgb[:, 0]), torch.tensor(srgb[:, 1])).numpy()
    np.testing.assert_allclose(got, _ou_luo_np(srgb[:, 0], srgb[:, 1]), atol=1e-6)


def test_pair_harmony_symmetric_and_broadcasts():
    rng = np.random.default_rng(2)
    a = torch.tensor(srgb01_to_lab(rng.uniform(0, 1, (7, 3))))
    b = torch.tensor(srgb01_to_lab(rng.uniform(0, 1, (5, 3))))
    ab = hm.pair_harmony(a[:, None], b[None])
    assert ab.shape == (7, 5)
    torch.testing.assert_close(ab, hm.pair_harmony(b[None], a[:, None]))


@pytest.mark.parametrize("hue", range(0, 360, 30))
def test_similar_hue_and_chroma_beats_complementary_high_chroma(hue):
    analogous = _ch(_lab(50, 40, hue), _lab(50, 36, hue + 15))
    complementary = _ch(_lab(50, 70, hue), _lab(50, 70, hue + 180))
    assert analogous > complementary


def test_higher_combined_lightness_scores_higher():
    # H_Lsum: with ΔL and the colours' hue/chroma fixed (blue, far from E_Y), lighter pairs win
    for dl in (0.0, 10.0):
        scores = [_ch(_lab(L, 30, 250), _lab(L + dl, 25, 260)) for L in (15, 30, 45, 60, 75, 85)]
        assert np.all(np.diff(scores) > 0), scores
    greys = [_ch(_lab(L, 0, 0), _lab(L + 10, 0, 0)) for L in (10, 30, 50, 70, 90)]
    assert np.all(np.diff(greys) > 0)


def test_range_on_random_srgb_colours():
    rng = np.random.default_rng(3)
    lab = srgb01_to_lab(rng.uniform(0, 1, (20000, 2, 3)))
    ch = hm.pair_harmony(torch.tensor(lab[:, 0]), torch.tensor(lab[:, 1])).numpy()
    assert np.isfinite(ch).all()
    assert ch.min() >= -1.5 and ch.max() <= 1.5
    # both harmonious and disharmonious pairs occur
    assert (ch > 0.3).mean() > 0.05 and (ch < -0.3).mean() > 0.05


def test_pair_harmony_gradients_finite_at_identical_and_neutral():
    x = torch.tensor([[50.0, 0.0, 0.0], [60.0, 20.0, 30.0]], dtype=torch.float64,
                     requires_grad=True)
    y = torch.tensor([[50.0, 0.0, 0.0], [60.0, 20.0, 30.0]], dtype=torch.float64,
                     requires_grad=True)
    hm.pair_harmony(x, y).sum().backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(y.grad).all()


def _analogous_palettes(rng: np.random.Generator, n: int) -> np.ndarray:
    out = []
    for _ in range(n):
        h0 = rng.uniform(0, 360)
        hues = h0 + rng.uniform(-20, 20, 5)
        L = np.linspace(30, 85, 5)
        C = rng.uniform(20, 40, 5)
        out.append(np.stack([L, C * np.cos(np.radians(hues)), C * np.sin(np.radians(hues))], -1))
    return np.stack(out)


def test_palette_harmony_random_lower_than_analogous():
    rng = np.random.default_rng(4)
    random_pal = srgb01_to_lab(rng.uniform(0, 1, (300, 5, 3)))
    analogous = _analogous_palettes(rng, 300)
    h_rand = hm.palette_harmony(torch.tensor(random_pal)).numpy()
    h_anal = hm.palette_harmony(torch.tensor(analogous)).numpy()
    assert h_rand.shape == h_anal.shape == (300,)
    assert h_anal.mean() > h_rand.mean() + 0.1


def test_palette_harmony_is_mean_pairwise_and_np_wrapper_agrees():
    rng = np.random.default_rng(5)
    pal = srgb01_to_lab(rng.uniform(0, 1, (6, 5, 3)))
    i, j = np.triu_indices(5, k=1)
    expected = _ou_luo_np(pal[:, i], pal[:, j]).mean(-1)
    got = hm.palette_harmony(torch.tensor(pal)).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(hm.palette_harmony_np(pal), got, atol=1e-12)
    np.testing.assert_allclose(hm.palette_harmony_np(pal.reshape(2, 3, 5, 3)),
                               got.reshape(2, 3), atol=1e-12)


def _pal_with_l(ls) -> torch.Tensor:
    ls = torch.as_tensor(ls, dtype=torch.float64)
    return torch.stack([ls, torch.full_like(ls, 10.0), torch.full_like(ls, -5.0)], dim=-1)


def test_lightness_order_smoothness_even_is_one():
    even = _pal_with_l([[20.0, 35.0, 50.0, 65.0, 80.0], [80.0, 20.0, 65.0, 35.0, 50.0]])
    np.testing.assert_allclose(hm.lightness_order_smoothness(even).numpy(), 1.0, atol=1e-9)


def test_lightness_order_smoothness_bunched_is_lower():
    s = hm.lightness_order_smoothness(_pal_with_l([
        [20.0, 35.0, 50.0, 65.0, 80.0],  # even
        [20.0, 30.0, 50.0, 65.0, 80.0],  # slightly uneven
        [20.0, 22.0, 24.0, 26.0, 80.0],  # bunched with one big gap
        [20.0, 20.0, 20.0, 20.0, 80.0],  # all in one gap: the extreme
    ])).numpy()
    assert s[0] == pytest.approx(1.0)
    assert s[0] > s[1] > s[2] > s[3]
    assert s[3] == pytest.approx(0.0, abs=1e-9)


def test_lightness_order_smoothness_in_unit_interval_random():
    rng = np.random.default_rng(6)
    for k in (3, 4, 5, 8):
        s = hm.lightness_order_smoothness(_pal_with_l(rng.uniform(0, 100, (500, k)))).numpy()
        assert np.isfinite(s).all()
        assert s.min() >= -1e-9 and s.max() <= 1.0 + 1e-9
    same = hm.lightness_order_smoothness(_pal_with_l([[50.0] * 5])).numpy()
    assert 0.0 <= same[0] < 1.0  # no lightness structure at all is not "smooth"


@pytest.mark.parametrize("k", [1, 2])
def test_lightness_order_smoothness_small_palettes_finite(k):
    s = hm.lightness_order_smoothness(_pal_with_l([[30.0, 70.0][:k], [50.0, 50.0][:k]]))
    assert s.shape == (2,)
    np.testing.assert_allclose(s.numpy(), 1.0)
