from pathlib import Path

import pyarrow.dataset as ds

from commands import demo


def test_demo_writes_timelines_plots_video_exports_and_report(tmp_path, tiny_checkpoint,
                                                               capsys):
    out = tmp_path / "demo"
    assert demo.main(["--output", str(out), "--model", tiny_checkpoint,
                      "--video-size", "128x72"]) == 0
    media = sorted(p.name for p in (out / "media").iterdir())
    inputs = ["angry.ogg", "calm.wav", "calm_then_angry.mp4", "happy.mp3", "sad.flac"]
    assert set(inputs) <= set(media)
    generated = [m for m in media if m.endswith(".aurora.mp4")]
    assert len(generated) == 1 and generated[0].startswith("happy-")
    table = ds.dataset(str(out / "timelines")).to_table()
    assert len(set(table.column("source_uri").to_pylist())) == 5
    plots = list(Path(out / "plots").glob("*.png"))
    assert len(plots) == 5 and all(p.stat().st_size > 10_000 for p in plots)
    exports = {p.suffix for p in (out / "exports").iterdir()}
    assert {".cube", ".gpl", ".ase", ".css", ".json"} <= exports
    page = (out / "report.html").read_text()
    assert 20_000 < len(page) < 300_000 and "generated · aurora" in page
    assert 'src="media/' in page and "data:video" not in page  # videos linked, not embedded
    assert "before · " in page  # the recolouring step's stills are in the report
    # ... with the same moments under the other look, whose run has a folder of its own
    stills = sorted(p.name for p in (out / "stills").iterdir())
    assert [n.split("-")[-2] for n in stills if n.endswith("-t05s.png")] == [
        "after", "after_grade", "before", "before_after"]
    assert "after · 0:05 · transfer look" in page and "grade look · 0:05" in page
    assert len(list((out / "looks" / "grade" / "media").glob("*.mp4"))) == 1
    assert f"open {out / 'report.html'}" in capsys.readouterr().out
