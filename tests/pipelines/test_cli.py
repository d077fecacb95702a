import pyarrow.dataset as ds
from media_factory import music

from pipelines.cli import main


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
