"""Join separately encoded H.264 segments into one MP4 without re-encoding (docs/ARCHITECTURE.md
"Recolouring").

The segments (:func:`m2p_core.recolor.segments.recolor_segment`: video-only MP4s, each starting
with an IDR frame) are remuxed packet for packet, in order, into one video stream; the source's
audio packets are copied once, exactly as :func:`m2p_core.video.transcode.transcode` does (copied
when
MP4 can carry the codec, else re-encoded to AAC). Video and audio are interleaved by time.

Why one stream description fits every segment: the MP4 stream carries a single ``avcC``
(SPS/PPS), and libx264 writes it from its settings alone — profile, level, reference frames,
B-frame/reorder depth, size, VUI colour tags and timing — before it sees any picture. Segments
encoded with the same :class:`~m2p_core.video.transcode.EncodeParams` from the same source (same
size,
colour tags, frame rate and time base) therefore have byte-identical extradata; the join checks
this and raises :class:`SegmentJoinError` otherwise (never a silently broken file).

Timestamps: packets keep their presentation times (the source's pts), so the joined video is in
sync with the copied audio by construction. Decode timestamps stay continuous at a seam because
each segment's encoder starts its dts the same B-frame delay before its first pts that a
single stream would be at there (constant frame rate); should a seam's dts not increase (a
variable frame rate right at the seam), it is bumped by one tick, which keeps dts <= pts.
Display rotation, colour tags and the time base come with the segments' stream (encoded from
the source by the same code as the single pass).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction

import av

from m2p_core.audio.decode import MediaError, UndecodableMediaError
from m2p_core.video.transcode import ExternalAudio, add_output_audio, mux_audio_packet


class SegmentJoinError(MediaError):
    """Segments that cannot be joined into one stream (different stream descriptions, missing
    or unexpected frames)."""


@dataclass
class JoinStats:
    segments: int = 0
    frames: int = 0
    audio: str = "none"  # "copy", "aac" or "none"
    bumped_dts: int = 0  # seam packets whose dts had to be moved up one tick


def _describe(stream) -> tuple:
    cc = stream.codec_context
    return (cc.name, cc.width, cc.height, cc.format.name if cc.format else None,
            bytes(cc.extradata or b""), stream.time_base)


def check_segments(paths: Sequence[str | os.PathLike]) -> None:
    """Raise :class:`SegmentJoinError` unless every segment has one video stream with the same
    codec, size, pixel format, time base and extradata (SPS/PPS) as the first."""
    first = None
    for i, path in enumerate(paths):
        try:
            c = av.open(os.fspath(path))
        except Exception as e:
            raise SegmentJoinError(f"segment {i}: cannot open {path}: {e}") from e
        with c:
            if len(c.streams.video) != 1:
                raise SegmentJoinError(f"segment {i}: {len(c.streams.video)} video streams")
            d = _describe(c.streams.video[0])
        if first is None:
            first = d
        elif d != first:
            what = [n for n, a, b in zip(("codec", "width", "height", "pix_fmt", "extradata",
                                          "time_base"), first, d, strict=True) if a != b]
            raise SegmentJoinError(
                f"segment {i} differs from segment 0 in {', '.join(what)}: the segments were "
                "not encoded with the same settings from the same source, so they cannot share "
                "one stream description")


def join_segments(paths: Sequence[str | os.PathLike], source: str | os.PathLike,
                  out_path: str | os.PathLike, expected: Sequence | None = None,
                  audio_fallback: str | os.PathLike | None = None) -> JoinStats:
    """Remux the video of the segment MP4s ``paths`` (in order) and the audio of ``source``
    into an MP4 at ``out_path``. ``expected``: per segment, an object with ``pts`` (the source
    pts of its frames) and ``time_base`` (the source's), e.g. the
    :class:`~m2p_core.recolor.segments.Segment` list; each segment's packets must then carry
    exactly those presentation times. ``audio_fallback``: a file whose audio the output gets
    when ``source`` has none (cut at the video's end, as
    :func:`m2p_core.video.transcode.transcode` does)."""
    if not paths:
        raise SegmentJoinError("no segments to join")
    if expected is not None and len(expected) != len(paths):
        raise SegmentJoinError(f"{len(paths)} segment files for {len(expected)} segments")
    check_segments(paths)
    stats = JoinStats(segments=len(paths))
    try:
        ic = av.open(os.fspath(source))
    except Exception as e:
        raise UndecodableMediaError(f"cannot open {source}: {e}") from e
    with contextlib.ExitStack() as stack:
        stack.enter_context(ic)
        ias = ic.streams.audio[0] if ic.streams.audio else None
        external = (ExternalAudio.open(audio_fallback)
                    if ias is None and audio_fallback is not None else None)
        if external is not None:
            stack.callback(external.close)
        first = stack.enter_context(av.open(os.fspath(paths[0])))
        template = first.streams.video[0]
        oc = stack.enter_context(av.open(os.fspath(out_path), "w", format="mp4"))
        # the same rules (and stream order) as video_io.transcode
        oas, resampler, aenc = add_output_audio(
            oc, ias if external is None else external.stream, stats)
        ovs = oc.add_stream_from_template(template)
        ovs.time_base = template.time_base
        video = _video_packets(paths, expected, ovs, stats)
        if external is not None:  # the music up to the end of each video packet so far
            end = 0.0
            for v in video:
                pts = v.pts if v.pts is not None else v.dts
                end = max(end, float((pts + (v.duration or 0)) * v.time_base))
                oc.mux(v)
                for a in external.until(end):
                    mux_audio_packet(oc, a, oas, resampler, aenc)
            video = iter(())
        audio = (p for p in ic.demux(ias) if p.dts is not None) if ias is not None else iter(())
        v, a = next(video, None), next(audio, None)
        while v is not None or a is not None:
            if a is None or (v is not None and _seconds(v) <= _seconds(a)):
                oc.mux(v)
                v = next(video, None)
            else:
                mux_audio_packet(oc, a, oas, resampler, aenc)
                a = next(audio, None)
        if aenc is not None:
            for f in resampler.resample(None):
                oc.mux(aenc.encode(f))
            oc.mux(aenc.encode(None))
    return stats


def _seconds(packet: av.Packet) -> float:
    return float(packet.dts * packet.time_base)


def _video_packets(paths, expected, ovs, stats: JoinStats) -> Iterator[av.Packet]:
    last_dts = None
    for i, path in enumerate(paths):
        seen: list[int] = []
        with av.open(os.fspath(path)) as c:
            vs = c.streams.video[0]
            tb = vs.time_base
            for p in c.demux(vs):
                if p.pts is None or p.size == 0:  # the demuxer's end-of-stream packet
                    continue
                if p.dts is None:
                    raise SegmentJoinError(f"segment {i}: a packet without dts")
                if last_dts is not None and p.dts <= last_dts:
                    p.dts = last_dts + 1
                    stats.bumped_dts += 1
                    if p.dts > p.pts:
                        raise SegmentJoinError(
                            f"segment {i}: its decode times overlap the previous segment's")
                last_dts = p.dts
                seen.append(int(p.pts))
                p.stream = ovs
                yield p
        if expected is not None:
            _check_pts(i, seen, tb, expected[i])
        stats.frames += len(seen)


def _check_pts(i: int, seen: list[int], tb: Fraction, seg) -> None:
    want = list(seg.pts)
    scale = Fraction(tb) / Fraction(seg.time_base)
    got = [round(p * scale) for p in sorted(seen)]
    if got != want:
        extra = len(got) - len(want)
        raise SegmentJoinError(
            f"segment {i}: {len(got)} frames with other presentation times than the "
            f"{len(want)} expected" + (f" ({extra:+d} frames)" if extra else ""))
