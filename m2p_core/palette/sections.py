"""Sections: runs of consecutive windows whose palettes are alike, merged into one.

A new section starts at a window whose palette is further than ``threshold`` (CIEDE2000 units,
order-free :func:`m2p_core.colour.space.palette_distance`) from the *first* window of the current
section (comparing with the first, not the previous, window stops slow drifts from chaining into
one endless section). Each section is represented by its medoid window's palette — a palette the
model actually produced, so it keeps its diversity and harmony (an average of palettes would not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from m2p_core.colour.space import lab_to_hex, palette_distance, palette_distances
from m2p_core.model.russell import quadrant_of

__all__ = ["DEFAULT_THRESHOLD", "Section", "find_sections", "medoid_index", "whole_media",
           "window_centre_s"]

DEFAULT_THRESHOLD = 10.0  # CIEDE2000: palettes closer than this belong to one section
_MAX_MEDOID_CANDIDATES = 32


@dataclass(frozen=True)
class Section:
    index: int  # 0-based within the media
    start_s: float
    end_s: float
    window_indices: tuple[int, ...]
    palette_lab: np.ndarray  # (K, 3) CIELAB D65 (medoid window's palette)
    weights: np.ndarray  # (K,)
    valence: float  # mean over the section's windows
    arousal: float

    @property
    def palette_hex(self) -> list[str]:
        return lab_to_hex(self.palette_lab)

    @property
    def quadrant(self) -> str:
        return quadrant_of(self.valence, self.arousal)

    @property
    def label(self) -> str:
        return f"s{self.index + 1:02d}"


def _sorted(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(rows, key=lambda r: int(r["window_index"]))


def _lab(row: Mapping[str, Any]) -> np.ndarray:
    return np.asarray(row["palette_lab"], dtype=np.float64)


def medoid_index(palettes: Sequence[np.ndarray]) -> int:
    """Index of the palette with the least summed distance to the others (evenly subsampled
    candidates and references for long runs, so the cost stays bounded)."""
    n = len(palettes)
    if n <= 2:
        return 0
    picks = np.unique(np.linspace(0, n - 1, min(n, _MAX_MEDOID_CANDIDATES)).round().astype(int))
    if len({np.shape(palettes[i]) for i in picks}) == 1:  # one call for all pairs
        stack = np.stack([np.asarray(palettes[i], dtype=np.float64) for i in picks])
        cost = [sum(row.tolist()) for row in palette_distances(stack, stack)]
    else:
        cost = [sum(palette_distance(palettes[i], palettes[j]) for j in picks) for i in picks]
    return int(picks[int(np.argmin(cost))])


def _section(index: int, rows: list[Mapping[str, Any]]) -> Section:
    m = rows[medoid_index([_lab(r) for r in rows])]
    w = np.asarray(m["weights"], dtype=np.float64)
    return Section(
        index=index,
        start_s=float(rows[0]["start_s"]),
        end_s=float(max(r["end_s"] for r in rows)),
        window_indices=tuple(int(r["window_index"]) for r in rows),
        palette_lab=_lab(m),
        weights=w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w)),
        valence=float(np.mean([r["valence"] for r in rows])),
        arousal=float(np.mean([r["arousal"] for r in rows])),
    )


def find_sections(rows: Sequence[Mapping[str, Any]],
                  threshold: float = DEFAULT_THRESHOLD) -> list[Section]:
    """Sections of ONE media's timeline rows (any order) — the one section rule of the project
    (exports, report and recolour all use it).

    Parameters
    ----------
    rows : timeline rows (mappings with ``window_index``, ``start_s``, ``end_s`` in seconds,
        ``palette_lab`` (K, 3) CIELAB D65, ``weights`` (K,), ``valence``, ``arousal`` in [-1, 1])
    threshold : CIEDE2000 units; a window further than this from the current section's FIRST
        window (:func:`~m2p_core.colour.space.palette_distance`) starts a new section

    Returns
    -------
    list of Section
        In time order; their ``start_s``/``end_s`` tile the media (boundaries halfway between
        the window centres either side of a change); each holds its medoid window's palette.
    """
    rows = _sorted(rows)
    if not rows:
        return []
    labs = [_lab(r) for r in rows]
    same_k = len({lab.shape for lab in labs}) == 1
    groups: list[list[Mapping[str, Any]]] = [[rows[0]]]
    first = 0  # index of the current section's first window
    ahead = palette_distances(labs[0][None], np.stack(labs))[0] if same_k else None
    for i in range(1, len(rows)):
        d = ahead[i] if ahead is not None else palette_distance(labs[first], labs[i])
        if d > threshold:
            groups.append([rows[i]])
            first = i  # distances from the new first window to all later ones, in one call
            ahead = (palette_distances(labs[i][None], np.stack(labs))[0] if same_k else None)
        else:
            groups[-1].append(rows[i])
    sections = [_section(i, g) for i, g in enumerate(groups)]
    # Windows overlap: sections meet halfway between the centres of the windows either side of
    # each change (the cells of m2p_core.outputs.plots), so their times tile the media without
    # overlap.
    out = []
    for i, s in enumerate(sections):
        start, end = s.start_s, s.end_s
        if i > 0:
            start = 0.5 * (window_centre_s(groups[i - 1][-1]) + window_centre_s(groups[i][0]))
        if i + 1 < len(sections):
            end = 0.5 * (window_centre_s(groups[i][-1]) + window_centre_s(groups[i + 1][0]))
        out.append(replace(s, start_s=start, end_s=end))
    return out


def window_centre_s(row: Mapping[str, Any]) -> float:
    """Centre of a timeline row's window, seconds (a padded window's ``end_s`` is already the
    end of the audio)."""
    return 0.5 * (float(row["start_s"]) + float(row["end_s"]))


def whole_media(rows: Sequence[Mapping[str, Any]]) -> Section:
    """The whole media as one section: its *representative palette* (the medoid window's),
    used for a media's swatch in exports and the report, and for recolouring still images."""
    rows = _sorted(rows)
    if not rows:
        raise ValueError("no timeline rows")
    return _section(0, rows)
