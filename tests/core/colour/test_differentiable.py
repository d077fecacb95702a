"""m2p_core.colour.differentiable: torch CIEDE2000 and CIELAB -> sRGB against colour-science."""

from __future__ import annotations

import colour
import numpy as np
import pytest
import torch
from colour_reference import SHARMA_PAIRS

from m2p_core.colour import differentiable as ct
from m2p_core.colour import space as cs

TOL = 1e-3


def _t(x: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.ascontiguousarray(x), dtype=torch.float64)


def _random_lab(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.c_[rng.uniform(0, 100, n), rng.uniform(-110, 110, n), rng.uniform(-110, 110, n)]


def _assert_matches_colour_science(lab1: np.ndarray, lab2: np.ndarray) -> None:
    ref = cs.delta_e2000(lab1, lab2)
    got = ct.delta_e2000(_t(lab1), _t(lab2)).numpy()
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=0, atol=TOL)


def test_delta_e2000_random_pairs_match_colour_science():
    rng = np.random.default_rng(0)
    n = 12000
    lab1, lab2 = _random_lab(rng, n), _random_lab(rng, n)
    _assert_matches_colour_science(lab1, lab2)


def test_delta_e2000_near_identical_pairs():
    rng = np.random.default_rng(1)
    lab1 = _random_lab(rng, 5000)
    for scale in (1e-3, 1e-2, 0.3):
        lab2 = lab1 + rng.normal(0.0, scale, lab1.shape)
        _assert_matches_colour_science(lab1, lab2)


def test_delta_e2000_identical_pairs_are_zero():
    lab = _random_lab(np.random.default_rng(2), 3000)
    got = ct.delta_e2000(_t(lab), _t(lab)).numpy()
    np.testing.assert_allclose(got, 0.0, atol=TOL)
    _assert_matches_colour_science(lab, lab)


def test_delta_e2000_neutral_colours():
    rng = np.random.default_rng(3)
    n = 3000
    neutral = np.c_[rng.uniform(0, 100, n), np.zeros(n), np.zeros(n)]
    other = _random_lab(rng, n)
    _assert_matches_colour_science(neutral, other)
    _assert_matches_colour_science(other, neutral)
    _assert_matches_colour_science(neutral, neutral[::-1])  # neutral vs neutral
    _assert_matches_colour_science(neutral, neutral)
    # nearly neutral (chroma 0.01 .. 1) against chromatic and neutral colours
    near = neutral.copy()
    c, h = rng.uniform(0.01, 1.0, n), rng.uniform(0, 2 * np.pi, n)
    near[:, 1], near[:, 2] = c * np.cos(h), c * np.sin(h)
    _assert_matches_colour_science(near, other)
    _assert_matches_colour_science(near, neutral)


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA_PAIRS)
def test_delta_e2000_sharma_pairs(lab1, lab2, expected):
    got = float(ct.delta_e2000(_t(np.array(lab1)), _t(np.array(lab2))))
    assert got == pytest.approx(expected, abs=2e-4)  # published to 4 decimals
    assert got == pytest.approx(float(cs.delta_e2000(np.array(lab1), np.array(lab2))), abs=TOL)
    # symmetric
    assert float(ct.delta_e2000(_t(np.array(lab2)), _t(np.array(lab1)))) == pytest.approx(
        got, abs=1e-9)


def test_delta_e2000_broadcasts_and_float32():
    lab1 = np.array([p[0] for p in SHARMA_PAIRS])
    lab2 = np.array([p[1] for p in SHARMA_PAIRS])
    expected = np.array([p[2] for p in SHARMA_PAIRS])
    got32 = ct.delta_e2000(torch.tensor(lab1, dtype=torch.float32),
                           torch.tensor(lab2, dtype=torch.float32))
    assert got32.dtype == torch.float32
    np.testing.assert_allclose(got32.numpy(), expected, atol=2e-3)
    grid = ct.delta_e2000(_t(lab1)[:, None, :], _t(lab2)[None, :, :])
    assert grid.shape == (34, 34)
    np.testing.assert_allclose(np.diag(grid.numpy()), expected, atol=2e-4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("case", ["identical", "neutral_vs_colour", "neutral_vs_neutral",
                                  "identical_neutral", "near_identical"])
def test_delta_e2000_gradients_are_finite(case, dtype):
    rng = np.random.default_rng(4)
    lab = _random_lab(rng, 16)
    neutral = lab.copy()
    neutral[:, 1:] = 0.0
    x, y = {
        "identical": (lab, lab),
        "neutral_vs_colour": (neutral, lab),
        "neutral_vs_neutral": (neutral, neutral[::-1]),
        "identical_neutral": (neutral, neutral),
        "near_identical": (lab, lab + 1e-6),
    }[case]
    a = torch.tensor(np.ascontiguousarray(x), dtype=dtype, requires_grad=True)
    b = torch.tensor(np.ascontiguousarray(y), dtype=dtype, requires_grad=True)
    d = ct.delta_e2000(a, b)
    assert torch.isfinite(d).all()
    d.sum().backward()
    assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()


def test_delta_e2000_gradient_of_mean_pairwise_at_identical_palette():
    p = torch.tensor([[[50.0, 0.0, 0.0]] * 5], dtype=torch.float64, requires_grad=True)
    ct.mean_pairwise_delta_e2000(p).sum().backward()
    assert torch.isfinite(p.grad).all()


def test_mean_pairwise_delta_e2000_matches_numpy():
    rng = np.random.default_rng(5)
    palettes = np.stack([_random_lab(rng, 5) for _ in range(20)])
    got = ct.mean_pairwise_delta_e2000(_t(palettes)).numpy()
    assert got.shape == (20,)
    ref = np.array([cs.mean_pairwise_delta_e2000(p) for p in palettes])
    np.testing.assert_allclose(got, ref, atol=TOL)
    # extra leading dims broadcast too
    got2 = ct.mean_pairwise_delta_e2000(_t(palettes.reshape(4, 5, 5, 3))).numpy()
    np.testing.assert_allclose(got2.reshape(-1), ref, atol=TOL)


def _in_gamut_lab(n: int, seed: int) -> np.ndarray:
    rgb = np.random.default_rng(seed).uniform(0.0, 1.0, (n, 3))
    return cs.srgb01_to_lab(rgb)


def test_lab_to_linear_srgb_matches_colour_science():
    lab = _in_gamut_lab(5000, 6)
    got = ct.lab_to_linear_srgb(_t(lab)).numpy()
    d65 = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]
    ref = colour.XYZ_to_sRGB(colour.Lab_to_XYZ(lab, d65), d65, apply_cctf_encoding=False)
    np.testing.assert_allclose(got, ref, atol=TOL)
    # and the decoded (eotf) non-linear sRGB of m2p_core.colour.space
    ref2 = colour.models.eotf_sRGB(cs.lab_to_srgb01(lab))
    np.testing.assert_allclose(got, ref2, atol=TOL)


def test_lab_to_linear_srgb_reference_points():
    lab = _t(np.array([[100.0, 0.0, 0.0], [0.0, 0.0, 0.0], [50.0, 0.0, 0.0]]))
    rgb = ct.lab_to_linear_srgb(lab).numpy()
    np.testing.assert_allclose(rgb[0], 1.0, atol=TOL)  # D65 white
    np.testing.assert_allclose(rgb[1], 0.0, atol=TOL)
    np.testing.assert_allclose(rgb[2], rgb[2].mean(), atol=TOL)  # greys are neutral


def test_lab_to_linear_srgb_out_of_gamut_is_not_clipped():
    lab = np.array([[50.0, 0.0, -120.0], [95.0, -90.0, 90.0]])
    got = ct.lab_to_linear_srgb(_t(lab)).numpy()
    assert ((got < 0) | (got > 1)).any(axis=-1).all()
    d65 = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]
    ref = colour.XYZ_to_sRGB(colour.Lab_to_XYZ(lab, d65), d65, apply_cctf_encoding=False)
    np.testing.assert_allclose(got, ref, atol=TOL)


def test_srgb_gamut_excess_zero_inside():
    # slightly inside the cube, so that rounding cannot produce a tiny excess
    rgb = np.random.default_rng(8).uniform(0.01, 0.99, (2000, 3))
    lab = cs.srgb01_to_lab(rgb)
    ex = ct.srgb_gamut_excess(_t(lab))
    assert ex.shape == (2000,)
    assert float(ex.max()) == 0.0


def test_srgb_gamut_excess_positive_outside_and_grows():
    rng = np.random.default_rng(9)
    lab = _random_lab(rng, 4000)
    outside = ~cs.in_srgb_gamut(lab, tol=1e-3)
    ex = ct.srgb_gamut_excess(_t(lab)).numpy()
    assert outside.sum() > 100
    assert (ex[outside] > 0).all()
    assert (ex >= 0).all()
    # further out along one hue -> larger excess
    chroma_ramp = np.array([[50.0, 0.0, -b] for b in (80.0, 100.0, 120.0, 150.0)])
    ramp = ct.srgb_gamut_excess(_t(chroma_ramp)).numpy()
    assert (ramp > 0).all() and (np.diff(ramp) > 0).all()
    # above white / below black
    assert float(ct.srgb_gamut_excess(_t(np.array([[110.0, 0.0, 0.0]])))) > 0


def test_srgb_gamut_excess_differentiable():
    lab = torch.tensor([[50.0, 0.0, -120.0], [50.0, 10.0, 10.0]], dtype=torch.float64,
                       requires_grad=True)
    ct.srgb_gamut_excess(lab).sum().backward()
    assert torch.isfinite(lab.grad).all()
    assert lab.grad[0].abs().sum() > 0
    assert float(lab.grad[1].abs().sum()) == 0.0


def test_lch():
    lab = torch.tensor([[50.0, 3.0, 4.0], [20.0, -1.0, 0.0]], dtype=torch.float64)
    L, c, h = ct.lch(lab)
    np.testing.assert_allclose(L.numpy(), [50.0, 20.0])
    np.testing.assert_allclose(c.numpy(), [5.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(h.numpy(), [np.arctan2(4.0, 3.0), np.pi], atol=1e-9)
