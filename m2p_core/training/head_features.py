"""Per-window features for the v2 emotion head, computed once per clip and cached.

Every clip of a manifest is decoded at 16 kHz through the training audio cache
(:func:`m2p_core.training.data.load_waves`) and cut into the windows the evaluation scores
(10 s, every 5 s, each fully inside the clip; one zero-padded window for a clip shorter than
that). For each window the v2 model's :meth:`~m2p_core.model.v2.Music2PaletteV2.window_features`
gives every block of :data:`~m2p_core.model.v2.FEATURE_BLOCKS` (musicnn's penultimate, tags and
mid-end pools averaged over the window's three 3-s patches; v1's descriptors, CNN and SVM
logits) and v1's combined logits. Two ``.npz`` per clip under ``cache_dir("head-features")``,
one for the musicnn blocks (the costly part) and one for v1's, each keyed by the audio file's
content, its codec variant, the windowing and a digest of that network's weights: an interrupted
extraction resumes, and retraining v1 recomputes only v1's cheap part. Features only, never
audio.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from m2p_core.files import atomic_path, cache_dir, file_digest
from m2p_core.model.v2 import FEATURE_BLOCKS, MUSICNN_BLOCKS, V1_BLOCKS, Music2PaletteV2
from m2p_core.training.data import default_cache_dir, load_waves
from m2p_core.training.manifest import ManifestRow

HEAD_FEATURES_VERSION = 1  # bump when the windowing or a block's definition changes
EXTRA_BLOCKS = ("v1_logits",)  # cached beside the head's blocks (v1's combined logits)
#: the two cached parts of a clip: name -> its blocks
PARTS = {"musicnn": MUSICNN_BLOCKS, "v1": (*V1_BLOCKS, *EXTRA_BLOCKS)}


@dataclass
class HeadFeatures:
    """Per-window features of a manifest's clips."""

    blocks: dict[str, np.ndarray]  # name -> (W, d) float32
    clip_index: np.ndarray  # (W,) int: row of the manifest
    start_s: np.ndarray  # (W,) float32

    def stack(self, names: Sequence[str]) -> np.ndarray:
        """(W, sum of widths) float64: the named blocks side by side."""
        return np.concatenate([self.blocks[n] for n in names], axis=1).astype(np.float64)

    def subset(self, windows: np.ndarray) -> HeadFeatures:
        return HeadFeatures({k: v[windows] for k, v in self.blocks.items()},
                            self.clip_index[windows], self.start_s[windows])


def head_window_starts(n_samples: int, window_n: int, hop_n: int) -> list[int]:
    """Starts of the windows scored for a clip: every ``hop_n`` while a full window fits."""
    return list(range(0, max(0, n_samples - window_n) + 1, hop_n))


def head_windows(wave: np.ndarray, window_n: int, hop_n: int) -> tuple[list[int], np.ndarray]:
    """A clip's scored windows: their starts (:func:`head_window_starts`, samples) and the
    windows themselves, (W, window_n) float32, zero-padded where the clip is shorter."""
    starts = head_window_starts(len(wave), window_n, hop_n)
    x = np.zeros((len(starts), window_n), dtype=np.float32)
    for i, s in enumerate(starts):
        seg = wave[s : s + window_n]
        x[i, : len(seg)] = seg
    return starts, x


def state_digest(module: torch.nn.Module) -> str:
    """sha256 (16 hex) of a module's parameters and buffers: identifies the weights."""
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def clip_key(path: str, part: str, model_digest: str, window_s: float, hop_s: float,
             variant: str = "orig") -> str:
    """Cache key of one part ("musicnn" or "v1") of a clip's features, the clip decoded
    through the codec ``variant`` (:data:`~m2p_core.training.codec_augment.CODEC_VARIANTS`).
    The clip is identified by its content (:func:`~m2p_core.files.file_digest`)."""
    ident = {"v": HEAD_FEATURES_VERSION, "part": part, "file": file_digest(path),
             "model": model_digest, "window_s": window_s, "hop_s": hop_s}
    if variant != "orig":
        ident["variant"] = variant
    prefix = part if variant == "orig" else f"{variant}-{part}"
    return f"{prefix}-{hashlib.sha256(json.dumps(ident).encode()).hexdigest()[:24]}"


def _part_paths(rows: Sequence[ManifestRow], model: Music2PaletteV2, hop_s: float,
                variant: str, feature_cache: Path) -> list[dict[str, Path]]:
    """Per clip: part -> its cache file."""
    digests = {"musicnn": state_digest(model.musicnn), "v1": state_digest(model.base)}
    window_s = model.config.window_s
    return [{p: feature_cache / f"{clip_key(row.path, p, d, window_s, hop_s, variant)}.npz"
             for p, d in digests.items()} for row in rows]


def missing_head_features(rows: Sequence[ManifestRow], model: Music2PaletteV2,
                          hop_s: float = 5.0, variant: str = "orig",
                          feature_cache: Path | None = None) -> list[int]:
    """Indices of the ``rows`` whose features :func:`extract_head_features` would compute (a
    part not in the cache), without computing anything."""
    paths = _part_paths(rows, model, hop_s, variant, feature_cache or cache_dir("head-features"))
    return [i for i, parts in enumerate(paths) if not all(p.is_file() for p in parts.values())]


@torch.no_grad()
def clip_window_features(model: Music2PaletteV2, wave: np.ndarray, hop_s: float = 5.0,
                         parts: tuple[str, ...] = tuple(PARTS)) -> dict[str, np.ndarray]:
    """The blocks of ``parts`` (and ``start_s``) of one clip's windows."""
    sr, win = model.config.sample_rate, model.config.window_samples
    starts, x = head_windows(wave, win, int(round(hop_s * sr)))
    blocks = tuple(b for p in parts for b in PARTS[p] if b in FEATURE_BLOCKS)
    enc, feats = model.window_features(torch.from_numpy(x), blocks)
    out = {k: v.numpy().astype(np.float32) for k, v in feats.items()}
    if "v1" in parts:
        out["v1_logits"] = enc["va_logits"].numpy().astype(np.float32)
    out["start_s"] = np.array(starts, dtype=np.float32) / sr
    return out


def extract_head_features(
    rows: Sequence[ManifestRow], model: Music2PaletteV2, hop_s: float = 5.0,
    audio_cache: Path | None = None, feature_cache: Path | None = None,
    log: Callable[[str], None] = print, variant: str = "orig",
) -> HeadFeatures:
    """Per-window features of every clip of ``rows`` (cached per clip, see the module doc),
    each clip decoded through the codec ``variant`` (default: the file as it is).

    ``model`` supplies v1 and musicnn (its head is not used). Run it with few torch threads
    on a shared machine; each clip is decoded (through the audio cache) only when its
    features are not cached yet."""
    model.eval()
    audio_cache = audio_cache or default_cache_dir()
    feature_cache = feature_cache or cache_dir("head-features")
    feature_cache.mkdir(parents=True, exist_ok=True)
    per_clip, t0, computed = [], time.time(), 0
    for i, (row, paths) in enumerate(zip(rows, _part_paths(rows, model, hop_s, variant,
                                                          feature_cache), strict=True)):
        feats: dict[str, np.ndarray] = {}
        for path in paths.values():
            if path.is_file():
                with np.load(path) as z:
                    feats.update({k: z[k] for k in z.files})
        missing = tuple(p for p, path in paths.items() if not path.is_file())
        if missing:
            wave = load_waves([row], model.config.sample_rate, audio_cache, workers=1,
                              variant=variant)[0]
            new = clip_window_features(model, wave, hop_s, missing)
            for part in missing:
                with atomic_path(paths[part]) as tmp, open(tmp, "wb") as f:
                    np.savez(f, start_s=new["start_s"], **{b: new[b] for b in PARTS[part]})
            feats.update(new)
            computed += 1
            if computed % 25 == 0:
                log(f"[head] features {variant} {i + 1}/{len(rows)} clips ({computed} "
                    f"computed, {time.time() - t0:.0f}s)")
        per_clip.append(feats)
    log(f"[head] features {variant} of {len(rows)} clips ready ({computed} computed, "
        f"{time.time() - t0:.0f}s)")
    names = [*FEATURE_BLOCKS, *EXTRA_BLOCKS]
    return HeadFeatures(
        blocks={n: np.concatenate([c[n] for c in per_clip]) for n in names},
        clip_index=np.concatenate([np.full(len(c["start_s"]), i, dtype=np.int32)
                                   for i, c in enumerate(per_clip)]),
        start_s=np.concatenate([c["start_s"] for c in per_clip]),
    )
