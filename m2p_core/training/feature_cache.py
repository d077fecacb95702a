"""Front-end features of training clips, computed once per (clip, window, codec variant).

The front end has no learned parameters, so training the encoder and the colour decoder can
start from cached log-mel + descriptors instead of raw audio (about twice as fast on a CPU).
Windows start every ``hop_s`` seconds (finer than inference's hop, for crop augmentation).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from m2p_core.files import atomic_path, file_digest
from m2p_core.model.frontend import LogMelFrontEnd
from m2p_core.model.network import ModelConfig

FEATURES_VERSION = 2  # bump when the front end changes


@dataclass
class WindowFeatures:
    logmel: np.ndarray  # (N, n_mels, T) float16
    descriptors: np.ndarray  # (N, D) float32
    clip_index: np.ndarray  # (N,) int32: row of the manifest
    start_s: np.ndarray  # (N,) float32

    def windows_of(self) -> dict[int, np.ndarray]:
        """clip index -> indices of its windows (in time order)."""
        order = np.lexsort((self.start_s, self.clip_index))
        clips, first = np.unique(self.clip_index[order], return_index=True)
        return {int(c): idx for c, idx in zip(clips, np.split(order, first[1:]), strict=True)}


def window_starts(n_samples: int, window_n: int, hop_n: int) -> list[int]:
    last = max(0, n_samples - window_n)
    starts = list(range(0, last + 1, hop_n))
    if starts[-1] != last and n_samples > window_n:
        starts.append(last)
    return starts


@torch.no_grad()
def compute_features(
    waves: Sequence[np.ndarray], config: ModelConfig, hop_s: float = 2.5, batch: int = 64
) -> WindowFeatures:
    frontend = LogMelFrontEnd(config.sample_rate, config.n_fft, config.hop_length, config.n_mels)
    window_n = config.window_samples
    hop_n = int(round(hop_s * config.sample_rate))
    items = [(ci, s) for ci, w in enumerate(waves) for s in window_starts(len(w), window_n, hop_n)]
    logmels, descs = [], []
    for b in range(0, len(items), batch):
        chunk = items[b : b + batch]
        x = np.zeros((len(chunk), window_n), dtype=np.float32)
        for i, (ci, s) in enumerate(chunk):
            seg = waves[ci][s : s + window_n]
            x[i, : len(seg)] = seg
        lm, d = frontend(torch.from_numpy(x))
        logmels.append(lm.numpy().astype(np.float16))
        descs.append(d.numpy().astype(np.float32))
    return WindowFeatures(
        logmel=np.concatenate(logmels),
        descriptors=np.concatenate(descs),
        clip_index=np.array([ci for ci, _ in items], dtype=np.int32),
        start_s=np.array([s / config.sample_rate for _, s in items], dtype=np.float32),
    )


def _key(paths: Sequence[str], config: ModelConfig, hop_s: float, variant: str) -> str:
    ident = json.dumps({
        "v": FEATURES_VERSION, "files": [file_digest(p) for p in paths], "variant": variant,
        "hop_s": hop_s,
        "sr": config.sample_rate, "n_fft": config.n_fft, "hop": config.hop_length,
        "mels": config.n_mels, "window_s": config.window_s,
    })
    return hashlib.sha256(ident.encode()).hexdigest()[:20]


def cached_features(
    paths: Sequence[str], waves: Sequence[np.ndarray], config: ModelConfig, cache_dir: Path,
    variant: str, hop_s: float = 2.5,
) -> WindowFeatures:
    """compute_features, cached as .npz under ``cache_dir`` (never in the repository), keyed
    by the content of the audio files at ``paths`` (:func:`~m2p_core.files.file_digest`)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"features-{variant}-{_key(paths, config, hop_s, variant)}.npz"
    if path.is_file():
        with np.load(path) as z:
            return WindowFeatures(z["logmel"], z["descriptors"], z["clip_index"], z["start_s"])
    feats = compute_features(waves, config, hop_s)
    with atomic_path(path) as tmp:
        np.savez(tmp, logmel=feats.logmel, descriptors=feats.descriptors,
                 clip_index=feats.clip_index, start_s=feats.start_s)
    return feats
