"""Training on a tiny generated manifest: runs, splits by artist, saves a loadable checkpoint."""

import csv

import numpy as np
from media_factory import music

from m2p_core.model.checkpoint import load_checkpoint
from m2p_core.model.network import ModelConfig
from m2p_core.training import (
    TrainConfig,
    artist_disjoint_split,
    quadrant_metrics,
    run_training,
)
from m2p_core.training.manifest import read_manifest

PRESET_QUADRANT = {"happy": "Q1", "angry": "Q2", "sad": "Q3", "calm": "Q4"}


def _manifest(tmp_path, per_quadrant=4):
    rows = []
    for preset, quadrant in PRESET_QUADRANT.items():
        for i in range(per_quadrant):
            name = f"audio/{preset}{i}.wav"
            music(tmp_path / name, 3.0, preset, seed=i)
            rows.append({"path": name, "quadrant": quadrant, "artist": f"{preset}-artist{i % 2}",
                         "quadrant_tag_ratio": "0.75"})
    path = tmp_path / "labels.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_artist_disjoint_split(tmp_path):
    rows = read_manifest(_manifest(tmp_path))
    tr, va = artist_disjoint_split(rows, n_folds=2, fold=0, seed=0)
    assert len(tr) + len(va) == len(rows) and len(va) > 0
    assert not {rows[i].artist for i in tr} & {rows[i].artist for i in va}


def test_train_writes_a_checkpoint_that_loads(tmp_path):
    manifest = _manifest(tmp_path)
    out = tmp_path / "model.pt"
    logs = []
    info = run_training(
        str(manifest), str(out),
        cfg=TrainConfig(epochs=2, batch_size=8, val_folds=2, val_fold=0),
        model_config=ModelConfig(window_s=2.0), cache_dir=tmp_path / "cache", log=logs.append,
    )
    assert out.exists() and (tmp_path / "model.pt.sha256").exists()
    assert set(info["val_metrics"]) == {"macro_f1", "accuracy", "valence_sign_acc",
                                        "arousal_sign_acc"}
    assert any("macro_f1" in line for line in logs)
    loaded = load_checkpoint(out)
    assert loaded.model.config.window_s == 2.0
    assert loaded.model_version == info["model_version"]
    assert loaded.train_info["n_val"] == info["n_val"] > 0


def test_quadrant_metrics():
    true = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=float)
    perfect = quadrant_metrics(true, true * 0.3)
    assert perfect["macro_f1"] == 1.0 and perfect["valence_sign_acc"] == 1.0
    flipped_valence = quadrant_metrics(true, true * np.array([-1, 1]))
    assert flipped_valence["macro_f1"] == 0.0 and flipped_valence["arousal_sign_acc"] == 1.0
