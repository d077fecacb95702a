"""Training audio, decoded once per (clip, codec variant) and cached with its front-end
features under :func:`default_cache_dir` (never in the repository)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from m2p_core.files import atomic_path, cache_dir, file_digest
from m2p_core.model.network import ModelConfig
from m2p_core.training.codec_augment import decode_variant
from m2p_core.training.feature_cache import WindowFeatures, cached_features
from m2p_core.training.manifest import ManifestRow


def default_cache_dir() -> Path:
    """Where decoded training audio and features are cached (``cache_dir("audio")``)."""
    return cache_dir("audio")


def _cache_key(path: str, sample_rate: int, variant: str) -> str:
    ident = f"{file_digest(path)}|{sample_rate}"
    if variant != "orig":
        ident += f"|{variant}"
    return hashlib.sha256(ident.encode()).hexdigest()[:24]


def _load_one(args: tuple[str, int, str, str]) -> np.ndarray:
    path, sample_rate, cache_dir, variant = args
    cached = Path(cache_dir) / f"{_cache_key(path, sample_rate, variant)}.npy"
    if cached.is_file():
        return np.load(cached)
    wave = decode_variant(path, variant, sample_rate).astype(np.float32)
    with atomic_path(cached) as tmp:
        np.save(tmp, wave)
    return wave


def load_waves(
    rows: Sequence[ManifestRow], sample_rate: int, cache_dir: Path, workers: int = 2,
    variant: str = "orig",
) -> list[np.ndarray]:
    """Decode (or read from cache) every clip of the manifest, in manifest order, through the
    codec ``variant`` of :data:`m2p_core.training.codec_augment.CODEC_VARIANTS`."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    jobs = [(r.path, sample_rate, str(cache_dir), variant) for r in rows]
    if workers <= 1:
        return [_load_one(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_load_one, jobs, chunksize=8))


def load_features(
    rows: Sequence[ManifestRow], config: ModelConfig, variants: Sequence[str], cache_dir: Path,
    log: Callable[[str], None] = print,
) -> dict[str, WindowFeatures]:
    """Cached front-end features of every clip for each codec variant ("orig" always)."""
    out = {}
    for variant in ("orig", *variants):
        t0 = time.time()
        waves = load_waves(rows, config.sample_rate, cache_dir, variant=variant)
        out[variant] = cached_features([r.path for r in rows], waves, config,
                                       cache_dir.parent / "features", variant)
        log(f"[train] features {variant}: {len(out[variant].clip_index)} windows "
            f"({time.time() - t0:.0f}s)")
    return out
