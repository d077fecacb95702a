"""Command lines: unknown options are errors naming the closest option, Beam's own flags pass,
--help is plain, has an example and answers without heavy imports."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from commands import args as cargs
from commands.main import COMMANDS, command_parser, main
from pipelines import args as pargs
from pipelines import recolor, timeline

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv, wanted", [
    (["recolor", "clip.mp4", "--music", "x.mp3", "--output", "o", "--strenght", "0.3"],
     "--strength"),
    (["recolor", "clip.mp4", "--output", "o", "--windw", "5"], "--window"),
    (["timeline", "a.mp3", "--outptu", "o"], "--output"),  # not "--output is required"
    (["timeline", "a.mp3", "--output", "o", "--temp_locaton", "gs://b/t"], "--temp_location"),
    (["export", "out", "--format", "all", "--output", "e", "--lut_size", "9"], "--lut-size"),
    (["report", "out", "--treshold", "3"], "--threshold"),
])
def test_unknown_options_fail_naming_the_closest_one(argv, wanted, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"did you mean {wanted}?" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2  # one line and where to look


def test_a_stray_value_and_a_bad_beam_value_are_usage_errors(capsys):
    assert main(["timeline", "a.mp3", "--output", "o", "--direct_running_mode", "bogus"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_beam_flags_pass_to_beam_and_leave_the_inputs_alone():
    ns, beam = timeline.parse_args([
        "--direct_running_mode", "multi_threading", "a.mp3", "b.mp3", "--output", "o",
        "--temp_location", "/tmp/t", "--project", "p", "--dry_run=True", "--job_name=m2p-x",
        "--runner", "DirectRunner", "--streaming", "--experiments", "a", "--experiments=b"])
    assert ns.inputs == ["a.mp3", "b.mp3"] and ns.output == "o" and ns.runner == "DirectRunner"
    assert beam == ["--direct_running_mode=multi_threading", "--temp_location=/tmp/t",
                    "--project=p", "--dry_run=True", "--job_name=m2p-x", "--streaming",
                    "--experiments=a", "--experiments=b"]
    from apache_beam.options.pipeline_options import (
        DebugOptions,
        DirectOptions,
        GoogleCloudOptions,
        TestOptions,
    )
    from apache_beam.options.pipeline_options import PipelineOptions as PO

    options = PO(beam)
    assert options.view_as(DirectOptions).direct_running_mode == "multi_threading"
    assert options.view_as(GoogleCloudOptions).temp_location == "/tmp/t"
    assert options.view_as(TestOptions).dry_run  # "True"
    assert options.view_as(DebugOptions).experiments == ["a", "b"]


def test_no_unknown_flags_means_no_beam_import_needed():
    ns, beam = recolor.parse_args(["v.mp4", "--output", "o", "--strength", "0.3"])
    assert beam == [] and ns.strength == 0.3 and ns.music is None


@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_is_plain_with_an_example(name, capsys):
    assert main([name, "--help"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"usage: m2p {name}")
    assert "examples:" in text and f"  m2p {name} " in text
    for internal in ("``", ":func:", ":mod:", "DESIGN", "§"):
        assert internal not in text, internal
    description = text.split("\n\n")[1]
    assert description[0].isupper(), description  # a sentence, not a module docstring


def test_recolor_image_help_is_about_images(capsys):
    assert main(["recolor-image", "--help"]) == 0
    text = capsys.readouterr().out
    assert "image" in text.split("\n\n")[1].lower()
    assert "video" not in text.lower().replace("--", "")


def test_help_needs_no_heavy_imports():
    """`m2p COMMAND --help` builds its parser from argparse alone: no Beam, torch, pyarrow,
    matplotlib or library modules are imported (this is what keeps it well under 0.5 s)."""
    heavy = ["apache_beam", "torch", "pyarrow", "matplotlib", "numpy", "av", "m2p_core"]
    code = ("import json, sys\nfrom commands.main import main, COMMANDS\nout = {}\n"
            "for name in COMMANDS:\n"
            "    try:\n        main([name, '--help'])\n    except SystemExit:\n        pass\n"
            f"    out[name] = sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))\n"
            "sys.stdout = sys.__stdout__\nprint('RESULT' + json.dumps(out))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""}, timeout=60)
    result = json.loads(done.stdout.rsplit("RESULT", 1)[1])
    assert result == {name: [] for name in COMMANDS}


def test_parser_defaults_are_the_librarys():
    from m2p_core.generate.render import DEFAULT_FPS, VideoSpec
    from m2p_core.generate.styles import DEFAULT_STYLE, STYLES
    from m2p_core.outputs.exports import FORMATS, LUT_SIZE
    from m2p_core.palette.sections import DEFAULT_THRESHOLD
    from m2p_core.recolor.segments import DEFAULT_SEGMENT_S
    from m2p_core.recolor.transfer import LOOKS
    from m2p_core.recolor.video import RecolorParams
    from m2p_core.training import SHIPPED_SYNTHETIC_CLIPS, TrainConfig

    p = RecolorParams()
    assert (pargs.RECOLOR_STRENGTH, pargs.RECOLOR_CRF, pargs.RECOLOR_PRESET) == (
        p.strength, p.crf, p.preset)
    assert pargs.SEGMENT_S == DEFAULT_SEGMENT_S
    assert (pargs.RECOLOR_LOOK, pargs.LOOKS) == (p.look, tuple(LOOKS))
    assert (pargs.GENERATE_FPS, pargs.GENERATE_STYLE, set(pargs.GENERATE_STYLES)) == (
        DEFAULT_FPS, DEFAULT_STYLE, set(STYLES))
    assert (pargs.GENERATE_CRF, pargs.GENERATE_PRESET) == (VideoSpec.crf, VideoSpec.preset)
    assert cargs.EXPORT_FORMATS == tuple(FORMATS) and cargs.LUT_SIZE == LUT_SIZE
    assert cargs.SECTION_THRESHOLD == DEFAULT_THRESHOLD
    cfg = TrainConfig()
    for key, value in cargs.TRAIN_DEFAULTS.items():
        wanted = SHIPPED_SYNTHETIC_CLIPS if key == "synthetic_clips" else getattr(cfg, key)
        assert value == wanted, key


def test_every_command_has_a_light_parser():
    for name in COMMANDS:
        assert command_parser(name).prog == f"m2p {name}"


def test_train_head_parser_defaults_are_the_shipped_head():
    from commands.args import HEAD_FEATURES_DEFAULT, HEAD_KIND_DEFAULT
    from m2p_core.model.v2 import HeadConfig

    assert tuple(HEAD_FEATURES_DEFAULT.split(",")) == HeadConfig().features
    assert HEAD_KIND_DEFAULT == HeadConfig().kind
