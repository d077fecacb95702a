"""m2p_core.training.losses: each term of the colour decoder's loss, and the weighted total."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from m2p_core.colour.differentiable import mean_pairwise_delta_e2000
from m2p_core.colour.emotion import palette_emotion
from m2p_core.colour.space import palette_distance, srgb01_to_lab
from m2p_core.training import losses as pl

TERMS = ("emotion", "diversity", "song", "alternatives", "harmony", "lightness", "gamut",
         "reconstruction", "proportions", "vividness")


def _random_palettes(n: int, seed: int, k: int = 5, lo: float = 0.05, hi: float = 0.95):
    rgb = np.random.default_rng(seed).uniform(lo, hi, (n, k, 3))
    return torch.tensor(srgb01_to_lab(rgb))


def _lab(L: float, C: float, h_deg: float) -> list[float]:
    h = np.radians(h_deg)
    return [L, C * np.cos(h), C * np.sin(h)]


# --- chamfer -------------------------------------------------------------------------------

def test_chamfer_zero_for_permuted_identical_palettes():
    p = _random_palettes(6, 0)
    perm = p[:, torch.randperm(5, generator=torch.Generator().manual_seed(0))]
    d = pl.chamfer_delta_e(p, perm)
    assert d.shape == (6,)
    np.testing.assert_allclose(d.numpy(), 0.0, atol=1e-3)


def test_chamfer_symmetric_and_matches_numpy():
    a, b = _random_palettes(8, 1), _random_palettes(8, 2)
    ab, ba = pl.chamfer_delta_e(a, b), pl.chamfer_delta_e(b, a)
    torch.testing.assert_close(ab, ba)
    assert (ab > 1.0).all()
    ref = [palette_distance(x, y) for x, y in zip(a.numpy(), b.numpy(), strict=True)]
    np.testing.assert_allclose(ab.numpy(), ref, atol=1e-3)


# --- emotion -------------------------------------------------------------------------------

def test_emotion_loss_zero_at_own_estimate_and_larger_for_opposite_quadrant():
    pal = torch.tensor([[_lab(85, 70, 90), _lab(75, 60, 70), _lab(65, 55, 50)]],
                       dtype=torch.float64)  # bright warm: Q1
    w = torch.full((1, 3), 1.0 / 3, dtype=torch.float64)
    own = palette_emotion(pal, w)
    assert (own > 0).all()
    assert float(pl.emotion_loss(pal, w, own)) == pytest.approx(0.0, abs=1e-12)
    near = float(pl.emotion_loss(pal, w, own + 0.1))
    opposite = float(pl.emotion_loss(pal, w, torch.tensor([[-0.8, -0.8]], dtype=torch.float64)))
    assert 0 < near < opposite


# --- diversity -----------------------------------------------------------------------------

def test_diversity_loss_zero_above_tau_positive_for_near_duplicates():
    tau = 32.0
    diverse = torch.tensor([[_lab(20, 40, 260), _lab(90, 60, 95), _lab(50, 70, 30),
                             _lab(70, 50, 150), _lab(35, 45, 320)]], dtype=torch.float64)
    assert float(mean_pairwise_delta_e2000(diverse)) >= tau
    assert float(pl.diversity_loss(diverse, tau)) == 0.0
    dup = torch.tensor([[_lab(50, 30, 100)] * 4 + [_lab(51, 31, 101)]], dtype=torch.float64)
    loss = float(pl.diversity_loss(dup, tau))
    assert 0.9 < loss <= 1.0
    # batch: the mean over palettes
    both = pl.diversity_loss(torch.cat([diverse, dup]), tau)
    assert float(both) == pytest.approx(loss / 2, rel=1e-9)


# --- song collapse -------------------------------------------------------------------------

def _two(p1: torch.Tensor, p2: torch.Tensor) -> torch.Tensor:
    return torch.stack([p1, p2])


def test_song_collapse_positive_for_shared_palette_same_quadrant_different_clips():
    p = _random_palettes(1, 3)[0]
    pal = _two(p, p)
    loss = pl.song_collapse_loss(pal, torch.tensor([0, 1]), torch.tensor([2, 2]), tau=15.0)
    assert float(loss) == pytest.approx(1.0, abs=1e-3)


def test_song_collapse_zero_when_far_apart_same_clip_or_different_quadrants():
    dark = torch.tensor([_lab(L, 40, 260) for L in (15, 20, 25, 30, 35)], dtype=torch.float64)
    light = torch.tensor([_lab(L, 60, 90) for L in (70, 75, 80, 85, 90)], dtype=torch.float64)
    assert float(pl.chamfer_delta_e(dark, light)) > 15.0
    far = pl.song_collapse_loss(_two(dark, light), torch.tensor([0, 1]), torch.tensor([1, 1]),
                                tau=15.0)
    assert float(far) == 0.0
    same = _two(dark, dark)
    for clips, quads in [([4, 4], [1, 1]), ([0, 1], [0, 3])]:
        pal = same.clone().requires_grad_(True)
        loss = pl.song_collapse_loss(pal, torch.tensor(clips), torch.tensor(quads), tau=15.0)
        assert loss.dim() == 0 and float(loss.detach()) == 0.0
        loss.backward()  # a differentiable zero: the graph exists, the gradient is 0
        assert pal.grad is not None and float(pal.grad.abs().sum()) == 0.0


def test_song_collapse_only_counts_qualifying_pairs():
    p = _random_palettes(1, 4)[0]
    q = _random_palettes(1, 5)[0] * torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    # clips 0, 1 share palette p (same quadrant) -> 1 each; clip 0 again (same clip) and
    # clip 2 in another quadrant do not count
    pal = torch.stack([p, p, p, p])
    loss = pl.song_collapse_loss(pal, torch.tensor([0, 1, 0, 2]), torch.tensor([1, 1, 1, 3]), 15.0)
    assert float(loss) == pytest.approx(1.0, abs=1e-3)
    pal = torch.stack([p, q, p])  # 0-1 far apart, 1-2 far apart, 0-2 same clip
    loss = pl.song_collapse_loss(pal, torch.tensor([0, 1, 0]), torch.tensor([1, 1, 1]), 15.0)
    assert float(loss) == 0.0


# --- alternatives --------------------------------------------------------------------------

def test_alternatives_loss():
    a, b = _random_palettes(4, 6), _random_palettes(4, 7)
    assert float(pl.alternatives_loss(a, a, 10.0)) == pytest.approx(1.0, abs=1e-3)
    assert (pl.chamfer_delta_e(a, b) > 10.0).all()
    assert float(pl.alternatives_loss(a, b, 10.0)) == 0.0
    close = a + torch.tensor([2.0, 0.0, 0.0], dtype=torch.float64)  # ~2 units away
    val = float(pl.alternatives_loss(a, close, 10.0))
    assert 0.0 < val < 1.0


# --- harmony, lightness, gamut, reconstruction ---------------------------------------------

def test_harmony_loss_zero_above_tau_positive_below():
    harmonious = torch.tensor([[_lab(L, 25, 240 + 5 * i) for i, L in enumerate(
        (55, 65, 75, 85, 92))]], dtype=torch.float64)
    clashing = torch.tensor([[_lab(40, 70, 30), _lab(40, 70, 210), _lab(35, 70, 120),
                              _lab(40, 70, 300), _lab(35, 60, 0)]], dtype=torch.float64)
    assert float(pl.harmony_loss(harmonious, 0.3)) == 0.0
    assert float(pl.harmony_loss(clashing, 0.3)) > 0.3


def test_lightness_loss():
    even = torch.tensor([[_lab(L, 30, 100) for L in (20, 35, 50, 65, 80)]], dtype=torch.float64)
    bunched = torch.tensor([[_lab(L, 30, 100) for L in (20, 22, 24, 26, 80)]],
                           dtype=torch.float64)
    assert float(pl.lightness_loss(even)) == pytest.approx(0.0, abs=1e-9)
    assert float(pl.lightness_loss(bunched)) > 0.3


def test_gamut_loss():
    inside = _random_palettes(4, 8)
    assert float(pl.gamut_loss(inside)) == 0.0
    outside = inside.clone()
    outside[:, 0] = torch.tensor([50.0, 0.0, -130.0], dtype=torch.float64)
    assert float(pl.gamut_loss(outside)) > 0.0


def test_reconstruction_loss():
    p = _random_palettes(3, 9)
    assert float(pl.reconstruction_loss(p, p)) == pytest.approx(0.0, abs=1e-5)
    perm = p[:, [4, 3, 2, 1, 0]]
    assert float(pl.reconstruction_loss(p, perm)) == pytest.approx(0.0, abs=1e-5)
    other = _random_palettes(3, 10)
    expected = float(pl.chamfer_delta_e(p, other).mean()) / 100.0
    assert float(pl.reconstruction_loss(p, other)) == pytest.approx(expected)
    assert expected > 0


# --- total ---------------------------------------------------------------------------------

def _batch(b: int = 6, seed: int = 0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    palette = (_random_palettes(b, seed).to(dtype)).requires_grad_(True)
    logits = torch.randn(b, 5, generator=g, dtype=dtype).requires_grad_(True)
    # the alternative palette (another latent) is close: the alternatives term is active
    alt = (palette.detach() + torch.tensor([3.0, -2.0, 2.0], dtype=dtype)).requires_grad_(True)
    music_va = torch.rand(b, 2, generator=g, dtype=dtype) * 2 - 1
    clip_ids = torch.tensor([0, 1, 2, 3, 4, 4][:b])
    quadrant_ids = torch.tensor([0, 0, 0, 1, 1, 1][:b])
    target = _random_palettes(b, seed + 200).to(dtype)
    return palette, logits, alt, music_va, clip_ids, quadrant_ids, target


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_total_loss_finite_scalar_with_gradients_and_all_terms(dtype):
    palette, logits, alt, va, clips, quads, target = _batch(dtype=dtype)
    # a duplicate (collapse) and an out-of-gamut colour so every term is active
    with torch.no_grad():
        palette[1] = palette[0] + 0.5  # near-duplicate palettes of two clips
        palette[2, 0] = torch.tensor([50.0, 0.0, -130.0], dtype=dtype)
    w = pl.LossWeights()
    total, terms = pl.total_loss(w, palette, torch.softmax(logits, -1), alt, va, clips, quads,
                                 target)
    assert total.dim() == 0 and torch.isfinite(total)
    assert set(terms) == set(TERMS) and len(terms) == 10
    assert all(isinstance(v, float) and np.isfinite(v) for v in terms.values())
    assert terms["song"] > 0 and terms["gamut"] > 0 and terms["alternatives"] > 0
    expected = sum(getattr(w, k) * v for k, v in terms.items())
    assert float(total.detach()) == pytest.approx(expected, rel=1e-4)
    total.backward()
    for t in (palette, logits, alt):
        assert t.grad is not None and torch.isfinite(t.grad).all() and t.grad.abs().sum() > 0


def test_each_term_is_differentiable_alone():
    palette, logits, alt, va, clips, quads, target = _batch()
    with torch.no_grad():
        palette[1] = palette[0] + 0.5  # near-duplicate palettes of two clips
        palette[2, 0] = torch.tensor([50.0, 0.0, -130.0], dtype=torch.float64)
        palette[3, :, 0] = torch.tensor([20.0, 22.0, 24.0, 26.0, 80.0], dtype=torch.float64)
    weights = torch.softmax(logits, -1)
    fns = {
        "emotion": lambda: pl.emotion_loss(palette, weights, va),
        "diversity": lambda: pl.diversity_loss(palette, 32.0),
        "song": lambda: pl.song_collapse_loss(palette, clips, quads, 15.0),
        "alternatives": lambda: pl.alternatives_loss(palette, palette.detach() + 1.0, 10.0),
        "harmony": lambda: pl.harmony_loss(palette, 5.0),  # tau above any CH: always active
        "lightness": lambda: pl.lightness_loss(palette),
        "gamut": lambda: pl.gamut_loss(palette),
        "reconstruction": lambda: pl.reconstruction_loss(palette, target),
        "vividness": lambda: pl.vividness_loss(palette * 3.0),  # some colours above C* 85
    }
    assert set(fns) == set(TERMS) - {"proportions"}  # a term of the weights: tested below
    for name, fn in fns.items():
        palette.grad = None
        loss = fn()
        assert loss.dim() == 0 and torch.isfinite(loss), name
        loss.backward()
        assert torch.isfinite(palette.grad).all(), name
        assert palette.grad.abs().sum() > 0, name


def test_total_loss_zero_weights_give_zero():
    palette, logits, alt, va, clips, quads, target = _batch()
    zero = pl.LossWeights(**{k: 0.0 for k in TERMS})
    total, terms = pl.total_loss(zero, palette, torch.softmax(logits, -1), alt, va, clips, quads,
                                 target)
    assert float(total.detach()) == 0.0
    assert any(v > 0 for v in terms.values())


def test_gradient_steps_on_diversity_alone_increase_mean_delta_e():
    torch.manual_seed(0)
    base = torch.tensor([[_lab(50, 20, 100)] * 5], dtype=torch.float64)
    param = (base + torch.randn(1, 5, 3, dtype=torch.float64)).requires_grad_(True)
    before = float(mean_pairwise_delta_e2000(param.detach()))
    opt = torch.optim.Adam([param], lr=2.0)
    for _ in range(25):
        opt.zero_grad()
        loss = pl.diversity_loss(param, 32.0)
        loss.backward()
        opt.step()
    after = float(mean_pairwise_delta_e2000(param.detach()))
    assert after > before + 10.0
    assert float(pl.diversity_loss(param.detach(), 32.0)) < 1.0 - before / 32.0


def test_proportions_loss_wants_several_colours():
    k = 5
    even = torch.full((1, k), 1.0 / k)
    dominant = torch.tensor([[0.8, 0.05, 0.05, 0.05, 0.05]])
    assert float(pl.proportions_loss(even)) == 0.0
    assert float(pl.proportions_loss(dominant)) > 0.1
    logits = torch.tensor([[3.0, 0.0, 0.0, 0.0, 0.0]], requires_grad=True)
    pl.proportions_loss(torch.softmax(logits, -1)).backward()
    assert float(logits.grad[0, 0]) > 0  # descending lowers the dominant colour's share


def test_vividness_penalises_only_neon_chroma():
    calm = torch.tensor([[[60.0, 20.0, 30.0], [40.0, -30.0, 10.0]]])
    neon = torch.tensor([[[60.0, 90.0, -60.0], [50.0, 0.0, 0.0]]])
    assert float(pl.vividness_loss(calm)) == 0.0
    assert float(pl.vividness_loss(neon)) > 0.0


def test_weighted_reconstruction_charges_large_off_prior_areas():
    target = torch.tensor([[[50.0, 40.0, 30.0], [70.0, 10.0, 50.0]]])
    palette = torch.tensor([[[50.0, 40.0, 30.0], [60.0, 80.0, -80.0]]])  # colour 2 is off-prior
    small = pl.reconstruction_loss(palette, target, torch.tensor([[0.9, 0.1]]))
    large = pl.reconstruction_loss(palette, target, torch.tensor([[0.1, 0.9]]))
    assert float(large) > float(small) > 0.0
    assert float(pl.reconstruction_loss(target, target)) == pytest.approx(0.0, abs=1e-3)
