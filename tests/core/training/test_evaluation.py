"""The evaluation's scoring on synthetic fold outputs (training is tested elsewhere)."""

import numpy as np

from m2p_core.model.frontend import DESCRIPTOR_NAMES
from m2p_core.palette.v0 import palette_from_emotion
from m2p_core.training.baselines import BASELINES, baseline_palettes
from m2p_core.training.evaluation import FoldOutputs, format_table, summarise


def _fold(seed: int) -> FoldOutputs:
    rng = np.random.default_rng(seed)
    n_clips, per = 40, 3
    clip_true = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]] * (n_clips // 4), dtype=float)
    clip_ids = np.repeat(np.arange(n_clips), per)
    true_va = clip_true[clip_ids]
    va = np.clip(0.6 * true_va + rng.normal(0, 0.3, true_va.shape), -1, 1)
    desc = rng.uniform(0, 0.5, (len(va), len(DESCRIPTOR_NAMES)))
    palettes = {name: baseline_palettes(name, va, desc, rng) for name in BASELINES}
    palettes["model"] = palettes["v0"]
    pred = {"orig": 0.8 * clip_true, "mp3_128k": -0.8 * clip_true,
            "cnn_logits": 0.8 * clip_true, "svm_logits": 0.8 * clip_true}
    return FoldOutputs(clip_ids, true_va, va, desc, palettes, clip_true, pred, [True, False])


def test_summary_scores_and_table():
    table = summarise([_fold(0), _fold(1)])
    model, rand = table["model"], table["random"]
    assert model["macro_f1"] == 1.0 and rand["macro_f1"] < 0.6
    assert model["codec_macro_f1"] == {"orig": 1.0, "mp3_128k": 0.0}
    assert set(model["parts"]) == {"cnn", "svm"}
    assert model["align_valence_r"] > 0.5 and abs(rand["align_valence_r"]) < 0.3
    assert table["single_colour"]["within_de2000"] == 0.0
    assert model["within_de2000"] > 20
    assert table["quadrant_fixed"]["across_song_de2000"] < 1e-6  # one palette per mood
    assert model["across_song_de2000"] > table["quadrant_fixed"]["across_song_de2000"]
    assert model["harmony_ou_luo"] > rand["harmony_ou_luo"]
    assert model["splice_hit_rate"] == 0.5 and model["splice_trials"] == 4
    text = format_table(table)
    assert "quadrant_fixed" in text and "splice" in text


def test_v0_baseline_is_the_fixed_mapping():
    import torch

    va = np.array([[0.5, 0.5], [-0.5, -0.2]])
    desc = np.full((2, len(DESCRIPTOR_NAMES)), 0.2)
    lab, w = baseline_palettes("v0", va, desc, np.random.default_rng(0))
    idx = {n: i for i, n in enumerate(DESCRIPTOR_NAMES)}
    d = torch.tensor(desc, dtype=torch.float32)
    ref, _ = palette_from_emotion(torch.tensor(va, dtype=torch.float32), d[:, idx["brightness"]],
                                  d[:, idx["onset_density"]], d[:, idx["key_clarity"]],
                                  d[:, [idx["tonal_cos"], idx["tonal_sin"]]])
    np.testing.assert_allclose(lab, ref.numpy(), atol=1e-4)
