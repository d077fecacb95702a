"""Issue #7: remote (object store) outputs, checkpoint verification, output confinement,
decode bounds, stale temp files."""

from __future__ import annotations

import io
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from media_factory import music

sys.path.insert(0, str(Path(__file__).parent))
import memfs  # noqa: E402  (registers the mem:// filesystem)

from m2p_core.audio.decode import (  # noqa: E402
    DecodeStats,
    DecodeTimeoutError,
    MediaTooLongError,
    iter_audio,
)
from m2p_core.outputs.naming import output_stem  # noqa: E402
from pipelines import timeline  # noqa: E402
from transforms import fsio  # noqa: E402
from transforms.layout import timeline_path  # noqa: E402
from transforms.match import as_match_pattern  # noqa: E402


def test_outputs_on_an_object_store_are_incremental(tmp_path, tiny_checkpoint):
    music(tmp_path / "in" / "a.wav", 6.0)
    music(tmp_path / "in" / "b.flac", 3.0, "sad")
    (tmp_path / "in" / "bad.mp3").write_bytes(b"garbage" * 100)
    out = "mem://bucket/run"
    memfs.put(f"{out}/timelines/.old.parquet.tmp-0123456789ab", b"partial", time.time() - 60)
    first = timeline.run([str(tmp_path / "in"), "--output", out, "--model", tiny_checkpoint])
    assert (first.media_written, first.failures, first.temp_files_removed) == (2, 1, 1)
    files = memfs.objects(out)
    assert not [k for k in files if "/." in k]  # no temp objects left
    timelines = {k: v for k, v in files.items() if "/timelines/" in k}
    assert len(timelines) == 2
    rows = sum(pq.read_table(io.BytesIO(v)).num_rows for v in timelines.values())
    assert rows == 2
    again = timeline.run([str(tmp_path / "in"), "--output", out, "--model", tiny_checkpoint])
    assert (again.media_written, again.media_skipped) == (0, 2)
    assert {k: v for k, v in memfs.objects(out).items() if "/timelines/" in k} == timelines
    failures = [k for k in memfs.objects(out) if "/failures/" in k]
    assert len(failures) == 2  # one file per run


def test_tampered_checkpoint_stops_the_run_with_a_clear_error(tmp_path, tiny_checkpoint):
    ckpt = tmp_path / "model.pt"
    shutil.copy(tiny_checkpoint, ckpt)
    shutil.copy(tiny_checkpoint + ".sha256", str(ckpt) + ".sha256")
    data = bytearray(ckpt.read_bytes())
    data[len(data) // 2] ^= 0xFF
    ckpt.write_bytes(bytes(data))
    music(tmp_path / "in" / "a.wav", 2.0)
    with pytest.raises(SystemExit) as e:
        timeline.run([str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--model",
                      str(ckpt)])
    assert "sha256" in str(e.value) and "cannot run" in str(e.value)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(SystemExit) as e:
        timeline.run([str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--model",
                      str(tmp_path / "junk.pt")])
    assert "junk.pt" in str(e.value)
    assert not (tmp_path / "out" / "timelines").exists() or not any(
        (tmp_path / "out" / "timelines").iterdir())


@pytest.mark.parametrize("uri", [
    "/music/../../../etc/passwd", "gs://b/../../x.mp3", "../../../../tmp/evil.wav",
    "/abs/..", "/abs/.../...", "-rf", "/a/b/.hidden.mp3", "C:\\\\Windows\\\\..\\\\x.wav",
    "/a/\u202enoisreve.mp3", "",
])
def test_output_paths_stay_in_the_output_folder(tmp_path, uri):
    folder = str(tmp_path / "timelines")
    path = timeline_path(folder, uri)
    assert os.path.dirname(path) == folder
    name = os.path.basename(path)
    assert not name.startswith((".", "-")) and ".." not in name and "/" not in name
    assert name == output_stem(uri) + ".parquet"


def test_input_paths_with_dotdot_are_normalised(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.wav").write_bytes(b"")
    monkeypatch.chdir(tmp_path / "a")
    assert as_match_pattern("../b/x.wav") == str(tmp_path / "b" / "x.wav")
    assert as_match_pattern("../b/*.wav") == str(tmp_path / "b" / "*.wav")


def test_decode_time_budget_and_max_duration(tmp_path):
    path = music(tmp_path / "a.wav", 20.0)
    stats = DecodeStats()
    n = sum(len(c) for c in iter_audio(path, 16000, stats=stats, time_budget_s=60))
    assert n == 20 * 16000 and 0 < stats.decode_s < 60 and not stats.partial
    with pytest.raises(MediaTooLongError, match="maximum duration"):
        list(iter_audio(path, 16000, max_duration_s=5.0))


def test_decode_time_budget_excludes_the_consumer(tmp_path, monkeypatch):
    path = music(tmp_path / "a.wav", 4.0)
    stats = DecodeStats()
    for _ in iter_audio(path, 16000, chunk_s=0.5, stats=stats, time_budget_s=1.0):
        time.sleep(0.2)  # 8 chunks x 0.2 s of consumer time: over the budget, not counted
    assert stats.decode_s < 1.0
    clock = iter(np.arange(0.0, 1e6, 0.5))  # every clock read advances 0.5 s
    monkeypatch.setattr("m2p_core.audio.decode.time.monotonic", lambda: float(next(clock)))
    with pytest.raises(DecodeTimeoutError, match="time budget of 1 s"):
        list(iter_audio(path, 16000, chunk_s=0.5, time_budget_s=1.0))


def test_stale_temp_cleanup_only_touches_our_own_old_temps(tmp_path):
    d = tmp_path / "timelines"
    d.mkdir()
    old = time.time() - 100
    ours = d / ".song-0123456789ab.parquet.tmp-0123456789ab"
    fresh = d / ".song-0123456789ab.parquet.tmp-ba9876543210"
    foreign = [d / ".keep", d / ".x.tmp-123", d / "song.parquet", d / "x.parquet.tmp-0123456789ab"]
    for p in [ours, fresh, *foreign]:
        p.write_bytes(b"x")
    os.utime(ours, (old, old))
    for p in foreign:
        os.utime(p, (old, old))
    assert fsio.remove_stale_temps(str(d), older_than=time.time() - 10) == 1
    assert not ours.exists() and fresh.exists() and all(p.exists() for p in foreign)
    assert fsio.remove_stale_temps(str(tmp_path / "missing")) == 0
