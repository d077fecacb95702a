"""RecolorVideo with segment_s: long videos fan out into segments, are joined, rerun skips,
a broken segment becomes one failures row and leaves no temp files."""

import os
import shutil
import sys
from pathlib import Path

import apache_beam as beam
import av
import pytest
from apache_beam.testing.util import assert_that, equal_to
from long_media import long_video
from recolor_media import frames_video, natural_frames

from m2p_core.colour.space import hex_to_lab
from m2p_core.outputs.timeline import TimelineParams, timeline_parquet_bytes, timeline_row
from m2p_core.recolor.segments import SegmentMismatchError
from m2p_core.recolor.video import RecolorParams
from transforms import recolor_split
from transforms.layout import timeline_path, video_output_path
from transforms.match import MatchedMedia
from transforms.recolor import RecolorVideo

sys.path.insert(0, str(Path(__file__).parents[1] / "robustness"))
import memfs  # noqa: E402  (registers the mem:// filesystem: an object store stand-in)

PAL = hex_to_lab(["#1b1f3a", "#53354a", "#a64942", "#ff7844", "#ffd56b"])
FAST = RecolorParams(preset="ultrafast")


def write_timeline(timelines, uri):
    rows = [timeline_row(media_id="m", source_uri=uri, window_index=0, start_s=0, end_s=1,
                         valence_arousal=[0.1, 0.2], palette_lab=PAL, weights=[0.2] * 5,
                         model_version="tiny", padded=True, duration_s=1.0)]
    data = timeline_parquet_bytes(rows, "m", uri, TimelineParams("tiny", 10, 5))
    if timelines.startswith("mem://"):
        memfs.put(timeline_path(timelines, uri), data)
        return
    os.makedirs(timelines, exist_ok=True)
    with open(timeline_path(timelines, uri), "wb") as f:
        f.write(data)


@pytest.fixture(scope="module")
def long_src(tmp_path_factory):
    """A 30-s video (299 frames, 9 shots): 4 segments of about 8 s."""
    return long_video(tmp_path_factory.mktemp("src") / "long.mp4", (64, 36), 10,
                      time_scale=0.05)


def pts_of(path):
    with av.open(str(path)) as c:
        return [f.pts * f.time_base for f in c.decode(c.streams.video[0])]


def test_long_video_is_split_joined_and_rerun_skips(test_pipeline, tmp_path, long_src):
    long = str(shutil.copy(long_src, tmp_path / "long.mp4"))
    short = str(frames_video(tmp_path / "short.mp4", natural_frames(64, 48, 4)))
    media_dir, timelines = str(tmp_path / "media"), str(tmp_path / "timelines")
    for v in (long, short):
        write_timeline(timelines, v)
    outs = [video_output_path(media_dir, v) for v in (long, short)]
    with test_pipeline as p:
        res = (p | beam.Create([MatchedMedia(long, 1), MatchedMedia(short, 1)])
               | RecolorVideo(p | "W" >> beam.Create([]), media_dir, timelines, FAST, "tiny",
                              "run1", segment_s=8.0))
        assert_that(res.written, equal_to(outs))
        assert_that(res.failures, equal_to([]), label="no failures")
    assert pts_of(outs[0]) == pts_of(long) and len(pts_of(outs[0])) == 299
    with av.open(outs[0]) as c:
        assert c.streams.audio[0].codec_context.name == "flac"
    assert all(os.path.exists(o + ".json") for o in outs)
    assert not [n for n in os.listdir(media_dir) if n.startswith(".")]  # segments removed
    mtime = os.path.getmtime(outs[0])
    with beam.Pipeline(runner=test_pipeline.runner) as p:  # a rerun skips both
        res = (p | beam.Create([MatchedMedia(long, 1), MatchedMedia(short, 1)])
               | RecolorVideo(p | "W" >> beam.Create([]), media_dir, timelines, FAST, "tiny",
                              "run2", segment_s=8.0))
        assert_that(res.written, equal_to([]))
    assert os.path.getmtime(outs[0]) == mtime


def test_broken_segments_become_one_failure_row_each(test_pipeline, tmp_path, long_src,
                                                     monkeypatch):
    corrupt = str(shutil.copy(long_src, tmp_path / "corrupt.mp4"))
    raises = str(shutil.copy(long_src, tmp_path / "raises.mp4"))
    real = recolor_split.recolor_segment

    def flaky(src, out, track, seg, params):
        if os.path.basename(src) == "raises.mp4" and seg.index == 2:
            raise SegmentMismatchError("decoded other frames")
        stats = real(src, out, track, seg, params)
        if os.path.basename(src) == "corrupt.mp4" and seg.index == 1:
            with open(out, "r+b") as f:  # a damaged segment file
                f.truncate(200)
        return stats

    monkeypatch.setattr(recolor_split, "recolor_segment", flaky)
    media_dir, timelines = str(tmp_path / "media"), str(tmp_path / "timelines")
    for v in (corrupt, raises):
        write_timeline(timelines, v)
    with test_pipeline as p:
        res = (p | beam.Create([MatchedMedia(corrupt, 1), MatchedMedia(raises, 1)])
               | RecolorVideo(p | "W" >> beam.Create([]), media_dir, timelines, FAST, "tiny",
                              "run1", segment_s=8.0))
        assert_that(res.written, equal_to([]))
        rows = res.failures | beam.Map(
            lambda r: (os.path.basename(r["source_uri"]), r["stage"], r["error_type"],
                       "segment 3 of 4" in r["message"] and "decoded other" in r["message"]))
        assert_that(rows, equal_to([("corrupt.mp4", "recolor", "SegmentJoinError", False),
                                    ("raises.mp4", "recolor", "Error", True)]),
                    label="failures")
    assert os.listdir(media_dir) == []  # no output, no sidecar, no segment left behind


def test_segments_and_output_on_an_object_store(test_pipeline, tmp_path, long_src):
    src = "mem://bucket/in/long.mp4"
    memfs.put(src, long_src.read_bytes())
    media_dir, timelines = "mem://bucket/out/media", "mem://bucket/out/timelines"
    write_timeline(timelines, src)
    out = video_output_path(media_dir, src)
    with test_pipeline as p:
        res = (p | beam.Create([MatchedMedia(src, 1)])
               | RecolorVideo(p | "W" >> beam.Create([]), media_dir, timelines, FAST, "tiny",
                              "run1", segment_s=8.0))
        assert_that(res.written, equal_to([out]))
    objects = memfs.objects("mem://bucket/out/media")
    assert sorted(objects) == [out, out + ".json"]  # no segment objects left
    (tmp_path / "out.mp4").write_bytes(objects[out])
    assert pts_of(tmp_path / "out.mp4") == pts_of(long_src)
