import shutil

import numpy as np
import pytest
import torch
from media_factory import music

from m2p_core.model.checkpoint import shipped_checkpoint_path
from m2p_core.model.v2 import HeadConfig
from m2p_core.training.head_features import extract_head_features, missing_head_features
from m2p_core.training.head_train import build_v2
from m2p_core.training.manifest import ManifestRow


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_v2(shipped_checkpoint_path("m2p-v1.pt"), HeadConfig())[0].eval()


def _rows(paths):
    return [ManifestRow(f"c{i}", str(p), 0.5, -0.5, f"artist{i}", 1.0)
            for i, p in enumerate(paths)]


def test_features_are_cached_by_content_and_codec_variant(tmp_path, model):
    clips = [music(tmp_path / "data" / f"{i}.flac", 11.0, preset, seed=i)
             for i, preset in enumerate(("happy", "sad"))]
    audio, feats_dir = tmp_path / "audio", tmp_path / "features"
    rows = _rows(clips)
    assert missing_head_features(rows, model, feature_cache=feats_dir) == [0, 1]
    first = extract_head_features(rows, model, audio_cache=audio, feature_cache=feats_dir,
                                  log=lambda _: None)
    assert first.stack(["penultimate"]).shape == (2, 200)  # one 10-s window per clip
    assert missing_head_features(rows, model, feature_cache=feats_dir) == []

    # a copy of the data elsewhere (new paths and mtimes) is served from the cache
    copy = tmp_path / "copy"
    shutil.copytree(tmp_path / "data", copy)
    moved = _rows(sorted(copy.iterdir()))
    assert missing_head_features(moved, model, feature_cache=feats_dir) == []
    again = extract_head_features(moved, model, audio_cache=audio, feature_cache=feats_dir,
                                  log=lambda _: None)
    for name in first.blocks:
        assert np.array_equal(first.blocks[name], again.blocks[name])

    # a codec variant is its own entry, computed from the re-encoded audio
    assert missing_head_features(rows, model, variant="mp3_128k",
                                 feature_cache=feats_dir) == [0, 1]
    mp3 = extract_head_features(rows, model, audio_cache=audio, feature_cache=feats_dir,
                                log=lambda _: None, variant="mp3_128k")
    assert missing_head_features(rows, model, variant="mp3_128k", feature_cache=feats_dir) == []
    assert not np.array_equal(mp3.blocks["penultimate"], first.blocks["penultimate"])
    assert np.corrcoef(mp3.blocks["penultimate"].ravel(),
                       first.blocks["penultimate"].ravel())[0, 1] > 0.9
