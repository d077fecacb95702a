import numpy as np
import pytest
import torch
from media_factory import music

from m2p_core.colour.differentiable import srgb01_to_lab
from m2p_core.colour.space import srgb01_to_lab as srgb01_to_lab_np
from m2p_core.model.frontend import LogMelFrontEnd
from m2p_core.model.network import ModelConfig
from m2p_core.training.codec_augment import CODEC_VARIANTS, decode_variant
from m2p_core.training.feature_cache import cached_features, compute_features, window_starts


def test_window_starts_cover_the_clip():
    assert window_starts(30, 10, 5) == [0, 5, 10, 15, 20]
    assert window_starts(32, 10, 5) == [0, 5, 10, 15, 20, 22]  # last window ends at the end
    assert window_starts(4, 10, 5) == [0]


def test_features_equal_the_front_end_and_cache(tmp_path):
    cfg = ModelConfig(window_s=2.0)
    rng = np.random.default_rng(0)
    waves = [rng.normal(size=cfg.sample_rate * 5).astype(np.float32) * 0.1,
             rng.normal(size=cfg.sample_rate * 1).astype(np.float32) * 0.1]
    feats = compute_features(waves, cfg, hop_s=1.0)
    assert list(feats.windows_of()) == [0, 1]
    assert len(feats.windows_of()[0]) == 4 and len(feats.windows_of()[1]) == 1
    fe = LogMelFrontEnd(cfg.sample_rate, cfg.n_fft, cfg.hop_length, cfg.n_mels)
    with torch.no_grad():
        lm, d = fe(torch.from_numpy(waves[0][cfg.sample_rate : 3 * cfg.sample_rate])[None])
    i = feats.windows_of()[0][1]
    np.testing.assert_allclose(feats.logmel[i].astype(np.float32), lm[0].numpy(), atol=0.02)
    np.testing.assert_allclose(feats.descriptors[i], d[0].numpy(), rtol=1e-4, atol=1e-4)
    files = [tmp_path / "a.wav", tmp_path / "b.wav"]
    for i, f in enumerate(files):
        f.write_bytes(bytes([i]) * 64)
    cache = tmp_path / "cache"
    first = cached_features([str(f) for f in files], waves, cfg, cache, "orig", hop_s=1.0)
    again = cached_features([str(f) for f in files], waves, cfg, cache, "orig", hop_s=1.0)
    assert np.array_equal(first.descriptors, again.descriptors)
    assert len(list(cache.glob("*.npz"))) == 1
    files[1].write_bytes(bytes([9]) * 64)  # a clip's content changed: computed again
    cached_features([str(f) for f in files], waves, cfg, cache, "orig", hop_s=1.0)
    assert len(list(cache.glob("*.npz"))) == 2


@pytest.mark.parametrize("variant", sorted(CODEC_VARIANTS))
def test_codec_variants_keep_length_and_content(tmp_path, variant):
    path = music(tmp_path / "x.flac", 3.0, "happy")
    orig = decode_variant(str(path), "orig", 16000)
    out = decode_variant(str(path), variant, 16000)
    assert out.dtype == np.float32 and abs(len(out) - len(orig)) < 0.1 * 16000
    n = min(len(out), len(orig))
    # same music after the codec: spectra close (codec delay makes sample-wise comparison moot)
    spec_a = np.abs(np.fft.rfft(orig[:n]))
    spec_b = np.abs(np.fft.rfft(out[:n]))
    assert np.corrcoef(spec_a, spec_b)[0, 1] > 0.9


def test_torch_srgb_to_lab_matches_colour_science():
    rgb = np.random.default_rng(1).uniform(0, 1, (2000, 3))
    rgb[:3] = [[0, 0, 0], [1, 1, 1], [1, 0, 0]]
    out = srgb01_to_lab(torch.tensor(rgb)).numpy()
    np.testing.assert_allclose(out, srgb01_to_lab_np(rgb), atol=0.05)
