"""Cross-validated comparison of emotion-head variants and the reliability diagram
(``m2p train-head --cv-json/--reliability``).

Variants (all on the same per-window features and the artist-disjoint folds of
``m2p evaluate``; a clip's prediction is the mean of its windows' logits unless noted):

* ``probe-4class``: the known musicnn linear probe: penultimate averaged over the clip's
  windows, StandardScaler + 4-class LogisticRegression(C=0.01), one prediction per clip;
* ``probe``: per axis, per window, penultimate only, C fixed at 0.01, no calibration (and no
  lapse bound, see :mod:`m2p_core.training.head`);
* ``pen+tags``, ``pen+tags+midend``, ``pen+tags+desc`` …: per axis, C by inner artist-grouped
  CV, Platt-calibrated; ``[Q]``: the same with the 4-class ("quadrants") head. ``desc`` = v1's 50
  hand-made descriptors (no learned weights: no leak);
* ``stack`` / ``v1-logits`` variants: with v1's CNN and SVM logits. v1 (the shipped checkpoint)
  was trained on all clips, so its logits have seen every held-out clip's label: these rows
  leak, as does ``v1-shipped(in-sample)``, the shipped v1 scored on its own training clips.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from m2p_core.colour.emotion import palette_emotion_np
from m2p_core.colour.harmony import palette_harmony_np
from m2p_core.colour.space import gamut_map_lab, mean_pairwise_delta_e2000
from m2p_core.model.russell import QUADRANT_SIGNS
from m2p_core.model.v2 import Music2PaletteV2
from m2p_core.training.data import default_cache_dir, load_waves
from m2p_core.training.head import (
    AXES,
    HeadCV,
    HeadRecipe,
    clip_mean,
    cross_validate_head,
    expected_calibration_error,
    saturated_fraction,
)
from m2p_core.training.head_features import HeadFeatures, head_window_starts
from m2p_core.training.manifest import ManifestRow
from m2p_core.training.metrics import quadrant_metrics
from m2p_core.training.splits import artist_disjoint_split

MUSICNN = ("penultimate", "tags")
MIDEND = ("mean_pool", "max_pool")
DESC = ("descriptors",)
V1 = ("cnn_logits", "svm_logits")

#: name -> (recipe, leaks v1's training labels?); "[Q]" = the "quadrants" head kind
VARIANTS: dict[str, tuple[HeadRecipe, bool]] = {
    "probe": (HeadRecipe(("penultimate",), cs=(0.01,), calibrate=False, lapse=0.0), False),
    "pen+tags": (HeadRecipe(MUSICNN), False),
    "pen+tags [Q]": (HeadRecipe(MUSICNN, kind="quadrants"), False),
    "pen+tags+midend": (HeadRecipe(MUSICNN + MIDEND), False),
    "pen+tags+midend [Q]": (HeadRecipe(MUSICNN + MIDEND, kind="quadrants"), False),
    "descriptors [Q]": (HeadRecipe(DESC, kind="quadrants"), False),
    "pen+tags+desc": (HeadRecipe(MUSICNN + DESC), False),
    "pen+tags+desc [Q]": (HeadRecipe(MUSICNN + DESC, kind="quadrants"), False),
    "pen+tags+midend+desc [Q]": (HeadRecipe(MUSICNN + MIDEND + DESC, kind="quadrants"), False),
    "stack(pen+tags+desc+v1) [Q]": (HeadRecipe(MUSICNN + DESC + V1, kind="quadrants"), True),
    "v1-logits-recalibrated": (HeadRecipe(V1), True),
}


def probe_4class(feats: HeadFeatures, rows: Sequence[ManifestRow], n_folds: int = 5,
                 seed: int = 0, c: float = 0.01,
                 blocks: tuple[str, ...] = ("penultimate",)) -> dict:
    """The clip-level 4-class probe: the ``blocks`` (default musicnn's penultimate) averaged
    over each clip's windows, standardised, a 4-class logistic regression with C = ``c``, on
    the artist-disjoint folds; :func:`~m2p_core.training.metrics.quadrant_metrics`."""
    clips = np.unique(feats.clip_index)
    x = clip_mean(feats.stack(blocks), feats.clip_index, clips)
    pos = {int(c): i for i, c in enumerate(clips)}
    y = np.array([rows[c].quadrant for c in clips])
    true, pred = [], []
    for fold in range(n_folds):
        tr, va = artist_disjoint_split(rows, n_folds, fold, seed)
        tr = [pos[c] for c in tr if c in pos]
        va = [pos[c] for c in va if c in pos]
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000))
        clf.fit(x[tr], y[tr])
        true += [QUADRANT_SIGNS[q] for q in y[va]]
        pred += [QUADRANT_SIGNS[q] for q in clf.predict(x[va])]
    return quadrant_metrics(np.array(true, dtype=float), np.array(pred, dtype=float))


def run_head_cv(feats: HeadFeatures, rows: Sequence[ManifestRow],
                variants: dict[str, tuple[HeadRecipe, bool]] | None = None, n_folds: int = 5,
                seed: int = 0, log: Callable[[str], None] = print,
                ) -> tuple[dict[str, dict], dict[str, HeadCV]]:
    """(table: variant -> metrics, the variants' HeadCV)."""
    variants = VARIANTS if variants is None else variants
    table: dict[str, dict] = {"probe-4class": {**probe_4class(feats, rows, n_folds, seed),
                                               "leak": False}}
    cvs = {}
    for name, (recipe, leak) in variants.items():
        log(f"[head] CV of {name} ({', '.join(recipe.features)})")
        cv = cross_validate_head(feats, rows, recipe, n_folds, seed, log)
        cvs[name] = cv
        table[name] = {**cv.metrics, "leak": leak, "features": list(recipe.features),
                       "kind": recipe.kind, "calibrated": recipe.calibrate,
                       "chosen_C": cv.chosen_c}
    v1 = feats.blocks["v1_logits"].astype(np.float64)
    table["v1-shipped(in-sample)"] = {
        **quadrant_metrics(*_clip_signs(v1, feats, rows)), "leak": True,
        "saturated_windows": saturated_fraction(v1),
        "saturated_valence": float(np.mean(np.abs(np.tanh(0.5 * v1[:, 0])) > 0.99)),
        "saturated_arousal": float(np.mean(np.abs(np.tanh(0.5 * v1[:, 1])) > 0.99)),
        "windows_above_0.95": float(np.mean(np.any(np.abs(np.tanh(0.5 * v1)) > 0.95, axis=1))),
        **{f"{a}_ece": expected_calibration_error(1 / (1 + np.exp(-v1[:, k])),
                                                 window_labels(feats, rows)[:, k])
           for k, a in enumerate(AXES)}}
    return table, cvs


@torch.no_grad()
def palette_alignment(model: Music2PaletteV2, feats: HeadFeatures, rows: Sequence[ManifestRow],
                      window_logits: np.ndarray, audio_cache: Path | None = None) -> dict:
    """Palette metrics of the colour decoder driven by the given (out-of-fold) window logits,
    as in ``m2p evaluate``: Pearson r over windows between the palette's valence (arousal)
    under the colour→emotion estimator and the clip's true sign (``align_*``), and with the
    valence/arousal the decoder was given (``follow_*``); within-palette CIEDE2000; Ou & Luo
    harmony. Palettes are gamut-mapped as written to the timeline."""
    audio_cache = audio_cache or default_cache_dir()
    sr, win = model.config.sample_rate, model.config.window_samples
    labs, ws = [], []
    for c in np.unique(feats.clip_index):
        idx = np.flatnonzero(feats.clip_index == c)
        wave = load_waves([rows[int(c)]], sr, audio_cache, workers=1)[0]
        starts = head_window_starts(len(wave), win, int(round(5.0 * sr)))
        x = np.zeros((len(starts), win), dtype=np.float32)
        for i, s in enumerate(starts):
            seg = wave[s : s + win]
            x[i, : len(seg)] = seg
        enc = model.base.encode(torch.from_numpy(x))
        enc["valence_arousal"] = torch.from_numpy(np.tanh(0.5 * window_logits[idx])).float()
        lab, w = model.decode_palette(enc)
        labs.append(lab.numpy().astype(np.float64))
        ws.append(w.numpy().astype(np.float64))
    lab = gamut_map_lab(np.concatenate(labs))
    w = np.concatenate(ws)
    est = palette_emotion_np(lab, w)
    true = 2.0 * window_labels(feats, rows) - 1.0
    va = np.tanh(0.5 * window_logits)
    r = lambda a, b: float(np.corrcoef(a, b)[0, 1])  # noqa: E731
    return {"align_valence_r": r(est[:, 0], true[:, 0]),
            "align_arousal_r": r(est[:, 1], true[:, 1]),
            "follow_valence_r": r(est[:, 0], va[:, 0]),
            "follow_arousal_r": r(est[:, 1], va[:, 1]),
            "within_de2000": float(np.mean([mean_pairwise_delta_e2000(p) for p in lab])),
            "harmony_ou_luo": float(np.mean(palette_harmony_np(lab)))}


def window_labels(feats: HeadFeatures, rows: Sequence[ManifestRow]) -> np.ndarray:
    return np.array([[rows[c].valence > 0, rows[c].arousal > 0] for c in feats.clip_index],
                    dtype=int)


def _clip_signs(logits: np.ndarray, feats: HeadFeatures,
                rows: Sequence[ManifestRow]) -> tuple[np.ndarray, np.ndarray]:
    clips = [int(c) for c in np.unique(feats.clip_index)]
    true = np.array([[np.sign(rows[c].valence), np.sign(rows[c].arousal)] for c in clips])
    return true, np.tanh(0.5 * clip_mean(logits, feats.clip_index, clips))


def format_head_table(table: dict[str, dict]) -> str:
    cols = [("macro_f1", "F1"), ("accuracy", "acc"), ("valence_sign_acc", "V-acc"),
            ("arousal_sign_acc", "A-acc"), ("saturated_windows", "sat>.99"),
            ("saturated_valence", "satV"), ("saturated_arousal", "satA"),
            ("windows_above_0.95", ">.95"),
            ("valence_ece", "V-ECE"), ("arousal_ece", "A-ECE")]
    head = f"{'variant':<30}" + "".join(f"{t:>8}" for _, t in cols) + "  leak"
    lines = [head, "-" * len(head)]
    for name, m in table.items():
        cells = "".join(f"{m[k]:>8.3f}" if k in m else f"{'':>8}" for k, _ in cols)
        lines.append(f"{name:<30}{cells}  {'yes' if m.get('leak') else 'no'}")
    lines.append("sat>.99: windows with |valence| or |arousal| > 0.99 (satV, satA: per axis; "
                 ">.95: either above 0.95); ECE: 10-bin expected calibration error of the window "
                 "probabilities")
    return "\n".join(lines)


def plot_reliability(path: str, curves: dict[str, np.ndarray], y: np.ndarray,
                     bins: int = 10) -> None:
    """Reliability diagram (one panel per axis) of window probabilities against the clip's
    label: ``curves`` maps a label to (W, 2) logits; ``y`` (W, 2) 0/1 outcomes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(9, 7), sharex=True,
                             gridspec_kw={"height_ratios": [3, 1]})
    edges = np.linspace(0, 1, bins + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    for k, axis in enumerate(AXES):
        top, bottom = axes[0, k], axes[1, k]
        top.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="perfect")
        eces = []
        for n, (label, logits) in enumerate(curves.items()):
            p = 1 / (1 + np.exp(-logits[:, k]))
            which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
            xs, ys = [], []
            for b in range(bins):
                m = which == b
                if m.sum() >= 5:
                    xs.append(p[m].mean())
                    ys.append(y[m, k].mean())
            eces.append(f"({n + 1}) {expected_calibration_error(p, y[:, k], bins):.3f}")
            top.plot(xs, ys, marker="o", label=f"({n + 1}) {label}")
            counts = np.bincount(which, minlength=bins) / len(p)
            bottom.step(centres, counts, where="mid", label=label)
        top.text(0.97, 0.03, "ECE " + "  ".join(eces), transform=top.transAxes, ha="right",
                 va="bottom", fontsize=8)
        top.set_title(f"{axis}: P({axis} > 0) per 10-s window")
        top.set_ylabel("observed frequency (clip label)")
        top.set_xlim(0, 1)
        top.set_ylim(0, 1)
        bottom.set_xlabel("predicted probability")
        bottom.set_ylabel("fraction of windows")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
