"""Static timeline plots: palettes and valence/arousal over a media item's time axis.

Rendering uses matplotlib's object-oriented API with the Agg canvas only (no ``pyplot``, no global
backend switch), so it is safe in worker processes and leaves no figures behind.

The input is the timeline rows of ONE media item (docs/ARCHITECTURE.md "Contracts"):
``window_index``, ``start_s``,
``end_s`` (seconds), ``valence``, ``arousal`` (each in [-1, 1]), ``palette_hex`` (K ``#rrggbb``),
``weights`` (K non-negative floats summing to 1) and optionally ``padded`` (bool).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from m2p_core.files import atomic_path
from m2p_core.model.russell import quadrant_of

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow

__all__ = ["QUADRANT_STYLE", "quadrant_of", "render_timeline_png"]

# Russell circumplex quadrants (docs/ARCHITECTURE.md "Science"): name and a faint background tint
# for the V/A panel.
QUADRANT_STYLE: dict[str, tuple[str, str]] = {
    "Q1": ("happy (+V+A)", "#f2c200"),
    "Q2": ("tense (\u2212V+A)", "#d7301f"),
    "Q3": ("sad (\u2212V\u2212A)", "#2c62c6"),
    "Q4": ("calm (+V\u2212A)", "#2ca25f"),
}
_QUADRANT_ALPHA = 0.16
_VALENCE_COLOUR = "#111111"
_AROUSAL_COLOUR = "#8e24aa"
_FIGSIZE_IN = (12.0, 6.0)
# Windows up to this count get per-window markers and quadrant labels in the V/A panel.
_MAX_ANNOTATED_WINDOWS = 24
# Minimum on-screen width (pixels) of one swatch for side-by-side swatches in the strip.
_MIN_SWATCH_PX = 6.0


@dataclass(frozen=True)
class _Timeline:
    start_s: np.ndarray  # (n,) float64 seconds
    end_s: np.ndarray  # (n,) float64 seconds
    valence: np.ndarray  # (n,) float64
    arousal: np.ndarray  # (n,) float64
    palettes_rgb: list[np.ndarray]  # n arrays of (K_i, 3) floats in [0, 1]
    weights: list[np.ndarray]  # n arrays of (K_i,) floats summing to 1
    padded: np.ndarray  # (n,) bool

    @property
    def centres_s(self) -> np.ndarray:
        return 0.5 * (self.start_s + self.end_s)


def _rows_as_dicts(rows: Any) -> list[Mapping[str, Any]]:
    if hasattr(rows, "to_pylist") and hasattr(rows, "column_names"):  # pyarrow.Table/RecordBatch
        return list(rows.to_pylist())
    return list(rows)


def _weights_of(raw: Any, k: int) -> np.ndarray:
    if raw is None:
        return np.full(k, 1.0 / k)
    w = np.asarray(list(raw), dtype=np.float64)
    if w.shape != (k,) or not np.all(np.isfinite(w)):
        raise ValueError(f"weights {list(raw)!r} do not match {k} palette colours")
    w = np.clip(w, 0.0, None)
    total = float(w.sum())
    return w / total if total > 0 else np.full(k, 1.0 / k)


def _parse(rows: Any) -> _Timeline:
    records = _rows_as_dicts(rows)
    if not records:
        raise ValueError("render_timeline_png needs at least one timeline row")
    records.sort(key=lambda r: (int(r["window_index"]), float(r["start_s"])))
    palettes: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for r in records:
        hexes = list(r["palette_hex"] or [])
        if not hexes:
            raise ValueError(f"window {r['window_index']} has an empty palette_hex")
        palettes.append(np.array([to_rgb(h) for h in hexes], dtype=np.float64))
        weights.append(_weights_of(r.get("weights"), len(hexes)))
    start = np.array([float(r["start_s"]) for r in records])
    end = np.array([float(r["end_s"]) for r in records])
    return _Timeline(
        start_s=start,
        end_s=np.maximum(end, start),
        valence=np.clip([float(r["valence"]) for r in records], -1.0, 1.0),
        arousal=np.clip([float(r["arousal"]) for r in records], -1.0, 1.0),
        palettes_rgb=palettes,
        weights=weights,
        padded=np.array([bool(r.get("padded") or False) for r in records]),
    )


def _cell_edges_s(tl: _Timeline) -> np.ndarray:
    """Non-overlapping cell edges (n+1,) in seconds: midpoints between consecutive window centres.

    The first cell starts at the first window's start and the last ends at the last window's end, so
    the cells tile the media's time range and every (overlapping) window gets a visible cell.
    """
    centres = tl.centres_s
    lo = float(tl.start_s.min())
    hi = float(tl.end_s.max())
    if hi <= lo:  # degenerate zero-length windows: give them some width
        hi = lo + 1.0
    edges = np.concatenate([[lo], 0.5 * (centres[:-1] + centres[1:]), [hi]])
    return np.maximum.accumulate(edges)  # guard against duplicate/odd centres


def _rects(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """(m, 4, 2) rectangle vertices for a PolyCollection."""
    return np.stack(
        [
            np.stack([x0, y0], -1),
            np.stack([x1, y0], -1),
            np.stack([x1, y1], -1),
            np.stack([x0, y1], -1),
        ],
        axis=1,
    )


def _weighted_stack(tl: _Timeline, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rectangles/colours of the weight-proportional stacks (y in [0, 1], first colour on top)."""
    verts, colours = [], []
    for i, (rgb, w) in enumerate(zip(tl.palettes_rgb, tl.weights, strict=True)):
        top = 1.0 - np.concatenate([[0.0], np.cumsum(w)[:-1]])
        bottom = np.clip(top - w, 0.0, 1.0)
        bottom[-1] = 0.0  # absorb rounding so the stack reaches the axis
        keep = w > 0
        k = int(keep.sum())
        verts.append(
            _rects(np.full(k, edges[i]), np.full(k, edges[i + 1]), bottom[keep], top[keep])
        )
        colours.append(rgb[keep])
    return np.concatenate(verts), np.concatenate(colours)


def _equal_strip(
    tl: _Timeline, edges: np.ndarray, side_by_side: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Rectangles/colours for equal-share swatches: side by side in each cell, or stacked."""
    verts, colours = [], []
    for i, rgb in enumerate(tl.palettes_rgb):
        k = len(rgb)
        f = np.linspace(0.0, 1.0, k + 1)
        if side_by_side:
            xs = edges[i] + f * (edges[i + 1] - edges[i])
            verts.append(_rects(xs[:-1], xs[1:], np.zeros(k), np.ones(k)))
        else:
            verts.append(
                _rects(np.full(k, edges[i]), np.full(k, edges[i + 1]), 1.0 - f[1:], 1.0 - f[:-1])
            )
        colours.append(rgb)
    return np.concatenate(verts), np.concatenate(colours)


def _cells(edges: np.ndarray, y0: float, y1: float, mask: np.ndarray | None = None) -> np.ndarray:
    x0, x1 = edges[:-1], edges[1:]
    if mask is not None:
        x0, x1 = x0[mask], x1[mask]
    return _rects(x0, x1, np.full(len(x0), y0), np.full(len(x0), y1))


def _solid(verts: np.ndarray, colours: Any, **kw: Any) -> PolyCollection:
    # No antialiasing and no edges: adjacent cells tile seamlessly and keep their exact colours.
    return PolyCollection(
        verts, facecolors=colours, edgecolors="none", linewidths=0, antialiaseds=False, **kw
    )


def _default_title(tl: _Timeline) -> str:
    n = len(tl.start_s)
    span = f"{tl.start_s.min():g}\u2013{tl.end_s.max():g} s"
    return f"Music palette timeline \u2014 {n} window{'s' if n != 1 else ''}, {span}"


def _draw(fig: Figure, tl: _Timeline, title: str) -> None:
    edges = _cell_edges_s(tl)
    n = len(tl.start_s)
    grid = fig.add_gridspec(3, 1, height_ratios=[3.0, 0.55, 2.4], hspace=0.08)
    ax_pal = fig.add_subplot(grid[0])
    ax_strip = fig.add_subplot(grid[1], sharex=ax_pal)
    ax_va = fig.add_subplot(grid[2], sharex=ax_pal)

    # Top: colour proportions over time.
    verts, colours = _weighted_stack(tl, edges)
    ax_pal.add_collection(_solid(verts, colours))
    ax_pal.set_ylim(0.0, 1.0)
    ax_pal.set_yticks([0.0, 0.5, 1.0])
    ax_pal.set_ylabel("colour share")
    ax_pal.set_title("Palette over time (colour heights \u221d weights)", fontsize=11, loc="left")
    ax_pal.tick_params(labelbottom=False)

    # Strip: every colour at equal size, so small-weight colours stay visible. Side by side within
    # each window's cell when cells are wide enough on screen, otherwise stacked.
    axes_px = ax_strip.get_position().width * fig.get_figwidth() * fig.dpi
    span_s = edges[-1] - edges[0]
    max_k = max(len(p) for p in tl.palettes_rgb)
    min_cell_px = float(np.min(np.diff(edges))) / span_s * axes_px
    side_by_side = min_cell_px >= _MIN_SWATCH_PX * max_k
    verts, colours = _equal_strip(tl, edges, side_by_side)
    ax_strip.add_collection(_solid(verts, colours))
    if n > 1:  # thin white separators between windows (one artist)
        ax_strip.vlines(edges[1:-1], 0.0, 1.0, colors="white", linewidths=0.6 if n <= 60 else 0.0)
    if tl.padded.any():
        ax_strip.add_collection(
            PolyCollection(
                _cells(edges, 0.0, 1.0, tl.padded),
                facecolors="none",
                edgecolors="white",
                linewidths=0.0,
                hatch="///",
                label="padded window",
            )
        )
    ax_strip.set_ylim(0.0, 1.0)
    ax_strip.set_yticks([])
    ax_strip.set_ylabel("palette", rotation=0, ha="right", va="center")
    ax_strip.tick_params(labelbottom=False)

    # Bottom: valence/arousal with the Russell quadrant of each window as a faint background.
    quads = [quadrant_of(v, a) for v, a in zip(tl.valence, tl.arousal, strict=True)]
    tints = [(*to_rgb(QUADRANT_STYLE[q][1]), _QUADRANT_ALPHA) for q in quads]
    annotate = n <= _MAX_ANNOTATED_WINDOWS
    y_top = 1.38 if annotate else 1.06  # room above the data for per-window quadrant labels
    ax_va.add_collection(_solid(_cells(edges, -1.06, y_top), tints, zorder=0))
    ax_va.axhline(0.0, color="#555555", linewidth=0.8, zorder=1)
    centres = tl.centres_s
    marker = "o" if n <= _MAX_ANNOTATED_WINDOWS * 4 else None
    ax_va.plot(
        centres,
        tl.valence,
        color=_VALENCE_COLOUR,
        linewidth=1.8,
        marker=marker,
        markersize=4,
        label="valence",
        zorder=3,
    )
    ax_va.plot(
        centres,
        tl.arousal,
        color=_AROUSAL_COLOUR,
        linewidth=1.8,
        linestyle="--",
        marker=marker,
        markersize=4,
        label="arousal",
        zorder=3,
    )
    if annotate:
        named = min_cell_px >= 70.0  # room for "Q1 happy" in every cell
        for x, q in zip(centres, quads, strict=True):
            label = f"{q} {QUADRANT_STYLE[q][0].split()[0]}" if named else q
            # a darker tint: readable on it
            text_rgb = 0.62 * np.asarray(to_rgb(QUADRANT_STYLE[q][1]))
            ax_va.text(
                x,
                1.22,
                label,
                ha="center",
                va="center",
                fontsize=8.5,
                fontweight="bold",
                color=tuple(text_rgb),
                zorder=2,
            )
    ax_va.set_ylim(-1.06, y_top)
    ax_va.set_yticks([-1.0, -0.5, 0.0, 0.5, 1.0])
    ax_va.set_ylabel("valence / arousal")
    ax_va.set_xlabel("time (s)")
    ax_va.set_xlim(edges[0], edges[-1])
    line_handles = [
        Line2D([], [], color=_VALENCE_COLOUR, linewidth=1.8, label="valence"),
        Line2D([], [], color=_AROUSAL_COLOUR, linewidth=1.8, linestyle="--", label="arousal"),
    ]
    quad_handles = [
        Patch(facecolor=colour, alpha=0.45, label=f"{q} {name}")
        for q, (name, colour) in QUADRANT_STYLE.items()
    ]
    if tl.padded.any():
        quad_handles.append(
            Patch(facecolor="#999999", hatch="///", edgecolor="white", label="padded window")
        )
    ax_va.legend(
        handles=line_handles + quad_handles,
        loc="upper left",
        bbox_to_anchor=(1.005, 1.0),
        fontsize=8.5,
        frameon=False,
        borderaxespad=0.0,
    )

    for ax in (ax_pal, ax_strip, ax_va):
        ax.set_xlim(edges[0], edges[-1])
        ax.margins(x=0.0)
    fig.suptitle(title, fontsize=13, fontweight="bold")


def render_timeline_png(
    rows: pyarrow.Table | Sequence[Mapping[str, Any]],
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    dpi: int = 110,
) -> None:
    """Render one media item's timeline to a PNG of about 12 x 6 inches (``dpi`` pixels per inch).

    ``rows``: the docs/ARCHITECTURE.md "Contracts" timeline rows of ONE media item (a
    ``pyarrow.Table`` or a sequence of
    mappings), any order; window times ``start_s``/``end_s`` are in seconds. Panels, top to bottom:
    the palette per window as colour bands with heights proportional to ``weights``; a thin strip
    with each window's K colours at equal size; valence and arousal at window centres over a faint
    per-window Russell-quadrant tint. Overlapping windows are drawn as non-overlapping cells split
    at the midpoints between consecutive window centres. The file is written atomically (temp file
    in the same directory, then ``os.replace``).
    """
    tl = _parse(rows)
    fig = Figure(figsize=_FIGSIZE_IN, dpi=dpi, facecolor="white", layout="constrained")
    FigureCanvasAgg(fig)
    fig.get_layout_engine().set(h_pad=0.06, w_pad=0.08, hspace=0.0)
    _draw(fig, tl, title or _default_title(tl))

    try:
        with atomic_path(path, ".png") as tmp:
            fig.savefig(tmp, format="png", dpi=dpi, facecolor="white")
    finally:
        fig.clear()
