"""Music-driven video: render frames from a palette track and the music's drive, encode with
the music as AAC (:func:`render_video`), and the record embedded in the file that lets a rerun
skip it.

Decode → drive features (:mod:`m2p_core.generate.drive`) → frames (:mod:`m2p_core.generate.styles`)
streamed into PyAV's H.264 encoder, with the music re-encoded as AAC and muxed interleaved.
Memory is flat in duration: one frame, one audio chunk and a few floats per frame of driving
signals. The palette over time is :meth:`m2p_core.palette.track.PaletteTrack.of_windows`.
"""


from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np
from av.stream import Discard

from m2p_core.audio.decode import iter_audio
from m2p_core.colour.space import lab_to_srgb01
from m2p_core.generate.drive import analyse, frame_drive, n_video_frames
from m2p_core.generate.styles import (
    DEFAULT_STYLE,
    STYLES,
    FrameRenderer,
    FrameState,
    internal_size,
    iter_frame_states,
)
from m2p_core.palette.track import PaletteTrack

#: version of the renderer; part of the "already done" check of generated videos.
RENDERER_VERSION = "gen-1"
ANALYSIS_RATE = 22050
DEFAULT_SIZE = (640, 360)
DEFAULT_FPS = 25
METADATA_KEY = "comment"


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
                "crf": self.crf, "preset": self.preset, "generator": RENDERER_VERSION}


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
    track = PaletteTrack.of_windows(rows)
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
    track = PaletteTrack.of_windows(rows)
    lab, w, v, a = track.at(t)
    rgb = np.clip(lab_to_srgb01(lab), 0.0, 1.0).astype(np.float32)
    state = FrameState(t, rgb, lab[:, 0].astype(np.float32), w.astype(np.float32), v, a,
                       energy, onset, beat, 0.0, 3.0 * t)
    return FrameRenderer(style, *size).render(state)
