"""The command lines of the Beam pipelines (timeline, recolor, recolor-image, generate) and what
every m2p command line shares: built from argparse alone, so ``m2p COMMAND --help`` and usage
errors answer before Beam, torch or the library are imported.

- Unknown options are errors that name the nearest known option ("did you mean --strength?";
  Python 3.11's argparse has no suggestions of its own).
- A pipeline passes on to Beam exactly the flags Beam's PipelineOptions know (``--project``,
  ``--temp_location``, ``--direct_running_mode multi_threading``, ``--dry_run=True``, ...);
  Beam's option classes are imported only when a command line has a flag the pipeline itself
  does not know.
- Defaults are written out here (the library is not imported to read them);
  tests/commands/test_args.py checks that they equal the library's.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Sequence

#: exit statuses of every m2p command (README "Exit status")
EXIT_OK = 0  # everything done, or already done (skipped)
EXIT_ERROR = 1  # an unexpected error (a bug): a traceback follows
EXIT_USAGE = 2  # the command line or a setting cannot work (nothing was run)
EXIT_SOME_FAILED = 3  # the run finished; some inputs failed (listed; failures/ has them all)
EXIT_NOTHING_DONE = 4  # nothing could be done: no input matched, all failed, an empty folder
EXIT_INTERRUPTED = 130  # stopped with Ctrl-C (finished outputs are kept)

EXIT_STATUS_TEXT = """exit status: 0 done (or already done), 3 finished but some inputs failed,
4 nothing could be done, 2 usage error, 130 stopped with Ctrl-C"""

# defaults the library defines (checked against it by tests/commands/test_args.py)
RECOLOR_STRENGTH = 0.8  # m2p_core.recolor.video.RecolorParams.strength
RECOLOR_CRF = 20  # RecolorParams.crf
RECOLOR_PRESET = "veryfast"  # RecolorParams.preset
RECOLOR_LOOK = "transfer"  # RecolorParams.look
LOOKS = ("transfer", "grade")  # m2p_core.recolor.transfer.LOOKS
SEGMENT_S = 120.0  # m2p_core.recolor.segments.DEFAULT_SEGMENT_S
GENERATE_FPS = 25  # m2p_core.generate.video.DEFAULT_FPS
GENERATE_STYLE = "aurora"  # m2p_core.generate.video.DEFAULT_STYLE
GENERATE_STYLES = ("aurora", "orbs", "rings")  # m2p_core.generate.video.STYLES
GENERATE_CRF = 21  # m2p_core.generate.video.VideoSpec.crf
GENERATE_PRESET = "veryfast"  # VideoSpec.preset


class UsageError(SystemExit):
    """A command line or setting the command cannot run with. ``m2p`` prints the one-line
    message (no traceback) and exits with status 2; library callers may catch SystemExit."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Parser(argparse.ArgumentParser):
    """An ArgumentParser with a plain description, an example, no abbreviations, and unknown
    options answered with the closest known one. ``beam=True``: flags that Beam's
    PipelineOptions know are accepted and returned apart (:meth:`parse`)."""

    def __init__(self, prog: str, description: str, examples: Sequence[str] = (),
                 notes: str = "", beam: bool = False, **kwargs) -> None:
        epilog = ""
        if examples:
            epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples)
        if notes:
            epilog += ("\n\n" if epilog else "") + notes.strip("\n")
        super().__init__(prog=prog, description=description, epilog=epilog or None,
                         formatter_class=argparse.RawDescriptionHelpFormatter,
                         allow_abbrev=False, **kwargs)
        self.beam = beam
        self._beam_names: list[str] = []

    def parse(self, argv: Sequence[str] | None) -> tuple[argparse.Namespace, list[str]]:
        """``(options, flags for Beam)``; exits with status 2 and one message for anything
        else it does not know."""
        argv = list(sys.argv[1:] if argv is None else argv)
        # Unknown --options first: a misspelt --output must not be reported as a missing one.
        unknown = self._unknown_long_options(argv)
        if unknown and self.beam:
            self._add_beam_flags()
            unknown = self._unknown_long_options(argv)
        if unknown:
            self.error(self.describe_unknown(unknown))
        ns, extras = self.parse_known_args(argv)
        beam_argv = list(vars(ns).pop(_BEAM_DEST, []))
        if extras:
            self.error(self.describe_unknown(extras))
        return ns, beam_argv

    def _unknown_long_options(self, argv: Sequence[str]) -> list[str]:
        out = []
        for token in argv:
            if token == "--":  # what follows is positional
                break
            if token.startswith("--") and token.split("=", 1)[0] not in \
                    self._option_string_actions:
                out.append(token)
        return out

    def error(self, message: str):
        """One line and where to look, not the whole usage block (exit status 2)."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n"
                              f"({self.prog} --help lists the options, with examples)\n")

    def describe_unknown(self, extras: Sequence[str]) -> str:
        options = [e for e in extras if e.startswith("-") and e != "-"]
        if not options:
            return f"unexpected argument(s): {' '.join(extras)}"
        known = [s for a in self._actions if a.help != argparse.SUPPRESS
                 for s in a.option_strings if s.startswith("--")] + self._beam_names
        parts = []
        for opt in options:
            name = opt.split("=", 1)[0]
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            parts.append(f"unknown option {name}"
                         + (f" (did you mean {close[0]}?)" if close else ""))
        return "; ".join(parts)

    def _add_beam_flags(self) -> None:
        """Teach this parser every flag of Beam's PipelineOptions (hidden from --help), each
        recorded as typed, in order, for Beam."""
        for action in beam_option_actions():
            names = [s for s in action.option_strings if s not in self._option_string_actions]
            if not names:
                continue  # one of ours (--runner)
            nargs = action.nargs
            choices = action.choices if action.type is None and action.choices and all(
                isinstance(c, str) for c in action.choices) else None
            self.add_argument(*names, dest=_BEAM_DEST, action=_BeamFlag, nargs=nargs,
                              choices=choices, default=argparse.SUPPRESS,
                              help=argparse.SUPPRESS)
            self._beam_names += [n for n in names if n.startswith("--")]


_BEAM_DEST = "beam_argv"


class _BeamFlag(argparse.Action):
    """Records a Beam flag as ``--name=value`` (or ``--name``) for PipelineOptions."""

    def __call__(self, parser, namespace, values, option_string=None):
        flags = list(getattr(namespace, _BEAM_DEST, []))
        if values is None or self.nargs == 0:
            flags.append(option_string)
        elif isinstance(values, str):
            flags.append(f"{option_string}={values}")
        else:
            flags += [option_string, *map(str, values)]
        setattr(namespace, _BEAM_DEST, flags)


_beam_actions: list[argparse.Action] | None = None


def beam_option_actions() -> list[argparse.Action]:
    """The argparse actions of every PipelineOptions class Beam has defined (imports Beam's
    options module, ~1 s, once)."""
    global _beam_actions
    if _beam_actions is None:
        from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser

        parser = _BeamArgumentParser(allow_abbrev=False, add_help=False,
                                     conflict_handler="resolve")
        classes: dict[str, type] = {}

        def walk(cls: type) -> None:
            for sub in cls.__subclasses__():
                classes.setdefault(f"{sub.__module__}.{sub.__qualname__}", sub)
                walk(sub)

        walk(PipelineOptions)
        for cls in classes.values():
            try:
                cls._add_argparse_args(parser)  # what PipelineOptions.get_all_options does
            except Exception:  # noqa: BLE001 - a broken plug-in class: its flags stay unknown
                continue
        _beam_actions = [a for a in parser._actions if a.option_strings]
    return _beam_actions


# ------------------------------------------------------------------------------ the options

def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every pipeline shares (the music analysis and how the run runs)."""
    g = parser.add_argument_group("music analysis")
    g.add_argument("--window", dest="window_s", type=float, default=10.0, metavar="SECONDS",
                   help="length of one analysis window (default 10)")
    g.add_argument("--hop", dest="hop_s", type=float, default=5.0, metavar="SECONDS",
                   help="time between window starts (default 5)")
    g.add_argument("--model", dest="model_path", default=None, metavar="PATH|fast",
                   help="model checkpoint (default: the shipped m2p-v2; 'fast': the shipped "
                        "m2p-v1, ~4.6x less model CPU per window, less accurate)")
    r = parser.add_argument_group("how the run runs")
    r.add_argument("--workers", type=int, default=1, metavar="N",
                   help="local worker processes, each with its share of the cores "
                        "(default 1: this process)")
    r.add_argument("--force", action="store_true",
                   help="redo inputs whose outputs are already complete (default: skip them)")
    r.add_argument("--batch-size", type=int, default=16, metavar="N",
                   help="windows per inference batch (default 16, the fastest on CPUs; "
                        "more on a GPU); results never depend on it")
    r.add_argument("--min-batch-size", type=int, default=None, metavar="N",
                   help="let Beam size batches between N and --batch-size (results may then "
                        "differ in the last bits between runs)")
    r.add_argument("--device", choices=["auto", "CPU", "GPU"], default="auto",
                   help="inference device: auto (default) = a GPU where a worker has one, "
                        "else the CPU")
    r.add_argument("--model-copies", type=int, default=None, metavar="N",
                   help="model copies per worker machine (default: one per worker process; "
                        "e.g. 1 on a Dataflow GPU worker)")
    r.add_argument("--runner", default="DirectRunner", metavar="NAME",
                   help="Beam runner (default: this machine); e.g. DataflowRunner, see "
                        "deploy/README.md")
    r.add_argument("--decode-timeout", dest="decode_timeout_s", type=float, default=600.0,
                   metavar="SECONDS",
                   help="time allowed for decoding one input; past it the input fails "
                        "(default 600)")
    r.add_argument("--max-duration", dest="max_duration_s", type=float, default=86400.0,
                   metavar="SECONDS",
                   help="inputs with more audio than this fail (default 86400 = 24 h)")


_BEAM_NOTE = ("Any flag Beam's pipeline options know (--project, --region, --temp_location,\n"
              "--direct_running_mode, --dry_run=True, ...) is passed on to Beam.")


#: inputs per chunk of a local run (pipelines.chunked), per command kind
DEFAULT_CHUNK_SIZE = {"timeline": 32, "video": 8}
DEFAULT_CHUNK_MB = 256.0


def add_chunk_arguments(parser: argparse.ArgumentParser, default_size: int) -> None:
    parser.add_argument("--chunk-size", dest="chunk_size", type=int, default=default_size,
                        metavar="N",
                        help="local runs: run the inputs in chunks of at most N, each written "
                             "before the next starts, so a killed run loses at most one chunk "
                             f"(default {default_size}; 0 = one pipeline for all inputs; "
                             "other runners always run one pipeline)")
    parser.add_argument("--chunk-mb", dest="chunk_mb", type=float, default=DEFAULT_CHUNK_MB,
                        metavar="MB",
                        help="and of at most MB megabytes of input (an input larger than "
                             f"that is a chunk of its own; default {DEFAULT_CHUNK_MB:g})")


def _notes(*lines: str) -> str:
    return "\n".join([*lines, _BEAM_NOTE, EXIT_STATUS_TEXT])


def timeline_parser() -> Parser:
    parser = Parser(
        "m2p timeline",
        "Palette timelines for music: for each audio or video file, one Parquet file with a "
        "row per\nwindow of music (valence, arousal, 5 colours and their weights).",
        ["m2p timeline song.mp3 --output out/run1",
         "m2p timeline ~/Music/album/ 'clips/*.mp4' --output out/run1 --window 8 --hop 4"],
        _notes("Writes DIR/timelines/<name>-<hash>.parquet per input and "
               "DIR/failures/run-<id>.parquet.",
               "A rerun skips inputs that are already done (--force redoes them)."),
        beam=True)
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="audio/video files, folders (searched recursively for media "
                             "files) or glob patterns; local or gs://")
    parser.add_argument("--output", required=True, metavar="DIR",
                        help="output folder (local or gs://)")
    add_common_arguments(parser)
    add_chunk_arguments(parser, DEFAULT_CHUNK_SIZE["timeline"])
    return parser


def recolor_parser(images: bool = False) -> Parser:
    if images:
        parser = Parser(
            "m2p recolor-image",
            "Recolour still images (PNG, JPEG, WebP) toward the palette of a piece of music.",
            ["m2p recolor-image photo.jpg --music song.mp3 --output out/img",
             "m2p recolor-image photos/ --music song.mp3 --output out/img --strength 0.5"],
            _notes("Writes DIR/media/<image>--<music>.<same format> and the music's timeline."),
            beam=True)
        parser.add_argument("inputs", nargs="+", metavar="IMAGE",
                            help="images: files, folders (searched for PNG/JPEG/WebP) or "
                                 "glob patterns")
        parser.add_argument("--music", required=True, metavar="AUDIO",
                            help="the music whose palette the images take")
    else:
        parser = Parser(
            "m2p recolor",
            "Recolour videos so that their colours follow the emotion of music: each video's "
            "own\nsoundtrack, or one --music track for all of them.",
            ["m2p recolor clip.mp4 --output out/r1",
             "m2p recolor clips/ --music song.mp3 --output out/r1 --strength 0.6"],
            _notes("Writes DIR/media/<video>.mp4 (palette from its own soundtrack) or",
                   "DIR/media/<video>--<music>.mp4 (--music), H.264 with the video's own sound;",
                   "a video without sound gets the --music track, cut to the video's length."),
            beam=True)
        parser.add_argument("inputs", nargs="+", metavar="VIDEO",
                            help="videos: files, folders (searched for video files) or glob "
                                 "patterns")
        parser.add_argument("--music", default=None, metavar="AUDIO",
                            help="music whose palettes drive the colours (default: each "
                                 "video's own soundtrack)")
    parser.add_argument("--output", required=True, metavar="DIR",
                        help="output folder (local or gs://)")
    parser.add_argument("--strength", type=float, default=RECOLOR_STRENGTH, metavar="0..1",
                        help="0 = unchanged, 1 = the full palette transfer (default "
                             f"{RECOLOR_STRENGTH})")
    parser.add_argument("--no-skin-protection", dest="protect_skin", action="store_false",
                        help="let skin tones follow the palette too")
    parser.add_argument("--look", choices=list(LOOKS), default=RECOLOR_LOOK,
                        help="transfer (default): the picture's colours move to the music's "
                             "palette; grade: a colourist's grade from the palette (shadows, "
                             "mid-tones and highlights tinted by its dark, middle and light "
                             "colours, saturation following arousal) that keeps the scene's own "
                             "colours")
    if not images:
        v = parser.add_argument_group("video encoding")
        v.add_argument("--crf", type=int, default=RECOLOR_CRF, metavar="N",
                       help=f"H.264 quality, lower is better and bigger (default {RECOLOR_CRF})")
        v.add_argument("--preset", default=RECOLOR_PRESET, metavar="NAME",
                       help=f"x264 speed preset (default {RECOLOR_PRESET})")
        v.add_argument("--segment-s", dest="segment_s", type=float, default=None,
                       metavar="SECONDS",
                       help="recolour videos longer than 1.5 x SECONDS as parallel segments of "
                            "about SECONDS, joined into the same output; 0 = never (default: "
                            f"{SEGMENT_S:g} with parallel workers, i.e. another runner or "
                            "--workers > 1, else 0)")
    add_common_arguments(parser)
    if not images:
        add_chunk_arguments(parser, DEFAULT_CHUNK_SIZE["video"])
    return parser


def generate_parser() -> Parser:
    parser = Parser(
        "m2p generate",
        "Make a video from music: colours from its palette timeline, motion from its beats "
        "and\nenergy, the music as soundtrack.",
        ["m2p generate song.mp3 --output out/gen",
         "m2p generate album/ --output out/gen --style orbs --size 1280x720 --fps 30"],
        _notes("Writes DIR/media/<name>.<style>.mp4 and the music's timeline."),
        beam=True)
    parser.add_argument("inputs", nargs="+", metavar="AUDIO",
                        help="audio (or video) files, folders or glob patterns")
    parser.add_argument("--output", required=True, metavar="DIR",
                        help="output folder (local or gs://)")
    v = parser.add_argument_group("video")
    v.add_argument("--size", default="640x360", metavar="WxH",
                   help="frame size, even numbers (default 640x360)")
    v.add_argument("--fps", type=int, default=GENERATE_FPS, metavar="N",
                   help=f"frames per second (default {GENERATE_FPS})")
    v.add_argument("--style", default=GENERATE_STYLE, choices=list(GENERATE_STYLES),
                   help=f"look of the video (default {GENERATE_STYLE})")
    v.add_argument("--crf", type=int, default=GENERATE_CRF, metavar="N",
                   help=f"H.264 quality, lower is better and bigger (default {GENERATE_CRF})")
    v.add_argument("--preset", default=GENERATE_PRESET, metavar="NAME",
                   help=f"x264 speed preset (default {GENERATE_PRESET})")
    add_common_arguments(parser)
    add_chunk_arguments(parser, DEFAULT_CHUNK_SIZE["video"])
    return parser


def common_parser(prog: str) -> Parser:
    """Only the shared pipeline options (``m2p demo`` checks what it passes on with it)."""
    parser = Parser(prog, "", beam=True, add_help=False)
    add_common_arguments(parser)
    return parser


ParserFactory = Callable[[], Parser]


def image_parser() -> Parser:
    return recolor_parser(images=True)
