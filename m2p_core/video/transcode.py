"""Streamed video transcoding with PyAV: decode -> (per-frame callback) -> H.264 encode.

One pass over the input's packets: video frames are decoded (codec threads on), handed to a
callback that returns the frame to encode (decoding and the callback on a reader thread, one
frame ahead of the encoder), and encoded with libx264 (yuv420p, CRF/preset, frame threads as
FFmpeg's command line runs them: :data:`ENCODER_THREAD_TYPE`); the
audio stream is copied packet for packet when MP4 can carry its codec (else re-encoded to AAC).
Kept from the input: presentation timestamps (so variable frame rates survive), the time base,
the display rotation, the colour matrix/range/primaries/transfer tags. Not kept: the source's
picture types — as FFmpeg's own command line does, every frame reaches the encoder with no type,
so x264 places keyframes and B-frames itself, for a plain transcode and a recolour alike (a
decoded frame's I/P/B type would otherwise be forced on the encoder: the source's GOP, and
every frame a keyframe for an intra-only source). Odd frame sizes are
cropped by one row/column (4:2:0 H.264 needs even sizes). Memory is flat in the duration: a
frame at a time, plus the encoder's own lookahead.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np

from m2p_core.audio.decode import MediaError, UndecodableMediaError
from m2p_core.colour.yuv import YuvSpec

#: audio codecs MP4 carries as they are
_MP4_AUDIO = {"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"}


class NoVideoStreamError(MediaError):
    """The container has no video stream."""


@dataclass(frozen=True)
class EncodeParams:
    crf: int = 20
    preset: str = "veryfast"
    codec: str = "libx264"

    def options(self) -> dict[str, str]:
        if self.codec == "libx264":
            return {"crf": str(self.crf), "preset": self.preset}
        return {}


@dataclass
class TranscodeStats:
    frames: int = 0
    width: int = 0
    height: int = 0
    rotation: int = 0
    spec: YuvSpec | None = None
    audio: str = "none"  # "copy", "aac" or "none"
    extra: dict = field(default_factory=dict)


def plane_views(frame: av.VideoFrame) -> tuple[np.ndarray, ...]:
    """Zero-copy (height, width) uint8 views of a planar 8-bit frame's planes."""
    return tuple(
        np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]
        for p in frame.planes
    )


def even_size(width: int, height: int) -> tuple[int, int]:
    return width - (width % 2), height - (height % 2)


def as_yuv420(frame: av.VideoFrame) -> av.VideoFrame:
    """The frame in an 8-bit 4:2:0 planar format (yuv420p or full-range yuvj420p)."""
    if frame.format.name in ("yuv420p", "yuvj420p"):
        return frame
    return frame.reformat(format="yuv420p")


FrameFn = Callable[[av.VideoFrame, float], av.VideoFrame]


def add_output_audio(oc: av.container.OutputContainer, ias: av.audio.stream.AudioStream | None,
                     stats: TranscodeStats):
    """The output audio stream for input stream ``ias``: copied packet for packet when MP4 can
    carry its codec, else re-encoded to AAC (stereo, fltp). Returns ``(stream, resampler,
    encoder)`` — resampler/encoder are None when copying; all None without input audio — and
    records the choice in ``stats.audio`` (any stats object with an ``audio`` field)."""
    if ias is None:
        return None, None, None
    if ias.codec_context.name in _MP4_AUDIO:
        stats.audio = "copy"
        return oc.add_stream_from_template(ias), None, None
    oas = oc.add_stream("aac", rate=ias.codec_context.sample_rate or 48000)
    resampler = av.AudioResampler(format="fltp", layout="stereo",
                                  rate=oas.codec_context.sample_rate)
    stats.audio = "aac"
    return oas, resampler, oas


class ExternalAudio:
    """The audio of another file (the ``--music`` of a video that has no sound of its own), as
    packets handed out in time order up to a given time: packets that start at or after the
    video's last frame ends are never muxed, so the music is cut to the video's length."""

    def __init__(self, container, stream) -> None:
        self._container, self.stream = container, stream
        self._packets = (p for p in container.demux(stream) if p.dts is not None)
        self._next: av.Packet | None = None
        self._done = False

    @classmethod
    def open(cls, path: str | os.PathLike) -> ExternalAudio | None:
        """None when ``path`` has no audio stream."""
        try:
            container = av.open(os.fspath(path))
        except Exception as e:
            raise UndecodableMediaError(f"cannot open the audio {path}: {e}") from e
        if not container.streams.audio:
            container.close()
            return None
        return cls(container, container.streams.audio[0])

    def until(self, t: float):
        """The packets that start before ``t`` seconds and have not been handed out yet."""
        while not self._done:
            if self._next is None:
                self._next = next(self._packets, None)
                if self._next is None:
                    self._done = True
                    return
            p = self._next
            start = p.pts if p.pts is not None else p.dts
            if float(start * p.time_base) >= t:
                return
            self._next = None
            yield p

    def close(self) -> None:
        self._container.close()


def frame_time_s(frame: av.VideoFrame, index: int, rate: Fraction | None) -> float:
    if frame.pts is not None and frame.time_base is not None:
        return float(frame.pts * frame.time_base)
    return index / float(rate or 25)


def transcode(in_path: str | os.PathLike, out_path: str | os.PathLike,
              process: FrameFn | None = None, params: EncodeParams = EncodeParams(),
              on_start: Callable[[TranscodeStats], None] | None = None,
              audio_fallback: str | os.PathLike | None = None,
              on_frame: Callable[[int], None] | None = None) -> TranscodeStats:
    """Transcode ``in_path`` to an MP4 at ``out_path``; ``process(frame, t_seconds)`` returns the
    frame to encode (``None``: encode the decoded frame as it is — the plain transcode).
    ``on_start`` is called once with the stream facts (size, colour spec) before frame 0.

    Pipelined, the plain transcode included: a reader thread demuxes, decodes and runs
    ``process`` for frame n+1 while this thread encodes frame n and muxes (PyAV releases the
    GIL in the codecs, the LUT kernel is nogil), with at most ``_QUEUE`` frames in flight, so
    memory stays flat. ``process`` and ``on_start`` run on the reader thread, in frame order,
    ``on_start`` strictly before the first ``process``.

    ``audio_fallback``: a media file whose audio becomes the output's soundtrack when the
    input has none (cut at the video's end; see :class:`ExternalAudio`). ``on_frame(n)``
    is called on this thread after every encoded frame (``n`` frames so far: progress)."""
    try:
        ic = av.open(os.fspath(in_path))
    except Exception as e:
        raise UndecodableMediaError(f"cannot open {in_path}: {e}") from e
    stats = TranscodeStats()
    try:
        if not ic.streams.video:
            raise NoVideoStreamError(f"{in_path}: no video stream")
        ivs = ic.streams.video[0]
        ivs.thread_type = "AUTO"
        ias = ic.streams.audio[0] if ic.streams.audio else None
        rate = ivs.average_rate or ivs.guessed_rate or Fraction(25)
        external = ExternalAudio.open(audio_fallback) if ias is None and audio_fallback else None
        with contextlib.ExitStack() as stack, \
                av.open(os.fspath(out_path), "w", format="mp4") as oc:
            if external is not None:
                stack.callback(external.close)
            oas, resampler, aenc = add_output_audio(
                oc, ias if external is None else external.stream, stats)
            if external is not None:
                stats.extra["audio_from"] = os.fspath(audio_fallback)
            reader = _Reader(ic, ivs, ias, rate, process, on_start, stats)
            ovs = None
            pending_audio: list[av.Packet] = []
            try:
                reader.start()
                for kind, item in reader:
                    if kind == "audio":
                        if ovs is None:  # the header waits for the video stream's setup
                            pending_audio.append(item)
                        else:
                            mux_audio_packet(oc, item, oas, resampler, aenc)
                    elif kind == "first":  # the reader waits for the stream (on_start's facts)
                        ovs = open_video_stream(oc, ivs, item, rate, params, stats)
                        reader.resume()
                        for p in pending_audio:
                            mux_audio_packet(oc, p, oas, resampler, aenc)
                        pending_audio.clear()
                    else:
                        out, index = item
                        if out.pts is None:
                            out.pts, out.time_base = index, 1 / rate
                        # the encoder chooses frame types (a decoded frame still carries the
                        # source's I/P/B type, which libx264 would take as forced)
                        out.pict_type = _ANY_PICTURE_TYPE
                        oc.mux(ovs.encode(out))
                        if external is not None:  # the music up to this frame, interleaved
                            end = float(out.pts * out.time_base) + 1.0 / float(rate)
                            for p in external.until(end):
                                mux_audio_packet(oc, p, oas, resampler, aenc)
                        if on_frame is not None:
                            on_frame(index + 1)
            finally:
                reader.stop()
            if ovs is None:
                raise UndecodableMediaError(f"{in_path}: no decodable video frame")
            oc.mux(ovs.encode(None))
            if aenc is not None:
                if resampler is not None:
                    for f in resampler.resample(None):
                        oc.mux(aenc.encode(f))
                oc.mux(aenc.encode(None))
            stats.frames = reader.frames
    finally:
        ic.close()
    return stats


_ANY_PICTURE_TYPE = av.video.frame.PictureType.NONE
#: how much lower the reader thread's scheduling priority is than the encoder's (nice units)
READER_NICE = 10

#: frames decoded/processed ahead of the encoder (each one a frame's worth of memory)
_QUEUE = 3
_END = object()


class _Reader:
    """The reader thread of :func:`transcode`: demux, decode, ``process``; items come out in
    order as ("audio", packet), ("first", frame) — after which the thread waits for
    :meth:`resume` — and ("video", (frame to encode, index)). Its exceptions are re-raised
    in the consumer."""

    def __init__(self, ic, ivs, ias, rate, process, on_start, stats: TranscodeStats) -> None:
        self.ic, self.ivs, self.ias, self.rate = ic, ivs, ias, rate
        self.process, self.on_start, self.stats = process, on_start, stats
        self.frames = 0
        self._queue: queue.Queue = queue.Queue(maxsize=_QUEUE)
        self._resume = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="m2p-transcode-reader",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def resume(self) -> None:
        self._resume.set()

    def stop(self) -> None:
        """Stop early (the consumer failed) or after the end; joins the thread."""
        self._stop.set()
        self._resume.set()
        while self._thread.is_alive():
            try:  # unblock a put
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()

    def __iter__(self):
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        _lower_thread_priority(READER_NICE)
        try:
            streams = [self.ivs] + ([self.ias] if self.ias is not None else [])
            for packet in self.ic.demux(*streams):
                if packet.stream.type == "audio":
                    if packet.dts is not None and not self._put(("audio", packet)):
                        return
                    continue
                for frame in decode_packet(packet):
                    frame = as_yuv420(frame)
                    if self.frames == 0:
                        if not self._put(("first", frame)):
                            return
                        self._resume.wait()
                        if self._stop.is_set():
                            return
                        if self.on_start is not None:
                            self.on_start(self.stats)
                    t = frame_time_s(frame, self.frames, self.rate)
                    out = frame if self.process is None else self.process(frame, t)
                    if out.pts is None:
                        out.pts, out.time_base = frame.pts, frame.time_base
                    if not self._put(("video", (out, self.frames))):
                        return
                    self.frames += 1
            self._put(_END)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            self._put(e)


def _lower_thread_priority(nice: int) -> None:
    """Raise the calling thread's nice value by ``nice`` (Linux, where a thread has its own).

    The reader thread (decode, recolour) runs a little behind the encoder's threads in the
    scheduler: libx264 on its frame threads is the pipeline's bottleneck, and the frames
    queued ahead absorb the reader's delays, so the reader's work fills the cores' idle time
    instead of pre-empting an encoder thread that the next frame waits for. The decoder's
    own threads, started from this thread, inherit the value. Measured on the 2-core machine
    with a 20-s 1080p clip: recolour 17.8 -> 16.9 s, plain transcode unchanged."""
    if not nice or not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
    except OSError:  # not permitted here: keep the default priority
        pass


def decode_packet(packet: av.Packet) -> list[av.VideoFrame]:
    try:
        return packet.decode()
    except av.error.InvalidDataError:  # one corrupt packet: skip it, keep going
        return []


def mux_audio_packet(oc, packet, oas, resampler, aenc) -> None:
    if aenc is None:
        packet.stream = oas
        oc.mux(packet)
        return
    try:
        frames = packet.decode()
    except av.error.InvalidDataError:
        return
    for f in frames:
        for r in resampler.resample(f):
            oc.mux(aenc.encode(r))


#: The encoder's threading: "AUTO" (slice | frame), what FFmpeg's command line uses, makes
#: libx264 run *frame* threads (threads = 1.5 x cores, one lookahead thread). PyAV's default for
#: an encoder is "SLICE", which makes libx264 split every frame into one slice per core and
#: encode it with sliced threads (threads = cores, lookahead_threads = cores): a few % less CPU
#: time, but the slice threads meet at the end of every frame, so the cores idle more — and
#: every frame carries N slices (slightly larger files, and the output depended on the core
#: count). Measured on the 2-core machine, 20-s 1080p30 clip, libx264 veryfast CRF 23, 6 runs
#: interleaved with ``ffmpeg -i in -c:v libx264 -preset veryfast -crf 23 -c:a copy``: CPU time
#: (user + sys) per run, paired with the command line's, 1.04x for both settings; samples with
#: >= 2 runnable threads (enough to keep both cores busy) 78% sliced, 88% frame threads, 85% the
#: command line's; in a quiet spell, wall time 1.39x the command line's sliced, 1.11x with frame
#: threads (bench/recolor.py; docs/INTERNALS.md "Against the ffmpeg command line").
ENCODER_THREAD_TYPE = "AUTO"


def open_video_stream(oc, ivs, frame: av.VideoFrame, rate: Fraction, params: EncodeParams,
                       stats: TranscodeStats):
    width, height = even_size(frame.width, frame.height)
    spec = YuvSpec.from_av(frame.colorspace, frame.color_range, frame.height, frame.format.name)
    ovs = oc.add_stream(params.codec, rate=rate)
    ovs.width, ovs.height = width, height
    ovs.pix_fmt = "yuv420p"
    ovs.options = params.options()
    # Threads as FFmpeg's command line sets them (see ENCODER_THREAD_TYPE)
    ovs.codec_context.thread_type = ENCODER_THREAD_TYPE
    ovs.codec_context.thread_count = 0
    ovs.codec_context.time_base = ivs.time_base or Fraction(1, 90000)
    ovs.codec_context.color_range = spec.av_color_range
    ovs.codec_context.colorspace = spec.av_colorspace
    for tag in ("color_primaries", "color_trc"):
        value = getattr(frame, tag, None)
        if value:
            setattr(ovs.codec_context, tag, value)
    rotation = int(round(frame.rotation or 0)) % 360
    if rotation:
        ovs.set_display_rotation(rotation)
    stats.width, stats.height, stats.rotation, stats.spec = width, height, rotation, spec
    return ovs


def probe_video(path: str | os.PathLike) -> dict:
    """Facts about a video file's first video stream (for tests and reports)."""
    with av.open(os.fspath(path)) as c:
        if not c.streams.video:
            raise NoVideoStreamError(f"{path}: no video stream")
        vs = c.streams.video[0]
        frame = next(c.decode(vs))
        return {
            "width": frame.width, "height": frame.height, "rotation": int(frame.rotation or 0),
            "codec": vs.codec_context.name, "pix_fmt": frame.format.name,
            "color_range": frame.color_range, "colorspace": frame.colorspace,
            "rate": vs.average_rate, "time_base": vs.time_base,
            "audio_codec": c.streams.audio[0].codec_context.name if c.streams.audio else None,
            "frames": vs.frames,
        }


def has_audio(path: str | os.PathLike) -> bool:
    """Whether a media file has an audio stream (False when it cannot be opened)."""
    try:
        with av.open(os.fspath(path)) as c:
            return bool(c.streams.audio)
    except Exception:  # noqa: BLE001 - the transcode itself reports a file it cannot open
        return False


def frame_count(path: str | os.PathLike) -> int:
    """The number of frames a video holds, from its container (the stream's frame count, else
    duration × frame rate); 0 when unknown. For progress: never decodes."""
    try:
        with av.open(os.fspath(path)) as c:
            if not c.streams.video:
                return 0
            vs = c.streams.video[0]
            if vs.frames:
                return int(vs.frames)
            rate = vs.average_rate or vs.guessed_rate
            if vs.duration and vs.time_base:
                seconds = float(vs.duration * vs.time_base)
            elif c.duration:
                seconds = c.duration / av.time_base
            else:
                return 0
            return int(round(seconds * float(rate))) if rate else 0
    except Exception:  # noqa: BLE001 - progress only
        return 0


def iter_yuv_frames(path: str | os.PathLike):
    """Decoded frames as (t_seconds, (Y, U, V) copies of 4:2:0 planes, spec) — for tests/metrics."""
    with av.open(os.fspath(path)) as c:
        vs = c.streams.video[0]
        vs.thread_type = "AUTO"
        for i, frame in enumerate(c.decode(vs)):
            frame = as_yuv420(frame)
            spec = YuvSpec.from_av(frame.colorspace, frame.color_range, frame.height,
                                   frame.format.name)
            t = frame_time_s(frame, i, vs.average_rate)
            yield t, tuple(p.copy() for p in plane_views(frame)), spec


def frames_rgb_at(path: str | os.PathLike, times_s: list[float]) -> list[np.ndarray]:
    """RGB24 frames (H, W, 3) shown at the given times (the last frame at or before each)."""
    wanted = sorted(times_s)
    found: dict[float, np.ndarray] = {}
    with av.open(os.fspath(path)) as c:
        vs = c.streams.video[0]
        vs.thread_type = "AUTO"
        last = None
        for i, frame in enumerate(c.decode(vs)):
            t = frame_time_s(frame, i, vs.average_rate)
            while wanted and t > wanted[0] + 1e-6 and last is not None:
                found[wanted.pop(0)] = last
            if not wanted:
                break
            last = frame.to_ndarray(format="rgb24")
        for t in wanted:
            if last is not None:
                found[t] = last
    return [found[t] for t in times_s if t in found]
