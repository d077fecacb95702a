"""m2p report and m2p export on fabricated timelines (no audio decoded): the page scales,
links media instead of embedding them, and both commands say what folder to pass."""

import os
import re
import time

import numpy as np
import pytest

from commands import report
from commands.main import main
from m2p_core.outputs.timeline import (
    TimelineParams,
    failure_row,
    failures_parquet_bytes,
    timeline_parquet_bytes,
    timeline_row,
)

PARAMS = TimelineParams("tiny-v1", 10.0, 5.0)


def _track_rows(seed: int, minutes: float = 3.0) -> list[dict]:
    """One track's rows: palettes and emotions drifting like music's (a few moods)."""
    rng = np.random.default_rng(seed)
    n = int(minutes * 60 / 5) - 1
    base = rng.uniform([30, -40, -40], [80, 40, 40], size=(5, 3))
    rows = []
    for i in range(n):
        mood = (i * 3) // n  # three moods per track
        lab = base + rng.normal(0, 2, size=(5, 3)) + mood * np.array([5, 12, -10])
        va = np.tanh(np.array([np.sin(seed + mood), np.cos(seed * 0.7 + mood)]) +
                     rng.normal(0, 0.1, 2))
        rows.append(timeline_row(
            media_id=f"{seed:064x}", source_uri=f"/music/album{seed % 7}/track {seed:04d}.mp3",
            window_index=i, start_s=5.0 * i, end_s=5.0 * i + 10.0, valence_arousal=va,
            palette_lab=lab, weights=rng.dirichlet(np.ones(5) * 2), model_version="tiny-v1",
            padded=i == n - 1, duration_s=5.0 * n + 5.0))
    return rows


def _fabricate(out, tracks: int, distinct: int = 12) -> None:
    """``tracks`` timeline files; rows made for ``distinct`` tracks and reused (renamed)."""
    (out / "timelines").mkdir(parents=True)
    (out / "failures").mkdir()
    made = [_track_rows(s) for s in range(distinct)]
    for t in range(tracks):
        uri = f"/music/album{t % 7}/track {t:04d}.mp3"
        media_id = f"{t:064x}"
        rows = [dict(r, source_uri=uri, media_id=media_id) for r in made[t % distinct]]
        from m2p_core.outputs.naming import output_stem

        (out / "timelines" / f"{output_stem(uri)}.parquet").write_bytes(
            timeline_parquet_bytes(rows, media_id, uri, PARAMS))


def test_a_report_of_300_tracks_stays_small(tmp_path, capsys):
    out = tmp_path / "run"
    _fabricate(out, 300)
    (out / "failures" / "run-x.parquet").write_bytes(failures_parquet_bytes(
        [failure_row("/music/broken.mp3", "decode", "not audio", "x")]))
    t0 = time.perf_counter()
    path = report.build_report(str(out))
    seconds = time.perf_counter() - t0
    size = os.path.getsize(path)
    print(f"300-track report: {size / 1e6:.2f} MB in {seconds:.1f} s")  # for the notes
    assert size < 10e6
    page = open(path, encoding="utf-8").read()
    assert page.count('<section class="media"') == 301  # 300 tracks + failures
    assert "http://" not in page and "https://" not in page
    assert "Valence: how positive" in page  # the one-line explanation


def test_media_are_linked_not_embedded_and_small_audio_is(tmp_path):
    out = tmp_path / "run"
    _fabricate(out, 2, distinct=2)
    big_audio = tmp_path / "big.mp3"
    from m2p_core.outputs.naming import output_stem

    # the fabricated tracks' sources: put one small and one big "audio" file there
    rows = report.read_timelines(str(out))
    uris = sorted(rows)
    src_small, src_big = tmp_path / "small.mp3", big_audio
    src_small.write_bytes(b"\xff\xfb" * 1000)  # 2 KB
    src_big.write_bytes(b"\xff\xfb" * 200_000)  # 400 KB
    for uri, src in zip(uris, (src_small, src_big), strict=True):
        data = (out / "timelines" / f"{output_stem(uri)}.parquet").read_bytes()
        (out / "timelines" / f"{output_stem(uri)}.parquet").unlink()
        import io

        import pyarrow.parquet as pq

        from m2p_core.outputs.timeline import read_timeline_metadata  # noqa: F401

        table = pq.read_table(io.BytesIO(data)).to_pylist()
        new = [dict(r, source_uri=str(src)) for r in table]
        (out / "timelines" / f"{output_stem(str(src))}.parquet").write_bytes(
            timeline_parquet_bytes(new, new[0]["media_id"], str(src), PARAMS))
    (out / "media").mkdir()
    video = out / "media" / f"{output_stem(str(src_small))}.mp4"
    video.write_bytes(b"\x00" * 300_000)
    by_music = out / "media" / f"clip-{'a' * 12}--{output_stem(str(src_big))}.mp4"
    by_music.write_bytes(b"\x00" * 1000)
    (out / "exports").mkdir()
    (out / "exports" / f"{output_stem(str(src_small))}.cube").write_text("LUT_3D_SIZE 2\n")
    (out / "stills").mkdir()
    for name in ("after-t25s", "before-t25s", "before-t05s", "after-t05s", "before_after-t05s"):
        (out / "stills" / f"{output_stem(str(src_small))}-{name}.png").write_bytes(b"png")
    page = open(report.build_report(str(out)), encoding="utf-8").read()
    assert page.count("data:audio/mpeg;base64,") == 1  # the 2-KB source only
    assert 'src="../big.mp3"' in page  # linked, relative to the page
    assert f'src="media/{video.name}"' in page and "data:video" not in page
    assert "recoloured by this music · clip" in page
    assert f'href="exports/{output_stem(str(src_small))}.cube">cube<' in page
    befores = re.findall(r"before · (\d:\d\d)", page)
    afters = re.findall(r"after · (\d:\d\d)", page)
    assert befores == afters == ["0:05", "0:25"]  # paired, in time order
    assert 'href="exports/"' in page


def test_report_and_export_take_the_run_folder_or_its_timelines(tmp_path, capsys):
    out = tmp_path / "run"
    _fabricate(out, 2, distinct=2)
    (out / "timelines" / "notes.txt").write_text("not parquet")  # readers ignore it
    (out / "timelines" / "._junk.parquet").write_bytes(b"x")  # hidden: ignored too
    assert main(["report", str(out / "timelines")]) == 0
    assert (out / "report.html").exists() and not (out / "timelines" / "report.html").exists()
    assert f"using the run folder {out}" in capsys.readouterr().out
    assert main(["export", str(out / "timelines"), "--format", "json",
                 "--output", str(out / "exports")]) == 0
    assert len(list((out / "exports").glob("*.json"))) == 2
    assert main(["export", str(out), "--format", "json",
                 "--output", str(out / "timelines" / "x")]) == 2
    assert "is inside" in capsys.readouterr().err
    assert not (out / "timelines" / "x").exists()
    other = tmp_path / "other"
    other.mkdir()
    for argv in (["report", str(other)], ["export", str(other), "--format", "all", "--output",
                                           str(tmp_path / "e")], ["report", str(tmp_path / "no")]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        assert "pass the --output folder of an m2p run" in err or "no such folder" in err


@pytest.mark.parametrize("rows", [1, 40])
def test_timeline_plot_shares_the_time_axis(rows):
    from m2p_core.outputs.report_html import Timeline, strip_png, timeline_html

    tl = Timeline.of_rows(_track_rows(3)[:rows])
    html = timeline_html(tl)
    assert 'class="strip"' in html and 'class="curves"' in html
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(strip_png(tl)))
    assert img.size[1] == 24 and img.size[0] >= 8


def test_stills_of_other_looks_sit_beside_before_and_after(tmp_path):
    """The demo's stills of one moment under each look: the ``after`` still is labelled with
    the look its video's sidecar records, ``after_<look>`` stills follow it, in look order;
    the ``before_after`` composite is not a look."""
    from m2p_core.outputs.naming import output_stem

    out = tmp_path / "run"
    _fabricate(out, 1, distinct=1)
    (uri,) = report.read_timelines(str(out))
    stem = output_stem(uri)
    (out / "media").mkdir()
    (out / "media" / f"{stem}.mp4").write_bytes(b"\x00" * 1000)
    (out / "media" / f"{stem}.mp4.json").write_text('{"look": "transfer"}')
    (out / "stills").mkdir()
    for name in ("before-t05s", "after-t05s", "after_grade-t05s", "before_after-t05s",
                 "after_warm-t05s", "after_grade-t25s"):  # t25s: no before/after: not shown
        (out / "stills" / f"{stem}-{name}.png").write_bytes(b"png")
    page = open(report.build_report(str(out)), encoding="utf-8").read()
    captions = re.findall(r'<figcaption class="muted">([^<]*)</figcaption><img', page)
    assert captions == ["before · 0:05", "after · 0:05 · transfer look", "grade look · 0:05",
                        "warm look · 0:05"]
    assert 'style="--n:4"' in page and f'src="stills/{stem}-after_grade-t05s.png"' in page
    assert "before_after" not in page
