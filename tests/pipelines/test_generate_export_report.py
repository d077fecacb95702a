"""End to end: generate a video from a clip, export its palettes, and open the report in
headless Chromium (a real browser: screenshot + DOM)."""

import os
import shutil
import subprocess

import av
import numpy as np
import pytest
from media_factory import music

from commands import export, report
from m2p_core.outputs.exports import read_cube
from m2p_core.outputs.timeline import failure_row, failures_parquet_bytes
from pipelines import generate


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_checkpoint):
    root = tmp_path_factory.mktemp("gen")
    clip = music(root / "in" / "clip <1>.mp3", 4.0, "happy")
    (root / "in" / "broken.mp3").write_bytes(b"not audio at all")
    out = root / "out"
    summary = generate.run([str(clip), str(root / "in" / "broken.mp3"), "--output", str(out),
                            "--model", tiny_checkpoint, "--size", "160x90", "--fps", "10"])
    assert summary.videos == 1 and summary.failures == 1 and summary.frames == 40
    again = generate.run([str(clip), "--output", str(out), "--model", tiny_checkpoint,
                          "--size", "160x90", "--fps", "10"])
    assert again.videos == 0 and again.skipped == 1
    return out


def test_generated_video_plays_with_the_songs_audio(run_dir):
    videos = sorted((run_dir / "media").glob("*.aurora.mp4"))
    assert len(videos) == 1 and videos[0].name.startswith("clip_1-")
    with av.open(str(videos[0])) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        audio = c.streams.audio[0]
        assert audio.codec_context.name == "aac"
        assert float(audio.duration * audio.time_base) == pytest.approx(4.0, abs=0.15)
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == 40 and np.std(frames[20]) > 3
    assert not [p for p in os.listdir(run_dir / "media") if p.startswith(".")]  # no temp files


def test_export_writes_every_format(run_dir, tmp_path):
    written = export.run([str(run_dir), "--format", "all", "--output", str(tmp_path),
                          "--lut-size", "9"])
    (paths,) = written.values()
    names = {os.path.basename(p) for p in paths}
    assert any(n.endswith(".s01.cube") for n in names) and any(n.endswith(".ase") for n in names)
    for ext in (".cube", ".gpl", ".ase", ".css", ".json", ".mpl.json"):
        assert any(n.endswith(ext) for n in names), ext
    cube = next(p for p in paths if p.endswith(".cube"))
    assert read_cube(open(cube).read()).shape == (9, 9, 9, 3)
    with pytest.raises(SystemExit):
        export.run([str(run_dir), "--format", "png", "--output", str(tmp_path)])


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _browser(url: str, tmp_path, *mode: str) -> subprocess.CompletedProcess:
    args = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", *mode, url]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def test_report_renders_in_headless_chromium(run_dir, tmp_path):
    if _chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required on CI (.ci/run installs it)")
        pytest.skip("chromium not installed (apt-get install chromium); on CI it must run")
    with open(run_dir / "failures" / "run-hostile.parquet", "wb") as f:
        f.write(failures_parquet_bytes([failure_row(
            "/in/<img src=x onerror=alert(1)>.mp3", "decode", "bad <b>file</b>", "r")]))
    path = report.build_report(str(run_dir))
    page = open(path, encoding="utf-8").read()
    assert "http://" not in page and "https://" not in page  # self-contained, no network
    url = "file://" + os.path.abspath(path)
    shot = tmp_path / "report.png"
    result = _browser(url, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000")
    assert shot.exists() and shot.stat().st_size > 20_000, result.stderr[-2000:]
    from PIL import Image

    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape[:2] == (2000, 1280) and img.std() > 20  # not a blank page
    dom = _browser(url, tmp_path, "--dump-dom").stdout
    assert "music2palette report" in dom and "clip &lt;1&gt;.mp3" in dom
    assert "generated · aurora" in dom and "<video" in dom and "<audio" in dom
    assert "Sections" in dom and "data:image/png;base64," in dom
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom and "<img src=x" not in dom
    assert "bad &lt;b&gt;file&lt;/b&gt;" in dom
    shutil.copy(shot, run_dir / "report-screenshot.png")  # for people to look at
