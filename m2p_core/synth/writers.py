"""Write generated media with PyAV only (no ffmpeg binary): audio files in any common
container (:func:`write_audio`, :func:`encode_audio_bytes`) and test-pattern videos with an
optional soundtrack (:func:`write_video`)."""

from __future__ import annotations

import io
import os
from fractions import Fraction

import av
import numpy as np

from m2p_core.synth.patterns import PATTERNS, pattern_frames

__all__ = ["encode_audio_bytes", "write_audio", "write_video"]


# extension -> (container format or None for PyAV's guess, [(codec, forced sample rate Hz)])
_AUDIO_CODECS: dict[str, tuple[str | None, list[tuple[str, int | None]]]] = {
    ".wav": (None, [("pcm_s16le", None)]),
    ".flac": (None, [("flac", None)]),
    ".mp3": (None, [("libmp3lame", None), ("mp3", None)]),
    ".ogg": ("ogg", [("libvorbis", None), ("libopus", 48000)]),
    ".opus": ("ogg", [("libopus", 48000)]),
    ".m4a": ("ipod", [("aac", None)]),
}
_VIDEO_FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}
_WRITE_BLOCK_N = 65536  # samples per frame handed to the encoder's resampler


def _has_encoder(name: str) -> bool:
    try:
        av.codec.Codec(name, "w")
    except Exception:  # UnknownCodecError / ValueError depending on PyAV version
        return False
    return True


def _pick_codec(options: list[tuple[str, int | None]], what: str) -> tuple[str, int | None]:
    for codec, rate in options:
        if _has_encoder(codec):
            return codec, rate
    raise RuntimeError(f"no encoder available for {what}: tried {[c for c, _ in options]}")


def _supported_rate(codec: str, rate: int) -> int:
    rates = av.codec.Codec(codec, "w").audio_rates
    if not rates or rate in rates:
        return rate
    higher = sorted(r for r in rates if r >= rate)
    return higher[0] if higher else max(rates)


class _AudioEncoder:
    """Encodes mono float32 blocks into an output audio stream.

    PyAV's encoder context resamples each frame to the codec's sample format, rate and fixed
    frame size; input pts run continuously (in 1/``in_rate`` units) across :meth:`write` calls.
    """

    def __init__(self, container: av.container.OutputContainer, codec: str, rate: int,
                 in_rate: int, bit_rate: int = 96_000) -> None:
        self.container = container
        self.stream = container.add_stream(codec, rate=rate, layout="mono")
        if codec in ("aac", "libopus", "libmp3lame", "libvorbis"):
            self.stream.codec_context.bit_rate = bit_rate
        self.in_rate = in_rate
        self._pts = 0

    def write(self, samples: np.ndarray) -> None:
        for start in range(0, len(samples), _WRITE_BLOCK_N):
            block = np.ascontiguousarray(samples[start:start + _WRITE_BLOCK_N], dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = self.in_rate
            frame.pts = self._pts
            frame.time_base = Fraction(1, self.in_rate)
            self._pts += len(block)
            self.container.mux(self.stream.encode(frame))

    def flush(self) -> None:
        self.container.mux(self.stream.encode(None))


def write_audio(path: str | os.PathLike, samples: np.ndarray, sample_rate: int) -> None:
    """Encode mono ``samples`` (float, nominal range ±1) at ``sample_rate`` Hz to ``path``.

    The codec follows the extension: .wav pcm_s16le, .flac flac, .mp3 libmp3lame, .ogg libvorbis
    (libopus at 48 kHz when libvorbis is not built in), .opus libopus (48 kHz), .m4a aac. The
    signal is resampled when the codec does not support ``sample_rate``.
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in _AUDIO_CODECS:
        raise ValueError(f"unsupported audio extension {ext!r} for {path}")
    fmt, options = _AUDIO_CODECS[ext]
    codec, forced_rate = _pick_codec(options, ext)
    rate = forced_rate or _supported_rate(codec, sample_rate)
    samples = np.clip(np.asarray(samples, dtype=np.float32).reshape(-1), -1.0, 1.0)
    with av.open(path, "w", format=fmt) as container:
        enc = _AudioEncoder(container, codec, rate, sample_rate)
        container.start_encoding()  # header written even when there are no samples
        if len(samples):
            enc.write(samples)
        enc.flush()


def encode_audio_bytes(samples: np.ndarray, sample_rate: int, container_format: str,
                       codec: str, bit_rate: int) -> bytes:
    """Encode mono ``samples`` in memory, e.g. ('mp3', 'libmp3lame', 64000) or
    ('adts', 'aac', 96000); returns the encoded file's bytes."""
    buf = io.BytesIO()
    with av.open(buf, "w", format=container_format) as container:
        enc = _AudioEncoder(container, codec, sample_rate, sample_rate, bit_rate)
        enc.write(np.asarray(samples, dtype=np.float32))
        enc.flush()
    return buf.getvalue()


def write_video(path: str | os.PathLike, size: tuple[int, int] = (320, 240), fps: int = 25,
                duration_s: float | None = None, *, audio: np.ndarray | None = None,
                sample_rate: int = 22050, pattern: str = "bars") -> None:
    """Write a moving colour test pattern video, optionally with a mono soundtrack.

    ``size`` is (width, height) in pixels (even numbers), ``fps`` frames per second,
    ``duration_s`` the length in seconds (default: the audio's length, else 5 s). Containers by
    extension: .mp4/.mov/.mkv use H.264 (libx264, yuv420p) + AAC; .webm uses VP9 (VP8 fallback)
    + Opus (48 kHz). Frames are generated one at a time; audio is muxed interleaved.
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in _VIDEO_FORMATS:
        raise ValueError(f"unsupported video extension {ext!r} for {path}")
    width, height = int(size[0]), int(size[1])
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise ValueError(f"size must be positive even (width, height), got {size!r}")
    if pattern not in PATTERNS:
        raise ValueError(f"unknown pattern {pattern!r}; use one of {PATTERNS}")
    if audio is not None:
        audio = np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1.0, 1.0)
    if duration_s is None:
        duration_s = len(audio) / sample_rate if audio is not None else 5.0
    n_frames = max(1, int(round(duration_s * fps)))

    if ext == ".webm":
        vcodec, _ = _pick_codec([("libvpx-vp9", None), ("libvpx", None)], "webm video")
        acodec_opts: list[tuple[str, int | None]] = [("libopus", 48000), ("libvorbis", None)]
        v_options = {"deadline": "realtime", "cpu-used": "8", "crf": "32", "b": "0"}
    else:
        vcodec, _ = _pick_codec([("libx264", None), ("h264", None), ("mpeg4", None)], ext)
        acodec_opts = [("aac", None)]
        v_options = {"preset": "veryfast", "crf": "23"} if vcodec == "libx264" else {}

    with av.open(path, "w", format=_VIDEO_FORMATS[ext]) as container:
        vstream = container.add_stream(vcodec, rate=fps)
        vstream.width, vstream.height = width, height
        vstream.pix_fmt = "yuv420p"
        vstream.options = v_options
        enc: _AudioEncoder | None = None
        if audio is not None:
            acodec, forced = _pick_codec(acodec_opts, f"{ext} audio")
            enc = _AudioEncoder(container, acodec, forced or _supported_rate(acodec, sample_rate),
                                sample_rate)
        audio_pos = 0
        frames = pattern_frames(pattern, width, height)
        for i in range(n_frames):
            vf = av.VideoFrame.from_ndarray(next(frames), format="rgb24")
            vf.pts = i
            vf.time_base = Fraction(1, fps)
            container.mux(vstream.encode(vf.reformat(format="yuv420p")))
            if enc is not None and audio is not None:
                upto = min(len(audio), int(round((i + 1) / fps * sample_rate)))
                if i == n_frames - 1:
                    upto = len(audio)
                if upto > audio_pos:
                    enc.write(audio[audio_pos:upto])
                    audio_pos = upto
        container.mux(vstream.encode(None))
        if enc is not None:
            enc.flush()
