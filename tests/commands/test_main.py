import pyarrow.dataset as ds
from media_factory import music

from commands.main import main


def test_timeline_command_lists_failures_and_exits_3(tmp_path, tiny_checkpoint, capsys):
    music(tmp_path / "in" / "a.wav", 3.0)
    (tmp_path / "in" / "broken.mp3").write_bytes(b"\x00" * 1000)  # media by name: a failure
    (tmp_path / "in" / "notes.txt").write_text("not media")  # not media by name: ignored
    code = main(["timeline", str(tmp_path / "in"), "--output", str(tmp_path / "out"),
                 "--model", tiny_checkpoint])
    assert code == 3  # finished, some inputs failed
    captured = capsys.readouterr()
    printed = captured.out
    assert "1 written" in printed and "1 failures" in printed and "x realtime" in printed
    assert "1 ignored (not media)" in printed
    err = captured.err.splitlines()
    err = err[err.index("1 input failed:"):]  # after any progress lines
    assert "broken.mp3 (decode): cannot open broken.mp3: not readable audio/video media" in err[1]
    assert err[-1].startswith("all failure rows: ") and err[-1].endswith(".parquet")
    assert ds.dataset(str(tmp_path / "out" / "timelines")).count_rows() == 1
    # again: all done already (skipped) -> 0, and no "0x realtime"; the failure stays one
    assert main(["timeline", str(tmp_path / "in" / "a.wav"), "--output",
                 str(tmp_path / "out"), "--model", tiny_checkpoint]) == 0
    again = capsys.readouterr()
    assert "1 skipped" in again.out and "realtime" not in again.out
    assert "failed" not in again.err


def test_nothing_to_do_exits_4(tmp_path, tiny_checkpoint, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "cover.txt").write_text("x")
    assert main(["timeline", str(tmp_path / "in"), "--output", str(tmp_path / "out"),
                 "--model", tiny_checkpoint]) == 4
    assert "nothing to do: no media file found (1 file ignored" in capsys.readouterr().err
    assert main(["timeline", str(tmp_path / "nope.mp3"), "--output", str(tmp_path / "out"),
                 "--model", tiny_checkpoint]) == 4
    err = capsys.readouterr().err
    assert "nope.mp3 (match): no file matches this input" in err
    assert "nothing could be done" in err


def test_unwritable_output_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    music(tmp_path / "a.wav", 1.0)
    for output in (tmp_path / "file", tmp_path / "file" / "sub"):
        assert main(["timeline", str(tmp_path / "a.wav"), "--output", str(output)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("m2p timeline: ") and "--output" in err
        assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_usage_and_unknown_command(capsys):
    assert main([]) == 2
    assert main(["--help"]) == 0
    assert main(["paint"]) == 2
    assert "unknown command" in capsys.readouterr().err


def test_console_script_fast_exit_keeps_output_and_exit_code(tmp_path):
    """The script leaves with os._exit after main: buffered output and atexit work still happen,
    and the exit code is main's."""
    import subprocess
    import sys

    script = tmp_path / "probe.py"
    marker = tmp_path / "atexit-ran"
    script.write_text(
        "import atexit, pathlib, sys\n"
        "import commands.main as cli\n"
        f"atexit.register(lambda: pathlib.Path({str(marker)!r}).write_text('ok'))\n"
        "sys.argv = ['m2p']\n"
        "print('x' * 100000)  # more than a pipe buffer, still in Python's buffer at exit\n"
        "cli.console_main()\n"
    )
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          cwd=root, env={"PYTHONPATH": str(root), "PATH": ""}, timeout=120)
    assert done.returncode == 2  # no command: usage, exit code 2
    assert done.stdout.startswith("x" * 100000) and "usage: m2p" in done.stdout
    assert marker.read_text() == "ok"


def test_help_lists_every_command(capsys):
    """The first screen a user sees names every command (recolor was missing once)."""
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for name in ("timeline", "recolor", "recolor-image", "generate", "export", "report", "demo",
                 "train", "train-head", "evaluate"):
        assert f"\n  {name} " in text, name
