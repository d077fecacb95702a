"""``--workers N``: the local runner's parallelism (issue #6)."""

from __future__ import annotations

import argparse
import os

import pytest
from apache_beam.options.pipeline_options import DirectOptions

from pipelines import timeline
from pipelines.options import add_common_arguments, make_pipeline


def _args(*argv: str) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser()
    add_common_arguments(parser)
    return parser.parse_known_args(list(argv))


@pytest.mark.parametrize(("argv", "workers", "mode"), [
    ((), 1, "in_memory"),
    (("--workers", "2"), 2, "multi_threading"),
    (("--workers", "3", "--direct_running_mode", "multi_processing"), 3, "multi_processing"),
])
def test_workers_choose_the_local_running_mode(argv, workers, mode, monkeypatch):
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    args, beam_argv = _args(*argv)
    p = make_pipeline(args, beam_argv)
    direct = p.options.view_as(DirectOptions)
    assert (direct.direct_num_workers, direct.direct_running_mode) == (workers, mode)
    if mode == "multi_processing":  # each worker process gets its share of the cores
        assert os.environ["OMP_NUM_THREADS"] == str(max(1, (os.cpu_count() or 1) // workers))


def test_two_workers_write_the_same_timelines_as_one(tmp_path, tiny_checkpoint):
    import pyarrow.dataset as ds
    from media_factory import music

    lib = tmp_path / "lib"
    for i, mood in enumerate(("happy", "sad", "calm")):
        music(lib / f"m{i}.mp3", 12.0, mood)
    tables = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        summary = timeline.run([str(lib), "--output", str(out), "--model", tiny_checkpoint,
                                "--workers", str(workers)])
        assert summary.media_written == 3 and summary.failures == 0
        t = ds.dataset(str(out / "timelines"), format="parquet").to_table()
        tables.append(t.sort_by([("source_uri", "ascending"), ("window_index", "ascending")]))
    one, two = tables
    assert one.num_rows == two.num_rows > 0
    for col in ("source_uri", "window_index", "media_id", "palette_hex", "quadrant"):
        assert one.column(col).to_pylist() == two.column(col).to_pylist(), col


def test_threads_share_one_model_on_the_cpu_with_device_auto(tmp_path, tiny_checkpoint):
    """Two worker threads share one loaded model; the copy of the handler that did not load
    it must still send batches to the model's device (the CPU here), not the requested GPU."""
    from media_factory import music

    lib = tmp_path / "lib"
    for i in range(3):
        music(lib / f"m{i}.mp3", 12.0, "happy")
    summary = timeline.run([str(lib), "--output", str(tmp_path / "out"), "--model",
                            tiny_checkpoint, "--workers", "2", "--device", "auto"])
    assert (summary.media_written, summary.failures) == (3, 0), summary
