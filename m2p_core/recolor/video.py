"""Recolour a video to follow a target palette track: shots, source palettes, LUT schedule.

Per frame (all in the decoder's 4:2:0 planes, no RGB conversion of the picture):

1. a thumbnail (strided subsample, ~4k samples) feeds the :class:`ShotDetector`;
2. the :class:`SourceTracker` holds the shot's source palette: estimated on the shot's first
   frame, refined from the shot's pooled samples after 1 s and then every 4 s (warm-started
   k-means; a change below 2 ΔE00 is ignored, a larger one is eased in over 1 s);
3. the :class:`LutSchedule` bakes a LUT per (source palette, target keyframe) pair — cached,
   so a constant pair is baked once —, dissolves between those grades while the source
   palette eases or the target moves between keyframes, evaluated at a 0.5-s time grid, and
   each frame uses the linear blend of the two grid LUTs around it: colours move
   continuously between windows;
4. the fused kernel (:func:`m2p_core.recolor.lut_kernel.apply_yuv420`) writes the new frame.
A cut switches the source palette at once (the cut hides it); nothing else ever steps.

Steps 1-2 (:class:`FrameAnalysis`) only read the decoded frames; their result for each frame is
a frozen :class:`SourceState`. Steps 3-4 depend on nothing but that state, the frame's time and
the target track (a LUT is baked from its rounded cache key, so it never depends on what the
cache held before). So a recorded analysis replayed over any time range of the video renders
exactly the frames a single pass renders there: :mod:`m2p_core.recolor.segments` uses this to
recolour long videos in parallel segments.
"""

from __future__ import annotations

import os
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import av
import numpy as np

from m2p_core.colour.space import palette_distance
from m2p_core.colour.yuv import YuvSpec
from m2p_core.palette.extract import ShotDetector, weighted_kmeans, yuv420_thumbnail, yuv_to_lab
from m2p_core.palette.track import PaletteTrack, smoothstep
from m2p_core.recolor.looks import make_look
from m2p_core.recolor.lut import bake_yuv_lut
from m2p_core.recolor.lut_kernel import YuvLut, apply_yuv420, mix
from m2p_core.recolor.transfer import TransferParams, order_by_lightness
from m2p_core.video.transcode import EncodeParams, TranscodeStats, plane_views, transcode


@dataclass(frozen=True)
class RecolorParams:
    strength: float = 0.8
    protect_skin: bool = True
    crf: int = 20
    preset: str = "veryfast"
    grid_s: float = 0.5
    look: str = "transfer"  # m2p_core.recolor.looks: "transfer" or "grade"

    def transfer(self) -> TransferParams:
        return TransferParams(strength=self.strength, protect_skin=self.protect_skin,
                              look=self.look)

    def encode(self) -> EncodeParams:
        return EncodeParams(crf=self.crf, preset=self.preset)

    def to_dict(self) -> dict:
        return {"strength": self.strength, "protect_skin": self.protect_skin, "crf": self.crf,
                "preset": self.preset, "look": self.look}


@dataclass(frozen=True)
class SourceState:
    """One state of the :class:`SourceTracker`: the source palette as a function of time
    (``start`` eased into ``end`` from ``ease_start`` over ``ease_s`` seconds)."""

    start: np.ndarray
    end: np.ndarray
    ease_start: float = -1e9
    ease_s: float = 1.0

    def weight(self, t: float) -> float:
        """How far (0 → ``start``, 1 → ``end``) the palette has eased at ``t`` seconds."""
        x = (t - self.ease_start) / self.ease_s
        return 1.0 if x >= 1.0 else float(smoothstep(x))

    def at(self, t: float) -> np.ndarray:
        w = self.weight(t)
        if w >= 1.0:
            return self.end
        return (1 - w) * self.start + w * self.end


class SourceTracker:
    """The current shot's source palette as a function of time (see module doc)."""

    def __init__(self, spec: YuvSpec, k: int = 5, first_refresh_s: float = 1.0,
                 refresh_s: float = 4.0, ease_s: float = 1.0, pool_max: int = 40000) -> None:
        self.spec, self.k = spec, k
        self.first_refresh_s, self.refresh_s, self.ease_s = first_refresh_s, refresh_s, ease_s
        self.pool_max = pool_max
        self._rng = np.random.default_rng(0)
        self.shots = 0
        self.refreshes = 0
        self.state: SourceState | None = None
        self._next_refresh = 0.0
        self._pool: list[np.ndarray] = []
        self._pool_n = 0

    def new_shot(self, t: float, thumb: np.ndarray) -> None:
        lab = yuv_to_lab(thumb, self.spec)
        pal, _ = weighted_kmeans(lab, self.k)
        pal = order_by_lightness(pal)
        self.state = SourceState(pal, pal, -1e9, self.ease_s)
        self._pool, self._pool_n = [lab], len(lab)
        self._next_refresh = t + self.first_refresh_s
        self.shots += 1

    def add(self, t: float, thumb: np.ndarray) -> None:
        lab = yuv_to_lab(thumb, self.spec)
        self._pool.append(lab)
        self._pool_n += len(lab)
        if self._pool_n > self.pool_max:  # keep a bounded random subset of the shot
            allp = np.concatenate(self._pool)
            keep = self._rng.choice(len(allp), self.pool_max // 2, replace=False)
            self._pool, self._pool_n = [allp[keep]], len(keep)
        if t >= self._next_refresh:
            self._refresh(t)

    def _refresh(self, t: float) -> None:
        current = self.at(t)
        pal, _ = weighted_kmeans(np.concatenate(self._pool), self.k, init=current)
        pal = order_by_lightness(pal)
        self.refreshes += 1
        self._next_refresh = t + self.refresh_s
        if palette_distance(pal, current) > 2.0:
            self.state = SourceState(current, pal, t, self.ease_s)

    def at(self, t: float) -> np.ndarray:
        return self.state.at(t)


class LutSchedule:
    """The LUT for each frame: grades baked per (source palette, target keyframe), dissolved.

    A LUT is baked only for a pair of *endpoints*: a source palette the tracker settled on
    (:attr:`SourceState.start` / :attr:`SourceState.end`) and a keyframe of the target track
    (:meth:`PaletteTrack.keyframe_point`); bakes are cached by the pair's rounded values, so a
    constant pair is baked once. While the source palette eases or the track moves between
    two keyframes, the grade is the dissolve (:func:`m2p_core.recolor.lut_kernel.mix`) of the
    up to four grades around it, weighted by the same smoothsteps that move the palettes — as
    a colourist dissolves between two grades, and without a bake for every moment of a
    transition (a bake is ~0.1 s; the bench's 60-s clip, three sections, took 13 bakes with
    a bake per 0.5-s grid point and takes 3 this way). The dissolve is evaluated at a
    ``grid_s`` time grid and each frame blends the two grid LUTs around it linearly."""

    def __init__(self, track: PaletteTrack, spec: YuvSpec, params: TransferParams,
                 grid_s: float = 0.5, cache_size: int = 16) -> None:
        self.track, self.spec, self.params, self.grid_s = track, spec, params, grid_s
        self._cache: OrderedDict[bytes, YuvLut] = OrderedDict()
        self._cache_size = cache_size
        self.bakes = 0
        self.bake_s = 0.0
        self._last_key: tuple[float, SourceState] | None = None
        self._last: tuple[YuvLut, YuvLut] | None = None

    def baked(self, source: np.ndarray, target: np.ndarray,
              target_weights: np.ndarray | None = None) -> YuvLut:
        """The LUT from ``source`` (K, 3) to ``target`` (M, 3) CIELAB palettes, the target's
        colours weighted by ``target_weights`` (M,) (uniform if None)."""
        if self.params.strength == 0.0:
            return YuvLut.identity()
        k = len(source)
        rounded = np.round(np.concatenate([source, target]), 2)
        w = None if target_weights is None else np.round(np.asarray(target_weights), 3)
        key = rounded.tobytes() + (b"" if w is None else w.tobytes())
        lut = self._cache.get(key)
        if lut is None:  # baked from the key itself: the same LUT whatever the cache held
            t0 = time.perf_counter()
            lut = bake_yuv_lut(make_look(rounded[:k], rounded[k:], self.params,
                                         target_weights=w), self.spec)
            self.bake_s += time.perf_counter() - t0
            self.bakes += 1
            self._cache[key] = lut
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return lut

    def lut_at_time(self, t: float, state: SourceState) -> YuvLut:
        """The grade at ``t`` seconds for source ``state``: the dissolve of the baked grades
        of its (source endpoint, target keyframe) pairs (see the class doc)."""
        i, j, f = self.track.locate(t)
        ws = state.weight(t)
        sources = [(state.start, 1.0 - ws), (state.end, ws)] if ws < 1.0 else [(state.end, 1.0)]
        targets = [(i, 1.0 - f), (j, f)] if f > 0.0 else [(i, 1.0)]
        luts, weights = [], []
        for source, w_s in sources:
            for k, w_t in targets:
                if w_s * w_t > 0.0:
                    p = self.track.keyframe_point(k)
                    luts.append(self.baked(source, p.palette_lab, p.weights))
                    weights.append(w_s * w_t)
        return mix(luts, weights)

    def grid_luts(self, g: float, state: SourceState) -> tuple[YuvLut, YuvLut]:
        """The LUTs at grid points ``g`` and ``g + 1`` for source ``state`` (the last pair is
        kept: consecutive frames share it, so they skip the palette look-ups and cache keys)."""
        key = (g, state)
        if self._last_key is None or self._last_key[0] != g \
                or self._last_key[1] is not state:
            self._last = (self.lut_at_time(g * self.grid_s, state),
                          self.lut_at_time((g + 1) * self.grid_s, state))
            self._last_key = key
        return self._last

    def lut_at(self, t: float, state: SourceState) -> YuvLut:
        """The LUT for a frame shown at ``t`` seconds: the linear blend of the grid LUTs
        around ``t`` for the source palette ``state``."""
        g = float(np.floor(t / self.grid_s))
        a, b = self.grid_luts(g, state)
        f = min(max((t - g * self.grid_s) / self.grid_s, 0.0), 1.0)
        return mix([a, b], [1.0 - f, f])


@dataclass
class RecolorStats:
    frames: int = 0
    shots: int = 0
    bakes: int = 0
    bake_s: float = 0.0
    kernel_s: float = 0.0
    analysis_s: float = 0.0
    total_s: float = 0.0
    transcode: TranscodeStats | None = None
    extra: dict = field(default_factory=dict)


class FrameAnalysis:
    """Steps 1-2 of the module doc: frames (in order from frame 0) -> :class:`SourceState`."""

    def __init__(self, spec: YuvSpec, sample_every: int = 15) -> None:
        self.sample_every = sample_every
        self.frames = 0
        self.shots = 0
        self.new_shot = False  # whether the last frame started a shot
        self.thumb: np.ndarray | None = None  # the last frame's thumbnail
        self._detector = ShotDetector()
        self._source = SourceTracker(spec)

    def update(self, index: int, t: float, y: np.ndarray, u: np.ndarray,
               v: np.ndarray) -> SourceState:
        """Feed frame ``index`` (0, 1, 2, ... with no gaps) shown at ``t`` seconds."""
        if index != self.frames:
            raise ValueError(f"frame {index} fed to an analysis at frame {self.frames}")
        thumb = self.thumb = yuv420_thumbnail(y, u, v)
        self.new_shot = bool(self._detector.update(thumb[::2, ::2]) or index == 0)
        if self.new_shot:
            self._source.new_shot(t, thumb)
            self.shots += 1
        elif index % self.sample_every == 0:
            self._source.add(t, thumb)
        self.frames += 1
        return self._source.state


#: encoders that copy a frame's pictures before ``encode()`` returns (output frames reusable)
_COPYING_ENCODERS = {"libx264"}
#: output frames kept for reuse (the pipelined transcode holds at most a few at a time)
_POOL_MAX = 8


class FrameRecolorer:
    """The per-frame callback for :func:`m2p_core.video.transcode.transcode`.

    ``analysis`` (default: a live :class:`FrameAnalysis` from frame 0) maps (frame index,
    time, planes) to the frame's :class:`SourceState`; ``first_index`` is the index of the
    first frame this callback sees (a replayed analysis may start anywhere).

    With libx264 the returned frames come from a small pool: a frame is written again only
    once nothing on the Python side references it any more (see :meth:`_out_frame`)."""

    def __init__(self, track: PaletteTrack, params: RecolorParams, sample_every: int = 15,
                 analysis=None, first_index: int = 0) -> None:
        self.track, self.params = track, params
        self.sample_every = sample_every
        self.stats = RecolorStats()
        self._analysis = analysis
        self._first_index = first_index
        self._schedule: LutSchedule | None = None
        self._size = (0, 0)
        self._reuse = params.encode().codec in _COPYING_ENCODERS
        self._pool: list[av.VideoFrame] = []

    def _out_frame(self, frame: av.VideoFrame) -> av.VideoFrame:
        """A frame to write the output into: a pooled one nobody holds any more, else a new
        one. Fresh 1080p frames cost ~500 page faults each (+20-30% kernel time); reusing
        them is safe only where the encoder copies its input before ``encode()`` returns
        (libx264 does) — what holds a frame on the Python side (the transcode's queue, the
        caller's variables) shows in its reference count, so a frame in flight is never
        overwritten."""
        fmt, cr, cs = frame.format.name, frame.color_range, frame.colorspace
        if self._reuse:
            for f in self._pool:  # references: the pool's list, ``f``, getrefcount's argument
                if sys.getrefcount(f) <= 3 and f.format.name == fmt:
                    if (f.color_range, f.colorspace) != (cr, cs):
                        f.color_range, f.colorspace = cr, cs
                    return f
        out = av.VideoFrame(self._size[0], self._size[1], fmt)
        out.color_range, out.colorspace = cr, cs
        if self._reuse and len(self._pool) < _POOL_MAX:
            self._pool.append(out)
        return out

    def start(self, info: TranscodeStats) -> None:
        self._size = (info.width, info.height)
        if self._analysis is None:
            self._analysis = FrameAnalysis(info.spec, self.sample_every)
        self._schedule = LutSchedule(self.track, info.spec, self.params.transfer(),
                                     self.params.grid_s)

    def __call__(self, frame: av.VideoFrame, t: float) -> av.VideoFrame:
        t_a = time.perf_counter()
        y, u, v = plane_views(frame)[:3]
        state = self._analysis.update(self._first_index + self.stats.frames, t, y, u, v)
        if getattr(self._analysis, "new_shot", False):
            self.stats.shots += 1
        lut = self._schedule.lut_at(t, state)
        t_k = time.perf_counter()
        out = self._out_frame(frame)
        apply_yuv420((y, u, v), plane_views(out), lut)
        out.pts, out.time_base = frame.pts, frame.time_base
        t_e = time.perf_counter()
        self.stats.kernel_s += t_e - t_k
        self.stats.analysis_s += t_k - t_a
        self.stats.frames += 1
        return out


def recolor_video(in_path: str | os.PathLike, out_path: str | os.PathLike, track: PaletteTrack,
                  params: RecolorParams = RecolorParams(),
                  audio_fallback: str | os.PathLike | None = None,
                  on_frame=None) -> RecolorStats:
    """Recolour ``in_path`` into an MP4 at ``out_path`` following ``track``. A video without
    sound gets the audio of ``audio_fallback`` (the music), cut to its length; ``on_frame(n)``
    is called after each encoded frame (progress)."""
    t0 = time.perf_counter()
    fn = FrameRecolorer(track, params)
    info = transcode(in_path, out_path, fn, params.encode(), on_start=fn.start,
                     audio_fallback=audio_fallback, on_frame=on_frame)
    st = fn.stats
    st.transcode = info
    if fn._schedule is not None:
        st.bakes, st.bake_s = fn._schedule.bakes, fn._schedule.bake_s
    st.total_s = time.perf_counter() - t0
    return st
