"""Streamed transcode: sizes, rotation, variable frame rate, audio, colour tags, errors."""

import os
import sys
import threading

import av
import numpy as np
import pytest
from media_factory import music
from recolor_media import frames_video, natural_frames

from m2p_core.audio.decode import MediaError
from m2p_core.colour.space import hex_to_lab
from m2p_core.palette.track import PaletteTrack
from m2p_core.recolor.video import RecolorParams, recolor_video
from m2p_core.synth.music import PRESETS, synthesize_music
from m2p_core.video.transcode import READER_NICE, probe_video, transcode

TGT = hex_to_lab(["#1b1f3a", "#53354a", "#a64942", "#ff7844", "#ffd56b"])
FAST = RecolorParams(strength=1.0, preset="ultrafast")


def pts_of(path):
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        return [float(f.pts * f.time_base) for f in c.decode(vs)]


def test_odd_size_is_cropped_to_even(tmp_path):
    src = frames_video(tmp_path / "odd.mkv", natural_frames(853, 481, 3), codec="libvpx-vp9")
    out = tmp_path / "o.mp4"
    stats = recolor_video(src, out, PaletteTrack.constant(TGT), FAST)
    info = probe_video(out)
    assert (info["width"], info["height"]) == (852, 480) and stats.frames == 3
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"


def test_rotation_vfr_and_audio_are_kept(tmp_path):
    audio = synthesize_music(PRESETS["happy"], 2.0, 22050)
    frames = natural_frames(96, 160, 12)  # portrait
    src = frames_video(tmp_path / "phone.mp4", frames, fps=10, rotation=90, audio=audio,
                       pts_scale=[1, 1, 2, 1, 3, 1, 1, 2, 1, 1, 1, 1])
    out = tmp_path / "o.mp4"
    recolor_video(src, out, PaletteTrack.constant(TGT), FAST)
    i, o = probe_video(src), probe_video(out)
    assert o["rotation"] == i["rotation"] == 90
    assert (o["width"], o["height"]) == (96, 160)
    assert o["audio_codec"] == "aac"
    np.testing.assert_allclose(pts_of(out), pts_of(src), atol=1e-3)  # variable rate kept
    with av.open(str(src)) as a, av.open(str(out)) as b:  # audio copied packet for packet
        pa = [bytes(p) for p in a.demux(audio=0) if p.size]
        pb = [bytes(p) for p in b.demux(audio=0) if p.size]
    assert pa == pb


def test_full_range_and_bt601_tags_survive(tmp_path):
    src = tmp_path / "full.mp4"
    with av.open(str(src), "w") as c:
        vs = c.add_stream("libx264", rate=10)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        vs.codec_context.color_range = 2
        vs.codec_context.colorspace = 5
        for k, rgb in enumerate(natural_frames(64, 48, 3)):
            f = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
                format="yuv420p", dst_colorspace=5, dst_color_range=2)
            f.pts = k
            c.mux(vs.encode(f))
        c.mux(vs.encode(None))
    out = tmp_path / "o.mp4"
    stats = recolor_video(src, out, PaletteTrack.constant(TGT), FAST)
    assert stats.transcode.spec.full_range and stats.transcode.spec.matrix == "ITU-R BT.601"
    info = probe_video(out)
    assert info["color_range"] == 2


def test_plain_transcode_and_errors(tmp_path):
    src = frames_video(tmp_path / "v.mp4", natural_frames(64, 48, 4))
    stats = transcode(src, tmp_path / "plain.mp4")
    assert stats.frames == 4 and stats.audio == "none"
    song = music(tmp_path / "song.wav", 1.0)
    with pytest.raises(MediaError):
        transcode(song, tmp_path / "x.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    with pytest.raises(MediaError):
        transcode(tmp_path / "junk.mp4", tmp_path / "y.mp4")


def test_encoder_chooses_frame_types_not_the_source(tmp_path):
    """An intra-only source (every frame a keyframe) transcodes like FFmpeg's command line
    does it: x264 places its own keyframes (one here), for the plain path and a recolour."""
    src = tmp_path / "intra.mp4"
    with av.open(str(src), "w") as c:
        vs = c.add_stream("libx264", rate=10)
        vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
        vs.options = {"g": "1", "preset": "ultrafast"}
        for i, rgb in enumerate(natural_frames(64, 48, 12)):
            f = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            f.pts = i
            c.mux(vs.encode(f))
        c.mux(vs.encode(None))

    def keyframes(path):
        with av.open(str(path)) as c:
            return sum(p.is_keyframe for p in c.demux(video=0) if p.size)

    assert keyframes(src) == 12
    transcode(src, tmp_path / "plain.mp4")
    recolor_video(src, tmp_path / "rec.mp4", PaletteTrack.constant(TGT), FAST)
    assert keyframes(tmp_path / "plain.mp4") == 1 and keyframes(tmp_path / "rec.mp4") == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_reader_thread_runs_below_the_encoder_priority(tmp_path):
    """The reader thread (decode + per-frame callback) has a higher nice value than the
    calling (encoding) thread, which keeps its own."""
    src = frames_video(tmp_path / "v.mp4", natural_frames(64, 48, 3))
    seen = []

    def callback(frame, t):
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return frame

    main_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    transcode(src, tmp_path / "o.mp4", callback)
    assert seen and all(n == min(19, main_nice + READER_NICE) for n in seen)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_nice


def test_pipelined_transcode_order_errors_and_no_hang(tmp_path):
    """The reader thread: on_start before the first frame, frames in order, an exception in
    the callback (or in the encoder's thread) surfaces as itself and nothing hangs."""
    import threading
    import time

    src = frames_video(tmp_path / "v.mp4", natural_frames(64, 48, 30), audio=np.zeros(22050))
    events = []

    def start(info):
        events.append(("start", info.width, info.height))

    def process(frame, t):
        events.append(("frame", t))
        return frame

    stats = transcode(src, tmp_path / "a.mp4", process, on_start=start)
    assert stats.frames == 30 and events[0] == ("start", 64, 48)
    times = [e[1] for e in events[1:]]
    assert len(times) == 30 and times == sorted(times)
    assert probe_video(tmp_path / "a.mp4")["frames"] == 30

    def failing(frame, t):
        if t > 0.5:
            raise ValueError("boom")
        return frame

    before = threading.active_count()
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="boom"):
        transcode(src, tmp_path / "b.mp4", failing)
    assert time.perf_counter() - t0 < 30 and threading.active_count() == before
    # the encoder side failing (here: not a video frame) stops the reader too
    with pytest.raises(Exception):  # noqa: B017 - whatever PyAV raises for it
        transcode(src, tmp_path / "c.mp4", lambda frame, t: av.AudioFrame(format="s16",
                                                                         layout="mono",
                                                                         samples=4))
    assert threading.active_count() == before


def test_recolorer_reuses_output_frames_only_when_released(tmp_path):
    from m2p_core.colour.yuv import YuvSpec
    from m2p_core.recolor.video import FrameRecolorer
    from m2p_core.video.transcode import TranscodeStats, as_yuv420, plane_views

    src = frames_video(tmp_path / "v.mp4", natural_frames(64, 48, 12))
    with av.open(str(src)) as c:
        frames = [as_yuv420(f) for f in c.decode(video=0)]
    info = TranscodeStats(width=64, height=48, spec=YuvSpec())
    fn = FrameRecolorer(PaletteTrack.constant(TGT), FAST)
    fn.start(info)
    held = [fn(f, i / 10) for i, f in enumerate(frames)]
    assert len({id(h) for h in held}) == len(held)  # none overwritten while referenced
    views = [plane_views(h)[0].copy() for h in held]
    fn2 = FrameRecolorer(PaletteTrack.constant(TGT), FAST)
    fn2.start(info)
    ids = set()
    for i, f in enumerate(frames):
        out = fn2(f, i / 10)
        assert np.array_equal(plane_views(out)[0], views[i])  # same pixels as fresh frames
        ids.add(id(out))
        del out
    assert len(ids) == 1  # released frames are reused


def _audio_seconds(path):
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return None, None
        a = c.streams.audio[0]
        end = max(float((p.pts + p.duration) * p.time_base) for p in c.demux(a) if p.pts
                  is not None)
        return a.codec_context.name, end


@pytest.mark.parametrize("suffix", [".mp3", ".wav"])
def test_a_silent_video_gets_the_fallback_audio_cut_to_its_length(tmp_path, suffix):
    """recolor --music on a video without sound: the music becomes its soundtrack (by the
    transcode's audio rule: copied where MP4 carries the codec, else AAC), cut where the video
    ends."""
    src = frames_video(tmp_path / "silent.mp4", natural_frames(64, 36, 20))  # 2.0 s at 10 fps
    song = music(tmp_path / f"song{suffix}", 4.0)
    out = tmp_path / "out.mp4"
    stats = transcode(src, out, audio_fallback=song)
    name, end = _audio_seconds(out)
    assert stats.audio in ("copy", "aac") and name in ("mp3", "aac")
    assert 1.85 <= end <= 2.1, end  # not the song's 4 s
    assert len(pts_of(out)) == 20
    from m2p_core.video.transcode import frame_count, has_audio

    assert frame_count(src) == 20 and not has_audio(src) and has_audio(out)


def test_a_video_with_sound_keeps_its_own_and_counts_progress(tmp_path):
    audio = synthesize_music(PRESETS["calm"], 2.0, 22050)
    src = frames_video(tmp_path / "v.mp4", natural_frames(64, 36, 20), audio=audio)
    song = music(tmp_path / "song.mp3", 4.0)
    seen = []
    out = tmp_path / "out.mp4"
    recolor_video(src, out, PaletteTrack.constant(TGT), FAST, audio_fallback=song,
                  on_frame=seen.append)
    assert _audio_seconds(out)[0] == "aac"  # the video's own (AAC), not the MP3
    assert seen == list(range(1, 21))


def test_encoder_runs_frame_threads_like_ffmpegs_command_line(tmp_path):
    """libx264 with frame threads and one slice per frame, as ``ffmpeg -c:v libx264`` runs it
    (PyAV's default would be sliced threads: the cores idle at every frame's end); x264 writes
    its settings into the stream. (Frames of a few macroblock rows get one thread either way.)"""
    src = frames_video(tmp_path / "v.mp4", natural_frames(320, 240, 4))
    for out in (tmp_path / "plain.mp4", tmp_path / "rec.mp4"):
        if out.name == "plain.mp4":
            transcode(src, out)
        else:
            recolor_video(src, out, PaletteTrack.constant(TGT), FAST)
        data = out.read_bytes()
        assert b"x264 - core" in data
        assert b" sliced_threads=0 " in data and b" slices=" not in data
