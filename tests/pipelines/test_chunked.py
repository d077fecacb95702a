"""Issue #14: local runs in chunks — planning, summaries, progress, and the three commands."""

from __future__ import annotations

import io
import os
import time

import pyarrow.dataset as ds
import pytest
from media_factory import music, video

from m2p_core.outputs.progress import PROGRESS, RunProgress, format_duration
from pipelines import generate, recolor, timeline
from pipelines.chunked import plan_chunks
from pipelines.summary import RunSummary, merge_summaries
from transforms.match import MatchedMedia, match_inputs


def _media(sizes):
    return [MatchedMedia(f"/in/{i:03d}.mp3", s) for i, s in enumerate(sizes)]


def test_chunks_hold_at_most_n_inputs_and_mb_in_order():
    chunks = plan_chunks(_media([1] * 7), [{"row": 1}], 3, 100)
    assert [len(c.media) for c in chunks] == [3, 3, 1]
    assert [c.index for c in chunks] == [0, 1, 2]
    assert [m.source_uri for c in chunks for m in c.media] == [f"/in/{i:03d}.mp3"
                                                               for i in range(7)]
    assert [c.match_failures for c in chunks] == [[{"row": 1}], [], []]
    mb = 1_000_000
    by_size = plan_chunks(_media([mb, mb, 3 * mb, mb, mb, mb]), [], 10, 2.5)
    assert [[m.size_bytes // mb for m in c.media] for c in by_size] == [[1, 1], [3], [1, 1],
                                                                        [1]]
    ramp = plan_chunks(_media([1] * 70), [], 32, 100)  # small chunks first
    assert [len(c.media) for c in ramp] == [4, 8, 16, 32, 10]
    assert [len(c.media) for c in plan_chunks(_media([1] * 5), [], 1, 100)] == [1] * 5
    nothing = plan_chunks([], [{"row": 1}], 3, 1)  # the match failures still get written
    assert len(nothing) == 1 and nothing[0].media == [] and nothing[0].match_failures


def test_inputs_are_matched_once_in_a_fixed_order_with_failures(tmp_path):
    for name in ("b.wav", "a.wav", "sub/c.wav"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x" * 3)
    (tmp_path / "notes.txt").write_bytes(b"x")
    media, failures, ignored = match_inputs([str(tmp_path), str(tmp_path / "a.wav"),
                                             str(tmp_path / "missing*.wav")], "run")
    assert ignored == 1  # the folder scan leaves non-media files out
    assert [m.source_uri for m in media] == [str(tmp_path / n)
                                             for n in ("a.wav", "b.wav", "sub/c.wav")]
    assert [m.size_bytes for m in media] == [3, 3, 3]
    assert [(f["source_uri"], f["stage"]) for f in failures] == [
        (str(tmp_path / "missing*.wav"), "match")]
    assert "no file matches" in failures[0]["message"]


def test_summaries_add_up():
    a = RunSummary("r", "out", 3, 2, 1, 10, 1, 5.0, 2.0, {"decode": 1}, 0, 2)
    b = RunSummary("r", "out", 4, 3, 0, 12, 2, 6.5, 3.0, {"decode": 1, "match": 1}, 1, 0)
    s = merge_summaries(a, b)
    assert (s.run_id, s.inputs, s.media_written, s.media_skipped, s.windows, s.failures) == \
        ("r", 7, 5, 1, 22, 3)
    assert s.audio_s == 11.5 and s.failures_by_stage == {"decode": 2, "match": 1}
    nested = merge_summaries(recolor.RecolorSummary(a, 1, 2, 30, 0),
                             recolor.RecolorSummary(b, 2, 0, 40, 1))
    assert (nested.recolored, nested.skipped, nested.frames, nested.segments) == (3, 2, 70, 1)
    assert nested.timeline.inputs == 7


def test_progress_line_is_throttled_and_has_an_eta():
    now = [0.0]
    out = io.StringIO()
    p = RunProgress(100, interval_s=5, stream=out, clock=lambda: now[0])
    now[0] = 2.0
    p.update(10, 9, 0, 1)  # before the interval: quiet
    assert out.getvalue() == ""
    now[0] = 10.0
    p.update(25, 20, 4, 1)
    assert out.getvalue().strip() == ("[m2p     10 s] 25/100 inputs (20 written, 4 skipped, "
                                      "1 failed), ETA 30 s")
    now[0] = 12.0
    p.update(30, 25, 4, 1)  # within the interval again
    assert out.getvalue().count("\n") == 1
    assert format_duration(250) == "4 min 10 s" and format_duration(7500) == "2 h 05 min"


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("chunklib")
    music(root / "a.mp3", 6.0, "happy")
    music(root / "b.ogg", 4.0, "sad")
    (root / "c.mp3").write_text("not media")  # a media name: tried, fails at decode
    (root / "notes.txt").write_text("ignored")  # not a media name: left out of a folder scan
    music(root / "d.wav", 3.0, "calm")
    return root


def _sorted_table(path):
    t = ds.dataset(str(path), format="parquet").to_table()
    return t.sort_by([("source_uri", "ascending"), ("window_index", "ascending")])


def test_timeline_in_chunks_equals_one_pipeline(library, tmp_path, tiny_checkpoint):
    common = [str(library), str(tmp_path / "nothing-*.mp3"), "--model", tiny_checkpoint]
    one = timeline.run([*common, "--output", str(tmp_path / "one"), "--chunk-size", "0"])
    chunked = timeline.run([*common, "--output", str(tmp_path / "chunked"), "--chunk-size", "1"])
    assert _sorted_table(tmp_path / "chunked" / "timelines").equals(
        _sorted_table(tmp_path / "one" / "timelines"))
    for s in (one, chunked):
        assert (s.inputs, s.media_written, s.failures, s.windows) == (4, 3, 2, 3)
        assert s.failures_by_stage == {"decode": 1, "match": 1}
        assert s.ignored == 1
    # one failures file per chunk that had failures: the match failure rides with chunk 0,
    # c.mp3 is the third input (a, b, c, d)
    files = sorted(os.listdir(tmp_path / "chunked" / "failures"))
    assert files == [f"run-{chunked.run_id}-00000.parquet", f"run-{chunked.run_id}-00002.parquet"]
    assert os.listdir(tmp_path / "one" / "failures") == [f"run-{one.run_id}.parquet"]
    again = timeline.run([*common, "--output", str(tmp_path / "chunked"), "--chunk-size", "2"])
    assert (again.media_written, again.media_skipped) == (0, 3)


class _CountingGc:
    """Stands in for the gc module in pipelines.chunked: counts its calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def collect(self) -> int:
        self.calls.append("collect")
        return 0

    def freeze(self) -> None:
        self.calls.append("freeze")

    def unfreeze(self) -> None:
        self.calls.append("unfreeze")


@pytest.mark.parametrize("chunk_size, calls", [
    ("1", ["collect", "freeze", "collect", "collect", "unfreeze"]),  # 4 inputs, 4 chunks
    ("0", []),  # one pipeline: none
    ("8", ["unfreeze"]),  # one chunk: no collection after it (the command ends)
])
def test_garbage_is_collected_between_chunks_only(library, tmp_path, tiny_checkpoint,
                                                  monkeypatch, chunk_size, calls):
    """Memory stays flat between chunks (a full collection after each), and the last chunk is
    not followed by one: the run is over, and the first collection of a process walks every
    object its imports made (~0.35 s, on the way of a one-video run)."""
    from pipelines import chunked

    fake = _CountingGc()
    monkeypatch.setattr(chunked, "gc", fake)
    timeline.run([str(library), "--model", tiny_checkpoint, "--output", str(tmp_path / "o"),
                  "--chunk-size", chunk_size])
    assert fake.calls == calls


def test_progress_lines_count_from_the_runs_start(library, tmp_path, tiny_checkpoint):
    """The progress lines' clock and counts restart with each run, as the summary's do."""
    PROGRESS.add("stale", 7)
    t0 = time.monotonic()
    time.sleep(1.2)  # a process that has been up for a while before the run starts
    timeline.run([str(library), "--model", tiny_checkpoint, "--output", str(tmp_path / "o")])
    line = PROGRESS.text()
    assert "stale" not in line
    shown_s = float(line.split("]")[0].removeprefix("[m2p").removesuffix("s"))
    assert shown_s <= time.monotonic() - t0 - 0.6  # whole seconds shown: run + 0.5 at most


def test_recolor_with_music_in_chunks_makes_the_music_timeline_once(tmp_path, tiny_checkpoint):
    lib = tmp_path / "lib"
    video(lib / "v1.mp4", 1.0, with_audio=False)
    video(lib / "v2.mp4", 1.0, with_audio=False)
    song = music(tmp_path / "song.mp3", 3.0, "angry")
    out = tmp_path / "out"
    s = recolor.run([str(lib), "--music", str(song), "--output", str(out), "--model",
                     tiny_checkpoint, "--preset", "ultrafast", "--chunk-size", "1"])
    assert (s.recolored, s.failures) == (2, 0)
    assert (s.timeline.inputs, s.timeline.media_written) == (1, 1)  # the music, in chunk 0
    assert len([n for n in os.listdir(out / "media") if n.endswith(".mp4")]) == 2


def test_generate_in_chunks(tmp_path, tiny_checkpoint):
    a = music(tmp_path / "in" / "a.mp3", 2.0, "happy")
    b = music(tmp_path / "in" / "b.mp3", 2.0, "calm")
    out = tmp_path / "out"
    s = generate.run([str(a), str(b), "--output", str(out), "--model", tiny_checkpoint,
                      "--size", "64x36", "--fps", "5", "--chunk-size", "1"])
    assert (s.videos, s.timeline.media_written, s.failures) == (2, 2, 0)
    assert s.frames == 20
