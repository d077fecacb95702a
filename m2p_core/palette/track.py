"""Target palettes over time, from a media's timeline rows: smooth, and moving only with music.

Window palettes are first grouped into *sections*: a window joins the current section unless its
palette differs from the section's (lightness-paired, mean CIEDE2000) by more than
``change_de`` — window-to-window model jitter averages out, a musical change starts a new
section. Inside a section the palette is constant (the section mean); between two sections it
moves along a smoothstep over ``transition_s`` seconds centred between their windows. So the
palette is a continuous, C¹ function of time: no step at window edges, no flicker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from m2p_core.colour.space import delta_e2000
from m2p_core.recolor.transfer import order_by_lightness


def smoothstep(x: np.ndarray | float) -> np.ndarray | float:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def paired_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean CIEDE2000 between lightness-paired colours of two palettes of equal size."""
    return float(np.mean(delta_e2000(order_by_lightness(a), order_by_lightness(b))))


@dataclass(frozen=True)
class Section:
    start_s: float  # centre of its first window
    end_s: float  # centre of its last window
    palette: np.ndarray  # (K, 3) CIELAB, sorted by L*


class TargetTrack:
    """``at(t)`` -> the target palette (K, 3), sorted by L*, at ``t`` seconds."""

    def __init__(self, sections: Sequence[Section], transition_s: float = 3.0) -> None:
        if not sections:
            raise ValueError("a target track needs at least one section")
        self.sections = list(sections)
        self.transition_s = float(transition_s)
        # boundary i sits between sections i and i+1
        pairs = list(zip(self.sections[:-1], self.sections[1:], strict=True))
        self._bounds = np.array([0.5 * (a.end_s + b.start_s) for a, b in pairs])
        gaps = np.array([b.start_s - a.end_s for a, b in pairs])
        self._widths = np.maximum(np.minimum(self.transition_s, 2.0 * gaps), 1e-3) \
            if len(gaps) else np.array([])

    @staticmethod
    def constant(palette: np.ndarray) -> TargetTrack:
        return TargetTrack([Section(0.0, 0.0, order_by_lightness(palette))])

    @staticmethod
    def from_rows(rows: Sequence[Mapping], change_de: float = 10.0,
                  transition_s: float = 3.0) -> TargetTrack:
        """From timeline rows (any order) of one media."""
        rows = sorted(rows, key=lambda r: r["window_index"])
        if not rows:
            raise ValueError("no timeline rows")
        sections: list[Section] = []
        members: list[np.ndarray] = []
        times: list[float] = []
        for r in rows:
            pal = order_by_lightness(np.asarray(r["palette_lab"], dtype=np.float64))
            t = 0.5 * (float(r["start_s"]) + min(float(r["end_s"]),
                                                  float(r.get("duration_s") or r["end_s"])))
            if members and paired_distance(np.mean(members, axis=0), pal) > change_de:
                sections.append(Section(times[0], times[-1], np.mean(members, axis=0)))
                members, times = [], []
            members.append(pal)
            times.append(t)
        sections.append(Section(times[0], times[-1], np.mean(members, axis=0)))
        return TargetTrack(sections, transition_s)

    def at(self, t: float) -> np.ndarray:
        if len(self.sections) == 1:
            return self.sections[0].palette
        i = int(np.searchsorted(self._bounds, t))  # section index if no transition
        # the nearest boundary decides whether t is inside a transition
        for b in (i - 1, i):
            if 0 <= b < len(self._bounds):
                x = (t - self._bounds[b]) / self._widths[b] + 0.5
                if 0.0 < x < 1.0:
                    w = float(smoothstep(x))
                    return (1 - w) * self.sections[b].palette + w * self.sections[b + 1].palette
        return self.sections[i].palette
