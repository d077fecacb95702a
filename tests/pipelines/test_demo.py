from pathlib import Path

import pyarrow.dataset as ds

from pipelines import demo


def test_demo_writes_timelines_and_plots(tmp_path, tiny_checkpoint):
    out = tmp_path / "demo"
    assert demo.main(["--output", str(out), "--model", tiny_checkpoint]) == 0
    media = sorted(p.name for p in (out / "media").iterdir())
    assert media == ["angry.ogg", "calm.wav", "calm_then_angry.mp4", "happy.mp3", "sad.flac"]
    table = ds.dataset(str(out / "timelines")).to_table()
    assert len(set(table.column("source_uri").to_pylist())) == 5
    plots = list(Path(out / "plots").glob("*.png"))
    assert len(plots) == 5 and all(p.stat().st_size > 10_000 for p in plots)
