import pyarrow.dataset as ds
from media_factory import music

from commands.main import main


def test_timeline_command_exit_0_with_a_failed_input(tmp_path, tiny_checkpoint, capsys):
    music(tmp_path / "in" / "a.wav", 3.0)
    (tmp_path / "in" / "broken.mp3").write_bytes(b"\x00" * 1000)
    code = main(["timeline", str(tmp_path / "in"), "--output", str(tmp_path / "out"),
                 "--model", tiny_checkpoint])
    assert code == 0
    printed = capsys.readouterr().out
    assert "1 written" in printed and "1 failures" in printed and "x realtime" in printed
    assert ds.dataset(str(tmp_path / "out" / "timelines")).count_rows() == 1


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
