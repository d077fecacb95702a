"""Issue #7: SIGKILL the pipeline mid-run, rerun it: complete outputs, no loss, no duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from m2p_core.synth.writers import write_audio
from pipelines import timeline

REPO = Path(__file__).resolve().parents[2]
N_FILES, SECONDS = 12, 21.0  # 4 windows each (10 s every 5 s)


def _inputs(folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(N_FILES):
        p = folder / f"track {i:02d}.wav"
        write_audio(p, 0.3 * rng.standard_normal(int(SECONDS * 8000)).astype(np.float32), 8000)
        paths.append(p)
    return paths


def test_sigkill_then_rerun_completes_without_loss_or_duplicates(tmp_path, tiny_checkpoint):
    inputs = _inputs(tmp_path / "in")
    out = tmp_path / "out"
    timelines = out / "timelines"
    argv = [sys.executable, "-m", "commands.main", "timeline", str(tmp_path / "in"),
            "--output", str(out), "--model", tiny_checkpoint, "--batch-size", "2"]
    with open(tmp_path / "log.txt", "wb") as log:
        proc = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own process group
        try:
            deadline = time.monotonic() + 240
            while proc.poll() is None and time.monotonic() < deadline:
                if timelines.is_dir() and any(timelines.glob("*.parquet")):
                    break
                time.sleep(0.005)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    killed = proc.returncode == -signal.SIGKILL
    assert killed or proc.returncode == 0, (tmp_path / "log.txt").read_text()[-3000:]

    # What a reader sees right after the kill: only complete files.
    done_before = sorted(timelines.glob("*.parquet"))
    assert done_before
    for f in done_before:
        assert pq.read_table(f).num_rows == 4
    assert ds.dataset(str(timelines)).count_rows() == 4 * len(done_before)
    # A temp file a kill during a write would leave (the window is too short to hit reliably),
    # and a foreign dot-file that is not ours to delete.
    stale = timelines / ".track 99-0123456789ab.parquet.tmp-0123456789ab"
    stale.write_bytes(b"PAR1 partial")
    os.utime(stale, (time.time() - 60, time.time() - 60))
    foreign = timelines / ".keep"
    foreign.write_text("not ours")

    summary = timeline.run([str(tmp_path / "in"), "--output", str(out), "--model",
                            tiny_checkpoint])
    assert summary.media_skipped == len(done_before)
    assert summary.media_written == N_FILES - len(done_before)
    assert summary.failures == 0 and summary.temp_files_removed >= 1
    assert not stale.exists() and foreign.exists()
    assert not [p for p in out.rglob(".*") if p != foreign]

    rows = ds.dataset(str(timelines)).to_table(columns=["source_uri", "window_index"]).to_pylist()
    keys = [(r["source_uri"], r["window_index"]) for r in rows]
    assert len(keys) == len(set(keys)) == 4 * N_FILES
    assert {k[0] for k in keys} == {str(p) for p in inputs}
    for f in done_before:  # finished work was kept, not redone
        assert f.exists()
