"""Does a track-global *half-hop* musicnn patch grid keep the v2 emotion head's CV? (An
experiment; not part of the shipped model.)

The shipped ``m2p-v2`` (:meth:`~m2p_core.model.v2.Music2PaletteV2.window_features`) computes
musicnn's log-mel of the whole 10-s window (160000 samples, 626 frames) and cuts it into three
non-overlapping 187-frame patches (frames [0,187), [187,374), [374,561): sample offsets 0,
47872, 95744 inside the window), whose outputs it averages. Timeline windows are 10 s every 5 s,
so every second is analysed twice. A track-global grid would run musicnn once per grid patch
and let the windows share them; with 3-s patches every 3 s a window often holds only two grid
patches (an earlier try lost CV: 0.743 -> 0.731). Here the grid is a *half-hop* one: 3-s
patches every 2.5 s, so a window starting at a multiple of 5 s holds exactly the three grid
patches at 0, 2.5 and 5 s inside it (covering 0-8 s of the window instead of 0-9 s), and
consecutive windows share one: 2 new patches per window instead of 3.

Inputs compared, on the same windows (10 s every 5 s,
:func:`~m2p_core.training.head_features.head_window_starts`, same clips, same order):

* ``shipped``: the cached features of
  :func:`~m2p_core.training.head_features.extract_head_features` (window log-mel, 0/3/6 s);
* ``grid 0/2.5/5 s``: patches at sample offsets 0, 40000, 80000 of the window, each patch's
  log-mel computed from ITS OWN 48000 samples (:meth:`~m2p_core.model.musicnn.MusicNN.logmel`
  of the 3-s slice: ``1 + 48000 // 256 = 188`` frames, :func:`~m2p_core.model.musicnn.patches`
  keeps the first 187 and drops the last; then
  :meth:`~m2p_core.model.musicnn.MusicNN.forward_patches`), outputs averaged over the three;
  computed once per distinct grid patch of the clip, as a timeline would;
* ``grid 0/2.5/5/7.5 s``: the same grid, but a window pools FOUR grid patches: also the one
  at 7.5 s, which reaches 0.5 s past the window's end (cut from the clip; dropped where the clip
  ends first: a clip's last window then pools three). Still 2 new patches per window (its 5-
  and 7.5-s ones; the next window's 0- and 2.5-s ones are these), and the window's pooled
  patches cover 10.5 s instead of 8;
* ``own 0/3/6 s``: the same with offsets 0, 48000, 96000: isolates "own-samples log-mel"
  (reflect padding at each slice's start, no context from the previous patch; plus a shift of
  128 and 256 samples against the shipped patches 2 and 3) from "offsets";
* ``own shipped frames``: own-sample patches at exactly the shipped patches' samples (0, 47872,
  95744 = frames 0, 187, 374 x 256). Patch 1 is then bit-identical to the shipped one and
  patches 2 and 3 differ only in their first log-mel frame (reflect-padded instead of centred
  on real audio): a near-null perturbation that measures the CV's noise floor.

Only musicnn's blocks change (penultimate, tags, and any other musicnn block the checkpoint's
head uses); v1's blocks (descriptors, ...) come from the shipped features. Each input is scored
by :func:`~m2p_core.training.head.cross_validate_head` with the checkpoint's head recipe
(:class:`~m2p_core.model.v2.HeadConfig` features, kind, lapse; inner-CV C, Platt), the
artist-disjoint 5 folds of ``m2p evaluate`` (seed 0). Also reported: the discordant clips
against the shipped input (right only there / right only here, clip quadrant from the mean
out-of-fold window logits) with an exact two-sided sign (McNemar) test; mean |Δ| of the variant's
window penultimate / tags against the shipped ones, and the musicnn CPU time per window
(``time.process_time``, one thread, 20 real windows, best of 3): (a) the shipped 3 patches
from the window's log-mel, (b) 2 new own-sample patches per window (the grid's third patch is
the previous window's last one).

Per-clip variant features are cached under ``cache_dir("patch-grid-exp")`` (keyed like the head
cache, :func:`~m2p_core.training.head_features.clip_key`: the audio file, the offsets and
blocks, musicnn's weight digest), so a rerun skips finished clips. Run from the repository root::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nice -n 19 .venv/bin/python \
        scripts/patch_grid_experiment.py [--manifest ../shared/data/emotion4q/labels.csv] \
        [--json out/patch-grid-exp.json] [--limit N]

Cost (2 shared cores, one torch thread, nice 19): each variant's musicnn features take 70-100
CPU-s (6162 and 6395 distinct patches for the grids, 8337 = 3 x 2779 for the others); the five
CVs about 20 CPU-s each; the timing ~10 CPU-s. With the head-feature cache warm the whole run is ~6
CPU-minutes (366 CPU-s, 370 s wall); with it cold add ~3.5 CPU-minutes (203 CPU-s measured,
audio decoding included); a rerun with every cache warm takes ~95 CPU-s (the CVs and
the timing).

Results (2026-12-01; 604 clips, 2779 windows; recipe penultimate + tags + descriptors,
quadrants, lapse 0.01)::

    input               F1     acc    V-acc  A-acc  per-fold macro-F1
    shipped 0/3/6 s     0.743  0.743  0.818  0.896  0.707 0.734 0.772 0.776 0.715
    grid 0/2.5/5 s      0.738  0.738  0.811  0.887  0.698 0.735 0.772 0.776 0.696
    grid 0/2.5/5/7.5 s  0.743  0.743  0.811  0.889  0.683 0.750 0.772 0.783 0.713
    own 0/3/6 s         0.735  0.735  0.808  0.894  0.690 0.702 0.763 0.785 0.723
    own shipped frames  0.739  0.740  0.816  0.892  0.698 0.725 0.772 0.768 0.723

    input               |Δpen| (rel.)   |Δtags| (rel.)  clips +/- vs shipped (sign-test p)
    grid 0/2.5/5 s      0.0736 (0.140)  0.0039 (0.125)  +9/-12 (0.66)
    grid 0/2.5/5/7.5 s  0.0720 (0.137)  0.0038 (0.122)  +10/-10 (1.00)
    own 0/3/6 s         0.0372 (0.071)  0.0019 (0.060)  +3/-8 (0.23)
    own shipped frames  0.0058 (0.011)  0.0003 (0.009)  +1/-3 (0.62)

(|Δ| = mean |variant − shipped| of the window features, in brackets over the shipped block's
mean absolute deviation; +/- = clips right only with this input / only with the shipped one.)
The shipped row reproduces docs/MODEL_CARD.md (0.743 and the same per-fold values). The
half-hop grid scores 0.738, 0.002 under the 0.74 target, but no input differs significantly
from the shipped one, and ``own shipped frames`` (features within about 1 % of the shipped ones;
only the first log-mel frame of two of the three patches changes) already costs 0.004: moves of
this size (2-3 of 604 clips) are the CV's noise floor, and the shipped 0.743 clears 0.74 by no
more than that. Computing each patch's log-mel from its own samples (``own 0/3/6 s``, 0.735)
costs as much as the half-hop offsets with it (0.738): the grid's offsets are not the problem.
The inner CV chose C = 0.03 in every fold except the grid's folds 0 and 1 (C = 0.01) and the
four-patch grid's fold 0 (C = 0.01).

The four-patch grid (added later the same day, same folds and recipe) scores exactly the
shipped layout's 0.743 (valence sign 0.811 against 0.818, arousal 0.889 against 0.896; the
clips it gets right and the shipped layout does not balance, +10/-10), at the half-hop grid's
cost: 6395 distinct patches on these clips (the 7.5-s patch of a clip's last window is
dropped in 371 of the 2779 windows, as the clip ends before it does). Shipping it would need
each window to carry the first 0.5 s of audio after it (the timeline's windows are 10 s) and
the windows of one track to share their patches in the inference batch.

musicnn CPU-s per window (20 real windows, one thread, best of 3; six repeats on the shared
machine, before musicnn ran its patches in blocks of 16): shipped 3 patches from the window
log-mel 0.032-0.041 with one window per call, 0.038-0.056 batched (20 per call: slower,
reproducibly); grid 2 new own-sample patches 0.022-0.031 (typically 0.022-0.025, either way);
so about 1.4x less per window one window at a time, ~1.8x batched. The batched ~1.8x was
mostly the shipped layout's 60-patch calls running out of the caches: since
``musicnn.PATCH_BLOCK`` both layouts run blocks of 16 patches (``MusicNN.forward_blocks``), and
four repeats gave shipped 0.033-0.040 batched / 0.039-0.048 per window, the grid
0.025-0.028 / 0.031-0.034: **1.2-1.5x** less per window (1.19, 1.31, 1.48, 1.43 batched).
On these 30-s clips the grid runs 6162 patches instead of 8337 (1.35x: a clip's first window
needs all three); on long tracks the ratio tends to 1.5x.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import binomtest
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from m2p_core.files import atomic_path, cache_dir  # noqa: E402
from m2p_core.model.checkpoint import load_checkpoint, shipped_checkpoint_path  # noqa: E402
from m2p_core.model.musicnn import PATCH_FRAMES, SR, MusicNN, patches  # noqa: E402
from m2p_core.model.russell import quadrant_of  # noqa: E402
from m2p_core.model.v2 import MUSICNN_BLOCKS, Music2PaletteV2  # noqa: E402
from m2p_core.training.data import default_cache_dir, load_waves  # noqa: E402
from m2p_core.training.head import HeadRecipe, clip_mean, cross_validate_head  # noqa: E402
from m2p_core.training.head_features import (  # noqa: E402
    HeadFeatures,
    clip_key,
    extract_head_features,
    head_window_starts,
    head_windows,
    state_digest,
)
from m2p_core.training.manifest import ManifestRow, read_manifest  # noqa: E402

N_FOLDS, SEED, HOP_S = 5, 0, 5.0  # the folds and windows of m2p evaluate / m2p train-head
PATCH_N = 48000  # one grid patch: 3 s at 16 kHz, its log-mel from these samples only
VARIANTS = {"grid 0/2.5/5 s": (0, 40000, 80000),
            "grid 0/2.5/5/7.5 s": (0, 40000, 80000, 120000),
            "own 0/3/6 s": (0, 48000, 96000),
            "own shipped frames": (0, 187 * 256, 374 * 256)}
SHIPPED_CV_F1 = 0.743  # docs/MODEL_CARD.md, CV table, "pen+tags+desc [Q] (shipped)"


def musicnn_blocks(model: Music2PaletteV2) -> tuple[str, ...]:
    """The musicnn blocks to recompute: penultimate, tags and any the head uses."""
    want = {"penultimate", "tags", *model.head_config.features}
    return tuple(b for b in MUSICNN_BLOCKS if b in want)


@torch.no_grad()
def own_patch_outputs(musicnn: MusicNN, slices: np.ndarray,
                      blocks: tuple[str, ...]) -> dict[str, np.ndarray]:
    """(M, 48000) 3-s slices -> {block: (M, d)}: each slice's own log-mel, one patch each."""
    x = patches(musicnn.logmel(torch.from_numpy(slices)))  # (M, P, 187, 96)
    if x.shape[1] != 1 or x.shape[2] != PATCH_FRAMES:
        raise RuntimeError(f"a {PATCH_N}-sample slice gave patches of shape {tuple(x.shape)}")
    out = musicnn.forward_patches(x[:, 0])
    return {b: out[b].numpy() for b in blocks}


def window_patches(wave: np.ndarray, offsets: tuple[int, ...], win: int, hop_n: int
                   ) -> tuple[list[int], list[list[int]], dict[int, np.ndarray]]:
    """A clip's windows (as :func:`~m2p_core.training.head_features.head_windows` cuts them:
    full windows every ``hop_n``, or one zero-padded window) and their patches: (window starts,
    per window the clip samples where its patches start, {clip sample: (48000,) patch}). A
    patch inside its window is cut from the window (zero-padded like it); one reaching past the
    window's end (an offset > win − 48000: the four-patch grid's 7.5-s patch) is cut from the
    clip and dropped where the clip ends before it does. Equal clip samples are one patch."""
    starts, x = head_windows(wave, win, hop_n)
    held: list[list[int]] = []
    slices: dict[int, np.ndarray] = {}
    for i, s in enumerate(starts):
        held.append([])
        for off in offsets:
            if off + PATCH_N <= win:
                patch = x[i, off : off + PATCH_N]
            elif s + off + PATCH_N <= len(wave):
                patch = wave[s + off : s + off + PATCH_N].astype(np.float32)
            else:
                continue
            slices.setdefault(s + off, patch)
            held[-1].append(s + off)
    return starts, held, slices


def clip_grid_features(musicnn: MusicNN, wave: np.ndarray, offsets: tuple[int, ...],
                       blocks: tuple[str, ...], win: int, hop_n: int) -> dict[str, np.ndarray]:
    """One clip's windows (:func:`window_patches`) -> {block: (W, d) mean over each window's
    patches, "start_s": (W,), "n_patches": distinct patches run, "patches_per_window": (W,)}.
    A patch at the same clip sample is computed once (shared by consecutive windows)."""
    starts, held, slices = window_patches(wave, offsets, win, hop_n)
    keys = sorted(slices)
    per_patch = own_patch_outputs(musicnn, np.stack([slices[k] for k in keys]), blocks)
    row = {k: j for j, k in enumerate(keys)}
    out = {b: np.stack([v[[row[k] for k in ks]].mean(0) for ks in held]).astype(np.float32)
           for b, v in per_patch.items()}
    out["start_s"] = np.array(starts, dtype=np.float32) / SR
    out["n_patches"] = np.array(len(keys))
    out["patches_per_window"] = np.array([len(ks) for ks in held], dtype=np.int32)
    return out


def variant_features(rows: list[ManifestRow], model: Music2PaletteV2, shipped: HeadFeatures,
                     offsets: tuple[int, ...], log=print) -> tuple[HeadFeatures, dict]:
    """The shipped features with the musicnn blocks recomputed on the patches at ``offsets``
    (cached per clip under ``cache_dir("patch-grid-exp")``)."""
    root = cache_dir("patch-grid-exp")
    root.mkdir(parents=True, exist_ok=True)
    blocks = musicnn_blocks(model)
    digest = state_digest(model.musicnn)
    part = "grid-" + "-".join(str(o) for o in offsets) + "-" + "-".join(blocks)
    win, hop_n = model.config.window_samples, int(round(HOP_S * model.config.sample_rate))
    per_clip, computed, n_patches, short, cpu = [], 0, 0, 0, 0.0
    t0 = time.time()
    for i, row in enumerate(rows):
        path = root / f"{clip_key(row.path, part, digest, model.config.window_s, HOP_S)}.npz"
        if path.is_file():
            with np.load(path) as z:
                feats = {k: z[k] for k in z.files}
        else:
            wave = load_waves([row], model.config.sample_rate, default_cache_dir(), workers=1)[0]
            c0 = time.process_time()
            feats = clip_grid_features(model.musicnn, wave, offsets, blocks, win, hop_n)
            cpu += time.process_time() - c0
            with atomic_path(path) as tmp, open(tmp, "wb") as f:
                np.savez(f, **feats)
            computed += 1
            if computed % 50 == 0:
                log(f"[grid] {offsets}: {i + 1}/{len(rows)} clips ({computed} computed, "
                    f"{time.time() - t0:.0f}s wall, musicnn {cpu:.0f} CPU-s)")
        n_patches += int(feats["n_patches"])
        # (absent from entries cached before the four-patch grid: all windows were full)
        short += int(np.sum(feats.get("patches_per_window", len(offsets)) < len(offsets)))
        per_clip.append(feats)
    start_s = np.concatenate([c["start_s"] for c in per_clip])
    clip_index = np.concatenate([np.full(len(c["start_s"]), i, dtype=np.int32)
                                 for i, c in enumerate(per_clip)])
    if not (np.array_equal(clip_index, shipped.clip_index)
            and np.allclose(start_s, shipped.start_s)):
        raise RuntimeError("the variant's windows differ from the shipped features' windows")
    new = {b: np.concatenate([c[b] for c in per_clip]) for b in blocks}
    kept = {k: v for k, v in shipped.blocks.items() if k not in MUSICNN_BLOCKS}
    cost = {"clips_computed": computed, "distinct_patches": n_patches,
            "windows_with_fewer_patches": short,
            "windows": int(len(start_s)), "musicnn_cpu_s_this_run": round(cpu, 1)}
    log(f"[grid] {offsets}: {cost}")
    return HeadFeatures({**kept, **new}, shipped.clip_index, shipped.start_s), cost


# --------------------------------------------------------------------------------------------
# timing


def timing_windows(rows: list[ManifestRow], model: Music2PaletteV2, n: int = 20) -> np.ndarray:
    """(n, 160000) consecutive real windows (10 s every 5 s) of the first clips."""
    win, hop_n = model.config.window_samples, int(round(HOP_S * model.config.sample_rate))
    out: list[np.ndarray] = []
    for row in rows:
        wave = load_waves([row], model.config.sample_rate, default_cache_dir(), workers=1)[0]
        out += [wave[s : s + win] for s in head_window_starts(len(wave), win, hop_n)
                if len(wave) >= win]
        if len(out) >= n:
            return np.stack(out[:n]).astype(np.float32)
    raise RuntimeError("not enough windows to time")


def best_cpu(fn, reps: int = 3) -> float:
    """Least process CPU time of ``reps`` calls of ``fn`` (after one warm-up call)."""
    fn()
    best = float("inf")
    for _ in range(reps):
        c0 = time.process_time()
        fn()
        best = min(best, time.process_time() - c0)
    return best


@torch.no_grad()
def time_musicnn(model: Music2PaletteV2, windows: np.ndarray) -> dict:
    """musicnn CPU-s per window: (a) shipped (window log-mel, 3 patches), (b) 2 new own-sample
    grid patches (offsets 2.5 and 5 s; the 0-s one is the previous window's 5-s one); each
    batched (all 20 windows in one call) and one window per call. The four-patch grid also
    runs 2 new patches per window (its 5- and 7.5-s ones; the 0- and 2.5-s ones are the
    previous window's 5- and 7.5-s ones), so (b) times it too."""
    m, n = model.musicnn, len(windows)
    w = torch.from_numpy(windows)
    new = np.stack([windows[:, o : o + PATCH_N] for o in VARIANTS["grid 0/2.5/5 s"][1:]],
                   axis=1)  # (n, 2, 48000)

    def grid(slices: np.ndarray) -> None:
        m.forward_blocks(patches(m.logmel(torch.from_numpy(slices)))[:, 0])

    res = {
        "shipped_3_patches_batched": best_cpu(lambda: m(w)) / n,
        "shipped_3_patches_per_window": best_cpu(lambda: [m(w[i : i + 1]) for i in range(n)]) / n,
        "grid_2_new_patches_batched": best_cpu(lambda: grid(new.reshape(-1, PATCH_N))) / n,
        "grid_2_new_patches_per_window": best_cpu(lambda: [grid(new[i]) for i in range(n)]) / n,
    }
    return {k: round(v, 4) for k, v in res.items()}


# --------------------------------------------------------------------------------------------


def mean_abs_delta(a: np.ndarray, b: np.ndarray) -> dict:
    """mean |a − b| and that over the mean |b − column mean| (b's typical spread)."""
    d = float(np.abs(a - b).mean())
    spread = float(np.abs(b - b.mean(0)).mean())
    return {"mean_abs_delta": round(d, 5), "relative_to_spread": round(d / spread, 4)}


def clip_correct(z: np.ndarray, feats: HeadFeatures, rows: list[ManifestRow]) -> np.ndarray:
    """(clips,) bool: the clip's quadrant from its mean out-of-fold window logits is right (the
    prediction :func:`~m2p_core.training.head.cross_validate_head` scores)."""
    clips = list(range(len(rows)))
    pred = np.tanh(0.5 * clip_mean(z, feats.clip_index, clips))
    return np.array([quadrant_of(v, a) == rows[c].quadrant
                     for c, (v, a) in zip(clips, pred, strict=True)])


def paired(correct: np.ndarray, ref: np.ndarray) -> dict:
    """Discordant clips against the reference and an exact two-sided sign (McNemar) test."""
    only_ref, only_this = int(np.sum(ref & ~correct)), int(np.sum(correct & ~ref))
    n = only_ref + only_this
    p = binomtest(only_this, n, 0.5).pvalue if n else 1.0
    return {"right_only_in_shipped": only_ref, "right_only_in_this": only_this,
            "sign_test_p": round(float(p), 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", default=str(ROOT.parent / "shared/data/emotion4q/labels.csv"))
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--limit", type=int, default=0, help="first N clips only (a smoke test)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    c_all, t_all = time.process_time(), time.time()
    rows = read_manifest(args.manifest)
    if args.limit:
        rows = rows[: args.limit]
    model = load_checkpoint(shipped_checkpoint_path("m2p-v2.pt")).model.eval()
    cfg = model.head_config
    recipe = HeadRecipe(cfg.features, kind=cfg.kind, lapse=cfg.lapse)  # as m2p train-head
    cost: dict[str, dict] = {}
    with threadpool_limits(1):
        c0, t0 = time.process_time(), time.time()
        shipped = extract_head_features(rows, model)
        cost["shipped features"] = {"cpu_s": round(time.process_time() - c0, 1),
                                    "wall_s": round(time.time() - t0, 1)}
        inputs = {"shipped 0/3/6 s": shipped}
        for name, offsets in VARIANTS.items():
            c0, t0 = time.process_time(), time.time()
            inputs[name], cost[name] = variant_features(rows, model, shipped, offsets)
            cost[name].update(cpu_s=round(time.process_time() - c0, 1),
                              wall_s=round(time.time() - t0, 1))
        timing = time_musicnn(model, timing_windows(rows, model))
        print(f"[grid] musicnn CPU-s per window (20 windows, 1 thread, best of 3): {timing}",
              flush=True)
        results: dict[str, dict] = {}
        correct: dict[str, np.ndarray] = {}
        for name, feats in inputs.items():
            c0 = time.process_time()
            cv = cross_validate_head(feats, rows, recipe, N_FOLDS, SEED)
            m = cv.metrics
            results[name] = {k: m[k] for k in ("macro_f1", "accuracy", "valence_sign_acc",
                                               "arousal_sign_acc")}
            results[name]["fold_macro_f1"] = [round(f, 4) for f in m["fold_macro_f1"]]
            results[name]["chosen_C"] = [c[0] for c in cv.chosen_c]
            results[name]["cv_cpu_s"] = round(time.process_time() - c0, 1)
            correct[name] = clip_correct(cv.window_logits, feats, rows)
            if name != "shipped 0/3/6 s":
                results[name]["paired_vs_shipped"] = paired(correct[name],
                                                            correct["shipped 0/3/6 s"])
                results[name]["delta_vs_shipped"] = {
                    b: mean_abs_delta(feats.blocks[b], shipped.blocks[b])
                    for b in musicnn_blocks(model)}
            print(f"[grid] {name}: macro-F1 {m['macro_f1']:.4f}", flush=True)

    print(f"\n{'input':<20}{'F1':>7}{'acc':>7}{'V-acc':>7}{'A-acc':>7}  per-fold macro-F1"
          f"{'':<14}|Δpen| (rel.)     clips +/- vs shipped (p)")
    for name, r in results.items():
        folds = " ".join(f"{f:.3f}" for f in r["fold_macro_f1"])
        d = r.get("delta_vs_shipped", {}).get("penultimate")
        dd = f"{d['mean_abs_delta']:.4f} ({d['relative_to_spread']:.3f})" if d else "-"
        pr = r.get("paired_vs_shipped")
        pp = (f"+{pr['right_only_in_this']}/-{pr['right_only_in_shipped']} "
              f"({pr['sign_test_p']:.2f})" if pr else "-")
        print(f"{name:<20}{r['macro_f1']:>7.3f}{r['accuracy']:>7.3f}"
              f"{r['valence_sign_acc']:>7.3f}{r['arousal_sign_acc']:>7.3f}  {folds}  {dd:<16} "
              f"{pp}")
    print(f"musicnn CPU-s per window: {timing}")
    f1 = results["shipped 0/3/6 s"]["macro_f1"]
    if not args.limit and abs(f1 - SHIPPED_CV_F1) > 0.0015:
        print(f"WARNING: the shipped input scores {f1:.4f}, not the model card's "
              f"{SHIPPED_CV_F1}", flush=True)
    out = {"n_clips": len(rows), "n_windows": int(len(shipped.clip_index)),
           "recipe": {"features": list(recipe.features), "kind": recipe.kind,
                      "lapse": recipe.lapse},
           "variants": {k: list(v) for k, v in VARIANTS.items()}, "results": results,
           "musicnn_cpu_s_per_window": timing, "cost": cost,
           "total_cpu_s": round(time.process_time() - c_all, 1),
           "total_wall_s": round(time.time() - t_all, 1)}
    print(f"total {out['total_cpu_s']:.0f} CPU-s, {out['total_wall_s']:.0f} s wall; "
          f"features: {cost}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
