"""GenerateVideo on the in-process runner: timelines in, one video per media out."""

import apache_beam as beam
import av
import numpy as np
from apache_beam.testing.util import assert_that, equal_to
from media_factory import music

from m2p_core.generate.render import VideoSpec
from m2p_core.outputs.timeline import TimelineParams, timeline_parquet_bytes, timeline_row
from transforms import fsio
from transforms.generate import GenerateVideo
from transforms.layout import generated_video_path, timeline_path
from transforms.match import MatchedMedia


def test_generate_video_writes_one_video_per_media_with_a_timeline(tmp_path, test_pipeline):
    song = str(music(tmp_path / "in" / "song.wav", 2.0, "calm"))
    other = str(music(tmp_path / "in" / "no_timeline.wav", 1.0, "sad"))
    tdir, mdir = str(tmp_path / "timelines"), str(tmp_path / "media")
    fsio.makedirs(tdir)
    media_id = fsio.sha256_of(song)
    row = timeline_row(media_id=media_id, source_uri=song, window_index=0, start_s=0.0,
                       end_s=2.0, valence_arousal=[0.3, -0.5],
                       palette_lab=np.array([[30, 10, -20], [50, -10, 10], [70, 5, 20],
                                             [85, 0, 5], [20, 0, 0]], dtype=float),
                       weights=np.full(5, 0.2), model_version="t", padded=True, duration_s=2.0)
    with open(timeline_path(tdir, song), "wb") as f:
        f.write(timeline_parquet_bytes([row], media_id, song, TimelineParams("t", 10, 5)))
    spec = VideoSpec(64, 36, 8, "rings")
    with test_pipeline as p:
        written = p | "Written" >> beam.Create([song])
        media = p | beam.Create([MatchedMedia(song, 1), MatchedMedia(other, 1)])
        out = media | GenerateVideo(written, mdir, tdir, spec, "run-1")
        assert_that(out.videos, equal_to([generated_video_path(mdir, song, "rings")]))
        assert_that(out.failures, equal_to([]), label="no failures")
    with av.open(generated_video_path(mdir, song, "rings")) as c:
        assert c.streams.video[0].width == 64 and len(c.streams.audio) == 1
        assert sum(1 for _ in c.decode(video=0)) == 16
