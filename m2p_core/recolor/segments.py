"""Long videos recoloured in time segments that can run in parallel, frame-exact
(docs/ARCHITECTURE.md "Recolouring").

The recolourer is stateful (:mod:`m2p_core.recolor.video`: shot detector, per-shot source palette
pooled from the shot's start, LUT schedule), so a segment cannot simply start cold. Instead:

1. :func:`analyse_video` — one decode-only pass over the whole video runs the recolourer's own
   analysis (:class:`~m2p_core.recolor.video.FrameAnalysis`: thumbnails, shot cuts, source
   palettes) exactly as a single pass would, and records per frame its pts, whether it is a key
   frame and a CRC of its thumbnail, plus the (few) :class:`SourceState` changes.
2. :func:`plan_segments` — half-open frame-index ranges [start, end) of about ``segment_s``
   seconds (only for videos longer than 1.5 × ``segment_s``); a boundary moves to a shot cut
   within a quarter segment of its target when there is one (the cut hides the new GOP).
3. :func:`recolor_segment` — seeks to the key frame at or before the segment's first frame,
   skips to the first frame by pts, checks every frame's pts and thumbnail CRC against the
   analysis (a mismatch right after the seek retries by decoding from the file's start; any
   other is an error), renders it with the recorded source state (no pre-roll frames are
   analysed or encoded) and encodes frames [start, end) — nothing else — as their own H.264
   stream (same :class:`~m2p_core.video.transcode.EncodeParams`; the first frame is an IDR) into an
   MP4 without audio.
4. :func:`m2p_core.video.join.join_segments` remuxes the segments' packets into one MP4 with
   continuous timestamps and the source's audio copied once.

What differs from a single pass: nothing before the encoder — the frames handed to x264 are
bit-identical (the rendering depends only on the recorded state, the frame's time and the target
track; the LUT cache bakes from its rounded key). The encoder differs at the seams: each segment
starts with an IDR frame and its own rate-control/lookahead state, so frames near a seam differ
from the single pass's by encoder noise (tests/core/recolor/test_segments.py measures it; with
lossless x264 settings the split and single-pass outputs decode to identical frames).

Not splittable (one segment, i.e. the single-pass path): videos with frames without pts, or with
pts that do not increase strictly in display order.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
import zlib
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np

from m2p_core.audio.decode import MediaError, UndecodableMediaError
from m2p_core.colour.yuv import YuvSpec
from m2p_core.palette.extract import yuv420_thumbnail
from m2p_core.palette.track import PaletteTrack
from m2p_core.recolor.video import (
    FrameAnalysis,
    FrameRecolorer,
    RecolorParams,
    SourceState,
    recolor_video,
)
from m2p_core.video.join import join_segments
from m2p_core.video.transcode import (
    NoVideoStreamError,
    TranscodeStats,
    as_yuv420,
    decode_packet,
    frame_time_s,
    open_video_stream,
    plane_views,
)

DEFAULT_SEGMENT_S = 120.0
#: a video is split only when longer than this many segment lengths
MIN_SPLIT_RATIO = 1.5


class SegmentMismatchError(MediaError):
    """A segment's decoded frames are not the ones the analysis pass saw."""


def thumb_check(thumb: np.ndarray) -> int:
    """CRC-32 of a frame's thumbnail: identifies decoded frames cheaply."""
    return zlib.crc32(np.ascontiguousarray(thumb))


def probe_duration_s(path) -> float:
    """The video stream's duration in seconds: container metadata, else the largest packet
    end time (demux only, nothing decoded). 0.0 when it has no timestamps at all. ``path``: a
    path or a seekable binary file object."""
    try:
        ic = av.open(path if hasattr(path, "read") else os.fspath(path))
    except Exception as e:
        raise UndecodableMediaError(f"cannot open {path}: {e}") from e
    with ic:
        if not ic.streams.video:
            raise NoVideoStreamError(f"{path}: no video stream")
        vs = ic.streams.video[0]
        if vs.duration and vs.time_base:
            return float(vs.duration * vs.time_base)
        if ic.duration:
            return ic.duration / av.time_base
        end = 0.0
        for p in ic.demux(vs):
            if p.pts is not None and p.time_base is not None:
                end = max(end, float((p.pts + (p.duration or 0)) * p.time_base))
        return end


@dataclass
class VideoAnalysis:
    """What :func:`analyse_video` recorded (per-frame arrays are indexed by frame index)."""

    pts: np.ndarray  # int64; display order
    time_base: Fraction
    rate: Fraction
    keyframes: np.ndarray  # bool
    checks: np.ndarray  # uint32 thumbnail CRCs
    cuts: list[int]  # frame indices starting a shot (0 first)
    states: list[tuple[int, SourceState]]  # (first frame index, state) in order
    width: int = 0
    height: int = 0
    splittable: bool = True
    why_not: str = ""
    seconds: float = 0.0  # wall time of the pass

    @property
    def frames(self) -> int:
        return len(self.pts)

    def times(self) -> np.ndarray:
        """Each frame's presentation time in seconds (as the single pass computes it)."""
        return np.array([float(int(p) * self.time_base) for p in self.pts])

    def duration_s(self) -> float:
        """From the first frame's start to the last frame's end."""
        if self.frames == 0:
            return 0.0
        t = self.times()
        step = float(np.median(np.diff(t))) if self.frames > 1 else 1.0 / float(self.rate)
        return float(t[-1] - t[0] + step)


def analyse_video(path: str | os.PathLike, sample_every: int = 15) -> VideoAnalysis:
    """Decode ``path``'s video once and run the recolourer's analysis on every frame (step 1
    of the module doc). Memory: a few numbers per frame."""
    t0 = time.perf_counter()
    try:
        ic = av.open(os.fspath(path))
    except Exception as e:
        raise UndecodableMediaError(f"cannot open {path}: {e}") from e
    pts: list[int] = []
    keys: list[bool] = []
    checks: list[int] = []
    cuts: list[int] = []
    states: list[tuple[int, SourceState]] = []
    missing_pts = False
    with ic:
        if not ic.streams.video:
            raise NoVideoStreamError(f"{path}: no video stream")
        ivs = ic.streams.video[0]
        ivs.thread_type = "AUTO"
        rate = ivs.average_rate or ivs.guessed_rate or Fraction(25)
        time_base = ivs.time_base or Fraction(1, 90000)
        analysis: FrameAnalysis | None = None
        width = height = 0
        index = 0
        for packet in ic.demux(ivs):
            for frame in decode_packet(packet):
                frame = as_yuv420(frame)
                if analysis is None:
                    spec = YuvSpec.from_av(frame.colorspace, frame.color_range, frame.height,
                                           frame.format.name)
                    analysis = FrameAnalysis(spec, sample_every)
                    width, height = frame.width, frame.height
                y, u, v = plane_views(frame)[:3]
                t = frame_time_s(frame, index, rate)
                state = analysis.update(index, t, y, u, v)
                if not states or states[-1][1] is not state:
                    states.append((index, state))
                if analysis.new_shot:
                    cuts.append(index)
                if frame.pts is None:
                    missing_pts = True
                pts.append(-1 if frame.pts is None else int(frame.pts))
                keys.append(bool(frame.key_frame))
                checks.append(thumb_check(analysis.thumb))
                index += 1
    if index == 0:
        raise UndecodableMediaError(f"{path}: no decodable video frame")
    a = VideoAnalysis(np.array(pts, np.int64), Fraction(time_base), Fraction(rate),
                      np.array(keys, bool), np.array(checks, np.uint32), cuts, states,
                      width, height)
    if missing_pts:
        a.splittable, a.why_not = False, "frames without timestamps"
    elif index > 1 and not (np.diff(a.pts) > 0).all():
        a.splittable, a.why_not = False, "timestamps not strictly increasing"
    a.seconds = time.perf_counter() - t0
    return a


@dataclass(frozen=True)
class Segment:
    """Frames [start, end) of a video, with what :func:`recolor_segment` needs to render them
    exactly as a single pass would."""

    index: int
    count: int
    start: int
    end: int
    seek_pts: int  # pts of the key frame at or before ``start``
    time_base: Fraction
    rate: Fraction
    pts: tuple[int, ...]  # expected pts of frames start .. end-1
    checks: tuple[int, ...]  # their thumbnail CRCs
    states: tuple[tuple[int, SourceState], ...]  # source states in force over the range

    @property
    def frames(self) -> int:
        return self.end - self.start


def plan_boundaries(times: np.ndarray, cuts: Sequence[int], segment_s: float,
                    min_ratio: float = MIN_SPLIT_RATIO) -> list[int]:
    """Segment start indices (0 first) for frames shown at ``times`` (seconds, increasing).

    One segment unless the video is longer than ``min_ratio`` × ``segment_s``; else
    round(duration / segment_s) segments of equal length, each boundary moved to the nearest
    shot cut within a quarter segment of it."""
    n = len(times)
    if n < 2 or segment_s <= 0:
        return [0]
    step = float(np.median(np.diff(times)))
    duration = float(times[-1] - times[0]) + step
    if duration <= min_ratio * segment_s:
        return [0]
    count = max(1, int(round(duration / segment_s)))
    length = duration / count
    cut_arr = np.array(sorted(c for c in cuts if 0 < c < n), np.int64)
    starts = [0]
    for k in range(1, count):
        target = times[0] + k * length
        b = int(np.clip(np.searchsorted(times, target - step / 2), 1, n - 1))
        if len(cut_arr):
            near = cut_arr[np.abs(times[cut_arr] - target) <= length / 4]
            if len(near):
                b = int(near[np.argmin(np.abs(times[near] - target))])
        if b > starts[-1]:
            starts.append(b)
    return starts


def plan_segments(analysis: VideoAnalysis, segment_s: float = DEFAULT_SEGMENT_S,
                  min_ratio: float = MIN_SPLIT_RATIO) -> list[Segment]:
    """Step 2 of the module doc; a single segment for short or unsplittable videos."""
    n = analysis.frames
    starts = ([0] if not analysis.splittable
              else plan_boundaries(analysis.times(), analysis.cuts, segment_s, min_ratio))
    ends = starts[1:] + [n]
    firsts = [s for s, _ in analysis.states]
    key_idx = np.flatnonzero(analysis.keyframes)
    out = []
    for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
        j = bisect_right(firsts, s) - 1
        k = bisect_right(firsts, e - 1)
        states = tuple(analysis.states[max(j, 0):k])
        kk = key_idx[key_idx <= s]
        seek = int(analysis.pts[kk[-1]]) if len(kk) else int(analysis.pts[0])
        out.append(Segment(
            index=i, count=len(starts), start=s, end=e, seek_pts=seek,
            time_base=analysis.time_base, rate=analysis.rate,
            pts=tuple(int(p) for p in analysis.pts[s:e]),
            checks=tuple(int(c) for c in analysis.checks[s:e]), states=states))
    return out


class ReplayAnalysis:
    """Replays recorded :class:`SourceState` changes by frame index (the analysis
    :class:`~m2p_core.recolor.video.FrameRecolorer` uses for a segment)."""

    def __init__(self, states: Sequence[tuple[int, SourceState]]) -> None:
        self._firsts = [s for s, _ in states]
        self._states = [st for _, st in states]
        self.new_shot = False

    def update(self, index: int, t: float, y: np.ndarray, u: np.ndarray,
               v: np.ndarray) -> SourceState:
        j = bisect_right(self._firsts, index) - 1
        if j < 0:
            raise SegmentMismatchError(f"no recorded source state for frame {index}")
        return self._states[j]


@dataclass
class SegmentStats:
    index: int = 0
    frames: int = 0
    seeked: bool = True  # False: decoded from the file's start (a seek did not land exactly)
    skipped_frames: int = 0  # decoded before the segment's first frame and dropped
    total_s: float = 0.0
    extra: dict = field(default_factory=dict)


def _segment_frames(ic, ivs, seg: Segment, seek: bool, stats: SegmentStats
                    ) -> Iterator[av.VideoFrame]:
    """Frames ``seg.start`` .. ``seg.end - 1``, each checked against the analysis."""
    if seek and seg.start > 0:
        ic.seek(seg.seek_pts, backward=True, any_frame=False, stream=ivs)
    first, j = seg.pts[0], 0
    for packet in ic.demux(ivs):
        for frame in decode_packet(packet):
            if frame.pts is not None and frame.pts < first:
                stats.skipped_frames += 1
                continue
            frame = as_yuv420(frame)
            if frame.pts != seg.pts[j] or thumb_check(_thumb(frame)) != seg.checks[j]:
                raise SegmentMismatchError(
                    f"segment {seg.index}: frame {seg.start + j} should have pts {seg.pts[j]} "
                    f"and thumbnail CRC {seg.checks[j]}, decoded pts {frame.pts}"
                    + ("" if frame.pts != seg.pts[j] else " with other content")
                    + (" after a seek" if seek and seg.start > 0 else ""))
            yield frame
            j += 1
            if j == len(seg.pts):
                return
    raise SegmentMismatchError(
        f"segment {seg.index}: the video ended after {j} of {len(seg.pts)} frames")


def _thumb(frame: av.VideoFrame) -> np.ndarray:
    return yuv420_thumbnail(*plane_views(frame)[:3])


def recolor_segment(in_path: str | os.PathLike, out_path: str | os.PathLike,
                    track: PaletteTrack, seg: Segment,
                    params: RecolorParams | None = None) -> SegmentStats:
    """Render and encode frames [seg.start, seg.end) of ``in_path`` into an MP4 (video only)
    at ``out_path`` (step 3 of the module doc). Raises :class:`SegmentMismatchError` when the
    decoded frames are not the analysed ones even when decoding from the file's start."""
    params = params or RecolorParams()
    t0 = time.perf_counter()
    try:
        return _recolor_segment(in_path, out_path, track, seg, params, seek=True, t0=t0)
    except SegmentMismatchError:
        if seg.start == 0:
            raise
    return _recolor_segment(in_path, out_path, track, seg, params, seek=False, t0=t0)


def _recolor_segment(in_path, out_path, track: PaletteTrack, seg: Segment,
                     params: RecolorParams, seek: bool, t0: float) -> SegmentStats:
    stats = SegmentStats(index=seg.index, seeked=seek and seg.start > 0)
    fn = FrameRecolorer(track, params, analysis=ReplayAnalysis(seg.states),
                        first_index=seg.start)
    with contextlib.ExitStack() as stack:
        try:
            ic = stack.enter_context(av.open(os.fspath(in_path)))
        except Exception as e:
            raise UndecodableMediaError(f"cannot open {in_path}: {e}") from e
        if not ic.streams.video:
            raise NoVideoStreamError(f"{in_path}: no video stream")
        ivs = ic.streams.video[0]
        ivs.thread_type = "AUTO"
        rate = ivs.average_rate or ivs.guessed_rate or Fraction(25)
        oc = stack.enter_context(av.open(os.fspath(out_path), "w", format="mp4"))
        info = TranscodeStats()
        ovs = None
        for j, frame in enumerate(_segment_frames(ic, ivs, seg, seek, stats)):
            if ovs is None:
                ovs = open_video_stream(oc, ivs, frame, rate, params.encode(), info)
                fn.start(info)
            out = fn(frame, frame_time_s(frame, seg.start + j, rate))
            if out.pts is None:
                out.pts, out.time_base = frame.pts, frame.time_base
            oc.mux(ovs.encode(out))
        oc.mux(ovs.encode(None))
    stats.frames = fn.stats.frames
    stats.total_s = time.perf_counter() - t0
    return stats


@dataclass
class SplitStats:
    analysis_s: float = 0.0
    segments: list[SegmentStats] = field(default_factory=list)
    join_s: float = 0.0
    total_s: float = 0.0
    frames: int = 0
    boundaries: list[int] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


def recolor_video_split(in_path: str | os.PathLike, out_path: str | os.PathLike,
                        track: PaletteTrack, params: RecolorParams | None = None,
                        segment_s: float = DEFAULT_SEGMENT_S, workers: int = 1,
                        temp_dir: str | os.PathLike | None = None) -> SplitStats:
    """Everything above in one process (segments on ``workers`` threads): analyse, plan,
    recolour the segments into ``temp_dir`` (default: next to ``out_path``; the same
    filesystem, so the finished file is renamed into place), join; a video that makes one
    segment takes the single pass (:func:`~m2p_core.recolor.video.recolor_video`). The
    pipeline (:mod:`transforms.recolor_split`) runs the same steps as Beam elements."""
    params = params or RecolorParams()
    t0, c0 = time.perf_counter(), time.process_time()
    stats = SplitStats()
    analysis = analyse_video(in_path)
    stats.analysis_s = analysis.seconds
    stats.extra["analysis_cpu_s"] = time.process_time() - c0
    segments = plan_segments(analysis, segment_s)
    stats.boundaries = [s.start for s in segments]
    out_path = os.fspath(out_path)
    if len(segments) == 1:  # short or unsplittable: the single pass
        stats.frames = recolor_video(in_path, out_path, track, params).frames
        stats.total_s = time.perf_counter() - t0
        return stats
    parent = os.fspath(temp_dir) if temp_dir else (os.path.dirname(out_path) or ".")
    with tempfile.TemporaryDirectory(prefix=".m2p-segments-", dir=parent) as tmp:
        paths = [os.path.join(tmp, f"seg{s.index:04d}.mp4") for s in segments]
        with ThreadPoolExecutor(max(1, workers)) as pool:
            stats.segments = list(pool.map(
                lambda sp: recolor_segment(in_path, sp[1], track, sp[0], params),
                zip(segments, paths, strict=True)))
        t_j = time.perf_counter()
        staged = os.path.join(tmp, "joined.mp4")
        join_segments(paths, in_path, staged, segments)
        os.replace(staged, out_path)
        stats.join_s = time.perf_counter() - t_j
    stats.frames = sum(s.frames for s in stats.segments)
    stats.total_s = time.perf_counter() - t0
    return stats
