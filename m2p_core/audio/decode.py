"""Decode the audio track of any audio/video container to mono float32, streamed, with PyAV.

PyAV bundles FFmpeg, so every container/codec FFmpeg reads works (mp3, wav, flac, ogg/opus, m4a,
mp4, mov, mkv, webm, ...). Only the audio stream is demuxed (others are discarded at the demuxer),
frames are converted to mono float32 at the requested rate by ``av.AudioResampler`` in chunk-sized
output frames, and memory stays bounded by one chunk regardless of the media duration.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import av
import av.logging
import numpy as np
from av.stream import Discard, Disposition

__all__ = [
    "DecodeStats",
    "DecodeTimeoutError",
    "EmptyMediaError",
    "MediaError",
    "MediaInfo",
    "MediaTooLongError",
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


class DecodeTimeoutError(MediaError):
    """Decoding took longer than the caller's time budget (``time_budget_s``)."""


class MediaTooLongError(MediaError):
    """The audio declares (or decodes to) more than the caller's ``max_duration_s``."""


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
    decoder_errors: int = 0  # errors FFmpeg reported while demuxing/decoding (data concealed)
    declared_duration_s: float | None = None  # what the audio stream/container header says
    warnings: list[str] = field(default_factory=list)  # set at the end: why the audio is partial
    decode_s: float = 0.0  # time spent decoding (not counting the consumer's time)

    @property
    def partial(self) -> bool:
        """True if the decoded audio is known to be incomplete or damaged."""
        return bool(self.warnings)


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
    with _error_logs(), av.logging.Capture():  # FFmpeg's complaints: our exception, not stderr
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
               stats: DecodeStats | None = None, time_budget_s: float | None = None,
               max_duration_s: float | None = None) -> Iterator[np.ndarray]:
    """Yield the audio of ``source`` as mono float32 chunks at ``sample_rate`` Hz.

    Every chunk holds ``round(chunk_s * sample_rate)`` samples except the last (shorter).
    Channels are downmixed and resampled by ``av.AudioResampler`` (format 'flt', layout
    'mono'). Memory is bounded by about one chunk, independent of the media duration.

    Raises (lazily, while iterating) :class:`UndecodableMediaError` if ``source`` cannot be
    opened or nothing in it decodes, :class:`NoAudioStreamError` if it has no audio stream and
    :class:`EmptyMediaError` if its audio decodes to zero samples. Packets that fail to decode
    mid-stream are skipped and counted in ``stats.corrupt_packets``; a read error mid-file
    (e.g. truncation) ends the stream after what was decoded. The container is always closed.

    Damage that still lets audio decode is reported in ``stats.warnings`` once the stream has
    ended (``stats.partial``): skipped packets, errors FFmpeg reported while concealing damaged
    data (``stats.decoder_errors``), audio shorter than its header declares (truncation), a WAV
    whose data chunk declares more bytes than the file holds.

    Bounds: ``time_budget_s`` limits the time spent decoding (time the consumer spends between
    chunks does not count; checked between packets) -> :class:`DecodeTimeoutError`;
    ``max_duration_s`` rejects audio whose header declares more, or that decodes to more ->
    :class:`MediaTooLongError`.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be > 0, got {sample_rate!r}")
    if not chunk_s > 0:
        raise ValueError(f"chunk_s must be > 0, got {chunk_s!r}")
    if time_budget_s is not None and not time_budget_s > 0:
        raise ValueError(f"time_budget_s must be > 0, got {time_budget_s!r}")
    if max_duration_s is not None and not max_duration_s > 0:
        raise ValueError(f"max_duration_s must be > 0, got {max_duration_s!r}")
    return _iter_audio(source, int(sample_rate), max(1, int(round(chunk_s * sample_rate))),
                       stats if stats is not None else DecodeStats(), time_budget_s,
                       max_duration_s)


_LOG_LOCK = threading.Lock()
_LOG_USERS = 0
_LOG_SAVED: int | None = None


@contextlib.contextmanager
def _error_logs() -> Iterator[None]:
    """FFmpeg reports concealed damage only through its log; PyAV's default level (None)
    drops it. While audio is opened/decoded here, raise the level to ERROR (never lower an
    explicit setting) so that :class:`av.logging.Capture` (thread-local) sees decoder errors;
    put it back as soon as no decode in this process needs it. PyAV's log callback takes the
    GIL: left on, codec-internal threads (frame-threaded H.264 in the recolour and generate
    paths) logging through it while their caller holds the GIL can deadlock."""
    global _LOG_USERS, _LOG_SAVED
    with _LOG_LOCK:
        if _LOG_USERS == 0:
            _LOG_SAVED = av.logging.get_level()
            if _LOG_SAVED is None or _LOG_SAVED < av.logging.ERROR:
                av.logging.set_level(av.logging.ERROR)
        _LOG_USERS += 1
    try:
        yield
    finally:
        with _LOG_LOCK:
            _LOG_USERS -= 1
            if _LOG_USERS == 0:
                av.logging.set_level(_LOG_SAVED)


def _audio_duration_s(container: av.container.InputContainer,
                      stream: av.stream.Stream) -> float | None:
    """Declared duration of the audio stream (the container's only for audio-only files:
    a video track may legitimately outlast the soundtrack)."""
    if stream.duration and stream.time_base and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if not container.streams.video and container.duration and container.duration > 0:
        return container.duration / av.time_base
    return None


def _wav_missing_bytes(path: str) -> int:
    """Bytes a RIFF/WAVE file's ``data`` chunk declares beyond the end of the file (0 if none,
    unknown, or the 0/0xFFFFFFFF 'streaming' sizes)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return 0
            pos = 12
            for _ in range(1000):
                f.seek(pos)
                chunk = f.read(8)
                if len(chunk) < 8:
                    return 0
                cid, n = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"data":
                    if n in (0, 0xFFFFFFFF):
                        return 0
                    return max(0, pos + 8 + n - size)
                pos += 8 + n + (n & 1)
    except OSError:
        return 0
    return 0


def _iter_audio(source: Source, sample_rate: int, chunk_n: int, stats: DecodeStats,
                time_budget_s: float | None,
                max_duration_s: float | None) -> Iterator[np.ndarray]:
    with _error_logs():
        yield from _decode_audio_chunks(source, sample_rate, chunk_n, stats, time_budget_s,
                                        max_duration_s)


def _decode_audio_chunks(source: Source, sample_rate: int, chunk_n: int, stats: DecodeStats,
                         time_budget_s: float | None,
                         max_duration_s: float | None) -> Iterator[np.ndarray]:
    name = _describe(source)
    clock = time.monotonic
    t_resume = clock()

    def check_time() -> None:
        if time_budget_s is not None and stats.decode_s + (clock() - t_resume) > time_budget_s:
            raise DecodeTimeoutError(
                f"{name}: decoding exceeded its time budget of {time_budget_s:g} s "
                f"({stats.samples_out / sample_rate:.1f} s of audio decoded)")

    max_samples = None if max_duration_s is None else int(max_duration_s * sample_rate)
    first_error: list[str] = []

    def note_logs(logs) -> None:
        for entry in logs:
            level, log_name, message = entry[0], entry[1], entry[2]
            if level is not None and level <= av.logging.ERROR:
                stats.decoder_errors += 1
                if not first_error:
                    first_error.append(f"{log_name}: {str(message).strip()}")

    with av.logging.Capture():  # errors while probing (e.g. about discarded video streams)
        container = _open(source, name)  # are not the audio's; keep them off stderr
    try:
        stream = _audio_stream(container, name)
        for other in container.streams:
            if other.index != stream.index:
                other.discard = Discard.all  # the demuxer skips these packets entirely
        stats.declared_duration_s = _audio_duration_s(container, stream)
        if (max_duration_s is not None and stats.declared_duration_s is not None
                and stats.declared_duration_s > max_duration_s):
            raise MediaTooLongError(
                f"{name}: declares {stats.declared_duration_s:.0f} s of audio, more than the "
                f"maximum duration of {max_duration_s:g} s")
        # No decoder thread_type: FFmpeg audio decoders have no frame/slice threading (measured:
        # no gain for mp3/aac/opus). Decoding is codec-bound; the resampler emits whole chunks.

        def new_resampler() -> av.AudioResampler:
            return av.AudioResampler(format="flt", layout="mono", rate=sample_rate,
                                     frame_size=chunk_n)

        def emit(of) -> np.ndarray:
            chunk = of.to_ndarray().reshape(-1)
            stats.samples_out += chunk.shape[0]
            if max_samples is not None and stats.samples_out > max_samples:
                raise MediaTooLongError(
                    f"{name}: decodes to more than the maximum duration of "
                    f"{max_duration_s:g} s (declared: {stats.declared_duration_s})")
            return chunk

        resampler = new_resampler()
        read_error: Exception | None = None
        packets = container.demux(stream)
        while True:
            check_time()
            with av.logging.Capture() as logs:
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
                    frames = []
            if logs:
                note_logs(logs)
            for frame in frames:
                try:
                    out = resampler.resample(frame)
                except ValueError:  # input format/rate/layout changed mid-stream
                    out = resampler.resample(None)
                    resampler = new_resampler()
                    out += resampler.resample(frame)
                for of in out:
                    chunk = emit(of)
                    stats.decode_s += clock() - t_resume
                    yield chunk
                    t_resume = clock()
        for of in resampler.resample(None):
            if of.samples:
                chunk = emit(of)
                stats.decode_s += clock() - t_resume
                yield chunk
                t_resume = clock()
        if stats.samples_out == 0:
            if stats.corrupt_packets:
                detail = f" ({read_error})" if read_error is not None else ""
                raise UndecodableMediaError(
                    f"{name}: nothing decodes from its {stream.codec_context.name} audio "
                    f"stream; {stats.corrupt_packets} corrupt packet(s){detail}")
            raise EmptyMediaError(f"{name}: audio stream ({stream.codec_context.name}) "
                                  "decodes to zero samples")
        stats.warnings.extend(_damage_warnings(source, container, stats, sample_rate,
                                               read_error, first_error))
    except _AV_ERRORS as e:  # e.g. the resampler rejecting an exotic channel layout
        raise UndecodableMediaError(f"{name}: audio cannot be converted "
                                    f"({type(e).__name__}: {e})") from e
    finally:
        stats.decode_s += clock() - t_resume
        t_resume = clock()
        container.close()


def _damage_warnings(source: Source, container: av.container.InputContainer,
                     stats: DecodeStats, sample_rate: int, read_error: Exception | None,
                     first_error: list[str]) -> list[str]:
    """Why the audio that decoded is known to be partial or damaged (empty if it is not)."""
    out = []
    decoded_s = stats.samples_out / sample_rate
    if stats.corrupt_packets:
        detail = f": {type(read_error).__name__}: {read_error}" if read_error else ""
        out.append(f"{stats.corrupt_packets} packet(s) failed to read/decode and were "
                   f"skipped{detail}")
    if stats.decoder_errors:
        out.append(f"the decoder reported {stats.decoder_errors} error(s) in damaged data "
                   f"(first: {first_error[0] if first_error else '?'})")
    declared = stats.declared_duration_s
    if declared is not None and declared - decoded_s > max(1.0, 0.03 * declared):
        out.append(f"truncated: decoded {decoded_s:.1f} s of the {declared:.1f} s its header "
                   "declares")
    if isinstance(source, (str, os.PathLike)) and container.format.name == "wav":
        missing = _wav_missing_bytes(os.fspath(source))
        if missing:
            out.append(f"truncated: the WAV data chunk declares {missing} bytes more than the "
                       "file holds")
    return out


def decode_audio(source: Source, sample_rate: int) -> np.ndarray:
    """Whole audio track of ``source`` as one mono float32 array at ``sample_rate`` Hz.

    Convenience for training and short files; holds the whole signal in memory. Raises like
    :func:`iter_audio`.
    """
    chunks = list(iter_audio(source, sample_rate, chunk_s=30.0))
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
