"""Music-driven video: frames drawn from the palette timeline, moved by the music itself.

Three pieces, all numpy:

- :class:`PaletteTrack` — the palette as a smooth function of time. Window palettes are placed
  at their window centres; colours are matched to the previous window's (Hungarian assignment on
  CIELAB distance) so each "slot" keeps its identity, then interpolated with a smoothstep in
  CIELAB between centres (no hard cuts, no colours swapping places).
- styles — ``aurora`` (flowing bands of the palette, heights ∝ weights, darkest at the bottom;
  loudness raises the waves, onsets light the seams, beats brighten), ``orbs`` (soft glowing
  blobs, one per colour, sizes ∝ weights, drifting faster with arousal and energy; beats swell
  them, onsets send a ring outwards) and ``rings`` (concentric palette rings flowing outward,
  pushed by each beat). Each renders a float RGB frame at a low internal resolution; the encoder's
  scaler upsamples it (the images are smooth, so nothing is lost).
- :func:`render_video` — decode → features → frames streamed into PyAV's H.264 encoder, with the
  music re-encoded as AAC and muxed interleaved. Memory is flat in duration: one frame, one audio
  chunk and a few floats per frame of driving signals.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np
from av.stream import Discard
from scipy.optimize import linear_sum_assignment
from scipy.special import expit

from m2p_core.audio.decode import iter_audio
from m2p_core.colour.space import lab_to_srgb01
from m2p_core.generate.drive import FrameDrive, analyse, frame_drive, n_video_frames

#: version of the renderer; part of the "already done" check of generated videos.
GENERATOR_VERSION = "gen-1"
ANALYSIS_RATE = 22050
DEFAULT_SIZE = (640, 360)
DEFAULT_FPS = 25
METADATA_KEY = "comment"


# --------------------------------------------------------------------------- palette over time

def _match_order(prev_lab: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """Permutation of ``lab``'s rows that best matches ``prev_lab`` (min total CIELAB distance)."""
    cost = np.linalg.norm(prev_lab[:, None, :] - lab[None, :, :], axis=-1)
    _, cols = linear_sum_assignment(cost)
    return cols


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


class PaletteTrack:
    """Palette (K colours, weights) as a smooth function of time, from timeline rows."""

    def __init__(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            raise ValueError("PaletteTrack needs at least one timeline row")
        rows = sorted(rows, key=lambda r: int(r["window_index"]))
        k = min(len(r["palette_lab"]) for r in rows)
        labs, weights = [], []
        for r in rows:
            lab = np.asarray(r["palette_lab"], dtype=np.float64)[:k]
            w = np.asarray(r["weights"], dtype=np.float64)[:k]
            if labs:
                order = _match_order(labs[-1], lab)
                lab, w = lab[order], w[order]
            labs.append(lab)
            weights.append(w / w.sum() if w.sum() > 0 else np.full(k, 1.0 / k))
        self.k = k
        self.lab = np.stack(labs)  # (n, K, 3)
        self.weights = np.stack(weights)  # (n, K)
        starts = np.array([float(r["start_s"]) for r in rows])
        ends = np.array([float(r["end_s"]) for r in rows])
        self.centres = 0.5 * (starts + ends)
        self.valence = np.array([float(r["valence"]) for r in rows])
        self.arousal = np.array([float(r["arousal"]) for r in rows])

    def _locate(self, t: float) -> tuple[int, int, float]:
        c = self.centres
        if len(c) == 1 or t <= c[0]:
            return 0, 0, 0.0
        if t >= c[-1]:
            return len(c) - 1, len(c) - 1, 0.0
        j = int(np.searchsorted(c, t, side="right"))
        i = j - 1
        span = c[j] - c[i]
        f = float(_smoothstep(np.array((t - c[i]) / span))) if span > 0 else 0.0
        return i, j, f

    def at(self, t: float) -> tuple[np.ndarray, np.ndarray, float, float]:
        """(palette Lab (K,3), weights (K,), valence, arousal) at time ``t`` seconds."""
        i, j, f = self._locate(t)
        lab = (1 - f) * self.lab[i] + f * self.lab[j]
        w = (1 - f) * self.weights[i] + f * self.weights[j]
        v = (1 - f) * self.valence[i] + f * self.valence[j]
        a = (1 - f) * self.arousal[i] + f * self.arousal[j]
        return lab, w, float(v), float(a)


# --------------------------------------------------------------------------- styles

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


def iter_frame_states(track: PaletteTrack, drive: FrameDrive) -> Any:
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


# --------------------------------------------------------------------------- encoding

@dataclass(frozen=True)
class VideoSpec:
    width: int = DEFAULT_SIZE[0]
    height: int = DEFAULT_SIZE[1]
    fps: int = DEFAULT_FPS
    style: str = DEFAULT_STYLE
    crf: int = 21
    preset: str = "veryfast"

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or self.width % 2 or self.height % 2:
            raise ValueError(f"size must be positive and even, got {self.width}x{self.height}")
        if not 1 <= self.fps <= 120:
            raise ValueError(f"fps must be in 1..120, got {self.fps}")
        if self.style not in STYLES:
            raise ValueError(f"unknown style {self.style!r}; choose from {sorted(STYLES)}")

    def to_dict(self) -> dict:
        return {"width": self.width, "height": self.height, "fps": self.fps, "style": self.style,
                "crf": self.crf, "preset": self.preset, "generator": GENERATOR_VERSION}


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size must look like 640x360, got {text!r}") from None
    return w, h


class _AudioPump:
    """Decodes the source's audio and encodes it as AAC, on demand up to a given time."""

    def __init__(self, source: str, out: av.container.OutputContainer) -> None:
        self._in = av.open(source)
        self._stream = self._in.streams.audio[0]
        for other in self._in.streams:
            if other.index != self._stream.index:
                other.discard = Discard.all  # the demuxer skips these packets
        cc = self._stream.codec_context
        layout = "mono" if cc.channels == 1 else "stereo"
        rates = av.codec.Codec("aac", "w").audio_rates or ()
        rate = cc.sample_rate if (not rates or cc.sample_rate in rates) else 48000
        self.out_stream = out.add_stream("aac", rate=rate, layout=layout)
        self.out_stream.codec_context.bit_rate = 96_000 if layout == "mono" else 160_000
        self._out = out
        self._resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        self._packets = self._in.demux(self._stream)
        self._rate = rate
        self._samples = 0
        self._done = False

    def _encode(self, frames) -> None:
        for f in frames:
            f.pts = self._samples
            f.time_base = Fraction(1, self._rate)
            self._samples += f.samples
            self._out.mux(self.out_stream.encode(f))

    def feed_until(self, t: float) -> None:
        while not self._done and self._samples < t * self._rate:
            try:
                packet = next(self._packets)
            except StopIteration:
                self._done = True
                break
            except (av.error.FFmpegError, ValueError):  # read error: keep what we have
                self._done = True
                break
            try:
                frames = packet.decode()
            except (av.error.FFmpegError, ValueError):
                continue
            for frame in frames:
                frame.pts = None  # the resampler re-times continuously
                self._encode(self._resampler.resample(frame))

    def close(self) -> None:
        self.feed_until(float("inf"))
        self._encode(self._resampler.resample(None))
        self._out.mux(self.out_stream.encode(None))
        self._in.close()


@dataclass(frozen=True)
class RenderStats:
    frames: int
    duration_s: float
    tempo_bpm: float
    beats: int


def video_metadata(media_id: str, model_version: str, spec: VideoSpec) -> str:
    return json.dumps({"m2p": {"media_id": media_id, "model_version": model_version,
                               **spec.to_dict()}}, sort_keys=True)


def read_video_metadata(path: str) -> dict | None:
    """The metadata :func:`render_video` stored in a generated video, or None."""
    try:
        with av.open(path) as c:
            return json.loads(c.metadata.get(METADATA_KEY, ""))["m2p"]
    except Exception:  # absent, partial or foreign file: not done
        return None


def render_video(audio_path: str, rows: Sequence[Mapping[str, Any]], out_path: str,
                 spec: VideoSpec = VideoSpec(), *, metadata: str | None = None,
                 on_frames: Callable[[int], None] | None = None) -> RenderStats:
    """Render the music-driven video for ``audio_path`` (any container with audio) to
    ``out_path`` (.mp4: H.264 yuv420p + AAC of the original audio).

    ``rows``: that media's timeline rows. ``on_frames(n)`` is called now and then with the
    number of frames encoded since the last call (for progress reporting).
    """
    features = analyse(iter_audio(audio_path, ANALYSIS_RATE), ANALYSIS_RATE)
    n_frames = n_video_frames(features.duration_s, spec.fps)
    drive = frame_drive(features, spec.fps, n_frames)
    track = PaletteTrack(rows)
    iw, ih = internal_size(spec.width, spec.height)
    renderer = FrameRenderer(spec.style, iw, ih)
    with av.open(out_path, "w", format="mp4") as out:
        if metadata:
            out.metadata[METADATA_KEY] = metadata
        vs = out.add_stream("libx264", rate=spec.fps)
        vs.width, vs.height, vs.pix_fmt = spec.width, spec.height, "yuv420p"
        vs.options = {"preset": spec.preset, "crf": str(spec.crf)}
        vs.codec_context.time_base = Fraction(1, spec.fps)
        audio = _AudioPump(audio_path, out)
        pending = 0
        try:
            for i, state in enumerate(iter_frame_states(track, drive)):
                img = renderer.render(state)
                frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(
                    width=spec.width, height=spec.height, format="yuv420p",
                    interpolation="BICUBIC")
                frame.pts = i
                frame.time_base = Fraction(1, spec.fps)
                out.mux(vs.encode(frame))
                audio.feed_until((i + 1) / spec.fps)
                pending += 1
                if on_frames is not None and pending >= 25:
                    on_frames(pending)
                    pending = 0
            out.mux(vs.encode(None))
        finally:
            audio.close()
    if on_frames is not None and pending:
        on_frames(pending)
    return RenderStats(n_frames, features.duration_s, features.tempo_bpm, len(features.beats_s))


def render_still(rows: Sequence[Mapping[str, Any]], t: float, style: str = DEFAULT_STYLE,
                 size: tuple[int, int] = (320, 180), energy: float = 0.6, onset: float = 0.3,
                 beat: float = 0.3) -> np.ndarray:
    """One frame at time ``t`` with fixed drive values (for previews and tests)."""
    track = PaletteTrack(rows)
    lab, w, v, a = track.at(t)
    rgb = np.clip(lab_to_srgb01(lab), 0.0, 1.0).astype(np.float32)
    state = FrameState(t, rgb, lab[:, 0].astype(np.float32), w.astype(np.float32), v, a,
                       energy, onset, beat, 0.0, 3.0 * t)
    return FrameRenderer(style, *size).render(state)


def atomic_tmp_path(path: str) -> str:
    """A hidden temp name next to ``path`` (dataset readers and players ignore dot files)."""
    d, name = os.path.split(path)
    return os.path.join(d, f".{name}.tmp-{os.getpid()}")
