"""Tests of the PyTorch musicnn port against the original TensorFlow outputs.

``golden_musicnn.npz`` was recorded by ``make_golden_musicnn.py`` running the
original musicnn 0.1.0 extractor (TensorFlow 2.15.1 in tf.compat.v1 graph mode,
librosa 0.8.1, numpy 1.23.5) on the synthetic signals of ``golden_signals.py``,
in two variants: ``orig`` (unmodified, float16 mel cast) and ``f32`` (float16
cast removed). The weights ``musicnn_{msd,mtt}.pt`` come from
``convert_musicnn.py``.
"""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from m2p_core.model.musicnn import (
    MSD_LABELS,
    MTT_LABELS,
    PATCH_BLOCK,
    PATCH_FRAMES,
    MusicNN,
    mel_filterbank,
    patch_sample_spans,
    patches,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(HERE / "musicnn_golden"))
sys.path.insert(0, str(REPO / "scripts"))
import golden_signals  # noqa: E402
from convert_musicnn import (  # noqa: E402
    crc32c,
    masked_crc32c,
    read_checkpoint,
    tf_to_state_dict,
    tf_variable_names,
)

GOLDEN = np.load(HERE / "musicnn_golden" / "golden_musicnn.npz")
WEIGHTS = REPO / "m2p_core" / "model" / "checkpoints"
MODELS = {"MSD_musicnn": "musicnn_msd.pt", "MTT_musicnn": "musicnn_mtt.pt"}
WHEEL = Path(os.environ.get("MUSICNN_WHEEL", REPO / ".whl" / "musicnn-0.1.0-py3-none-any.whl"))

TAG_ATOL = 1e-3
PEN_ATOL = 1e-3


@pytest.fixture(scope="module")
def signals():
    return {n: golden_signals.make_signal(n) for n in golden_signals.SIGNAL_NAMES}


@pytest.fixture(scope="module")
def outputs(signals):
    """Port outputs for every (model, fp16_compat, signal)."""
    torch.manual_seed(0)
    res = {}
    for key, fname in MODELS.items():
        for compat in (False, True):
            model = MusicNN.from_pretrained(WEIGHTS / fname, fp16_compat=compat)
            batch = torch.from_numpy(np.stack([signals[n] for n in golden_signals.SIGNAL_NAMES]))
            with torch.no_grad():
                out = model(batch)
            for i, n in enumerate(golden_signals.SIGNAL_NAMES):
                res[key, compat, n] = {k: v[i].numpy() for k, v in out.items()}
    return res


def test_signals_regenerate_identically(signals):
    for n, y in signals.items():
        assert y.shape == (160000,) and y.dtype == np.float32
        assert golden_signals.signal_sha256(y) == str(GOLDEN[f"{n}/sha256"])
        # quiet enough for the original's float16 path under any numpy
        assert float(GOLDEN[f"{n}/max_mel_power"]) < 6.55


@pytest.mark.parametrize("key", list(MODELS))
@pytest.mark.parametrize("name", golden_signals.SIGNAL_NAMES)
def test_matches_tf_float32_variant(outputs, key, name):
    """float32 port vs original code with the float16 cast removed."""
    out = outputs[key, False, name]
    ref = f"{name}/{key}/f32"
    assert out["tags"].shape == GOLDEN[f"{ref}/tags"].shape == (3, 50)
    np.testing.assert_allclose(out["tags"], GOLDEN[f"{ref}/tags"], rtol=0, atol=TAG_ATOL)
    np.testing.assert_allclose(out["penultimate"], GOLDEN[f"{ref}/penultimate"],
                               rtol=0, atol=PEN_ATOL)
    if key == "MSD_musicnn":
        for k in ("mean_pool", "max_pool"):  # values up to ~80
            np.testing.assert_allclose(out[k], GOLDEN[f"{ref}/{k}"], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("key", list(MODELS))
@pytest.mark.parametrize("name", golden_signals.SIGNAL_NAMES)
def test_matches_tf_original(outputs, key, name):
    """Port vs the unmodified original (float16-rounded mel input)."""
    ref = f"{name}/{key}/orig"
    compat = outputs[key, True, name]  # emulates the float16 rounding
    np.testing.assert_allclose(compat["tags"], GOLDEN[f"{ref}/tags"], rtol=0, atol=TAG_ATOL)
    np.testing.assert_allclose(compat["penultimate"], GOLDEN[f"{ref}/penultimate"],
                               rtol=0, atol=PEN_ATOL)
    plain = outputs[key, False, name]  # float32: differs only by the fp16 rounding
    np.testing.assert_allclose(plain["tags"], GOLDEN[f"{ref}/tags"], rtol=0, atol=TAG_ATOL)
    np.testing.assert_allclose(plain["penultimate"], GOLDEN[f"{ref}/penultimate"],
                               rtol=0, atol=5 * PEN_ATOL)


def test_weights_load_with_weights_only():
    for fname in MODELS.values():
        sd = torch.load(WEIGHTS / fname, map_location="cpu", weights_only=True)
        floats = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}
        assert len(floats) == 64 and len(sd) == 64 + 11  # + BN counters
        assert all(v.dtype == torch.float32 for v in floats.values())
        model = MusicNN(n_classes=50)
        model.load_state_dict(sd, strict=True)
    assert len(MSD_LABELS) == len(MTT_LABELS) == 50
    assert MusicNN.from_pretrained(WEIGHTS / "musicnn_mtt.pt").labels == MTT_LABELS
    assert MusicNN.from_pretrained(WEIGHTS / "musicnn_msd.pt").labels == MSD_LABELS


def test_mel_filterbank_matches_librosa():
    librosa = pytest.importorskip("librosa")
    ref = librosa.filters.mel(sr=16000, n_fft=512, n_mels=96)
    np.testing.assert_array_equal(mel_filterbank(), ref)


def test_logmel_matches_librosa_reflect(signals):
    librosa = pytest.importorskip("librosa")
    y = signals["drums_bass"]
    ref = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=256, n_mels=96,
                                         pad_mode="reflect")
    ref = np.log10(10000 * ref + 1).T
    model = MusicNN()
    with torch.no_grad():
        ours = model.logmel(torch.from_numpy(y))[0].numpy()
    assert ours.shape == ref.shape == (626, 96)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-4)


def test_patches_and_spans():
    x = torch.arange(2 * 626 * 96, dtype=torch.float32).reshape(2, 626, 96)
    p = patches(x)
    assert p.shape == (2, 3, PATCH_FRAMES, 96)
    for i in range(3):  # non-overlapping, from frame 0, last partial dropped
        assert torch.equal(p[:, i], x[:, i * 187:(i + 1) * 187])
    assert patches(x, hop_frames=93).shape == (2, 5, 187, 96)
    short = patches(x[:, :50])  # repeat-padded to one patch
    assert short.shape == (2, 1, 187, 96)
    assert torch.equal(short[:, 0, 50:100], x[:, :50])
    spans = patch_sample_spans(160000)
    assert spans.shape == (3, 2) and spans[0, 0] == 0 and spans[1, 0] == 187 * 256 - 256


def test_batch_and_patch_consistency(signals):
    model = MusicNN.from_pretrained(WEIGHTS / "musicnn_msd.pt")
    a, b = signals["chords"], signals["sweep"]
    with torch.no_grad():
        both = model(torch.from_numpy(np.stack([a, b])))
        one = model(torch.from_numpy(b))
        lm = model.logmel(torch.from_numpy(b)[None])
        direct = model.forward_patches(lm[:, 187:374], frame_features=True)
    assert both["tags"].shape == (2, 3, 50) and both["penultimate"].shape == (2, 3, 200)
    assert both["mean_pool"].shape == both["max_pool"].shape == (2, 3, 753)
    torch.testing.assert_close(both["tags"][1], one["tags"][0], atol=1e-5, rtol=0)
    torch.testing.assert_close(direct["tags"][0], one["tags"][0, 1], atol=1e-5, rtol=0)
    assert direct["timbral"].shape == (1, 187, 408) and direct["cnn3"].shape == (1, 187, 64)


def test_patches_run_in_blocks_with_the_bits_of_one_call(monkeypatch):
    model = MusicNN.from_pretrained(WEIGHTS / "musicnn_msd.pt").eval()
    waves = torch.from_numpy(
        np.random.default_rng(3).normal(0, 0.1, (16, 160000)).astype(np.float32))
    with torch.no_grad():
        lm = model.logmel(waves)
        whole = model.forward_patches(patches(lm).reshape(48, PATCH_FRAMES, -1))
        sizes = []
        run = MusicNN.forward_patches

        def spy(self, x, frame_features=False):
            sizes.append(len(x))
            return run(self, x, frame_features)

        monkeypatch.setattr(MusicNN, "forward_patches", spy)
        out = model(waves)
    assert sizes == [PATCH_BLOCK] * (48 // PATCH_BLOCK)
    for k, v in whole.items():
        assert torch.equal(out[k].reshape(48, *v.shape[1:]), v), k


def test_crc32c_known_vector():
    assert crc32c(b"123456789") == 0xE3069283
    assert masked_crc32c(b"") == 0xA282EAD8


@pytest.mark.skipif(not WHEEL.exists(), reason="musicnn wheel not downloaded (set MUSICNN_WHEEL)")
def test_conversion_reproduces_weights():
    """Pure-Python checkpoint reader + mapping give exactly the shipped weights."""
    with zipfile.ZipFile(WHEEL) as zf:
        for key, fname in MODELS.items():
            idx = zf.read(f"musicnn/{key}/.index")
            data = zf.read(f"musicnn/{key}/.data-00000-of-00001")
            tf_vars = read_checkpoint(idx, data, names=tf_variable_names())
            sd = tf_to_state_dict(tf_vars)
            ref = torch.load(WEIGHTS / fname, map_location="cpu", weights_only=True)
            assert set(sd) == {k for k in ref if not k.endswith("num_batches_tracked")}
            for k, v in sd.items():
                assert np.array_equal(v, ref[k].numpy()), k


def test_conv_block_eval_fast_path_matches_the_literal_order():
    """Eval mode takes the max over frequency before ReLU and the batch norm (exact for a
    monotonic ReLU and a per-channel affine BN, min for negative scales): same numbers as
    conv -> ReLU -> BN -> max, here with half the BN scales negative."""
    import torch.nn.functional as F

    model = MusicNN.from_pretrained(WEIGHTS / "musicnn_msd.pt")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 1, 60, 96, generator=g)
    blocks = [*model.frontend.timbral, *model.frontend.temporal]
    for block in blocks:
        with torch.no_grad():
            sign = torch.where(torch.rand(block.bn.weight.shape, generator=g) < 0.5, -1.0, 1.0)
            block.bn.weight.mul_(sign)
            literal = block.bn(F.relu(block.conv(F.pad(x, (0, 0, *block.pad_time))))).amax(3)
            torch.testing.assert_close(block(x), literal, atol=1e-5, rtol=1e-5)


def test_dead_filters_are_skipped_and_give_their_constant():
    """Eval mode does not convolve dead filters (all weights <= DEAD_FILTER_ABS): their block
    output is the constant ReLU(bias)·s + t, as the full convolution gives. The shipped MSD
    weights have 497 dead filters of 561."""
    import torch.nn.functional as F

    from m2p_core.model.musicnn import DEAD_FILTER_ABS

    model = MusicNN.from_pretrained(WEIGHTS / "musicnn_msd.pt")
    blocks = [*model.frontend.timbral, *model.frontend.temporal]
    largest = torch.cat([b.conv.weight.flatten(1).abs().amax(1) for b in blocks])
    assert int((largest <= DEAD_FILTER_ABS).sum()) == 497 and len(largest) == 561
    assert int(sum((~b.live_filters()).sum() for b in blocks)) == 497
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 1, 40, 96, generator=g)
    block = blocks[0]
    with torch.no_grad():
        block.conv.weight[:5].zero_()  # five exactly dead filters with random biases
        block.conv.bias[:5] = torch.randn(5, generator=g)
        literal = block.bn(F.relu(block.conv(F.pad(x, (0, 0, *block.pad_time))))).amax(3)
        out = block(x)
    torch.testing.assert_close(out, literal, atol=1e-5, rtol=1e-5)
    assert torch.equal(out[:, :5], out[:, :5, :1].expand_as(out[:, :5]))  # constant in time
    convolved = []
    conv2d = F.conv2d

    def counting(inp, weight, *args, **kwargs):
        convolved.append(weight.shape[0])
        return conv2d(inp, weight, *args, **kwargs)

    F.conv2d = counting
    try:
        with torch.no_grad():
            block(x)
    finally:
        F.conv2d = conv2d
    alive = int(block.live_filters().sum())
    assert convolved == [alive] and alive < block.conv.out_channels - 5
