"""Decode the audio track of any audio/video container to mono float32, streamed, with PyAV.

PyAV bundles FFmpeg, so every container/codec FFmpeg reads works (mp3, wav, flac, ogg/opus, m4a,
mp4, mov, mkv, webm, ...). Only the audio stream is demuxed (others are discarded at the demuxer),
frames are converted to mono float32 at the requested rate by ``av.AudioResampler`` in chunk-sized
output frames, and memory stays bounded by one chunk regardless of the media duration.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import av
import numpy as np
from av.stream import Discard, Disposition

__all__ = [
    "DecodeStats",
    "EmptyMediaError",
    "MediaError",
    "MediaInfo",
    "NoAudioStreamError",
    "UndecodableMediaError",
    "decode_audio",
    "iter_audio",
    "probe",
]

Source = str | os.PathLike | BinaryIO

# Errors PyAV raises on unreadable input: FFmpeg errors plus plain Python errors from its
# parsing of garbage (ValueError / IndexError / OSError / EOFError / UnicodeDecodeError...).
_AV_ERRORS = (av.error.FFmpegError, ValueError, IndexError, OSError, EOFError, RuntimeError)

# Demuxers that only ever yield still images: not audio/video media for our purposes.
_IMAGE_FORMAT_SUFFIX = "_pipe"
_IMAGE_FORMATS = frozenset({"image2", "image2pipe", "gif", "apng", "webp"})


class MediaError(Exception):
    """Base: input cannot be used."""


class UndecodableMediaError(MediaError):
    """Cannot open, not audio/video media, or corrupt beyond use."""


class NoAudioStreamError(MediaError):
    """The container has no audio stream."""


class EmptyMediaError(MediaError):
    """The audio stream decodes to zero samples."""


@dataclass(frozen=True)
class MediaInfo:
    """Container facts from :func:`probe` (no decoding)."""

    duration_s: float | None  # container/stream duration in seconds, if declared
    has_audio: bool
    has_video: bool  # moving video; attached pictures (cover art) do not count
    audio_codec: str | None
    audio_sample_rate: int | None  # Hz
    audio_channels: int | None
    video_size: tuple[int, int] | None  # (width, height) pixels
    container: str  # FFmpeg demuxer name, e.g. "mp3", "mov,mp4,m4a,3gp,3g2,mj2"


@dataclass
class DecodeStats:
    """Filled in while decoding, for callers that want to know."""

    samples_out: int = 0  # mono samples yielded, at the requested rate
    corrupt_packets: int = 0  # packets/frames skipped because they failed to decode


def _describe(source: Source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(source, "name", None)
    return f"<{type(source).__name__} {name}>" if isinstance(name, str) else repr(source)


def _open(source: Source, name: str) -> av.container.InputContainer:
    if isinstance(source, (str, os.PathLike)):
        source = os.fspath(source)
        if os.path.isfile(source) and os.path.getsize(source) == 0:
            raise UndecodableMediaError(f"cannot open {name}: file is empty (0 bytes)")
    try:
        return av.open(source, mode="r", metadata_errors="ignore")
    except _AV_ERRORS as e:
        raise UndecodableMediaError(f"cannot open {name}: not readable audio/video media "
                                    f"({type(e).__name__}: {e})") from e


def _is_attached_pic(stream: av.stream.Stream) -> bool:
    return bool(stream.disposition & Disposition.attached_pic)


def _reject_non_media(container: av.container.InputContainer, name: str) -> None:
    """Raise :class:`UndecodableMediaError` for still images and text FFmpeg can 'open'."""
    fmt = container.format.name
    if fmt == "tty":  # FFmpeg's ANSI-art demuxer accepts any text file
        raise UndecodableMediaError(f"{name} is a text file, not audio/video media")
    if fmt.endswith(_IMAGE_FORMAT_SUFFIX) or fmt in _IMAGE_FORMATS:
        raise UndecodableMediaError(f"{name} is a still image ({fmt}), not audio/video media")


def _audio_stream(container: av.container.InputContainer, name: str) -> av.audio.AudioStream:
    if not container.streams.audio:
        _reject_non_media(container, name)
        if not container.streams:
            raise UndecodableMediaError(f"{name}: container ({container.format.name}) holds no "
                                        "streams")
        raise NoAudioStreamError(f"{name} has no audio stream (container "
                                 f"{container.format.name}, streams: "
                                 f"{[s.type for s in container.streams]})")
    stream = container.streams.best("audio") or container.streams.audio[0]
    if stream.codec_context is None:
        raise UndecodableMediaError(f"{name}: no decoder for its audio codec")
    return stream


def _duration_s(container: av.container.InputContainer,
                stream: av.stream.Stream | None) -> float | None:
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    if stream is not None and stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def probe(source: Source) -> MediaInfo:
    """Read container metadata without decoding.

    Raises :class:`UndecodableMediaError` when ``source`` (path or binary file-like object)
    cannot be opened as media. A seekable file object is returned to its original position.
    """
    name = _describe(source)
    pos = None
    if not isinstance(source, (str, os.PathLike)) and hasattr(source, "seekable"):
        try:
            pos = source.tell() if source.seekable() else None
        except (OSError, ValueError):
            pos = None
    container = _open(source, name)
    try:
        if not container.streams.audio:
            _reject_non_media(container, name)
        audio = container.streams.best("audio") if container.streams.audio else None
        videos = [s for s in container.streams.video if not _is_attached_pic(s)]
        video = videos[0] if videos else None
        actx = audio.codec_context if audio is not None else None
        if video is not None and video.codec_context is not None:
            size = (int(video.codec_context.width), int(video.codec_context.height))
        else:
            size = None
        return MediaInfo(
            duration_s=_duration_s(container, audio or video),
            has_audio=audio is not None,
            has_video=video is not None,
            audio_codec=audio.codec_context.name if actx is not None else None,
            audio_sample_rate=int(actx.sample_rate) if actx is not None else None,
            audio_channels=int(actx.channels) if actx is not None else None,
            video_size=size,
            container=container.format.name,
        )
    finally:
        container.close()
        if pos is not None:
            source.seek(pos)  # type: ignore[union-attr]


def iter_audio(source: Source, sample_rate: int, *, chunk_s: float = 2.0,
               stats: DecodeStats | None = None) -> Iterator[np.ndarray]:
    """Yield the audio of ``source`` as mono float32 chunks at ``sample_rate`` Hz.

    Every chunk holds ``round(chunk_s * sample_rate)`` samples except the last (shorter).
    Channels are downmixed and resampled by ``av.AudioResampler`` (format 'flt', layout
    'mono'). Memory is bounded by about one chunk, independent of the media duration.

    Raises (lazily, while iterating) :class:`UndecodableMediaError` if ``source`` cannot be
    opened or nothing in it decodes, :class:`NoAudioStreamError` if it has no audio stream and
    :class:`EmptyMediaError` if its audio decodes to zero samples. Packets that fail to decode
    mid-stream are skipped and counted in ``stats.corrupt_packets``; a read error mid-file
    (e.g. truncation) ends the stream after what was decoded. The container is always closed.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be > 0, got {sample_rate!r}")
    if not chunk_s > 0:
        raise ValueError(f"chunk_s must be > 0, got {chunk_s!r}")
    return _iter_audio(source, int(sample_rate), max(1, int(round(chunk_s * sample_rate))),
                       stats if stats is not None else DecodeStats())


def _iter_audio(source: Source, sample_rate: int, chunk_n: int,
                stats: DecodeStats) -> Iterator[np.ndarray]:
    name = _describe(source)
    container = _open(source, name)
    try:
        stream = _audio_stream(container, name)
        for other in container.streams:
            if other.index != stream.index:
                other.discard = Discard.all  # the demuxer skips these packets entirely
        # No decoder thread_type: FFmpeg audio decoders have no frame/slice threading (measured:
        # no gain for mp3/aac/opus). Decoding is codec-bound; the resampler emits whole chunks.

        def new_resampler() -> av.AudioResampler:
            return av.AudioResampler(format="flt", layout="mono", rate=sample_rate,
                                     frame_size=chunk_n)

        resampler = new_resampler()
        read_error: Exception | None = None
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except _AV_ERRORS as e:  # read error mid-file: keep what was decoded
                read_error = e
                stats.corrupt_packets += 1
                break
            try:
                frames = packet.decode()
            except _AV_ERRORS:
                stats.corrupt_packets += 1
                continue
            for frame in frames:
                try:
                    out = resampler.resample(frame)
                except ValueError:  # input format/rate/layout changed mid-stream
                    out = resampler.resample(None)
                    resampler = new_resampler()
                    out += resampler.resample(frame)
                for of in out:
                    chunk = of.to_ndarray().reshape(-1)
                    stats.samples_out += chunk.shape[0]
                    yield chunk
        for of in resampler.resample(None):
            chunk = of.to_ndarray().reshape(-1)
            if chunk.shape[0]:
                stats.samples_out += chunk.shape[0]
                yield chunk
        if stats.samples_out == 0:
            if stats.corrupt_packets:
                detail = f" ({read_error})" if read_error is not None else ""
                raise UndecodableMediaError(
                    f"{name}: nothing decodes from its {stream.codec_context.name} audio "
                    f"stream; {stats.corrupt_packets} corrupt packet(s){detail}")
            raise EmptyMediaError(f"{name}: audio stream ({stream.codec_context.name}) "
                                  "decodes to zero samples")
    except _AV_ERRORS as e:  # e.g. the resampler rejecting an exotic channel layout
        raise UndecodableMediaError(f"{name}: audio cannot be converted "
                                    f"({type(e).__name__}: {e})") from e
    finally:
        container.close()


def decode_audio(source: Source, sample_rate: int) -> np.ndarray:
    """Whole audio track of ``source`` as one mono float32 array at ``sample_rate`` Hz.

    Convenience for training and short files; holds the whole signal in memory. Raises like
    :func:`iter_audio`.
    """
    chunks = list(iter_audio(source, sample_rate, chunk_s=30.0))
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
