"""Styles of generated video: one float RGB frame from the palette and the music's drive.

- ``aurora`` — flowing bands of the palette, heights ∝ weights, darkest at the bottom; loudness
  raises the waves, onsets light the seams, beats brighten;
- ``orbs`` — soft glowing blobs, one per colour, sizes ∝ weights, drifting faster with arousal
  and energy; beats swell them, onsets send a ring outwards;
- ``rings`` — concentric palette rings flowing outward, pushed by each beat.

Each renders at a low internal resolution (:func:`internal_size`); the encoder's scaler upsamples
it (the images are smooth, so nothing is lost). To add a style: a function ``(grid, state) ->
(h, w, 3) float32`` registered in :data:`STYLES`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from m2p_core.colour.space import lab_to_srgb01
from m2p_core.generate.drive import FrameDrive
from m2p_core.palette.track import PaletteTrack


@dataclass(frozen=True)
class FrameState:
    """Everything a style needs for one frame."""

    t: float  # seconds
    rgb: np.ndarray  # (K, 3) palette colours, sRGB in [0, 1]
    lightness: np.ndarray  # (K,) L* of each colour
    weights: np.ndarray  # (K,)
    valence: float
    arousal: float
    energy: float  # 0..1
    onset: float  # 0..1
    beat: float  # 0..1 pulse
    phase: float  # 0..1 beat phase
    travel: float  # accumulated motion ("musical time"): faster when loud/aroused


class _Grid:
    def __init__(self, width: int, height: int) -> None:
        self.w, self.h = width, height
        aspect = width / height
        self.x = (np.arange(width, dtype=np.float32) + 0.5) / width  # (W,)
        self.y = (np.arange(height, dtype=np.float32)[:, None] + 0.5) / height  # (H, 1)
        self.u = (self.x - 0.5) * aspect  # centred, square units
        self.v = self.y - 0.5
        self.r = np.sqrt(self.u[None, :] ** 2 + self.v ** 2)  # (H, W)
        self.theta = np.arctan2(self.v, self.u[None, :])
        self.vignette = (1.0 - 0.55 * np.clip(self.r / (0.5 * math.hypot(aspect, 1.0)), 0, 1) ** 2)


def _aurora(g: _Grid, s: FrameState) -> np.ndarray:
    order = np.argsort(-s.lightness)  # light at the top, dark at the bottom
    rgb, w = s.rgb[order], s.weights[order]
    w = 0.35 / len(w) + 0.65 * w  # keep small colours visible
    w = w / w.sum()
    bounds = np.cumsum(w)[:-1]  # K-1 boundaries, y from the top
    amp = 0.025 + 0.07 * s.energy + 0.03 * max(s.arousal, 0.0)
    tt = s.travel
    out = np.broadcast_to(rgb[0], (g.h, g.w, 3)).astype(np.float32)
    glow = np.zeros((g.h, g.w), dtype=np.float32)
    soft = 0.018 + 0.03 * (1.0 - s.energy)
    for j, b in enumerate(bounds):
        ph = 1.7 * j
        wave = (amp * np.sin(2 * np.pi * (1.1 * g.x + 0.23 * tt) + ph)
                + 0.5 * amp * np.sin(2 * np.pi * (2.7 * g.x - 0.37 * tt) + 2 * ph)
                + 0.25 * amp * np.sin(2 * np.pi * (5.3 * g.x + 0.61 * tt) + 3 * ph))
        d = g.y - (b + wave[None, :])  # (H, W) signed distance below the seam
        m = expit(d / soft)
        out = out + m[..., None] * (rgb[j + 1] - rgb[j])
        glow += np.exp(-(d / (0.012 + 0.02 * s.onset)) ** 2)
    # shimmer: vertical light curtains that drift, stronger with energy
    curtain = 0.5 + 0.5 * np.sin(2 * np.pi * (7.0 * g.x + 0.15 * tt)
                                 + 2.0 * np.sin(2 * np.pi * (1.3 * g.x - 0.05 * tt)))
    lift = 0.06 * s.energy * curtain[None, :] + (0.25 + 0.55 * s.onset) * glow / len(bounds)
    out = out * (0.88 + 0.22 * s.beat) + lift[..., None]
    return out * g.vignette[..., None]


def _orbs(g: _Grid, s: FrameState) -> np.ndarray:
    dark = s.rgb[int(np.argmin(s.lightness))]
    out = (0.22 + 0.16 * (1 - g.y))[..., None] * dark + 0.02
    out = np.broadcast_to(out, (g.h, g.w, 3)).astype(np.float32)
    tt = s.travel
    aspect = g.w / g.h
    orbs = []
    for i, (c, w) in enumerate(zip(s.rgb, s.weights, strict=True)):
        for twin, scale in enumerate((1.0, 0.55, 0.3)):
            seed = 1.0 + i * 2.39996 + twin * 4.1
            cx = 0.45 * aspect * math.sin(0.11 * tt * (1 + 0.35 * twin) + seed)
            cy = 0.38 * math.cos(0.087 * tt * (1.2 - 0.3 * twin) + 1.7 * seed)
            radius = (0.05 + 0.22 * math.sqrt(float(w))) * scale
            radius *= 1.0 + 0.25 * s.beat + 0.12 * s.energy
            orbs.append((radius, cx, cy, c))
    out = out.copy()
    for radius, cx, cy, c in sorted(orbs, key=lambda o: -o[0]):  # big ones behind
        # only the orb's bounding box (its halo fades out within 2.6 radii)
        ext = 2.6 * radius
        x0 = max(0, int((cx - ext) / aspect * g.w + 0.5 * g.w))
        x1 = min(g.w, int((cx + ext) / aspect * g.w + 0.5 * g.w) + 1)
        y0 = max(0, int((cy - ext) * g.h + 0.5 * g.h))
        y1 = min(g.h, int((cy + ext) * g.h + 0.5 * g.h) + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        d = np.sqrt((g.u[None, x0:x1] - cx) ** 2 + (g.v[y0:y1] - cy) ** 2)
        disc = expit((radius - d) / (0.06 * radius + 0.002))
        halo = np.exp(-((d / (1.6 * radius)) ** 2))
        a = (0.72 * disc + 0.22 * halo)[..., None]
        # brighter rim, like lens bokeh
        rim = np.exp(-(((d - 0.92 * radius) / (0.07 * radius + 0.002)) ** 2))[..., None]
        box = out[y0:y1, x0:x1]
        out[y0:y1, x0:x1] = box + a * (c - box) + 0.18 * rim * c
    # onset ring travelling outwards from the centre
    ring_r = 0.08 + 0.9 * (1.0 - s.onset)
    ring = np.exp(-((g.r - ring_r) / 0.02) ** 2) * (s.onset ** 1.5)
    light = s.rgb[int(np.argmax(s.lightness))]
    out = out + 0.5 * ring[..., None] * light
    return out * (0.92 + 0.14 * s.beat) * g.vignette[..., None]


def _rings(g: _Grid, s: FrameState) -> np.ndarray:
    order = np.argsort(s.lightness)
    rgb, w = s.rgb[order], s.weights[order]
    w = 0.3 / len(w) + 0.7 * w
    edges = np.concatenate([[0.0], np.cumsum(w / w.sum())])  # colour bands within one period
    twist = 0.06 * np.sin(5 * g.theta + 0.3 * s.travel) * (0.3 + s.energy)
    pos = (3.2 * (g.r + twist) - 0.35 * s.travel) % 1.0  # band coordinate, flows outward
    out = np.zeros((g.h, g.w, 3), dtype=np.float32)
    soft = 0.02
    for j in range(len(rgb)):
        lo, hi = edges[j], edges[j + 1]
        m = expit((pos - lo) / soft) * expit((hi - pos) / soft)
        out += m[..., None] * rgb[j]
    # the wrap-around band edge at pos=0/1 is covered by the first/last colours' soft edges
    core = np.exp(-(g.r / (0.08 + 0.1 * s.beat + 0.05 * s.energy)) ** 2)
    out = out * (0.85 + 0.2 * s.beat) + 0.5 * core[..., None] * rgb[-1] * (0.5 + s.onset)
    return out * g.vignette[..., None]


STYLES: dict[str, Callable[[_Grid, FrameState], np.ndarray]] = {
    "aurora": _aurora,
    "orbs": _orbs,
    "rings": _rings,
}
DEFAULT_STYLE = "aurora"


class FrameRenderer:
    """Draws frames of one style at ``internal`` resolution as uint8 RGB (H, W, 3)."""

    def __init__(self, style: str, width: int, height: int) -> None:
        if style not in STYLES:
            raise ValueError(f"unknown style {style!r}; choose from {sorted(STYLES)}")
        self.style = style
        self._draw = STYLES[style]
        self._grid = _Grid(width, height)

    def render(self, state: FrameState) -> np.ndarray:
        out = self._draw(self._grid, state)
        return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def internal_size(width: int, height: int, max_pixels: int = 320 * 180) -> tuple[int, int]:
    """Render resolution: the output size scaled down to about ``max_pixels`` (even sides)."""
    scale = min(1.0, math.sqrt(max_pixels / float(width * height)))
    w = max(16, int(round(width * scale / 2)) * 2)
    h = max(16, int(round(height * scale / 2)) * 2)
    return w, h


def iter_frame_states(track: PaletteTrack, drive: FrameDrive) -> Iterator[FrameState]:
    """Yield one :class:`FrameState` per video frame."""
    travel = 0.0
    dt = 1.0 / drive.fps
    for i in range(len(drive)):
        t = i * dt
        lab, w, v, a = track.at(t)
        rgb = np.clip(lab_to_srgb01(lab), 0.0, 1.0).astype(np.float32)
        energy = float(drive.energy[i])
        # "musical time": motion speeds up with arousal and loudness, never stops
        travel += dt * (0.6 + 0.5 * (a + 1.0) + 1.2 * energy + 0.8 * float(drive.beat[i]))
        yield FrameState(t, rgb, lab[:, 0].astype(np.float32), w.astype(np.float32), v, a,
                         energy, float(drive.onset[i]), float(drive.beat[i]),
                         float(drive.phase[i]), travel)
