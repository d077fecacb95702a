"""m2p_core.colour.emotion: calibrated colour -> (valence, arousal) from published findings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from m2p_core.colour import emotion as ce
from m2p_core.colour.space import in_srgb_gamut, srgb01_to_lab


def _lab(L: float, C: float, h_deg: float) -> list[float]:
    h = np.radians(h_deg)
    return [L, C * np.cos(h), C * np.sin(h)]


def _emo(lab) -> np.ndarray:
    return ce.colour_emotion(torch.tensor(lab, dtype=torch.float64)).numpy()


def test_calibration_stats_reproduce_constants():
    (v_mean, v_std), (a_mean, a_std) = ce.calibration_stats()
    assert v_mean == pytest.approx(ce.VALENCE_RAW_STATS[0], abs=2e-3)
    assert v_std == pytest.approx(ce.VALENCE_RAW_STATS[1], abs=2e-3)
    assert a_mean == pytest.approx(ce.AROUSAL_RAW_STATS[0], abs=2e-3)
    assert a_std == pytest.approx(ce.AROUSAL_RAW_STATS[1], abs=2e-3)


def test_random_srgb_colours_are_centred():
    lab = srgb01_to_lab(np.random.default_rng(11).uniform(0, 1, (20000, 3)))
    va = _emo(lab)
    assert np.abs(va.mean(0)).max() < 0.1
    assert (va.std(0) > 0.4).all()


HUES = list(range(0, 360, 30))


@pytest.mark.parametrize("hue", HUES)
def test_lighter_means_higher_valence(hue):
    # Valdez & Mehrabian 1994; Whiteford et al. 2018: valence <-> lightness (+)
    for C in (0.0, 15.0, 40.0):
        v = _emo([_lab(L, C, hue) for L in range(10, 100, 10)])[:, 0]
        assert np.all(np.diff(v) > 0), (C, v)


@pytest.mark.parametrize("hue", HUES)
def test_more_chroma_means_higher_arousal(hue):
    # Valdez & Mehrabian 1994 (arousal = −.31B + .60S); Whiteford: saturation (+)
    for L in (30.0, 50.0, 70.0):
        a = _emo([_lab(L, C, hue) for C in range(0, 90, 10)])[:, 1]
        assert np.all(np.diff(a) > 0), (L, a)


@pytest.mark.parametrize(("L", "C"), [(40, 20), (60, 30), (70, 50), (85, 40), (30, 10)])
def test_yellow_more_positive_than_blue(L, C):
    # Palmer et al. 2013; Lindborg & Friberg 2015: yellow happiest, blue saddest
    yellow, blue = _emo([_lab(L, C, 90), _lab(L, C, 260)])[:, 0]
    assert yellow > blue


def test_saturated_red_more_arousing_than_blue_grey():
    red, blue_grey = _emo([_lab(50, 70, 35), _lab(55, 8, 250)])[:, 1]
    assert red > blue_grey
    assert red > 0 > blue_grey


@pytest.mark.parametrize(
    ("name", "lab", "quadrant"),
    [
        ("dark desaturated blue", _lab(25, 15, 260), (-1, -1)),  # Q3 sad
        ("bright saturated yellow", _lab(85, 70, 90), (1, 1)),  # Q1 happy
        ("bright saturated orange", _lab(70, 65, 60), (1, 1)),  # Q1
        ("dark saturated red", _lab(35, 60, 30), (-1, 1)),  # Q2 angry
        ("pale teal", _lab(80, 20, 190), (1, -1)),  # Q4 calm
        ("light blue-green", _lab(85, 15, 200), (1, -1)),  # Q4
    ],
)
def test_prototype_colours_land_in_their_quadrant(name, lab, quadrant):
    assert in_srgb_gamut(np.array(lab))
    va = _emo(lab)
    assert tuple(np.sign(va).astype(int)) == quadrant, (name, va)


def test_palette_of_one_colour_equals_colour_emotion():
    rng = np.random.default_rng(12)
    lab = torch.tensor(srgb01_to_lab(rng.uniform(0, 1, (8, 5, 3))))
    per_colour = ce.colour_emotion(lab)  # (8, 5, 2)
    assert per_colour.shape == (8, 5, 2)
    for k in range(5):
        onehot = torch.zeros(8, 5, dtype=torch.float64)
        onehot[:, k] = 1.0
        torch.testing.assert_close(ce.palette_emotion(lab, onehot), per_colour[:, k])
        torch.testing.assert_close(ce.palette_emotion(lab[:, k : k + 1]), per_colour[:, k])


def test_palette_emotion_default_weights_are_uniform():
    lab = torch.tensor(srgb01_to_lab(np.random.default_rng(13).uniform(0, 1, (4, 5, 3))))
    uniform = torch.full((4, 5), 0.2, dtype=torch.float64)
    torch.testing.assert_close(ce.palette_emotion(lab), ce.palette_emotion(lab, uniform))


def test_weights_matter_moving_weight_to_yellow_raises_valence():
    pal = torch.tensor([[_lab(85, 70, 90), _lab(30, 20, 260), _lab(45, 10, 240)]],
                       dtype=torch.float64)
    prev = -np.inf
    for w_yellow in (0.1, 0.3, 0.5, 0.7, 0.9):
        rest = (1.0 - w_yellow) / 2.0
        w = torch.tensor([[w_yellow, rest, rest]], dtype=torch.float64)
        v = float(ce.palette_emotion(pal, w)[0, 0])
        assert v > prev
        prev = v


def test_outputs_in_open_unit_interval():
    rng = np.random.default_rng(14)
    lab = np.c_[rng.uniform(0, 100, (5000, 1)), rng.uniform(-128, 128, (5000, 2))]
    va = _emo(lab)
    assert va.shape == (5000, 2)
    assert np.isfinite(va).all() and (np.abs(va) < 1).all()
    extremes = _emo([[100.0, 0.0, 0.0], [0.0, 0.0, 0.0], [50.0, 127.0, 127.0],
                     [50.0, -127.0, -127.0]])
    assert (np.abs(extremes) <= 1).all()
    pal = ce.palette_emotion(torch.tensor(lab.reshape(1000, 5, 3)),
                             torch.softmax(torch.randn(1000, 5, dtype=torch.float64), -1))
    assert pal.shape == (1000, 2) and (pal.abs() < 1).all()


def test_numpy_wrapper_agrees_with_torch():
    rng = np.random.default_rng(15)
    lab = srgb01_to_lab(rng.uniform(0, 1, (10, 5, 3)))
    w = rng.dirichlet(np.ones(5), size=10)
    expected = ce.palette_emotion(torch.tensor(lab), torch.tensor(w)).numpy()
    got = ce.palette_emotion_np(lab, w)
    assert isinstance(got, np.ndarray) and got.shape == (10, 2)
    np.testing.assert_allclose(got, expected, atol=1e-12)
    np.testing.assert_allclose(ce.palette_emotion_np(lab),
                               ce.palette_emotion(torch.tensor(lab)).numpy(), atol=1e-12)
    # float32 torch input agrees to float32 precision
    f32 = ce.palette_emotion(torch.tensor(lab, dtype=torch.float32),
                             torch.tensor(w, dtype=torch.float32))
    np.testing.assert_allclose(f32.numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gradients_flow_to_colours_and_weights(dtype):
    lab = torch.tensor([[_lab(60, 40, 30), [50.0, 0.0, 0.0], _lab(80, 20, 200)]], dtype=dtype,
                       requires_grad=True)
    logits = torch.zeros(1, 3, dtype=dtype, requires_grad=True)
    va = ce.palette_emotion(lab, torch.softmax(logits, -1))
    (va[:, 0] - va[:, 1]).sum().backward()
    assert torch.isfinite(lab.grad).all() and torch.isfinite(logits.grad).all()
    assert lab.grad[0, 0].abs().sum() > 0 and logits.grad.abs().sum() > 0
    # ascending the valence gradient raises valence
    x = torch.tensor([[_lab(40, 30, 250)]], dtype=torch.float64, requires_grad=True)
    v0 = ce.palette_emotion(x)[0, 0]
    v0.backward()
    with torch.no_grad():
        v1 = ce.palette_emotion(x + 0.5 * x.grad / x.grad.norm())[0, 0]
    assert v1 > v0
