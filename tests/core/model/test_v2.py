"""Music2Palette v2 (v1 + frozen musicnn + calibrated head): contract, checkpoint, defaults."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from m2p_core.model.checkpoint import (
    FORMAT,
    FORMAT_V2,
    default_checkpoint_path,
    load_checkpoint,
    resolve_model_path,
    save_checkpoint,
    sha256_of_file,
)
from m2p_core.model.musicnn import MusicNN
from m2p_core.model.network import ModelConfig, Music2Palette
from m2p_core.model.v2 import FEATURE_BLOCKS, HeadConfig, Music2PaletteV2
from m2p_core.synth.music import PRESETS, synthesize_music

CHECKPOINTS = Path(__file__).resolve().parents[3] / "m2p_core" / "model" / "checkpoints"
KEYS = {"valence_arousal", "va_logits", "palette_lab", "weights", "descriptors"}


@pytest.fixture(scope="module")
def v1():
    return load_checkpoint(CHECKPOINTS / "m2p-v1.pt").model


@pytest.fixture(scope="module")
def model(v1):
    """A v2 around the shipped v1 and musicnn, with an arbitrary small head."""
    torch.manual_seed(0)
    mnn = MusicNN.from_pretrained(CHECKPOINTS / "musicnn_msd.pt")
    m = Music2PaletteV2.from_parts(v1, mnn, HeadConfig(("penultimate", "tags", "cnn_logits"),
                                                       kind="quadrants"))
    n = m.head_config.n_features
    m.head.set_parts(0.01 * torch.randn(4, n), torch.tensor([0.1, -0.2, 0.0, 0.3]),
                     torch.tensor([0.8, 0.9]), torch.tensor([0.05, -0.05]))
    return m.eval().requires_grad_(False)


@pytest.fixture(scope="module")
def music():
    """Two 10-s synthetic pieces at 16 kHz (happy, sad)."""
    return torch.from_numpy(np.stack([
        synthesize_music(PRESETS[p], 10.0, 16000) for p in ("happy", "sad")]).astype(np.float32))


@pytest.fixture(scope="module")
def outputs(model, music):
    with torch.no_grad():
        return model(music)


def test_forward_contract(model, v1, music, outputs):
    out = outputs
    with torch.no_grad():
        ref = v1(music)
    assert set(out) == KEYS
    assert out["valence_arousal"].shape == (2, 2)
    assert out["va_logits"].shape == (2, 2)
    assert out["palette_lab"].shape == (2, v1.config.n_colours, 3)
    assert out["weights"].shape == (2, v1.config.n_colours)
    torch.testing.assert_close(out["weights"].sum(1), torch.ones(2))
    torch.testing.assert_close(out["valence_arousal"], torch.tanh(0.5 * out["va_logits"]))
    # the front end and descriptors are v1's; only the emotion (and so the palette) changes
    torch.testing.assert_close(out["descriptors"], ref["descriptors"])
    assert not torch.allclose(out["valence_arousal"], ref["valence_arousal"])
    # short windows are zero-padded like v1's
    with torch.no_grad():
        short = model(music[:1, :120000])
        padded = model(torch.nn.functional.pad(music[:1, :120000], (0, 40000)))
    torch.testing.assert_close(short["valence_arousal"], padded["valence_arousal"])


def test_window_features_all_blocks(model, music):
    with torch.no_grad():
        enc, feats = model.window_features(music[:1], tuple(FEATURE_BLOCKS))
    assert {k: v.shape[1] for k, v in feats.items()} == FEATURE_BLOCKS
    assert ((feats["tags"] > 0) & (feats["tags"] < 1)).all()
    assert "va_logits" in enc


@pytest.fixture(scope="module")
def encoded(model, music):
    with torch.no_grad():
        return model.encode(music)


def test_decoder_follows_the_new_emotion(model, encoded, outputs):
    """The palette is decoded from v2's valence/arousal, not v1's."""
    with torch.no_grad():
        lab, _ = model.decode_palette(encoded)
        enc_flipped = dict(encoded, valence_arousal=-encoded["valence_arousal"])
        lab_flipped, _ = model.decode_palette(enc_flipped)
    torch.testing.assert_close(outputs["palette_lab"], lab)
    torch.testing.assert_close(encoded["valence_arousal"], outputs["valence_arousal"])
    assert not torch.allclose(encoded["v1_va_logits"], encoded["va_logits"])
    assert not torch.allclose(lab, lab_flipped)


def test_palette_seed_reaches_the_decoder(model, encoded):
    with torch.no_grad():
        a, _ = model.decode_palette(encoded)
        model.palette_seed = 3
        try:
            b, _ = model.decode_palette(encoded)
        finally:
            model.palette_seed = 0
    assert model.base.palette_seed == 0
    assert not torch.allclose(a, b)


def test_checkpoint_round_trip(model, music, outputs, tmp_path):
    path = tmp_path / "v2small.pt"
    version = save_checkpoint(model, path, "v2small", {"note": "test"})
    assert version.startswith("v2small-")
    payload = torch.load(io.BytesIO(path.read_bytes()), weights_only=True)
    assert payload["format"] == FORMAT_V2
    assert payload["head"]["config"] == {"features": ["penultimate", "tags", "cnn_logits"],
                                         "kind": "quadrants", "lapse": 0.01}
    assert payload["head"]["weight"].shape == (4, model.head_config.n_features)
    # the v1 payload is inside, whole
    Music2Palette(ModelConfig.from_dict(payload["config"])).load_state_dict(payload["state_dict"])
    loaded = load_checkpoint(path)
    assert isinstance(loaded.model, Music2PaletteV2)
    assert loaded.model_version == version
    assert loaded.train_info == {"note": "test"}
    with torch.no_grad():
        b = loaded.model(music)
    for k in KEYS:
        torch.testing.assert_close(outputs[k], b[k])


def test_v1_checkpoints_still_load_as_v1(tmp_path, v1):
    path = tmp_path / "one.pt"
    save_checkpoint(v1, path, "one")
    assert torch.load(path, weights_only=True)["format"] == FORMAT
    assert type(load_checkpoint(path).model) is Music2Palette


def test_handler_loads_a_v2_checkpoint(model, music, outputs, tmp_path):
    from transforms.inference import Music2PaletteModelHandler

    path = tmp_path / "v2h.pt"
    save_checkpoint(model, path, "v2h")
    handler = Music2PaletteModelHandler(str(path), device="CPU")
    loaded = handler.load_model()
    assert isinstance(loaded, Music2PaletteV2)
    results = list(handler.run_inference([music[0], music[1]], loaded))
    assert len(results) == 2
    assert set(results[0].inference) >= {"valence_arousal", "palette_lab", "weights"}
    torch.testing.assert_close(results[1].inference["valence_arousal"],
                               outputs["valence_arousal"][1], atol=1e-5, rtol=1e-4)


def test_default_is_v2_and_fast_is_v1():
    assert os.path.basename(default_checkpoint_path()) == "m2p-v2.pt"
    assert resolve_model_path(None) == default_checkpoint_path()
    assert os.path.basename(resolve_model_path("fast")) == "m2p-v1.pt"
    assert os.path.basename(resolve_model_path("v2")) == "m2p-v2.pt"
    assert resolve_model_path("gs://b/m.pt") == "gs://b/m.pt"
    assert type(load_checkpoint(resolve_model_path("fast")).model) is Music2Palette


def test_shipped_v2(music):
    path = default_checkpoint_path()
    digest = Path(path + ".sha256").read_text().split()[0]
    assert digest == sha256_of_file(path)
    loaded = load_checkpoint()
    assert isinstance(loaded.model, Music2PaletteV2)
    assert loaded.model_version == f"m2p-v2-{digest[:12]}"
    assert loaded.train_info["base_model_version"].startswith("m2p-v1-")
    assert loaded.model.head_config.lapse == 0.01
    noise = 0.3 * torch.randn(1, music.shape[1], generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = loaded.model(torch.cat([music, noise, torch.zeros_like(noise)]))
    va = out["valence_arousal"]
    # continuous: strictly inside (-1, 1) and never pinned at the ends, even for white noise
    # and silence (far from the training data, where a linear head extrapolates); the lapse
    # rate bounds |va| by 0.98
    assert (va.abs() <= 0.98 + 1e-6).all(), va
    torch.testing.assert_close(out["valence_arousal"], torch.tanh(0.5 * out["va_logits"]))
    # and they differ between a happy and a sad synthetic piece, in the right directions
    assert va[0, 0] > va[1, 0] and va[0, 1] > va[1, 1], va
    assert torch.isfinite(out["palette_lab"]).all()
