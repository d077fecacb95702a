"""Ctrl-C on the console script: one line, status 130, no traceback from Beam's threads."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from media_factory import music

ROOT = Path(__file__).resolve().parents[2]


def test_ctrl_c_stops_with_one_line_and_status_130(tmp_path, tiny_checkpoint):
    first = music(tmp_path / "in" / "s00.wav", 30.0)
    for i in range(1, 30):  # enough work to be interrupted in the middle of it
        shutil.copy(first, tmp_path / "in" / f"s{i:02d}.wav")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "M2P_PROGRESS_S": "0.5"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "commands.main", "timeline", str(tmp_path / "in"), "--output",
         str(out), "--model", tiny_checkpoint], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = []
    for line in proc.stderr:  # the first progress line: the run is under way
        seen.append(line)
        if line.startswith("[m2p"):
            break
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    stderr = "".join(seen) + stderr
    assert proc.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr and "Error" not in stderr, stderr[-3000:]
    (last,) = [line for line in stderr.splitlines() if "stopped" in line]
    assert last.startswith("m2p timeline: stopped; ") and str(out) in last
    assert "run " not in stdout  # no summary: the run did not finish
