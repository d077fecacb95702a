"""Source palettes of pictures: weighted k-means in CIELAB on downsampled frames.

Pixels are subsampled (a thumbnail of a few thousand samples is plenty for a 5-colour palette),
converted to CIELAB, quantised to 2-unit bins and clustered with k-means weighted by the bin
counts (scikit-learn), so the cost does not depend on the frame size.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.cluster import KMeans

from m2p_core.colour.space import srgb01_to_lab
from m2p_core.colour.yuv import YuvSpec

THUMB_SAMPLES = 4096  # about 85 x 48 samples per frame


def yuv420_thumbnail(y: np.ndarray, u: np.ndarray, v: np.ndarray,
                     samples: int = THUMB_SAMPLES) -> np.ndarray:
    """A strided (no filtering) subsample of 4:2:0 planes -> (h, w, 3) uint8 Y'CbCr."""
    hc, wc = u.shape[0], u.shape[1]
    step = max(1, int(np.sqrt(hc * wc / samples)))
    cu = u[::step, ::step]
    cv = v[::step, ::step]
    cy = y[: 2 * hc : 2 * step, : 2 * wc : 2 * step][: cu.shape[0], : cu.shape[1]]
    return np.stack([cy, cu[: cy.shape[0], : cy.shape[1]], cv[: cy.shape[0], : cy.shape[1]]],
                    axis=-1)


def yuv_to_lab(yuv: np.ndarray, spec: YuvSpec) -> np.ndarray:
    return srgb01_to_lab(np.clip(spec.to_srgb01(yuv.reshape(-1, 3).astype(np.float64)), 0, 1))


def rgb_thumbnail(image: np.ndarray, samples: int = THUMB_SAMPLES) -> np.ndarray:
    h, w = image.shape[:2]
    step = max(1, int(np.sqrt(h * w / samples)))
    return image[::step, ::step]


def weighted_kmeans(lab: np.ndarray, k: int = 5, weights: np.ndarray | None = None,
                    init: np.ndarray | None = None, seed: int = 0
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Cluster CIELAB samples (N, 3) -> (palette (k, 3), weights (k,) summing to 1).

    ``init`` (k, 3) warm-starts from a previous palette (stable palettes over a shot).
    Fewer distinct colours than ``k`` give a palette with repeated colours."""
    lab = np.asarray(lab, dtype=np.float64).reshape(-1, 3)
    w = np.ones(len(lab)) if weights is None else np.asarray(weights, dtype=np.float64)
    q = np.round(lab / 2.0).astype(np.int64)
    # the 2-unit bins as one integer key each, ordered like the bins' (L, a, b) rows: a 1-D
    # np.unique (several times faster than np.unique(q, axis=0), same order and inverse)
    lo = q.min(axis=0) if len(q) else np.zeros(3, np.int64)
    span = (q.max(axis=0) - lo + 1) if len(q) else np.ones(3, np.int64)
    key = ((q[:, 0] - lo[0]) * span[1] + (q[:, 1] - lo[1])) * span[2] + (q[:, 2] - lo[2])
    uniq, inv = np.unique(key, return_inverse=True)
    counts = np.bincount(inv.reshape(-1), weights=w, minlength=len(uniq))
    centres = np.zeros((len(uniq), 3))
    np.add.at(centres, inv.reshape(-1), lab * w[:, None])
    centres /= np.maximum(counts, 1e-12)[:, None]
    if len(uniq) <= k:
        order = np.argsort(-counts)
        pal = centres[order][np.arange(k) % len(uniq)]
        pw = np.zeros(k)
        pw[: len(uniq)] = counts[order]
        return pal, pw / pw.sum()
    km = KMeans(n_clusters=k, init=init if init is not None else "k-means++",
                n_init=1, max_iter=50, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = km.fit_predict(centres, sample_weight=counts)
    pw = np.bincount(labels, weights=counts, minlength=k)
    return km.cluster_centers_.copy(), pw / pw.sum()


def extract_palette_rgb(image: np.ndarray, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Palette of an (H, W, 3) uint8 sRGB image."""
    thumb = rgb_thumbnail(image)
    return weighted_kmeans(srgb01_to_lab(thumb.reshape(-1, 3) / 255.0), k)


def extract_palette_yuv(y: np.ndarray, u: np.ndarray, v: np.ndarray, spec: YuvSpec,
                        k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Palette of a 4:2:0 frame's planes."""
    return weighted_kmeans(yuv_to_lab(yuv420_thumbnail(y, u, v), spec), k)


class ShotDetector:
    """Hard cuts from thumbnail differences: a cut when the mean absolute Y'CbCr change between
    consecutive thumbnails is large in absolute terms and against the recent motion level."""

    def __init__(self, threshold: float = 18.0, ratio: float = 3.0, history: int = 12) -> None:
        self.threshold = threshold
        self.ratio = ratio
        self._prev: np.ndarray | None = None
        self._recent: list[float] = []
        self._history = history

    def update(self, thumb: np.ndarray) -> bool:
        """Feed the next frame's thumbnail; True when it starts a new shot (False for the
        first frame, which starts the first shot)."""
        t = thumb.astype(np.int16)
        if self._prev is None or self._prev.shape != t.shape:
            self._prev = t
            return False
        diff = float(np.abs(t - self._prev).mean())
        self._prev = t
        baseline = float(np.median(self._recent)) if self._recent else 0.0
        cut = diff > self.threshold and diff > self.ratio * baseline
        if cut:
            self._recent.clear()
        else:
            self._recent.append(diff)
            del self._recent[: -self._history]
        return cut
