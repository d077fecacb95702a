"""Issue 13, item 5: static int8 post-training quantisation of v2's musicnn on the CPU.

bfloat16 and channels_last were measured before and were slower on CPUs without AMX
(``docs/MODEL_CARD.md``, "Speed"); dynamic quantisation does not cover convolutions. This script
tries *static* post-training quantisation (FX graph mode, ``torch.ao.quantization``) of the
convolutions that hold musicnn's time, and measures what it costs in fidelity.

What it measures
----------------
1. **Profile** (float32, one thread, batch 16 ten-second windows = 48 three-second patches): CPU
   time of the log-mel front end, each of the five front-end conv blocks (convolution alone and
   the whole block with its max over frequency, ReLU and batch norm), the mid end and the back
   end; the median of interleaved repeats of process CPU time.
2. **Variants** of musicnn (the log-mel front end, input batch norm, mid end and back end stay
   float32 in all of them; see :data:`VARIANTS`):

   * ``float32``: the shipped :class:`~m2p_core.model.musicnn.MusicNN`;
   * ``float32-folded``: the FX-traceable rewrite of the front end that the others start from,
     in float (checks that the rewrite is exact and no slower). Each block's batch-norm scale
     ``s`` is folded into its conv: ``BN(ReLU(c))`` maxed over frequency equals
     ``ReLU(max_f s·c) + t`` for ``s ≥ 0`` and ``min(max_f s·c, 0) + t`` for ``s < 0``, so one
     conv per block, a max pool over frequency, and a float epilogue on the pooled
     ``(M, 561, T)`` maps. ReLU cannot be fused into the conv here: 80% of the timbral channels
     have ``s < 0`` and need the negative side;
   * ``int8-x86``: the five front-end convs and their max pools quantised by FX graph mode
     static PTQ with the default x86 qconfig (uint8 activations, histogram observer, 7-bit
     reduced range; per-channel symmetric int8 weights), calibrated on 64 real windows, all on
     the x86 (fbgemm) kernels;
   * ``int8-mixed``: the same, with the three temporal convs (one input channel, kernels
     128/64/32 x 1) repacked for oneDNN's kernels, faster than fbgemm's for those shapes;
   * ``int8-mixed-eq``: ``int8-mixed`` with per-channel output equalisation
     (:meth:`FoldedFrontEnd.equalize`: each channel's relevant pooled range is scaled, and for
     ``s < 0`` shifted, onto one common ``[0, 1]``, so a ReLU can follow and is fused
     (``ConvReLU2d``) and one per-tensor output scale serves every channel); the conv output
     qparams are set to that range (8 bit) instead of the observer's;
   * ``float32-pruned``: the front end's dead filters dropped. 497 of the 561 front-end filters
     of the shipped MSD weights have all weights ≤ 2.2e-7 in magnitude (the live ones ≥ 9.4e-4):
     their output is the constant ``BN(ReLU(bias))`` (to ~1e-9), restored in place. Only 64
     filters are computed (23, 14, 3, 7, 17 per block); exact to float rounding;
   * ``int8-pruned-eq``: pruned and equalised, the timbral convs int8 on x86 kernels, the
     temporal 64/32 convs int8 on oneDNN, temporal 128 left float32 (int8 is no faster there);
   * ``int8-pruned-eq-u8in``: the same with full 8-bit conv inputs (no reduced range), to show
     why the x86 qconfig reduces it: without VNNI, fbgemm's u8·s8 pair sums saturate int16.

3. **Speed**: CPU seconds per window of musicnn alone and of the whole v2 forward (batch 16 real
   windows, one thread), the median of interleaved repeats (process CPU time, robust on a
   shared machine).
4. **Fidelity** on held-out windows (clips and artists disjoint from the calibration ones):
   per-patch penultimate (200-d) cosine similarity and relative L2 error vs float32, the 50 tag
   probabilities' largest absolute difference, and the shipped v2's outputs with its musicnn
   swapped: quadrant agreement with float32, ``|Δvalence|``, ``|Δarousal|``.

Data: clips of ``../shared/data/emotion4q`` (labels.csv), decoded with the project's
:func:`m2p_core.audio.decode.decode_audio` at 16 kHz mono; 10-s windows at 0, 10 and 20 s.
Nothing is copied into the repository.

Usage
-----
    nice -n 19 env OMP_NUM_THREADS=1 python scripts/musicnn_int8_experiment.py \
        [--data ../shared/data/emotion4q] [--eval-clips 64] [--repeats 7] \
        [--out out/musicnn-int8.json]

Takes ~15 minutes of CPU time on one core. Writes ``out/musicnn-int8.json`` and prints the tables.

Notes
-----
FX tracing of the shipped module fails (``TraceError``: its front-end blocks branch on
``bool(neg.any())``, a data-dependent condition), and so does ``torch.export``; PT2E
quantisation (``prepare_pt2e``) moved to torchao, which this environment does not have. Hence
the traceable rewrite of the front end, which keeps the shipped weights.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from m2p_core.audio.decode import decode_audio
from m2p_core.model.checkpoint import load_checkpoint, resolve_model_path
from m2p_core.model.musicnn import (
    DEAD_FILTER_ABS,
    N_MELS,
    PATCH_FRAMES,
    SR,
    MusicNN,
    patches,
)
from m2p_core.model.russell import QUADRANTS, quadrant_of

WINDOW_S = 10.0
BATCH = 16


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------

def select_clips(labels_csv: Path, n_calib: int, n_eval: int, seed: int = 0
                 ) -> tuple[list[dict], list[dict]]:
    """Calibration and held-out clips, stratified by quadrant, one clip per artist, with the
    two sets artist-disjoint."""
    with open(labels_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    order = np.random.default_rng(seed).permutation(len(rows))
    rows = [rows[i] for i in order]
    calib, evals, used = [], [], set()
    for target, k in ((calib, n_calib // 4), (evals, n_eval // 4)):
        for q in QUADRANTS:
            picked = 0
            for r in rows:
                if picked == k:
                    break
                if r["quadrant"] == q and r["artist"] not in used:
                    target.append(r)
                    used.add(r["artist"])
                    picked += 1
    return calib, evals


def load_windows(data: Path, clips: list[dict], offsets_s: tuple[float, ...]
                 ) -> tuple[torch.Tensor, list[dict]]:
    """(W, 160000) float32 windows at the given offsets (only those that fit in the clip)."""
    n = int(WINDOW_S * SR)
    waves, meta = [], []
    for clip in clips:
        audio = decode_audio(str(data / clip["path"]), SR)
        for off in offsets_s:
            start = int(off * SR)
            if start + n <= len(audio):
                waves.append(torch.from_numpy(np.ascontiguousarray(audio[start:start + n])))
                meta.append({"clip_id": clip["clip_id"], "offset_s": off,
                             "quadrant": clip["quadrant"]})
    return torch.stack(waves).float(), meta


# --------------------------------------------------------------------------
# Traceable, BN-folded front end
# --------------------------------------------------------------------------

class FoldedFrontEnd(nn.Module):
    """musicnn's front end rewritten without data-dependent control flow (FX-traceable).

    The batch-normalised input is zero-padded once by the largest time padding (63, 64) and each
    block reads its own time span of it; each block's BN scale ``s`` is folded into its conv
    (``W·s``, ``b·s``); a max pool over the whole frequency axis follows; then, on the pooled
    ``(M, C, T)`` maps, ``ReLU`` for ``s ≥ 0`` and ``min(·, 0)`` for ``s < 0`` (exact: the
    shipped block takes ``min_f`` for negative scales) and the BN shift ``t``.

    With ``prune=True`` the dead filters (musicnn's ``DEAD_FILTER_ABS``) are dropped
    from the convs: their output is the constant ``BN(ReLU(bias))``, which is concatenated back
    in the original channel order.
    """

    def __init__(self, fe: nn.Module, n_frames: int = PATCH_FRAMES, prune: bool = False):
        super().__init__()
        self.input_bn = copy.deepcopy(fe.input_bn)
        blocks = list(fe.timbral) + list(fe.temporal)
        self.pad = (max(b.pad_time[0] for b in blocks), max(b.pad_time[1] for b in blocks))
        self.convs = nn.ModuleList()
        self.spans: list[tuple[int, int]] = []
        self.widths: list[int] = []
        pos, shift, alive_idx, dead_idx, dead_val = [], [], [], [], []
        offset = 0
        for b in blocks:
            s, t = (a.detach() for a in b.bn_affine())
            w, bias = b.conv.weight.detach(), b.conv.bias.detach()
            alive = b.live_filters()
            if not prune:
                alive = torch.ones_like(alive)
            conv = nn.Conv2d(1, int(alive.sum()), b.conv.kernel_size)
            with torch.no_grad():
                conv.weight.copy_((w * s[:, None, None, None])[alive])
                conv.bias.copy_((bias * s)[alive])
            self.convs.append(conv)
            lo = self.pad[0] - b.pad_time[0]
            self.spans.append((lo, lo + n_frames + sum(b.pad_time)))
            self.widths.append(N_MELS - b.conv.kernel_size[1] + 1)
            pos.append((s >= 0)[alive])
            shift.append(t[alive])
            d = (s * bias)[~alive]  # a dead filter's folded output: its (scaled) bias
            dead_val.append(torch.where(s[~alive] >= 0, d.clamp_min(0), d.clamp_max(0))
                            + t[~alive])
            alive_idx.append(offset + torch.nonzero(alive).flatten())
            dead_idx.append(offset + torch.nonzero(~alive).flatten())
            offset += s.numel()
        self.register_buffer("pos", torch.cat(pos)[None, :, None])
        self.register_buffer("shift", torch.cat(shift)[None, :, None])
        self.register_buffer("dead_val", torch.cat(dead_val)[None, :, None])
        # per-channel output equalisation (identity until :meth:`equalize`)
        self.register_buffer("inv_gain", torch.ones_like(self.shift))
        self.register_buffer("off", torch.zeros_like(self.shift))
        self.equalized = False
        self.out_range = float("nan")
        # position in cat([alive, dead]) of each original channel
        order = torch.cat(alive_idx + dead_idx)
        self.register_buffer("perm", torch.argsort(order))
        self.n_alive = int(self.pos.shape[1])
        self.n_channels = offset

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """``(M, T, 96)`` -> the alive channels' max over frequency ``(M, C_alive, T)``."""
        x = self.input_bn(x.unsqueeze(1))
        x = F.pad(x, (0, 0, self.pad[0], self.pad[1]))
        pooled = []
        for conv, (lo, hi), w in zip(self.convs, self.spans, self.widths, strict=True):
            d = conv(x[:, :, lo:hi])
            if self.equalized:
                d = F.relu(d)
            pooled.append(F.max_pool2d(d, (1, w)))
        return torch.cat(pooled, 1).squeeze(3)

    @torch.no_grad()
    def equalize(self, calib_patches: torch.Tensor, out_range: float = 1.0,
                 margin: float = 1.05) -> FoldedFrontEnd:
        """A copy whose convs' relevant output ranges all map to ``[0, out_range]``.

        Only the pooled value ``m = max_f d`` matters, and only its positive part for ``s ≥ 0``
        (``[0, r]``), its negative part for ``s < 0`` (``[-r, 0]``); ``r`` per channel from the
        calibration patches (times ``margin``). Channel ``c``'s conv is scaled by
        ``g = out_range / r`` and, for ``s < 0``, shifted by ``+out_range``, so one per-tensor
        output scale serves every channel at full resolution, and a ReLU can follow the conv
        (fused by FX): the float result only changes where ``m`` leaves the calibrated range.
        The epilogue undoes it: ``relu(m)/g`` resp. ``-relu(out_range - m)/g``.
        """
        new = copy.deepcopy(self)
        m = torch.cat([self.pooled(c) for c in calib_patches.split(48)])
        pos = self.pos[0, :, 0]
        r = torch.where(pos, m.amax((0, 2)).clamp_min(0), (-m.amin((0, 2))).clamp_min(0))
        r = torch.maximum(r, 1e-3 * r.max()) * margin
        gain = out_range / r
        off = torch.where(pos, 0.0, out_range)
        i = 0
        for conv in new.convs:
            n = conv.out_channels
            conv.weight.mul_(gain[i:i + n, None, None, None])
            conv.bias.mul_(gain[i:i + n]).add_(off[i:i + n])
            i += n
        new.inv_gain.copy_((1 / gain)[None, :, None])
        new.off.copy_(off[None, :, None])
        new.equalized = True
        new.out_range = out_range
        return new

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(M, T, 96)`` log-mel patches -> ``(M, 561, T)`` (timbral then temporal)."""
        m = self.pooled(x)
        out = (torch.where(self.pos, F.relu(m), -F.relu(self.off - m)) * self.inv_gain
               + self.shift)
        if self.n_alive == self.n_channels:
            return out
        dead = torch.zeros_like(out[:, :1]) + self.dead_val  # (M, n_dead, T)
        return torch.cat([out, dead], 1).index_select(1, self.perm)


class SwappedMusicNN(nn.Module):
    """:class:`MusicNN`'s forward contract with a replaced front end (float or quantised)."""

    def __init__(self, musicnn: MusicNN, frontend: nn.Module):
        super().__init__()
        self.base = musicnn
        self.frontend = frontend

    def forward_patches(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        mid = self.base.midend(self.frontend(x))
        out = self.base.backend(torch.cat(mid, dim=1))
        out["tags"] = torch.sigmoid(out["logits"])
        return out

    def forward(self, waveform: torch.Tensor,
                hop_frames: int | None = None) -> dict[str, torch.Tensor]:
        x = patches(self.base.logmel(waveform), PATCH_FRAMES, hop_frames)
        b, p = x.shape[:2]
        out = self.forward_patches(x.reshape(b * p, *x.shape[2:]))
        return {k: v.reshape(b, p, *v.shape[1:]) for k, v in out.items()}


# --------------------------------------------------------------------------
# Quantisation
# --------------------------------------------------------------------------

def quantize_frontend(fe: FoldedFrontEnd, calib_patches: torch.Tensor,
                      conv_names: tuple[str, ...], onednn_names: tuple[str, ...] = (),
                      out_qmax: int = 0, reduce_range: bool = True) -> nn.Module:
    """FX graph mode static PTQ of the named convs of ``fe`` (``"0"``..``"4"``: timbral 7x38,
    7x67, temporal 128, 64, 32), x86 qconfig, calibrated on ``calib_patches``; the convs in
    ``onednn_names`` are repacked afterwards for the oneDNN kernels."""
    from torch.ao.quantization import (
        HistogramObserver,
        QConfig,
        QConfigMapping,
        get_default_qconfig,
    )
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    torch.backends.quantized.engine = "x86"
    qconfig = get_default_qconfig("x86")
    if not reduce_range:  # 8-bit activations (risks int16 saturation in fbgemm without VNNI)
        qconfig = QConfig(activation=HistogramObserver.with_args(reduce_range=False),
                          weight=qconfig.weight)
    mapping = QConfigMapping().set_object_type(F.max_pool2d, qconfig)
    for name in conv_names:
        mapping.set_module_name(f"convs.{name}", qconfig)
    prepared = prepare_fx(copy.deepcopy(fe).eval(), mapping, (calib_patches[:2],))
    with torch.no_grad():
        for chunk in calib_patches.split(48):
            prepared(chunk)
    converted = convert_fx(prepared)
    if out_qmax:
        # equalised front end: every conv's relevant output range is [0, fe.out_range]; set the
        # output quantisation to it instead of the observer's (which sees irrelevant values)
        for name in conv_names:
            mod = converted.get_submodule(f"convs.{name}")
            mod.scale = fe.out_range / out_qmax
            mod.zero_point = 0
    for name in onednn_names:
        mod = converted.get_submodule(f"convs.{name}")
        torch.backends.quantized.engine = "onednn"
        try:
            mod.set_weight_bias(mod.weight(), mod.bias())
        finally:
            torch.backends.quantized.engine = "x86"
    return converted


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------

def cpu_time(fn: Callable[[], object]) -> float:
    c0 = time.process_time()
    fn()
    return time.process_time() - c0


def interleaved(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median process CPU time of each function over ``repeats`` interleaved rounds (after one
    warm-up round)."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    with torch.no_grad():
        for f in fns.values():
            f()
        for _ in range(repeats):
            for k, f in fns.items():
                times[k].append(cpu_time(f))
    return {k: statistics.median(v) for k, v in times.items()}


def profile_musicnn(mn: MusicNN, waves: torch.Tensor, repeats: int) -> dict:
    """CPU seconds (per batch) of musicnn's stages, float32."""
    fe = mn.frontend
    with torch.no_grad():
        lm = patches(mn.logmel(waves))
        x = lm.reshape(-1, *lm.shape[2:])
        xi = fe.input_bn(x.unsqueeze(1))
        blocks = {"timbral 7x38": fe.timbral[0], "timbral 7x67": fe.timbral[1],
                  "temporal 128x1": fe.temporal[0], "temporal 64x1": fe.temporal[1],
                  "temporal 32x1": fe.temporal[2]}
        padded = {k: F.pad(xi, (0, 0, *b.pad_time)) for k, b in blocks.items()}
        timbral, temporal = fe(x)
        mid = mn.midend(torch.cat([timbral, temporal], 1))
        cat = torch.cat(mid, 1)
    fns: dict[str, Callable[[], object]] = {
        "log-mel front end (STFT, mel, log, patching)": lambda: patches(mn.logmel(waves)),
        "input batch norm": lambda: fe.input_bn(x.unsqueeze(1)),
    }
    for k, b in blocks.items():
        fns[f"{k}: conv only"] = lambda b=b, k=k: b.conv(padded[k])
        fns[f"{k}: whole block"] = lambda b=b: b(xi)
    fns["mid end (3 Conv1d + BN)"] = lambda: mn.midend(torch.cat([timbral, temporal], 1))
    fns["back end (pool, 2 dense)"] = lambda: mn.backend(cat)
    fns["total musicnn forward"] = lambda: mn(waves)
    med = interleaved(fns, repeats)
    total = med["total musicnn forward"]
    blocks_total = sum(med[f"{k}: whole block"] for k in blocks)
    conv_total = sum(med[f"{k}: conv only"] for k in blocks)
    split = {
        "log-mel front end": med["log-mel front end (STFT, mel, log, patching)"],
        "front-end convs (5 blocks incl. input BN, max over freq, ReLU, BN)":
            blocks_total + med["input batch norm"],
        "  of which the 5 convolutions alone": conv_total,
        "  of which max over freq + ReLU + BN": blocks_total - conv_total,
        "mid end": med["mid end (3 Conv1d + BN)"],
        "back end (pooling + dense)": med["back end (pool, 2 dense)"],
    }
    return {"batch_windows": int(waves.shape[0]), "patches": int(x.shape[0]),
            "cpu_s_per_batch": med, "split_cpu_s_per_batch": split,
            "split_share_of_total": {k: v / total for k, v in split.items()},
            "total_cpu_s_per_batch": total}


# --------------------------------------------------------------------------
# Fidelity
# --------------------------------------------------------------------------

def run_all(model: nn.Module, variant: nn.Module, waves: torch.Tensor) -> dict[str, torch.Tensor]:
    """musicnn outputs per patch and v2's valence/arousal per window, with ``variant`` swapped in
    as v2's musicnn."""
    orig = model.musicnn
    model.musicnn = variant
    try:
        outs: dict[str, list[torch.Tensor]] = {"penultimate": [], "tags": [], "va": []}
        with torch.no_grad():
            for chunk in waves.split(BATCH):
                m = variant(chunk)
                outs["penultimate"].append(m["penultimate"].reshape(-1, 200))
                outs["tags"].append(m["tags"].reshape(-1, m["tags"].shape[-1]))
                outs["va"].append(model(chunk)["valence_arousal"])
    finally:
        model.musicnn = orig
    return {k: torch.cat(v) for k, v in outs.items()}


def fidelity(ref: dict[str, torch.Tensor], alt: dict[str, torch.Tensor], labels: list[str]
             ) -> dict:
    pr, pa = ref["penultimate"].double(), alt["penultimate"].double()
    cos = F.cosine_similarity(pr, pa, dim=1)
    rel = (pa - pr).norm(dim=1) / pr.norm(dim=1).clamp_min(1e-12)
    dtag = (alt["tags"] - ref["tags"]).abs()
    dva = (alt["va"] - ref["va"]).abs()
    q_ref = [quadrant_of(float(v), float(a)) for v, a in ref["va"]]
    q_alt = [quadrant_of(float(v), float(a)) for v, a in alt["va"]]
    agree = float(np.mean([a == b for a, b in zip(q_ref, q_alt, strict=True)]))
    return {
        "patches": int(pr.shape[0]), "windows": int(ref["va"].shape[0]),
        "penultimate_cosine": {"median": float(cos.median()), "min": float(cos.min()),
                               "mean": float(cos.mean())},
        "penultimate_rel_l2": {"median": float(rel.median()), "max": float(rel.max()),
                               "mean": float(rel.mean())},
        "tags_max_abs_diff": float(dtag.max()),
        "tags_mean_abs_diff": float(dtag.mean()),
        "quadrant_agreement": agree,
        "quadrant_disagreements": int(sum(a != b for a, b in zip(q_ref, q_alt, strict=True))),
        "valence_abs_diff": {"mean": float(dva[:, 0].mean()), "max": float(dva[:, 0].max())},
        "arousal_abs_diff": {"mean": float(dva[:, 1].mean()), "max": float(dva[:, 1].max())},
        "label_accuracy": float(np.mean([a == b for a, b in zip(q_alt, labels, strict=True)])),
    }


# --------------------------------------------------------------------------
# Variants
# --------------------------------------------------------------------------

def _spec(description: str, prune: bool = False, equalize: bool = False,
          int8: tuple[str, ...] = (), onednn: tuple[str, ...] = (),
          reduce_range: bool = True) -> dict:
    return {"description": description, "prune": prune, "equalize": equalize, "int8": int8,
            "onednn": onednn, "reduce_range": reduce_range}


ALL_CONVS = ("0", "1", "2", "3", "4")
#: the variants beside the shipped float32 musicnn (conv names: 0, 1 timbral 7x38, 7x67;
#: 2, 3, 4 temporal 128x1, 64x1, 32x1)
VARIANTS: dict[str, dict] = {
    "float32-folded": _spec("traceable rewrite, BN folded into the convs, float32"),
    "int8-x86": _spec("all 5 front-end convs int8, default x86 qconfig, x86 (fbgemm) kernels",
                      int8=ALL_CONVS),
    "int8-mixed": _spec("as int8-x86, temporal convs on oneDNN kernels",
                        int8=ALL_CONVS, onednn=("2", "3", "4")),
    "int8-mixed-eq": _spec("as int8-mixed, with per-channel output equalisation, Conv+ReLU "
                           "fused, output qparams = the equalised range (8 bit)",
                           equalize=True, int8=ALL_CONVS, onednn=("2", "3", "4")),
    "float32-pruned": _spec("dead filters dropped (their constant output restored), float32",
                            prune=True),
    "int8-pruned-eq": _spec("pruned + equalised; timbral int8 (x86), temporal 64/32 int8 "
                            "(oneDNN), temporal 128 float32 (int8 is slower there)",
                            prune=True, equalize=True, int8=("0", "1", "3", "4"),
                            onednn=("3", "4")),
    "int8-pruned-eq-u8in": _spec("as int8-pruned-eq with 8-bit (not 7-bit) conv inputs: "
                                 "fbgemm's u8*s8 pairs saturate int16 without VNNI",
                                 prune=True, equalize=True, int8=("0", "1", "3", "4"),
                                 onednn=("3", "4"), reduce_range=False),
}


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/emotion4q"))
    parser.add_argument("--calib-clips", type=int, default=32,
                        help="calibration clips (2 windows each: 0 and 10 s)")
    parser.add_argument("--eval-clips", type=int, default=64,
                        help="held-out clips (windows at 0, 10, 20 s where they fit)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("out/musicnn-int8.json"))
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = load_checkpoint(resolve_model_path("default")).model
    mn = model.musicnn

    calib_clips, eval_clips = select_clips(args.data / "labels.csv", args.calib_clips,
                                           args.eval_clips)
    calib_waves, calib_meta = load_windows(args.data, calib_clips, (0.0, 10.0))
    eval_waves, eval_meta = load_windows(args.data, eval_clips, (0.0, 10.0, 20.0))
    print(f"calibration: {len(calib_meta)} windows of {len(calib_clips)} clips; held out: "
          f"{len(eval_meta)} windows of {len(eval_clips)} clips (artist-disjoint)", flush=True)
    bench_waves = eval_waves[::max(1, len(eval_waves) // BATCH)][:BATCH]

    # 1. profile
    prof = profile_musicnn(mn, bench_waves, args.repeats)
    print("\n== profile: musicnn float32, batch 16 windows (48 patches), 1 thread ==")
    total = prof["total_cpu_s_per_batch"]
    for k, v in prof["split_cpu_s_per_batch"].items():
        print(f"{k:<70} {v:7.3f} s  {100 * v / total:5.1f}%")
    print(f"{'total musicnn forward':<70} {total:7.3f} s")
    for k, v in prof["cpu_s_per_batch"].items():
        print(f"    {k:<66} {v:7.3f} s")

    # 2. variants
    with torch.no_grad():
        calib_lm = patches(mn.logmel(calib_waves))
    calib_patches = calib_lm.reshape(-1, *calib_lm.shape[2:])
    pruned = FoldedFrontEnd(mn.frontend, prune=True)
    alive_counts = {name: {"alive": c.out_channels, "of": b.conv.out_channels}
                    for name, c, b in zip(("timbral 7x38", "timbral 7x67", "temporal 128x1",
                                           "temporal 64x1", "temporal 32x1"), pruned.convs,
                                          list(mn.frontend.timbral) + list(mn.frontend.temporal),
                                          strict=True)}
    print(f"alive front-end filters (max |w| > {DEAD_FILTER_ABS:g}): {alive_counts}")
    variants: dict[str, nn.Module] = {"float32": mn}
    specs: dict[str, dict] = {"float32": {"description": "shipped MusicNN"}}
    errors: dict[str, str] = {}
    for name, spec in VARIANTS.items():
        specs[name] = spec
        try:
            fe = FoldedFrontEnd(mn.frontend, prune=spec["prune"]).eval()
            if spec["equalize"]:
                fe = fe.equalize(calib_patches)
            if spec["int8"]:
                fe = quantize_frontend(fe, calib_patches, spec["int8"], spec["onednn"],
                                       out_qmax=255 if spec["equalize"] else 0,
                                       reduce_range=spec["reduce_range"])
            variants[name] = SwappedMusicNN(mn, fe).eval()
        except Exception as e:  # report, keep going
            errors[name] = f"{type(e).__name__}: {e}"
            print(f"{name}: failed: {errors[name]}", file=sys.stderr)

    # 3. speed
    musicnn_fns = {k: (lambda v=v: v(bench_waves)) for k, v in variants.items()}

    def v2_fn(v: nn.Module) -> Callable[[], object]:
        def run() -> object:
            orig = model.musicnn
            model.musicnn = v
            try:
                return model(bench_waves)
            finally:
                model.musicnn = orig
        return run

    v2_fns = {k: v2_fn(v) for k, v in variants.items()}
    speed_mn = interleaved(musicnn_fns, args.repeats)
    speed_v2 = interleaved(v2_fns, args.repeats)

    # 4. fidelity
    labels = [m["quadrant"] for m in eval_meta]
    ref = run_all(model, mn, eval_waves)
    results = {}
    for k, v in variants.items():
        alt = ref if k == "float32" else run_all(model, v, eval_waves)
        results[k] = {
            "musicnn_cpu_s_per_window": speed_mn[k] / BATCH,
            "musicnn_speedup_vs_float32": speed_mn["float32"] / speed_mn[k],
            "v2_cpu_s_per_window": speed_v2[k] / BATCH,
            "v2_speedup_vs_float32": speed_v2["float32"] / speed_v2[k],
            "musicnn_speedup_vs_float32_pruned": (speed_mn["float32-pruned"] / speed_mn[k]
                                                  if "float32-pruned" in speed_mn else None),
            "v2_speedup_vs_float32_pruned": (speed_v2["float32-pruned"] / speed_v2[k]
                                             if "float32-pruned" in speed_v2 else None),
            "spec": specs[k],
            "fidelity_vs_float32": fidelity(ref, alt, labels),
        }

    print(f"\n== variants: batch {BATCH} windows, 1 thread; fidelity on {len(eval_meta)} held-out "
          "windows ==")
    print("(x: speed-up vs float32 / vs float32-pruned; cos, relL2: per-patch penultimate; quad "
          "agr: v2 quadrant agreement with float32; acc: v2 quadrant vs the clip label)")
    print(f"{'variant':<20} {'mn s/win':>8} {'x':>5} {'x/pr':>5} {'v2 s/win':>8} {'x':>5} "
          f"{'x/pr':>5} {'cos med':>8} {'cos min':>8} {'relL2':>7} {'tag maxd':>8} "
          f"{'quad agr':>8} {'|dv|':>6} {'|da|':>6} {'max|dv|':>7} {'max|da|':>7} {'acc':>5}")
    for k, r in results.items():
        f = r["fidelity_vs_float32"]
        xp_mn = r["musicnn_speedup_vs_float32_pruned"] or float("nan")
        xp_v2 = r["v2_speedup_vs_float32_pruned"] or float("nan")
        print(f"{k:<20} {r['musicnn_cpu_s_per_window']:>8.4f} "
              f"{r['musicnn_speedup_vs_float32']:>5.2f} {xp_mn:>5.2f} "
              f"{r['v2_cpu_s_per_window']:>8.4f} {r['v2_speedup_vs_float32']:>5.2f} "
              f"{xp_v2:>5.2f} {f['penultimate_cosine']['median']:>8.5f} "
              f"{f['penultimate_cosine']['min']:>8.5f} {f['penultimate_rel_l2']['median']:>7.4f} "
              f"{f['tags_max_abs_diff']:>8.4f} {f['quadrant_agreement']:>8.3f} "
              f"{f['valence_abs_diff']['mean']:>6.4f} {f['arousal_abs_diff']['mean']:>6.4f} "
              f"{f['valence_abs_diff']['max']:>7.4f} {f['arousal_abs_diff']['max']:>7.4f} "
              f"{f['label_accuracy']:>5.3f}")

    report = {
        "command": "nice -n 19 env OMP_NUM_THREADS=1 python scripts/musicnn_int8_experiment.py "
                   + " ".join(argv if argv is not None else sys.argv[1:]),
        "environment": {
            "torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "processor": platform.processor() or platform.machine(),
            "torch_threads": torch.get_num_threads(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
            "quantized_engines": list(torch.backends.quantized.supported_engines),
        },
        "timing": "process CPU time, median of interleaved repeats after a warm-up",
        "repeats": args.repeats,
        "data": {"calibration_windows": len(calib_meta), "heldout_windows": len(eval_meta),
                 "calibration_clips": [c["clip_id"] for c in calib_clips],
                 "heldout_clips": [c["clip_id"] for c in eval_clips]},
        "profile_float32": prof,
        "alive_filters_per_block": alive_counts,
        "variants": results,
        "errors": errors,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
