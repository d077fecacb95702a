"""End to end: `m2p timeline` on generated media, with the in-process runner."""

import shutil

import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from media_factory import music, video

from m2p_core.outputs.timeline import FAILURE_SCHEMA, TIMELINE_SCHEMA
from pipelines import timeline


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("lib")
    music(root / "happy.mp3", 21.0, "happy")  # 4 windows, last padded
    music(root / "sub" / "sad.ogg", 4.0, "sad")  # shorter than a window: 1 window
    video(root / "clip.mp4", 6.0)
    (root / "notes.txt").write_text("not media")  # not media by its name: ignored
    (root / "fake.mp3").write_text("not media either")  # media by its name: a failure
    return root


def _run(inputs, out, ckpt, *extra):
    return timeline.run([*map(str, inputs), "--output", str(out), "--model", ckpt, *extra])


def _table(out, sub="timelines"):
    return ds.dataset(str(out / sub), format="parquet").to_table()


def test_rows_failures_and_schema(library, tmp_path, tiny_checkpoint):
    summary = _run([library], tmp_path, tiny_checkpoint)
    rows = _table(tmp_path)
    assert rows.schema.remove_metadata() == TIMELINE_SCHEMA
    by_uri = {}
    for r in rows.to_pylist():
        by_uri.setdefault(r["source_uri"], []).append(r)
    assert {uri.rsplit("/", 1)[-1]: len(v) for uri, v in by_uri.items()} == {
        "happy.mp3": 4, "sad.ogg": 1, "clip.mp4": 1}
    happy = sorted(by_uri[str(library / "happy.mp3")], key=lambda r: r["window_index"])
    # the last window ends with the audio (21 s): a full window of music, not padded
    assert [r["start_s"] for r in happy[:3]] == [0.0, 5.0, 10.0]
    assert happy[-1]["start_s"] == pytest.approx(11.0, abs=0.05)
    assert [r["padded"] for r in happy] == [False, False, False, False]
    assert happy[-1]["end_s"] == pytest.approx(21.0, abs=0.05)
    for r in rows.to_pylist():
        assert len(r["palette_lab"]) == len(r["palette_hex"]) == len(r["weights"]) == 5
        assert sum(r["weights"]) == pytest.approx(1.0, abs=1e-5)
        assert -1 <= r["valence"] <= 1 and -1 <= r["arousal"] <= 1
        assert all(0 <= c[0] <= 100 for c in r["palette_lab"])
        assert r["model_version"].startswith("tiny-")
        assert len(r["media_id"]) == 64
    failures = _table(tmp_path, "failures")
    assert failures.schema.remove_metadata() == FAILURE_SCHEMA
    assert failures.column("source_uri").to_pylist() == [str(library / "fake.mp3")]
    assert failures.column("stage").to_pylist() == ["decode"]
    assert summary.inputs == 4 and summary.media_written == 3 and summary.failures == 1
    assert summary.ignored == 1  # notes.txt
    assert summary.windows == 6
    assert summary.audio_s == pytest.approx(31.0, abs=0.2)


def test_rerun_skips_and_force_redoes_without_duplicates(library, tmp_path, tiny_checkpoint):
    first = _run([library / "happy.mp3"], tmp_path, tiny_checkpoint)
    assert first.media_written == 1
    again = _run([library / "happy.mp3"], tmp_path, tiny_checkpoint)
    assert again.media_written == 0 and again.media_skipped == 1
    forced = _run([library / "happy.mp3"], tmp_path, tiny_checkpoint, "--force")
    assert forced.media_written == 1
    assert _table(tmp_path).num_rows == 4
    other_params = _run([library / "happy.mp3"], tmp_path, tiny_checkpoint, "--hop", "10")
    assert other_params.media_written == 1  # parameters changed: redone, replacing the old rows
    rows = _table(tmp_path)
    assert rows.num_rows == 3  # windows at 0, 10, 20 s
    assert set(pa.compute.unique(rows.column("window_index")).to_pylist()) == {0, 1, 2}


def test_identical_files_under_two_names_each_get_rows(library, tmp_path, tiny_checkpoint):
    src = library / "sub" / "sad.ogg"
    weird = tmp_path / "in" / "-rf sad (copy) ü.ogg"
    weird.parent.mkdir()
    shutil.copy(src, weird)
    shutil.copy(src, tmp_path / "in" / "plain.ogg")
    _run([tmp_path / "in"], tmp_path / "out", tiny_checkpoint)
    rows = _table(tmp_path / "out")
    assert sorted(rows.column("source_uri").to_pylist()) == sorted(
        [str(weird), str(tmp_path / "in" / "plain.ogg")])
    assert len(set(rows.column("media_id").to_pylist())) == 1
    names = [p.name for p in (tmp_path / "out" / "timelines").iterdir()]
    assert all("/" not in n and not n.startswith(("-", ".")) for n in names)


def test_unknown_flags_go_to_beam(library, tmp_path, tiny_checkpoint):
    summary = _run([library / "sub"], tmp_path, tiny_checkpoint, "--job_name=m2p-test")
    assert summary.media_written == 1


def test_sample_rate_comes_from_the_checkpoint(tmp_path):
    """A checkpoint trained at another sample rate is decoded at that rate (it once came from
    the default ModelConfig whatever the checkpoint said)."""
    import torch

    from m2p_core.model.checkpoint import save_checkpoint
    from m2p_core.model.network import ModelConfig, Music2Palette

    torch.manual_seed(0)
    path = tmp_path / "sr22050.pt"
    save_checkpoint(Music2Palette(ModelConfig(sample_rate=22050)), path, "sr22050")
    args, _ = timeline.parse_args(["x.wav", "--output", str(tmp_path / "o"),
                                   "--model", str(path)])
    opts = timeline.resolve_options(args)
    assert opts.sample_rate == 22050


def test_default_model_is_v2_and_fast_is_v1(tmp_path):
    """No --model: the shipped m2p-v2; --model fast: the shipped m2p-v1 (checked, versioned)."""
    args, _ = timeline.parse_args(["x.wav", "--output", str(tmp_path / "o")])
    assert timeline.resolve_options(args).model_version.startswith("m2p-v2-")
    args, _ = timeline.parse_args(["x.wav", "--output", str(tmp_path / "o"), "--model", "fast"])
    opts = timeline.resolve_options(args)
    assert opts.model_version.startswith("m2p-v1-")
    assert opts.model_path.endswith("m2p-v1.pt")
