"""m2p_core.model.decoder (PaletteDecoder, seeded_noise) and the learned palette head of the
model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from m2p_core.colour.differentiable import srgb_gamut_excess
from m2p_core.model.decoder import PaletteDecoder, seeded_noise
from m2p_core.model.frontend import DESCRIPTOR_NAMES
from m2p_core.model.network import ModelConfig, Music2Palette
from m2p_core.palette.v0 import palette_from_emotion

SR = 16000
IDX = {name: i for i, name in enumerate(DESCRIPTOR_NAMES)}


def _decoder(**kw) -> PaletteDecoder:
    torch.manual_seed(0)
    dec = PaletteDecoder(memory_dim=12, cond_dim=7, **kw)
    dec.eval()
    return dec


def _inputs(b: int = 4, t: int = 9, seed: int = 0, scale: float = 1.0):
    g = torch.Generator().manual_seed(seed)
    memory = torch.randn(b, t, 12, generator=g) * scale
    cond = torch.randn(b, 7, generator=g) * scale
    noise = torch.randn(b, 8, generator=g) * scale
    return memory, cond, noise


# --- PaletteDecoder ------------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 3, 5, 8])
def test_decoder_shapes_and_ranges(k):
    dec = _decoder(n_colours=k)
    for scale in (1.0, 30.0):  # large inputs push the output squashes towards their limits
        lab, w = dec(*_inputs(scale=scale))
        assert lab.shape == (4, k, 3) and w.shape == (4, k)
        assert torch.isfinite(lab).all() and torch.isfinite(w).all()
        assert (lab[..., 0] >= 0).all() and (lab[..., 0] <= 100).all()
        # colours are made in sRGB, so every one is displayable
        assert float(srgb_gamut_excess(lab.detach()).max()) < 1e-4
        assert (w >= dec.min_weight - 1e-6).all()
        torch.testing.assert_close(w.sum(-1), torch.ones(4), atol=1e-5, rtol=0)


def test_decoder_min_weight_respected():
    dec = _decoder(n_colours=5, min_weight=0.15)
    with torch.no_grad():
        dec.out.bias[3] = 0.0
        dec.out.weight[3] *= 100.0  # very peaked softmax
    lab, w = dec(*_inputs(scale=10.0))
    assert (w >= 0.15 - 1e-6).all()
    torch.testing.assert_close(w.sum(-1), torch.ones(4), atol=1e-5, rtol=0)


def test_decoder_batch_items_independent_and_deterministic_in_eval():
    dec = _decoder()
    memory, cond, noise = _inputs(b=4)
    lab, w = dec(memory, cond, noise)
    lab1, w1 = dec(memory[1:2], cond[1:2], noise[1:2])
    torch.testing.assert_close(lab[1:2], lab1, atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(w[1:2], w1, atol=1e-6, rtol=1e-5)
    lab_again, _ = dec(memory, cond, noise)
    torch.testing.assert_close(lab, lab_again)


def test_decoder_noise_and_condition_change_the_palette():
    dec = _decoder()
    memory, cond, noise = _inputs()
    lab, _ = dec(memory, cond, noise)
    assert (dec(memory, cond, -noise)[0] - lab).abs().max() > 1e-3
    assert (dec(memory, cond + 1.0, noise)[0] - lab).abs().max() > 1e-3
    # the colours of one palette are not all the same
    assert (lab - lab.mean(1, keepdim=True)).abs().amax(dim=(1, 2)).min() > 1e-3


def test_decoder_gradients_reach_all_parameters():
    dec = _decoder(dropout=0.0)
    dec.train()
    memory, cond, noise = _inputs()
    memory.requires_grad_(True)
    lab, w = dec(memory, cond, noise)
    (lab.square().mean() + (w * torch.arange(5.0)).sum()).backward()
    assert memory.grad is not None and torch.isfinite(memory.grad).all()
    for name, p in dec.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_seeded_noise_deterministic_per_seed():
    a = seeded_noise(3, 8, seed=0)
    assert a.shape == (3, 8) and a.dtype == torch.float32
    torch.testing.assert_close(a, seeded_noise(3, 8, seed=0))
    torch.testing.assert_close(a[0], a[2])  # the same latent for every item of the batch
    b = seeded_noise(3, 8, seed=1)
    assert (a - b).abs().max() > 1e-3
    # independent of the global RNG state
    torch.manual_seed(123)
    torch.testing.assert_close(seeded_noise(2, 8, seed=0), a[:2])
    d = seeded_noise(2, 8, seed=0, dtype=torch.float64)
    assert d.dtype == torch.float64
    torch.testing.assert_close(d.float(), a[:2])


# --- Music2Palette with the learned head ---------------------------------------------------

def _waves(b: int = 3, seconds: float = 10.0, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    out = []
    for i in range(b):
        f = 110.0 * 2 ** (i * 7 / 12)
        x = 0.4 * np.sin(2 * np.pi * f * t) + 0.2 * np.sin(2 * np.pi * 1.5 * f * t)
        x *= 0.5 + 0.5 * (np.sin(2 * np.pi * (1 + i) * t) > 0)  # some rhythm
        out.append(x + 0.01 * rng.standard_normal(t.size))
    return torch.tensor(np.stack(out), dtype=torch.float32)


@pytest.fixture(scope="module")
def waves() -> torch.Tensor:
    return _waves()


@pytest.fixture(scope="module")
def learned_out(untrained_model, waves) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        return untrained_model(waves)


def test_default_palette_head_is_learned(untrained_model):
    assert ModelConfig().palette_head == "learned"
    assert isinstance(untrained_model.palette_decoder, PaletteDecoder)
    assert untrained_model.palette_seed == 0


def test_learned_forward_contract(untrained_model, learned_out):
    k = untrained_model.config.n_colours
    assert learned_out["palette_lab"].shape == (3, k, 3)
    assert learned_out["weights"].shape == (3, k)
    assert learned_out["valence_arousal"].shape == (3, 2)
    w = learned_out["weights"]
    assert (w >= untrained_model.palette_decoder.min_weight - 1e-6).all()
    torch.testing.assert_close(w.sum(-1), torch.ones(3), atol=1e-5, rtol=0)
    L = learned_out["palette_lab"][..., 0]
    assert (L >= 0).all() and (L <= 100).all()


def test_learned_forward_deterministic_in_eval(untrained_model, waves, learned_out):
    with torch.no_grad():
        again = untrained_model(waves)
    for key in ("palette_lab", "weights", "valence_arousal"):
        torch.testing.assert_close(again[key], learned_out[key])


def test_palette_seed_changes_palette_not_emotion(untrained_model, waves, learned_out):
    try:
        untrained_model.palette_seed = 1
        with torch.no_grad():
            alt = untrained_model(waves)
    finally:
        untrained_model.palette_seed = 0
    torch.testing.assert_close(alt["valence_arousal"], learned_out["valence_arousal"])
    torch.testing.assert_close(alt["descriptors"], learned_out["descriptors"])
    assert (alt["palette_lab"] - learned_out["palette_lab"]).abs().max() > 1e-3
    with torch.no_grad():
        back = untrained_model(waves)  # seed 0 again: the default palette again
    torch.testing.assert_close(back["palette_lab"], learned_out["palette_lab"])


def test_decode_palette_explicit_noise_equals_seeded(untrained_model, waves, learned_out):
    with torch.no_grad():
        enc = untrained_model.encode(waves)
        noise = seeded_noise(3, untrained_model.config.noise_dim, 0)
        lab, w = untrained_model.decode_palette(enc, noise)
    torch.testing.assert_close(lab, learned_out["palette_lab"])
    torch.testing.assert_close(w, learned_out["weights"])


def test_encode_features_equals_encode(untrained_model, waves):
    with torch.no_grad():
        enc = untrained_model.encode(waves)
        logmel, desc = untrained_model.frontend(waves)
        enc2 = untrained_model.encode_features(logmel, desc)
    assert set(enc) == set(enc2)
    for key in enc:
        torch.testing.assert_close(enc2[key], enc[key])
    # also after length fitting (short input is zero-padded to the window first)
    short = waves[:, : SR * 4]
    with torch.no_grad():
        enc_short = untrained_model.encode(short)
        padded = torch.nn.functional.pad(short, (0, untrained_model.config.window_samples - SR * 4))
        enc_pad = untrained_model.encode_features(*untrained_model.frontend(padded))
    for key in enc_short:
        torch.testing.assert_close(enc_pad[key], enc_short[key])


def test_palette_training_gradients_do_not_reach_encoder():
    # the decoder's inputs are detached: palette losses train only the decoder
    torch.manual_seed(0)
    m = Music2Palette(ModelConfig(channels=(8, 16), embedding_dim=16, decoder_dim=32))
    m.train()
    out = m(_waves(b=2, seconds=2.0))
    out["palette_lab"].square().mean().backward()
    assert all(p.grad is None or float(p.grad.abs().sum()) == 0.0
               for p in m.encoder.parameters())
    assert any(p.grad is not None and float(p.grad.abs().sum()) > 0
               for p in m.palette_decoder.parameters())


# --- the v0 head and config validation -----------------------------------------------------

def test_v0_head_matches_palette_from_emotion(waves):
    torch.manual_seed(0)
    m = Music2Palette(ModelConfig(palette_head="v0"))
    m.eval()
    assert not hasattr(m, "palette_decoder")
    with torch.no_grad():
        out = m(waves)
    va, desc = out["valence_arousal"], out["descriptors"]
    lab, w = palette_from_emotion(
        va, desc[:, IDX["brightness"]], desc[:, IDX["onset_density"]], desc[:, IDX["key_clarity"]],
        desc[:, [IDX["tonal_cos"], IDX["tonal_sin"]]])
    torch.testing.assert_close(out["palette_lab"], lab)
    torch.testing.assert_close(out["weights"], w)
    # the seed has no effect on the fixed mapping
    m.palette_seed = 5
    with torch.no_grad():
        torch.testing.assert_close(m(waves)["palette_lab"], lab)


@pytest.mark.parametrize("head", ["mlp", "", "V0", "Learned"])
def test_unknown_palette_head_raises(head):
    with pytest.raises(ValueError, match="palette_head"):
        Music2Palette(ModelConfig(palette_head=head))


def test_config_round_trip_keeps_palette_head():
    cfg = ModelConfig(palette_head="v0", decoder_dim=32, decoder_layers=1, noise_dim=4)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
