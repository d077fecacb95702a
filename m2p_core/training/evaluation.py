"""Artist-disjoint cross-validation of the model against baselines (``m2p evaluate``).

For each fold the model is trained from scratch on the other folds (both stages) and run on the
held-out clips' windows (window 10 s, hop 5 s, as at inference). Every method's palettes are
gamut-mapped as they would be written to the timeline, then scored:

* quadrant macro-F1 / accuracy, valence and arousal sign accuracy (clip level, logits averaged
  over windows). Palette baselines reuse the model's emotion, so they share its scores, except
  ``random`` whose emotion is random too;
* alignment: Pearson r between the palette's estimated valence (arousal)
  (:mod:`m2p_core.colour.emotion`) and the clip's true valence (arousal) sign, over windows;
* within-palette mean CIEDE2000;
* across-song distance: mean Chamfer CIEDE2000 between palettes of windows of *different* clips
  given the same mood (the same predicted quadrant), so collapse to one palette per mood
  scores 0;
* harmony: mean Ou & Luo (2006) pairwise harmony;
* codec robustness: the model's macro-F1 on MP3 128 kbps re-encodes of the held-out clips;
* time dynamics: held-out clips spliced at 15 s from two clips of opposite quadrants; a hit when
  the largest palette change between consecutive windows is one of the two transitions whose
  windows straddle the splice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from m2p_core.colour.emotion import palette_emotion_np
from m2p_core.colour.harmony import palette_harmony_np
from m2p_core.colour.space import gamut_map_lab, mean_pairwise_delta_e2000, palette_distance
from m2p_core.model.network import ModelConfig, Music2Palette
from m2p_core.training.baselines import BASELINES, baseline_palettes
from m2p_core.training.config import TrainConfig
from m2p_core.training.feature_cache import WindowFeatures
from m2p_core.training.manifest import ManifestRow
from m2p_core.training.metrics import quadrant_metrics
from m2p_core.training.splits import artist_disjoint_split
from m2p_core.training.stages import clip_logits, train

METHODS = ("model", *BASELINES)


@dataclass
class FoldOutputs:
    clip_ids: np.ndarray  # (W,) clip of each window
    true_va: np.ndarray  # (W, 2) true signs
    va: np.ndarray  # (W, 2) model emotion per window
    desc: np.ndarray  # (W, D)
    palettes: dict[str, tuple[np.ndarray, np.ndarray]]  # method -> (lab, weights)
    clip_true: np.ndarray  # (C, 2)
    clip_pred: dict[str, np.ndarray]  # feature variant -> (C, 2) predicted va
    splice_hits: list[bool]


@torch.no_grad()
def _window_outputs(model: Music2Palette, feats: WindowFeatures, clips: Sequence[int],
                    hop_s: float = 5.0) -> tuple[np.ndarray, ...]:
    windows = feats.windows_of()
    idx = np.concatenate([windows[int(c)] for c in clips])
    idx = idx[np.isclose(np.mod(feats.start_s[idx], hop_s), 0.0)]
    vas, descs, labs, ws = [], [], [], []
    for s in range(0, len(idx), 256):
        j = idx[s : s + 256]
        enc = model.encode_features(torch.from_numpy(feats.logmel[j].astype(np.float32)),
                                    torch.from_numpy(feats.descriptors[j]))
        lab, w = model.decode_palette(enc)
        vas.append(enc["valence_arousal"].numpy())
        descs.append(enc["descriptors"].numpy())
        labs.append(lab.numpy())
        ws.append(w.numpy())
    return (feats.clip_index[idx], np.concatenate(vas), np.concatenate(descs),
            np.concatenate(labs).astype(np.float64), np.concatenate(ws).astype(np.float64))


@torch.no_grad()
def splice_hits(model: Music2Palette, waves: Sequence[np.ndarray], rows: Sequence[ManifestRow],
                clips: Sequence[int], rng: np.random.Generator, n: int = 20) -> list[bool]:
    """The splice test of ``model`` (any model whose output has ``palette_lab``): ``n`` times,
    the first 15 s of a clip of ``clips`` joined to 15–30 s of a clip of the opposite quadrant;
    a hit when the largest palette change between consecutive windows (10 s every 5 s) is at
    one of the two transitions that straddle the splice."""
    sr = model.config.sample_rate
    half = 15 * sr
    by_q: dict[str, list[int]] = {}
    for c in clips:
        if len(waves[c]) >= 30 * sr:
            by_q.setdefault(rows[c].quadrant, []).append(int(c))
    opposite = {"Q1": "Q3", "Q3": "Q1", "Q2": "Q4", "Q4": "Q2"}
    hits = []
    for _ in range(n):
        qa = rng.choice(sorted(by_q))
        qb = opposite[qa]
        if not by_q.get(qb):
            continue
        a, b = int(rng.choice(by_q[qa])), int(rng.choice(by_q[qb]))
        wave = np.concatenate([waves[a][:half], waves[b][half : 2 * half]])
        win = model.config.window_samples
        starts = range(0, len(wave) - win + 1, 5 * sr)
        x = torch.from_numpy(np.stack([wave[s : s + win] for s in starts]).astype(np.float32))
        lab = model(x)["palette_lab"].numpy().astype(np.float64)
        lab = gamut_map_lab(lab)
        change = [palette_distance(lab[k], lab[k + 1]) for k in range(len(lab) - 1)]
        # windows 0..4 start at 0,5,10,15,20 s; transitions 1->2 and 2->3 straddle 15 s
        hits.append(int(np.argmax(change)) in (1, 2))
    return hits


def run_fold(
    rows: Sequence[ManifestRow], feats: dict[str, WindowFeatures], waves: Sequence[np.ndarray],
    fold: int, cfg: TrainConfig, model_config: ModelConfig, log: Callable[[str], None],
    eval_feats: dict[str, WindowFeatures] | None = None,
) -> FoldOutputs:
    """Train on all folds but ``fold``; score on ``fold`` (and on each codec variant of
    ``eval_feats``, default: the training features)."""
    tr, va_idx = artist_disjoint_split(rows, cfg.val_folds, fold, cfg.seed)
    model, _ = train(rows, feats, model_config, cfg, log, split=(tr, va_idx))
    rng = np.random.default_rng(cfg.seed + 100 + fold)
    clip_ids, va, desc, lab, w = _window_outputs(model, feats["orig"], va_idx)
    palettes = {"model": (lab, w)}
    for name in BASELINES:
        palettes[name] = baseline_palettes(name, va, desc, rng)
    true_va = np.array([[np.sign(rows[c].valence), np.sign(rows[c].arousal)] for c in clip_ids])
    clip_true = np.array([[np.sign(rows[c].valence), np.sign(rows[c].arousal)] for c in va_idx])
    clip_pred = {v: np.tanh(0.5 * clip_logits(model, f, va_idx))
                 for v, f in (eval_feats or feats).items()}
    parts = {p: clip_logits(model, feats["orig"], va_idx, key=p)
             for p in ("cnn_logits", "svm_logits")}
    parts["cnn+half-svm_logits"] = parts["cnn_logits"] + 0.5 * parts["svm_logits"]
    for part, logits in parts.items():
        clip_pred[part] = np.tanh(0.5 * logits)
    hits = splice_hits(model, waves, rows, va_idx, rng)
    return FoldOutputs(clip_ids, true_va, va, desc, palettes, clip_true, clip_pred, hits)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if np.std(x) < 1e-9 or np.std(y) < 1e-9:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1])


def _across_song(lab: np.ndarray, clip_ids: np.ndarray, mood_va: np.ndarray,
                 rng: np.random.Generator, pairs_per_quadrant: int = 300) -> float:
    dists = []
    q = (mood_va[:, 0] < 0) * 2 + (mood_va[:, 1] < 0)
    for quad in np.unique(q):
        members = np.flatnonzero(q == quad)
        for _ in range(pairs_per_quadrant):
            i, j = rng.choice(members, 2, replace=False)
            if clip_ids[i] != clip_ids[j]:
                dists.append(palette_distance(lab[i], lab[j]))
    return float(np.mean(dists)) if dists else 0.0


def summarise(folds: Sequence[FoldOutputs], seed: int = 0) -> dict[str, dict[str, float]]:
    """One row of metrics per method, pooled over folds."""
    rng = np.random.default_rng(seed)
    clip_true = np.concatenate([f.clip_true for f in folds])
    clip_pred = np.concatenate([f.clip_pred["orig"] for f in folds])
    model_q = quadrant_metrics(clip_true, clip_pred)
    random_q = quadrant_metrics(clip_true, rng.uniform(-1, 1, clip_true.shape))
    table: dict[str, dict[str, float]] = {}
    for method in METHODS:
        labs, ws, true_va, clip_ids, mood_va = [], [], [], [], []
        offset = 0
        for f in folds:
            lab, w = f.palettes[method]
            labs.append(gamut_map_lab(lab))
            ws.append(w)
            true_va.append(f.true_va)
            mood_va.append(f.va)
            clip_ids.append(f.clip_ids + offset)
            offset += 1_000_000
        lab = np.concatenate(labs)
        w = np.concatenate(ws)
        tv = np.concatenate(true_va)
        cid = np.concatenate(clip_ids)
        est = palette_emotion_np(lab, w)
        q = random_q if method == "random" else model_q
        table[method] = {
            **q,
            "align_valence_r": _pearson(est[:, 0], tv[:, 0]),
            "align_arousal_r": _pearson(est[:, 1], tv[:, 1]),
            "within_de2000": float(np.mean([mean_pairwise_delta_e2000(p) for p in lab])),
            "across_song_de2000": _across_song(lab, cid, np.concatenate(mood_va), rng),
            "harmony_ou_luo": float(np.mean(palette_harmony_np(lab))) if lab.shape[1] > 1
            else float("nan"),
        }
    by_input = {v: quadrant_metrics(clip_true, np.concatenate([f.clip_pred[v] for f in folds]))
                for v in folds[0].clip_pred}
    table["model"]["codec_macro_f1"] = {v: m["macro_f1"] for v, m in by_input.items()
                                        if not v.endswith("_logits")}
    table["model"]["parts"] = {v.removesuffix("_logits"): m for v, m in by_input.items()
                               if v.endswith("_logits")}
    hits = [h for f in folds for h in f.splice_hits]
    table["model"]["splice_hit_rate"] = float(np.mean(hits)) if hits else float("nan")
    table["model"]["splice_trials"] = len(hits)
    return table


def format_table(table: dict[str, dict]) -> str:
    cols = [("macro_f1", "F1"), ("accuracy", "acc"), ("valence_sign_acc", "V-acc"),
            ("arousal_sign_acc", "A-acc"), ("align_valence_r", "alignV r"),
            ("align_arousal_r", "alignA r"), ("within_de2000", "within ΔE"),
            ("across_song_de2000", "across ΔE"), ("harmony_ou_luo", "harmony")]
    head = f"{'method':<15}" + "".join(f"{title:>10}" for _, title in cols)
    lines = [head, "-" * len(head)]
    for method, m in table.items():
        lines.append(f"{method:<15}" + "".join(f"{m[k]:>10.3f}" for k, _ in cols))
    mm = table["model"]
    codec = ", ".join(f"{v}: {f1:.3f}" for v, f1 in mm["codec_macro_f1"].items())
    lines.append("")
    lines.append(f"model macro-F1 by input codec: {codec}")
    for part, m in mm["parts"].items():
        lines.append(f"emotion from {part.upper()} only: macro-F1 {m['macro_f1']:.3f}, "
                     f"V-acc {m['valence_sign_acc']:.3f}, A-acc {m['arousal_sign_acc']:.3f}")
    lines.append(f"splices (opposite moods at 15 s): largest palette change at the splice in "
                 f"{mm['splice_hit_rate']:.0%} of {mm['splice_trials']} trials")
    lines.append("palette baselines use the model's emotion, so share its F1; 'random' is random "
                 "throughout")
    return "\n".join(lines)


def cross_validate(
    rows: Sequence[ManifestRow], feats: dict[str, WindowFeatures], waves: Sequence[np.ndarray],
    cfg: TrainConfig, model_config: ModelConfig, folds: Sequence[int],
    log: Callable[[str], None] = print, eval_feats: dict[str, WindowFeatures] | None = None,
) -> dict[str, dict]:
    outs = []
    for fold in folds:
        t0 = time.time()
        outs.append(run_fold(rows, feats, waves, fold, cfg, model_config, log, eval_feats))
        log(f"[evaluate] fold {fold} done in {time.time() - t0:.0f}s; pooled so far:\n"
            + format_table(summarise(outs, cfg.seed)))
    return summarise(outs, cfg.seed)
