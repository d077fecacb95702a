"""`m2p recolor --segment-s`: the flag, its default, and a split run end to end."""

import os

import av
import pytest
from media_factory import video

from pipelines import recolor


@pytest.mark.parametrize("argv, expected", [
    ([], 0.0),  # one local worker: nothing would run in parallel
    (["--workers", "2"], 120.0),
    (["--runner", "DataflowRunner"], 120.0),
    (["--segment-s", "30"], 30.0),
    (["--workers", "4", "--segment-s", "0"], 0.0),
])
def test_segment_s_default_follows_parallel_workers(argv, expected):
    args, _ = recolor.parse_args(["v.mp4", "--output", "out", *argv])
    assert recolor.segment_seconds(args) == expected


def test_negative_segment_s_is_refused():
    args, _ = recolor.parse_args(["v.mp4", "--output", "out", "--segment-s", "-1"])
    with pytest.raises(SystemExit):
        recolor.segment_seconds(args)


def test_recolor_splits_a_long_video(tmp_path, tiny_checkpoint):
    clip = video(tmp_path / "lib" / "clip.mp4", 6.0)
    out = tmp_path / "out"
    s = recolor.run([str(clip), "--output", str(out), "--model", tiny_checkpoint,
                     "--preset", "ultrafast", "--segment-s", "2"])
    assert s.recolored == 1 and s.frames == 60 and s.failures == 0 and s.segments == 3
    assert "as 3 segments" in s.text()
    (name,) = [n for n in os.listdir(out / "media") if n.endswith(".mp4")]
    assert sorted(os.listdir(out / "media")) == [name, name + ".json"]  # no segment left
    with av.open(str(out / "media" / name)) as c:
        assert sum(1 for _ in c.decode(c.streams.video[0])) == 60
        assert c.streams.audio[0].codec_context.name == "aac"
    again = recolor.run([str(clip), "--output", str(out), "--model", tiny_checkpoint,
                         "--preset", "ultrafast", "--segment-s", "2"])
    assert again.recolored == 0 and again.skipped == 1
