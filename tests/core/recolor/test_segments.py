"""Long videos split into segments, recoloured apart and joined: frame-exact, in sync, seamless."""

import dataclasses
import json
import os

import av
import numpy as np
import pytest
from long_media import long_video, shot_starts
from recolor_media import frames_video, natural_frames
from threadpoolctl import threadpool_limits

from m2p_core.colour.space import hex_to_lab
from m2p_core.palette.track import PaletteTrack
from m2p_core.recolor.segments import (
    SegmentMismatchError,
    analyse_video,
    plan_boundaries,
    plan_segments,
    probe_duration_s,
    recolor_segment,
    recolor_video_split,
)
from m2p_core.recolor.video import RecolorParams, recolor_video
from m2p_core.video.join import SegmentJoinError, check_segments, join_segments

TGT = hex_to_lab(["#1b1f3a", "#53354a", "#a64942", "#ff7844", "#ffd56b"])
TGT2 = hex_to_lab(["#0b3954", "#087e8b", "#bfd7ea", "#ff5a5f", "#c81d25"])
FPS = 5  # the 10-min video: 3000 frames


def drifting_track(seconds: float, period_s: float) -> PaletteTrack:
    """A target that alternates between two palettes every ``period_s`` (3-s transitions)."""
    rows = [{"window_index": i, "start_s": s, "end_s": s + 2.0,
             "palette_lab": TGT if (s // period_s) % 2 else TGT2, "weights": [0.2] * 5,
             "valence": 0.0, "arousal": 0.0}
            for i, s in enumerate(np.arange(0.0, seconds, 1.0))]
    return PaletteTrack.of_sections(rows)


def decoded(path):
    """(pts seconds, Y'CbCr planes as int16) per frame, the stream's time base and the audio's
    (duration s, packets) ."""
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        frames = [(f.pts * f.time_base, f.to_ndarray(format="yuv420p").astype(np.int16))
                  for f in c.decode(vs)]
        vtb = vs.time_base
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        packets = [(p.pts, p.dts, p.duration, bytes(p)) for p in c.demux(a) if p.dts is not None]
        audio_s = sum(p[2] for p in packets) * a.time_base
        codec = a.codec_context.name
    return frames, vtb, float(audio_s), packets, codec


def video_packets(path):
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        return [(p.pts, p.dts) for p in c.demux(vs) if p.size]


def test_plan_boundaries_snap_to_cuts_and_skip_short_videos():
    t = np.arange(6000) / 10.0
    assert plan_boundaries(t[:1799], [], 120) == [0]  # 179.9 s <= 1.5 x 120 s: one pass
    assert plan_boundaries(t, [], 0) == [0]
    assert plan_boundaries(t, [], 120) == [0, 1200, 2400, 3600, 4800]
    cuts = [370, 1320, 1500, 3000, 3600, 3850]
    assert plan_boundaries(t, cuts, 120) == [0, 1320, 2400, 3600, 4800]
    # a cut within a quarter segment wins over the exact target, the nearest one
    assert plan_boundaries(t, [1100, 1290], 120)[1] == 1290


@pytest.fixture(scope="module")
def lossless(tmp_path_factory):
    """A 30-s video (9 shots, PCM audio in Matroska: MP4 cannot carry it, so both paths
    re-encode it to AAC) recoloured toward a changing target with lossless x264 (B-frames on)
    in one pass and in four segments."""
    d = tmp_path_factory.mktemp("lossless")
    src = long_video(d / "src.mkv", (64, 36), 10, time_scale=0.05, audio_codec="pcm_s16le")
    params = RecolorParams(crf=0, preset="veryfast")
    track = drifting_track(30, 12)
    with threadpool_limits(1):
        recolor_video(src, d / "single.mp4", track, params)
        stats = recolor_video_split(src, d / "split.mp4", track, params, segment_s=8, workers=2)
    return src, d / "single.mp4", d / "split.mp4", stats


def test_lossless_split_output_equals_single_pass(lossless):
    src, single, split, stats = lossless
    assert len(stats.segments) == 4 and stats.frames == 299
    assert stats.boundaries == [0, 75, 150, 227]  # all at shot cuts
    assert set(stats.boundaries) <= set(shot_starts(10, 0.05))
    assert [s.seeked for s in stats.segments] == [False] + [True] * 3
    a, b = decoded(single), decoded(split)
    assert len(a[0]) == len(b[0]) == 299
    assert [t for t, _ in a[0]] == [t for t, _ in b[0]]
    for (_, x), (_, y) in zip(a[0], b[0], strict=True):  # bit-identical pictures
        assert np.array_equal(x, y)
    assert a[1] == b[1]  # video time base
    assert a[4] == b[4] == "aac" and a[3] == b[3]  # the same re-encoded audio
    assert not [n for n in os.listdir(split.parent) if n.startswith(".")]  # temps removed


@pytest.fixture(scope="module")
def ten_minutes(tmp_path_factory):
    """A generated 10-min video (64x36, 5 fps, 9 shots with hard cuts and colour drifts, FLAC
    tone), recoloured in one pass and split into 2-min segments (default x264 settings)."""
    d = tmp_path_factory.mktemp("ten")
    src = long_video(d / "src.mp4", (64, 36), FPS)
    track = PaletteTrack.constant(TGT)
    with threadpool_limits(1):
        recolor_video(src, d / "single.mp4", track)
        stats = recolor_video_split(src, d / "split.mp4", track, segment_s=120, workers=2)
    return src, d / "single.mp4", d / "split.mp4", stats


def test_ten_minute_split_matches_single_pass(ten_minutes, tmp_path):
    src, single, split, stats = ten_minutes
    assert probe_duration_s(src) == pytest.approx(600.0)
    assert stats.boundaries == [0, 660, 1200, 1800, 2500]
    assert set(stats.boundaries) - {1200} <= set(shot_starts(FPS))  # no cut near 240 s
    s_frames, s_tb, s_audio, s_packets, s_codec = decoded(single)
    j_frames, j_tb, j_audio, j_packets, j_codec = decoded(split)
    src_frames, _, src_audio, src_packets, _ = decoded(src)
    # frame-exact: same count and presentation times as the source and the single pass
    assert len(j_frames) == len(s_frames) == len(src_frames) == 3000 == stats.frames
    assert [t for t, _ in j_frames] == [t for t, _ in s_frames] == [t for t, _ in src_frames]
    assert j_tb == s_tb
    # every frame decodes: one decoded frame per packet; decode times strictly increasing
    packets = video_packets(split)
    assert len(packets) == 3000
    dts = [d for _, d in packets]
    assert all(b > a for a, b in zip(dts, dts[1:], strict=False))
    assert all(d <= p for p, d in packets)
    # audio copied once, untouched: the source's packets and duration; in sync with the video
    assert j_codec == s_codec == "flac" and j_packets == src_packets == s_packets
    assert j_audio == pytest.approx(src_audio)
    video_s = float(j_frames[-1][0]) + 1 / FPS
    assert abs(video_s - j_audio) <= 1 / FPS + 4096 / 8000  # a frame + the last audio block
    # visually continuous: per-frame mean |difference| to the single pass, seams vs elsewhere
    diff = np.array([np.abs(x - y).mean() for (_, x), (_, y) in zip(s_frames, j_frames,
                                                                        strict=True)])
    near = np.zeros(len(diff), bool)
    for b in stats.boundaries[1:]:
        near[b - 5:b + 5] = True
    report = {"seam_max": float(diff[near].max()), "elsewhere_max": float(diff[~near].max()),
              "mean": float(diff.mean()),
              "per_seam": {b: [round(float(x), 3) for x in diff[b - 2:b + 2]]
                           for b in stats.boundaries[1:]}}
    print("split vs single pass, mean |dY'CbCr| per frame:", json.dumps(report))
    assert diff.max() < 3.0  # encoder noise only (0..255 code values)
    assert report["seam_max"] < 2.0 * report["elsewhere_max"] + 0.5
    # the split output recoloured the picture as much as the single pass did
    src_diff = np.mean([np.abs(x - y).mean() for (_, x), (_, y) in zip(src_frames, j_frames,
                                                                        strict=True)])
    assert src_diff > 5 * diff.mean()


def test_rotated_video_keeps_rotation_and_size(tmp_path):
    src = frames_video(tmp_path / "phone.mp4", natural_frames(38, 68, 300), rotation=90,
                       audio=0.2 * np.sin(np.arange(22050 * 30) / 20.0))
    out = tmp_path / "out.mp4"
    stats = recolor_video_split(src, out, PaletteTrack.constant(TGT),
                                RecolorParams(preset="ultrafast"), segment_s=10)
    assert len(stats.segments) == 3 and stats.frames == 300
    with av.open(str(out)) as c:
        f = next(c.decode(c.streams.video[0]))
        assert (f.width, f.height, int(f.rotation) % 360) == (38, 68, 90)
        assert c.streams.audio[0].codec_context.name == "aac"
    with av.open(str(src)) as c:
        assert int(next(c.decode(c.streams.video[0])).rotation) % 360 == 90


@pytest.fixture(scope="module")
def short_plan(tmp_path_factory):
    d = tmp_path_factory.mktemp("short")
    src = long_video(d / "src.mp4", (64, 36), 10, time_scale=0.05)  # 30 s
    analysis = analyse_video(src)
    return src, analysis, plan_segments(analysis, 10)


def test_segment_frames_are_checked_and_a_bad_seek_falls_back(short_plan, tmp_path):
    src, analysis, segs = short_plan
    assert len(segs) == 3 and analysis.cuts == shot_starts(10, 0.05)
    track = PaletteTrack.constant(TGT)
    fast = RecolorParams(preset="ultrafast")
    late = dataclasses.replace(segs[1], seek_pts=segs[2].pts[5])  # lands after the start
    stats = recolor_segment(src, tmp_path / "a.mp4", track, late, fast)
    assert not stats.seeked and stats.frames == segs[1].frames
    wrong = dataclasses.replace(segs[1], checks=(0,) + segs[1].checks[1:])
    with pytest.raises(SegmentMismatchError, match=f"frame {segs[1].start} should"):
        recolor_segment(src, tmp_path / "b.mp4", track, wrong, fast)
    short = dataclasses.replace(segs[2], end=segs[2].end + 1, pts=segs[2].pts + (10**9,),
                                checks=segs[2].checks + (1,))
    with pytest.raises(SegmentMismatchError, match="ended after"):
        recolor_segment(src, tmp_path / "c.mp4", track, short, fast)


def test_join_refuses_segments_that_cannot_share_a_stream(short_plan, tmp_path):
    src, _, segs = short_plan
    track = PaletteTrack.constant(TGT)
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    recolor_segment(src, a, track, segs[0], RecolorParams(preset="ultrafast"))
    recolor_segment(src, b, track, segs[1], RecolorParams(preset="veryfast"))
    with pytest.raises(SegmentJoinError, match="extradata"):
        check_segments([a, b])
    recolor_segment(src, b, track, segs[2], RecolorParams(preset="ultrafast"))
    with pytest.raises(SegmentJoinError, match="presentation times"):  # segment 1 is missing
        join_segments([a, b], src, tmp_path / "out.mp4", segs[:2])


def test_join_gives_a_silent_source_the_fallback_audio(short_plan, tmp_path):
    """The split path of recolor --music: segments of a video without sound are joined with
    the music as soundtrack, cut at the video's end."""
    src, _, segs = short_plan
    track, fast = PaletteTrack.constant(TGT), RecolorParams(preset="ultrafast")
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    recolor_segment(src, a, track, segs[0], fast)
    recolor_segment(src, b, track, segs[1], fast)
    out = tmp_path / "out.mp4"
    # the segment files have no audio: ``a`` stands in for a silent source; the fallback (the
    # 30-s source's own audio) is longer than the two segments' 20 s of video
    stats = join_segments([a, b], a, out, segs[:2], audio_fallback=src)
    assert stats.audio == "copy"
    with av.open(str(out)) as c:
        video_end = max(float((p.pts + p.duration) * p.time_base)
                        for p in c.demux(c.streams.video[0]) if p.pts is not None)
    with av.open(str(out)) as c:
        audio = c.streams.audio[0]
        audio_end = max(float((p.pts + p.duration) * p.time_base)
                        for p in c.demux(audio) if p.pts is not None)
    assert audio.codec_context.name == "flac"
    assert video_end - 0.1 <= audio_end <= video_end + 0.6, (audio_end, video_end)
