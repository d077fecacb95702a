"""Issue #7, recolour stage: hostile inputs to ``m2p recolor`` become failures rows; the run
goes on and the good video is rendered."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.dataset as ds
from media_factory import music, video

sys.path.insert(0, str(Path(__file__).parent))
from corpus import png_bytes  # noqa: E402

from pipelines import recolor  # noqa: E402


def test_recolor_hostile_inputs(tmp_path, tiny_checkpoint):
    d = tmp_path / "in"
    video(d / "good.mp4", 2.0)
    music(tmp_path / "audio-only.mp3", 3.0)  # named: tried, but there is nothing to recolour
    music(d / "song.mp3", 3.0)  # in the folder: not a video, ignored
    video(d / "silent.mp4", 2.0, with_audio=False)  # no soundtrack, no --music
    (d / "zero.mp4").write_bytes(b"")
    (d / "picture.mp4").write_bytes(png_bytes())
    out = tmp_path / "out"
    s = recolor.run([str(d), str(tmp_path / "audio-only.mp3"), "--output", str(out),
                     "--model", tiny_checkpoint])
    assert s.inputs == 5 and s.recolored == 1 and s.timeline.ignored == 1
    rendered = sorted(p.name for p in (out / "media").glob("*.mp4"))
    assert len(rendered) == 1 and rendered[0].startswith("good")
    failures = ds.dataset(str(out / "failures")).to_table().to_pylist()
    failed = {Path(f["source_uri"]).name for f in failures}
    assert {"audio-only.mp3", "silent.mp4", "zero.mp4", "picture.mp4"} <= failed
    assert "good.mp4" not in failed and "song.mp3" not in failed
    assert all(f["message"] and f["stage"] for f in failures)
