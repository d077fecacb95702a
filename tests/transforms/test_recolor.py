"""RecolorVideo on Beam's in-process runner: outputs, failures, rerun skip."""

import os

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to
from media_factory import music
from recolor_media import frames_video, natural_frames

from m2p_core.colour.space import hex_to_lab
from m2p_core.outputs.timeline import TimelineParams, timeline_parquet_bytes, timeline_row
from m2p_core.recolor.video import RecolorParams
from transforms.layout import timeline_path, video_output_path
from transforms.match import MatchedMedia
from transforms.recolor import RecolorVideo

PAL = hex_to_lab(["#1b1f3a", "#53354a", "#a64942", "#ff7844", "#ffd56b"])


def write_timeline(timelines, uri):
    os.makedirs(timelines, exist_ok=True)
    rows = [timeline_row(media_id="m", source_uri=uri, window_index=0, start_s=0, end_s=1,
                         valence_arousal=[0.1, 0.2], palette_lab=PAL, weights=[0.2] * 5,
                         model_version="tiny", padded=True, duration_s=1.0)]
    data = timeline_parquet_bytes(rows, "m", uri, TimelineParams("tiny", 10, 5))
    with open(timeline_path(timelines, uri), "wb") as f:
        f.write(data)


def test_recolor_video_transform(test_pipeline, tmp_path):
    video = str(frames_video(tmp_path / "in" / "v.mp4", natural_frames(64, 48, 4)))
    song = str(music(tmp_path / "in" / "song.wav", 1.0))
    write_timeline(str(tmp_path / "timelines"), video)
    write_timeline(str(tmp_path / "timelines"), song)  # audio only: has palettes, no picture
    with test_pipeline as p:
        res = (p | beam.Create([MatchedMedia(video, 1), MatchedMedia(song, 1),
                                MatchedMedia(str(tmp_path / "none.mp4"), 1)])
               | RecolorVideo(p | "W" >> beam.Create([]), str(tmp_path / "media"),
                              str(tmp_path / "timelines"), RecolorParams(preset="ultrafast"),
                              "tiny", "run1"))
        assert_that(res.written, equal_to([video_output_path(str(tmp_path / "media"), video)]))
        stages = res.failures | beam.Map(lambda r: (os.path.basename(r["source_uri"]),
                                                    r["stage"]))
        assert_that(stages, equal_to([("song.wav", "recolor"), ("none.mp4", "read")]),
                    label="failures")
    out = video_output_path(str(tmp_path / "media"), video)
    assert os.path.getsize(out) > 0 and os.path.exists(out + ".json")
    assert not [n for n in os.listdir(tmp_path / "media") if n.startswith(".")]
