"""The palette as a smooth function of time — one curve for recolouring and generated video.

A :class:`PaletteTrack` is a list of :class:`Keyframe` s: a palette (with weights, valence and
arousal) that holds from ``start_s`` to ``end_s``. Between two keyframes the values move along
a :func:`smoothstep` of width ``min(transition_s, gap)`` centred in the gap, so the curve is
continuous and C¹: no step at window edges, no flicker. The colours of each keyframe are put in
the order that best matches the previous keyframe's (a minimum-cost assignment in CIELAB), so
each colour "slot" keeps its identity and an interpolated colour never crosses the palette.

Two ways to build one from a media's timeline rows:

- :meth:`PaletteTrack.of_sections` — one keyframe per *section*
  (:func:`m2p_core.palette.sections.find_sections`, the same sections ``m2p export`` writes),
  holding the section's palette from the centre of its first window to the centre of its
  last, with ``transition_s`` (3 s) transitions: the recolour target, which moves only when
  the music changes;
- :meth:`PaletteTrack.of_windows` — one keyframe per window at the window's centre, each gap
  a full transition: generated video, which follows every window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from m2p_core.palette.sections import DEFAULT_THRESHOLD, find_sections, window_centre_s

__all__ = ["Keyframe", "PaletteTrack", "TrackPoint", "align_order", "smoothstep"]


def smoothstep(x: np.ndarray | float) -> np.ndarray | float:
    """Hermite smoothstep ``3x² − 2x³`` of ``x`` clipped to [0, 1] (same shape as ``x``)."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def align_order(reference_lab: np.ndarray, palette_lab: np.ndarray) -> np.ndarray:
    """Permutation of ``palette_lab``'s colours that best matches ``reference_lab``.

    Parameters
    ----------
    reference_lab, palette_lab : (K, 3) float, CIELAB D65

    Returns
    -------
    (K,) int
        ``palette_lab[order]`` minimises the summed CIELAB distance to ``reference_lab``.
    """
    cost = np.linalg.norm(reference_lab[:, None, :] - palette_lab[None, :, :], axis=-1)
    _, cols = linear_sum_assignment(cost)
    return cols


@dataclass(frozen=True)
class Keyframe:
    """A palette that holds from ``start_s`` to ``end_s`` (seconds; equal for an instant)."""

    start_s: float
    end_s: float
    palette_lab: np.ndarray  # (K, 3) CIELAB D65
    weights: np.ndarray | None = None  # (K,) non-negative, sum 1; None: equal
    valence: float = 0.0  # [-1, 1]
    arousal: float = 0.0  # [-1, 1]


class TrackPoint(NamedTuple):
    """The track's value at one time."""

    palette_lab: np.ndarray  # (K, 3) CIELAB D65
    weights: np.ndarray  # (K,) sum 1
    valence: float
    arousal: float


class PaletteTrack:
    """Palette, weights, valence and arousal as smooth functions of time (see module doc).

    Parameters
    ----------
    keyframes : sequence of Keyframe, in time order, at least one
    transition_s : float, seconds
        Width of the smoothstep between two keyframes, capped by the gap between them
        (``inf``: the whole gap).
    """

    def __init__(self, keyframes: Sequence[Keyframe], transition_s: float = math.inf) -> None:
        if not keyframes:
            raise ValueError("a palette track needs at least one keyframe")
        k = min(len(f.palette_lab) for f in keyframes)
        labs, weights = [], []
        for f in keyframes:
            lab = np.asarray(f.palette_lab, dtype=np.float64)[:k]
            w = (np.full(k, 1.0 / k) if f.weights is None
                 else np.asarray(f.weights, dtype=np.float64)[:k])
            if labs:
                order = align_order(labs[-1], lab)
                lab, w = lab[order], w[order]
            labs.append(lab)
            weights.append(w / w.sum() if w.sum() > 0 else np.full(k, 1.0 / k))
        self.keyframes = list(keyframes)
        self.k = k
        self.transition_s = float(transition_s)
        self.lab = np.stack(labs)  # (n, K, 3)
        self.weights = np.stack(weights)  # (n, K)
        self.valence = np.array([f.valence for f in keyframes], dtype=np.float64)
        self.arousal = np.array([f.arousal for f in keyframes], dtype=np.float64)
        pairs = list(zip(keyframes[:-1], keyframes[1:], strict=True))
        gaps = np.array([max(b.start_s - a.end_s, 0.0) for a, b in pairs])
        self._bounds = np.array([0.5 * (a.end_s + b.start_s) for a, b in pairs])
        self._widths = np.maximum(np.minimum(self.transition_s, gaps), 1e-3)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def constant(cls, palette_lab: np.ndarray, weights: np.ndarray | None = None) -> PaletteTrack:
        """The same palette at every time."""
        return cls([Keyframe(0.0, 0.0, np.asarray(palette_lab, dtype=np.float64), weights)])

    @classmethod
    def of_sections(cls, rows: Sequence[Mapping[str, Any]],
                    threshold: float = DEFAULT_THRESHOLD,
                    transition_s: float = 3.0) -> PaletteTrack:
        """One keyframe per section of ONE media's timeline rows (any order): the recolour
        target. The section palettes are exactly those ``m2p export`` writes."""
        by_index = {int(r["window_index"]): r for r in rows}
        frames = []
        for s in find_sections(rows, threshold):
            first, last = by_index[s.window_indices[0]], by_index[s.window_indices[-1]]
            frames.append(Keyframe(window_centre_s(first), window_centre_s(last), s.palette_lab,
                                   s.weights, s.valence, s.arousal))
        if not frames:
            raise ValueError("no timeline rows")
        return cls(frames, transition_s)

    @classmethod
    def of_windows(cls, rows: Sequence[Mapping[str, Any]]) -> PaletteTrack:
        """One keyframe per window of ONE media's timeline rows (any order), at the window's
        centre, each gap one full transition: every window's palette is reached."""
        if not rows:
            raise ValueError("no timeline rows")
        frames = []
        for r in sorted(rows, key=lambda r: int(r["window_index"])):
            c = window_centre_s(r)
            frames.append(Keyframe(c, c, np.asarray(r["palette_lab"], dtype=np.float64),
                                   np.asarray(r["weights"], dtype=np.float64),
                                   float(r["valence"]), float(r["arousal"])))
        return cls(frames)

    # ------------------------------------------------------------------ evaluation
    def locate(self, t: float) -> tuple[int, int, float]:
        """Keyframes ``i``, ``j`` around ``t`` seconds and the blend ``f`` in [0, 1] of ``j``
        (``f`` is 0 and ``i == j`` outside transitions); :meth:`at` is the palette there."""
        n = len(self.keyframes)
        if n == 1:
            return 0, 0, 0.0
        i = int(np.searchsorted(self._bounds, t))  # the keyframe if no transition
        for b in (i - 1, i):  # the nearest boundary decides whether t is in a transition
            if 0 <= b < len(self._bounds):
                x = (t - self._bounds[b]) / self._widths[b] + 0.5
                if 0.0 < x < 1.0:
                    return b, b + 1, float(smoothstep(x))
        return i, i, 0.0

    def at(self, t: float) -> TrackPoint:
        """Palette (K, 3) CIELAB, weights (K,), valence and arousal at ``t`` seconds."""
        i, j, f = self.locate(t)
        if f == 0.0:
            return self.keyframe_point(i)
        return TrackPoint((1 - f) * self.lab[i] + f * self.lab[j],
                          (1 - f) * self.weights[i] + f * self.weights[j],
                          float((1 - f) * self.valence[i] + f * self.valence[j]),
                          float((1 - f) * self.arousal[i] + f * self.arousal[j]))

    def keyframe_point(self, i: int) -> TrackPoint:
        """Keyframe ``i``'s palette (K, 3) CIELAB (in the track's aligned colour order),
        weights (K,), valence and arousal: what :meth:`at` gives inside that keyframe."""
        return TrackPoint(self.lab[i], self.weights[i], float(self.valence[i]),
                          float(self.arousal[i]))

    def palette_at(self, t: float) -> np.ndarray:
        """The palette (K, 3) CIELAB at ``t`` seconds."""
        return self.at(t).palette_lab
