"""Fine-tuning musicnn's top dense layer for the v2 emotion head, under the artist-disjoint
5-fold CV of ``m2p train-head --cv-json`` (an experiment; not part of the shipped model).

The shipped head (docs/MODEL_CARD.md "v2") is a standardised 4-class logistic regression on
frozen per-window features [musicnn penultimate (200), musicnn tags (50), v1's descriptors
(50)]. Here musicnn's ``dense`` layer (1506 -> 200, the layer before the penultimate) is
trained as well, initialised from the shipped weights (``m2p-v2.pt``, loaded with
``weights_only=True`` by :func:`~m2p_core.model.checkpoint.load_checkpoint`)::

    window pools (max, mean interleaved, 1506) -> pool_bn -> dense -> ReLU -> dense_bn
        -> "fine-tuned penultimate" (200), standardised -> [ , tags, descriptors] (300)
        -> Linear(300, 4) on the quadrant

**Approximation.** The cached features (:mod:`m2p_core.training.head_features`) hold musicnn's
mid-end ``max_pool`` and ``mean_pool`` *averaged over the window's three 3-s patches*, not per
patch. ``pool_bn`` and ``dense`` are affine, so ``dense(pool_bn(window-averaged pools))`` is the
patch average of the pre-ReLU activation; musicnn applies the ReLU (then ``dense_bn``) per
patch and the shipped penultimate averages *after* it. The "penultimate" trained here is
therefore ``dense_bn(ReLU(mean of pre-activations))`` instead of ``mean of dense_bn(ReLU(...))``.
The control row ``frozen, approx. penultimate`` measures what that alone costs (pretrained
weights, the shipped head procedure).

Training (per fit, on that fit's training windows only): each window labelled with its clip's
quadrant and weighted 1 / (windows of its clip), as :func:`~m2p_core.training.head.fit_head`;
``pool_bn`` and ``dense_bn`` stay frozen in eval mode (their running statistics and affine
are kept: a fixed standardisation and a linear classifier follow, so a trainable ``dense_bn``
affine would only reparametrise); tags and descriptors standardised on the training windows.
Loss = weighted mean cross-entropy + (lambda_sp / 2)·||dense − dense_pretrained||² (L2-SP, weight
and bias) + (1 / (2·C·Σw))·||classifier weight||² (sklearn's ``LogisticRegression(C)``
objective divided by C·Σw; C = the C that the frozen head's inner CV chose on the same outer
training folds). Phase 1: the classifier alone by L-BFGS on the pretrained features (a linear
probe, "step 0"); phase 2: full-batch Adam on dense + classifier (learning rates 3e-4 and
1e-3), fixed seed.

Hyperparameters: lambda_sp in {0.3, 1} x Adam steps in {60, 150}, plus step 0 (no fine-tuning;
5 candidates; the range was set from inner-holdout loss curves on the training part of fold 0
of the first 247 clips: lambda_sp 0.1 overfits, 10 barely moves the weights). Chosen per outer
fold on an *inner* artist-grouped holdout of the training folds (the first split of the
``StratifiedGroupKFold(4, shuffle, seed 0)`` that ``fit_head`` uses; minimum summed per-axis
weighted log-loss, ``fit_head``'s criterion), then the model is refitted on the whole training
folds and scores the held-out fold. Folds: :func:`~m2p_core.training.splits.artist_disjoint_split`
(seed 0, the folds of ``m2p evaluate``); a clip's prediction is the mean of its windows' per-axis
logits (the torch heads: quadrant logits -> per-axis log-sum-exp, no Platt); metrics
:func:`~m2p_core.training.metrics.quadrant_metrics`, pooled over the out-of-fold clips, as
:func:`~m2p_core.training.head.cross_validate_head` reports them.

Rows (all on the same folds, in one run):

* ``frozen (shipped recipe)``: the shipped head's CV, by :func:`cross_validate_head` itself;
* ``frozen pen only [Q]``: the same procedure on the penultimate alone (reference for ``ft pen
  only``);
* ``frozen, approx. penultimate``: the shipped procedure with the penultimate recomputed from the
  window-averaged pools with the pretrained weights (the approximation's cost, no training);
* ``torch LP, approx. penultimate``: the torch head at step 0 (no fine-tuning; a by-product of
  the ``ft dense + torch head`` fits, whose CPU time includes it);
* ``ft dense + torch head``: the fine-tuned model's own classifier;
* ``ft dense -> shipped head refit``: variant (a): the fine-tuned penultimate (same shape as the
  frozen one) in place of the frozen one, then the shipped head procedure (inner-CV C, Platt,
  lapse) refitted on the training folds. Its inner CV sees features trained on all of the
  training folds (optimistic C and Platt); the outer fold stays clean;
* ``ft pen only (torch head)``: variant (b): the classifier on the fine-tuned penultimate alone.

Run from the repository root. It reads the head-feature cache of ``m2p train-head`` and refuses
to start if any clip is missing from it (it never computes musicnn features; that cache is
keyed by each audio file's content, so a copied or re-created data folder still hits it)::

    OMP_NUM_THREADS=1 nice -n 19 .venv/bin/python scripts/finetune_top_experiment.py \
        [--manifest ../shared/data/emotion4q/labels.csv] [--json out/finetune-top-cv.json]

Cost: about 5 CPU-minutes on one thread (131 CPU-s on the first 247 clips, 1198 windows; each
Adam step is a (windows x 1506) @ (1506 x 200) product and its gradient).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.model_selection import StratifiedGroupKFold
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from m2p_core.files import cache_dir  # noqa: E402
from m2p_core.model.checkpoint import load_checkpoint, shipped_checkpoint_path  # noqa: E402
from m2p_core.model.russell import QUADRANTS  # noqa: E402
from m2p_core.model.v2 import HeadConfig  # noqa: E402
from m2p_core.training.head import (  # noqa: E402
    HeadRecipe,
    axis_log_loss,
    clip_mean,
    cross_validate_head,
    fit_head,
    quadrant_axis_logits_np,
    window_weights,
)
from m2p_core.training.head_features import (  # noqa: E402
    HeadFeatures,
    extract_head_features,
    missing_head_features,
)
from m2p_core.training.head_train import build_v2  # noqa: E402
from m2p_core.training.manifest import ManifestRow, read_manifest  # noqa: E402
from m2p_core.training.metrics import quadrant_metrics  # noqa: E402
from m2p_core.training.splits import artist_disjoint_split  # noqa: E402

N_FOLDS, SEED, HOP_S = 5, 0, 5.0  # the folds and windows of m2p evaluate / m2p train-head
SHIPPED = HeadRecipe(HeadConfig().features, kind=HeadConfig().kind, lapse=HeadConfig().lapse)
PEN_ONLY = HeadRecipe(("penultimate",), kind="quadrants", lapse=HeadConfig().lapse)
EXTRA = ("tags", "descriptors")  # the blocks beside the penultimate


@dataclass(frozen=True)
class Grid:
    """Fine-tuning hyperparameters searched by the inner holdout (steps 0 = linear probe)."""

    lambda_sp: tuple[float, ...] = (0.3, 1.0)
    steps: tuple[int, ...] = (0, 60, 150)
    lr_dense: float = 3e-4
    lr_classifier: float = 1e-3


# --------------------------------------------------------------------------------------------
# features


def load_features(rows: list[ManifestRow], log=print) -> HeadFeatures:
    """The cached per-window features of ``rows``; exits if any clip is not cached."""
    model, _ = build_v2(str(ROOT / "m2p_core/model/checkpoints/m2p-v1.pt"), HeadConfig())
    missing = missing_head_features(rows, model, HOP_S)
    if missing:
        sys.exit(f"{len(missing)} of {len(rows)} clips are not in the head-feature cache "
                 f"{cache_dir('head-features')}; run `m2p train-head` first. This script never "
                 "computes musicnn features.")
    return extract_head_features(rows, model, log=log)


def pretrained_top() -> torch.nn.Module:
    """musicnn's back end (pool_bn, dense, dense_bn, output) from the shipped ``m2p-v2.pt``."""
    musicnn = load_checkpoint(shipped_checkpoint_path("m2p-v2.pt")).model.musicnn
    return musicnn.backend.eval()


@torch.no_grad()
def pooled_bn(feats: HeadFeatures, top: torch.nn.Module) -> torch.Tensor:
    """(W, 1506) ``pool_bn`` of the window-averaged pools, interleaved [max, mean] as musicnn."""
    pooled = np.stack([feats.blocks["max_pool"], feats.blocks["mean_pool"]], axis=2)
    return top.pool_bn(torch.from_numpy(pooled.reshape(len(pooled), -1)).float())


def standardiser(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, scale) as the head's scaler (scale 1 for constant columns)."""
    mean, scale = x.mean(0), x.std(0)
    scale[scale < 1e-8] = 1.0
    return mean, scale


# --------------------------------------------------------------------------------------------
# the fine-tuned top


def dense_bn_eval(top: torch.nn.Module, h: torch.Tensor) -> torch.Tensor:
    """musicnn's ``dense_bn`` in eval mode (running statistics) as an affine map."""
    bn = top.dense_bn
    return (h - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias


class TopHead(torch.nn.Module):
    """dense (trainable) -> ReLU -> dense_bn (frozen) -> fixed standardisation, beside the
    standardised extra blocks (maybe none), -> Linear(·, 4). The scalers are fitted on the
    training windows when the model is built and then fixed."""

    def __init__(self, top: torch.nn.Module, p: torch.Tensor, extra: torch.Tensor):
        super().__init__()
        self.top = top  # frozen: dense_bn and the pretrained dense
        self.dense = torch.nn.Linear(1506, 200)
        self.dense.load_state_dict(top.dense.state_dict())
        with torch.no_grad():
            pen_mean, pen_scale = standardiser(self.penultimate(p).double().numpy())
        ex_mean, ex_scale = standardiser(extra.double().numpy())
        for name, v in [("pen_mean", pen_mean), ("pen_scale", pen_scale),
                        ("extra_mean", ex_mean), ("extra_scale", ex_scale)]:
            self.register_buffer(name, torch.from_numpy(v).float())
        self.classifier = torch.nn.Linear(200 + extra.shape[1], len(QUADRANTS))
        torch.nn.init.zeros_(self.classifier.weight)
        torch.nn.init.zeros_(self.classifier.bias)

    def penultimate(self, p: torch.Tensor) -> torch.Tensor:
        """(W, 200) musicnn-shaped penultimate (``dense_bn`` output, before standardising)."""
        return dense_bn_eval(self.top, F.relu(self.dense(p)))

    def inputs(self, p: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        """(W, 200 + extra) standardised classifier inputs."""
        return torch.cat([(self.penultimate(p) - self.pen_mean) / self.pen_scale,
                          (extra - self.extra_mean) / self.extra_scale], dim=1)

    def forward(self, p: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        """(W, 4) quadrant logits."""
        return self.classifier(self.inputs(p, extra))

    def sp_penalty(self) -> torch.Tensor:
        """||dense − pretrained dense||² (weight and bias): the L2-SP term."""
        return (((self.dense.weight - self.top.dense.weight) ** 2).sum()
                + ((self.dense.bias - self.top.dense.bias) ** 2).sum())


def weighted_ce(logits: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return (w * F.cross_entropy(logits, y, reduction="none")).sum() / w.sum()


def train_top(top: torch.nn.Module, p: torch.Tensor, extra: torch.Tensor, y: np.ndarray,
              clips: np.ndarray, c: float, lambda_sp: float, steps: tuple[int, ...],
              grid: Grid) -> tuple[TopHead, dict[int, dict]]:
    """Fit on these windows (see the module doc); (model, {step: state_dict} at ``steps``)."""
    torch.manual_seed(SEED)
    model = TopHead(top, p, extra)
    clf = model.classifier
    yt = torch.from_numpy(y).long()
    w = torch.from_numpy(window_weights(clips)).float()
    lam_c = 1.0 / (c * float(w.sum()))  # sklearn's C, per unit of weighted mean loss

    # phase 1: linear probe on the pretrained features (L-BFGS, classifier only)
    with torch.no_grad():
        x0 = model.inputs(p, extra)
    lbfgs = torch.optim.LBFGS(clf.parameters(), max_iter=500, tolerance_grad=1e-7,
                              line_search_fn="strong_wolfe")

    def closure():
        lbfgs.zero_grad()
        loss = weighted_ce(clf(x0), yt, w) + 0.5 * lam_c * (clf.weight ** 2).sum()
        loss.backward()
        return loss

    lbfgs.step(closure)
    states = {0: copy_state(model)} if 0 in steps else {}
    # phase 2: dense + classifier, full-batch Adam
    opt = torch.optim.Adam([{"params": model.dense.parameters(), "lr": grid.lr_dense},
                            {"params": clf.parameters(), "lr": grid.lr_classifier}])
    for step in range(1, max(steps) + 1):
        opt.zero_grad()
        loss = (weighted_ce(model(p, extra), yt, w) + 0.5 * lam_c * (clf.weight ** 2).sum()
                + 0.5 * lambda_sp * model.sp_penalty())
        loss.backward()
        opt.step()
        if step in steps:
            states[step] = copy_state(model)
    return model, states


def copy_state(model: torch.nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@torch.no_grad()
def axis_logits(model: TopHead, state: dict, p: torch.Tensor, extra: torch.Tensor) -> np.ndarray:
    """(W, 2) per-axis logits of ``model`` loaded with ``state`` (quadrant log-sum-exp, no
    Platt)."""
    model.load_state_dict(state)
    return quadrant_axis_logits_np(model(p, extra).double().numpy())


# --------------------------------------------------------------------------------------------
# cross-validation


def folds(rows: list[ManifestRow], feats: HeadFeatures) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train windows, held-out windows) of the artist-disjoint folds."""
    out = []
    for fold in range(N_FOLDS):
        tr, va = artist_disjoint_split(rows, N_FOLDS, fold, SEED)
        out.append((np.flatnonzero(np.isin(feats.clip_index, tr)),
                    np.flatnonzero(np.isin(feats.clip_index, va))))
    return out


def score(z: np.ndarray, feats: HeadFeatures, rows: list[ManifestRow],
          splits: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    """Pooled and per-fold quadrant metrics of out-of-fold window axis logits ``z`` (W, 2)."""
    true_all, pred_all, per_fold = [], [], []
    for _, w_va in splits:
        clips = [int(c) for c in np.unique(feats.clip_index[w_va])]
        true = np.array([[np.sign(rows[c].valence), np.sign(rows[c].arousal)] for c in clips])
        pred = np.tanh(0.5 * clip_mean(z, feats.clip_index, clips))
        m = quadrant_metrics(true, pred)
        per_fold.append({k: round(m[k], 4) for k in ("macro_f1", "valence_sign_acc")})
        true_all.append(true)
        pred_all.append(pred)
    pooled = quadrant_metrics(np.concatenate(true_all), np.concatenate(pred_all))
    f1s = [f["macro_f1"] for f in per_fold]
    return {**{k: round(v, 4) for k, v in pooled.items()}, "per_fold": per_fold,
            "fold_macro_f1_range": [min(f1s), max(f1s)],
            "fold_macro_f1_mean": round(float(np.mean(f1s)), 4),
            "fold_macro_f1_std": round(float(np.std(f1s, ddof=1)), 4)}


def inner_holdout(feats: HeadFeatures, rows: list[ManifestRow],
                  windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First split of fit_head's inner StratifiedGroupKFold (4, by artist), as window indices."""
    clips = feats.clip_index[windows]
    groups = np.array([rows[c].artist for c in clips])
    y = np.array([QUADRANTS.index(rows[c].quadrant) for c in clips])
    splitter = StratifiedGroupKFold(4, shuffle=True, random_state=SEED)
    tr, te = next(splitter.split(np.zeros(len(windows)), y, groups))
    return windows[tr], windows[te]


def with_penultimate(feats: HeadFeatures, pen: np.ndarray) -> HeadFeatures:
    return HeadFeatures({**feats.blocks, "penultimate": pen.astype(np.float32)},
                        feats.clip_index, feats.start_s)


def run(feats: HeadFeatures, rows: list[ManifestRow], grid: Grid, log=print) -> dict:
    """Every row of the module doc on the same folds: {approximation, grid, variants}."""
    top = pretrained_top().requires_grad_(False)
    splits = folds(rows, feats)
    p_all = pooled_bn(feats, top)
    y_all = np.array([QUADRANTS.index(rows[c].quadrant) for c in feats.clip_index])
    y_axes = np.array([[rows[c].valence > 0, rows[c].arousal > 0] for c in feats.clip_index],
                      dtype=int)
    extras = {"with tags+desc": torch.from_numpy(feats.stack(EXTRA)).float(),
              "pen only": torch.zeros(len(y_all), 0)}
    with torch.no_grad():
        pen_approx = dense_bn_eval(top, F.relu(top.dense(p_all))).double().numpy()
    cached = feats.blocks["penultimate"].astype(np.float64)
    r = [np.corrcoef(cached[:, j], pen_approx[:, j])[0, 1] for j in range(cached.shape[1])
         if cached[:, j].std() > 1e-8 and pen_approx[:, j].std() > 1e-8]
    approx = {"median_per_unit_r": round(float(np.median(r)), 4),
              "min_per_unit_r": round(float(np.min(r)), 4),
              "rms_error_over_std": round(float(np.sqrt(np.mean((pen_approx - cached) ** 2))
                                                / cached.std()), 4)}
    log(f"[ft] window-averaged-pool penultimate vs the cached one: {approx}")

    results: dict[str, dict] = {}
    z: dict[str, np.ndarray] = {}

    # frozen references, by the project's own CV function
    frozen = {"frozen (shipped recipe)": (feats, SHIPPED),
              "frozen pen only [Q]": (feats, PEN_ONLY),
              "frozen, approx. penultimate": (with_penultimate(feats, pen_approx), SHIPPED)}
    cvs = {}
    for name, (f, recipe) in frozen.items():
        c0 = time.process_time()
        cvs[name] = cv = cross_validate_head(f, rows, recipe, N_FOLDS, SEED)
        z[name] = cv.window_logits
        results[name] = {"cpu_s": time.process_time() - c0, "chosen_C": cv.chosen_c}
        log(f"[ft] {name}: macro-F1 {cv.metrics['macro_f1']:.3f}")

    # fine-tuned: name -> (extra blocks, the frozen CV whose per-fold C the classifier uses)
    tuned = {"ft dense + torch head": ("with tags+desc", "frozen (shipped recipe)"),
             "ft pen only (torch head)": ("pen only", "frozen pen only [Q]")}
    lp_name, refit_name = "torch LP, approx. penultimate", "ft dense -> shipped head refit"
    for name in (*tuned, lp_name, refit_name):
        z[name] = np.full((len(y_all), 2), np.nan)
        results[name] = {"cpu_s": 0.0, "folds": []}
    for fold, (w_tr, w_va) in enumerate(splits):
        for name, (extra_key, ref) in tuned.items():
            c0 = time.process_time()
            ex = extras[extra_key]
            c = float(cvs[ref].chosen_c[fold][0])
            # inner artist-grouped holdout of the training folds: choose (lambda_sp, steps)
            i_tr, i_te = inner_holdout(feats, rows, w_tr)
            w_te = window_weights(feats.clip_index[i_te])
            inner = {}
            for lam in grid.lambda_sp:
                model, states = train_top(top, p_all[i_tr], ex[i_tr], y_all[i_tr],
                                          feats.clip_index[i_tr], c, lam, grid.steps, grid)
                for step, state in states.items():
                    zi = axis_logits(model, state, p_all[i_te], ex[i_te])
                    inner[(lam, step)] = sum(axis_log_loss(zi[:, k], y_axes[i_te, k], w_te)
                                             for k in range(2))
            lam, steps = min(inner, key=inner.get)  # steps 0: the same probe for every lambda
            model, states = train_top(top, p_all[w_tr], ex[w_tr], y_all[w_tr],
                                      feats.clip_index[w_tr], c, lam, (0, steps), grid)
            z[name][w_va] = axis_logits(model, states[steps], p_all[w_va], ex[w_va])
            results[name]["cpu_s"] += time.process_time() - c0
            results[name]["folds"].append({
                "C": c, "lambda_sp": lam if steps else None, "steps": steps,
                "inner_log_loss": {f"lambda_sp={lm},steps={s}": round(v, 4)
                                   for (lm, s), v in sorted(inner.items())},
                "dense_change_rel": round(float(torch.linalg.norm(
                    (model.dense.weight - top.dense.weight).detach()) / top.dense.weight.norm()),
                    4)})
            log(f"[ft] fold {fold} {name}: C {c}, lambda_sp {lam if steps else '-'}, steps "
                f"{steps} ({time.process_time() - c0:.0f} CPU-s)")
            if name != "ft dense + torch head":
                continue
            # the same final fit at step 0: the torch linear probe on the approx. penultimate
            z[lp_name][w_va] = axis_logits(model, states[0], p_all[w_va], ex[w_va])
            results[lp_name]["folds"].append({"C": c})
            # variant (a): the fine-tuned penultimate into the shipped head procedure
            c0 = time.process_time()
            model.load_state_dict(states[steps])
            with torch.no_grad():
                pen_ft = model.penultimate(p_all).double().numpy()
            f_ft = with_penultimate(feats, pen_ft)
            fit = fit_head(f_ft, rows, SHIPPED, w_tr)
            z[refit_name][w_va] = fit.logits(f_ft.stack(SHIPPED.features)[w_va])
            results[refit_name]["cpu_s"] += time.process_time() - c0
            results[refit_name]["folds"].append({"C": fit.c.tolist(),
                                                 "platt_a": fit.platt_a.round(3).tolist()})

    for name, zz in z.items():
        assert not np.isnan(zz).any(), name
        results[name].update(score(zz, feats, rows, splits))
        results[name]["cpu_s"] = round(results[name]["cpu_s"], 1)
    ref = cvs["frozen (shipped recipe)"].metrics["macro_f1"]
    if abs(results["frozen (shipped recipe)"]["macro_f1"] - ref) > 1e-3:
        raise RuntimeError("this script's scoring differs from cross_validate_head's")
    return {"approximation": approx, "grid": asdict(grid), "variants": results}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", default=str(ROOT.parent / "shared/data/emotion4q/labels.csv"))
    ap.add_argument("--json", type=Path, default=ROOT / "out/finetune-top-cv.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    c0, t0 = time.process_time(), time.time()
    with threadpool_limits(1):
        rows = read_manifest(args.manifest)
        feats = load_features(rows, log=lambda s: None)
        out = run(feats, rows, Grid())
    out["cpu_s_total"] = round(time.process_time() - c0, 1)
    out["wall_s_total"] = round(time.time() - t0, 1)
    out["n_clips"], out["n_windows"] = len(rows), int(len(feats.clip_index))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1))
    print(f"{'variant':<34}{'macro-F1':>9}{'V-acc':>8}  {'fold F1 range':<15}{'CPU s':>7}")
    for name, r in out["variants"].items():
        lo, hi = r["fold_macro_f1_range"]
        print(f"{name:<34}{r['macro_f1']:>9.3f}{r['valence_sign_acc']:>8.3f}  "
              f"{lo:.3f}-{hi:.3f}    {r['cpu_s']:>7.1f}")
    print(f"written {args.json} ({out['cpu_s_total']} CPU-s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
