"""The command lines of the commands that build no Beam pipeline (export, report, demo, train,
evaluate), built from argparse alone (see :mod:`pipelines.args`): ``--help`` and usage errors
answer before pyarrow, matplotlib or torch are imported. Defaults are written out;
tests/commands/test_args.py checks them against the library's."""

from __future__ import annotations

from pathlib import Path

from pipelines.args import EXIT_STATUS_TEXT, Parser, add_common_arguments

EXPORT_FORMATS = ("cube", "gpl", "ase", "css", "json", "mpl")  # m2p_core.outputs.exports.FORMATS
LUT_SIZE = 33  # m2p_core.outputs.exports.LUT_SIZE
SECTION_THRESHOLD = 10.0  # m2p_core.palette.sections.DEFAULT_THRESHOLD
REPORT_AUDIO_INLINE_KB = 200.0  # commands.report: audio below this is embedded in the page
# m2p_core.training.stages.TrainConfig() and SHIPPED_SYNTHETIC_CLIPS
TRAIN_DEFAULTS = {"epochs": 40, "batch_size": 32, "learning_rate": 2e-3, "seed": 0,
                  "val_folds": 5, "val_fold": 0, "threads": 0, "decoder_epochs": 25,
                  "synthetic_clips": 240, "synthetic_weight": 0.5}
CACHE_HELP = "where decoded audio is cached (default ~/.cache/music2palette/audio)"


def export_parser() -> Parser:
    parser = Parser(
        "m2p export",
        "Export a run's palettes for other tools: 3D LUTs (.cube) for FFmpeg and Resolve, "
        "GIMP and\nInkscape palettes (.gpl), Adobe swatches (.ase), CSS, JSON and a matplotlib "
        "colormap.\nOne palette per track and one per section of similar windows.",
        ["m2p export out/run1 --format all --output out/run1/exports",
         "m2p export out/run1 --format cube,css --output ~/luts --strength 0.7"],
        "DIR is the --output folder of an m2p run (the one holding timelines/).\n"
        + EXIT_STATUS_TEXT)
    parser.add_argument("timelines", metavar="DIR",
                        help="a run's output folder (or its timelines/ folder)")
    parser.add_argument("--format", required=True, metavar="FORMATS",
                        help=f"one or more of {','.join(EXPORT_FORMATS)} (comma-separated), "
                             "or all")
    parser.add_argument("--output", required=True, metavar="OUT",
                        help="folder for the exported files (not inside timelines/)")
    parser.add_argument("--threshold", type=float, default=SECTION_THRESHOLD,
                        metavar="DELTA_E",
                        help="colour difference (CIEDE2000) that starts a new section "
                             f"(default {SECTION_THRESHOLD:g})")
    parser.add_argument("--lut-size", type=int, default=LUT_SIZE, metavar="N",
                        help=f"3D LUT grid size for cube (default {LUT_SIZE})")
    parser.add_argument("--strength", type=float, default=1.0, metavar="0..1",
                        help="cube: 0 = no change, 1 = the full palette grade (default 1)")
    return parser


def report_parser() -> Parser:
    parser = Parser(
        "m2p report",
        "Write DIR/report.html: a page with each track's palette over time, its valence and "
        "arousal,\nits sections, players for the media and the run's failures.",
        ["m2p report out/run1", "m2p report out/run1 --threshold 6"],
        "DIR is the --output folder of an m2p run (the one holding timelines/). Media files\n"
        "are linked, not copied: keep report.html in DIR. Audio under "
        f"{REPORT_AUDIO_INLINE_KB:g} KB is embedded.\n" + EXIT_STATUS_TEXT)
    parser.add_argument("dir", metavar="DIR", help="a run's output folder (local)")
    parser.add_argument("--threshold", type=float, default=SECTION_THRESHOLD,
                        metavar="DELTA_E",
                        help="colour difference (CIEDE2000) that starts a new section "
                             f"(default {SECTION_THRESHOLD:g})")
    parser.add_argument("--inline-kb", type=float, default=REPORT_AUDIO_INLINE_KB,
                        metavar="KB",
                        help="embed audio files smaller than this in the page (default "
                             f"{REPORT_AUDIO_INLINE_KB:g}); videos are always linked")
    return parser


def demo_parser() -> Parser:
    parser = Parser(
        "m2p demo",
        "Everything m2p does, on generated demo music and video: timelines, plots, a "
        "recoloured\nvideo, a generated video, exports and the report.",
        ["m2p demo", "m2p demo --output /tmp/demo --workers 2"],
        "The other options are those of the pipelines (m2p timeline --help).",
        beam=True)
    parser.add_argument("--output", default="out/demo", metavar="DIR",
                        help="output folder (default out/demo)")
    parser.add_argument("--video-size", default="640x360", metavar="WxH",
                        help="size of the generated demo video (default 640x360)")
    add_common_arguments(parser)
    return parser


#: the options of m2p demo itself (the rest is passed on to the pipelines)
DEMO_OWN_OPTIONS = ("--output", "--video-size")


def _training_arguments(parser: Parser) -> None:
    d = TRAIN_DEFAULTS
    parser.add_argument("--manifest", required=True, metavar="CSV",
                        help="CSV with path and quadrant (Q1-Q4) or valence and arousal; "
                             "optional artist, weight")
    parser.add_argument("--epochs", type=int, default=d["epochs"], metavar="N",
                        help=f"music encoder epochs (default {d['epochs']})")
    parser.add_argument("--decoder-epochs", type=int, default=d["decoder_epochs"], metavar="N",
                        help=f"colour decoder epochs (default {d['decoder_epochs']})")
    parser.add_argument("--seed", type=int, default=d["seed"], help="random seed (default 0)")
    parser.add_argument("--threads", type=int, default=d["threads"], metavar="N",
                        help="torch threads (default 0 = torch's choice)")
    parser.add_argument("--no-codec-augmentation", action="store_true",
                        help="train on the manifest's audio only (no MP3/AAC re-encodes)")
    parser.add_argument("--synthetic-clips", type=int, default=d["synthetic_clips"],
                        metavar="N",
                        help="labelled synthetic clips added to training, never to validation "
                             f"(default {d['synthetic_clips']})")
    parser.add_argument("--synthetic-weight", type=float, default=d["synthetic_weight"],
                        metavar="W",
                        help="loss weight of a synthetic clip relative to a real one "
                             f"(default {d['synthetic_weight']})")
    parser.add_argument("--cache-dir", default=None, metavar="DIR", help=CACHE_HELP)


def train_parser() -> Parser:
    d = TRAIN_DEFAULTS
    parser = Parser(
        "m2p train",
        "Train the model from a manifest of labelled music and write a checkpoint.",
        ["m2p train --manifest labels.csv --output my.pt",
         "m2p timeline song.mp3 --model my.pt --output out/run1    (use it)"],
        "The manifest's paths are relative to the CSV. See docs/MODEL_CARD.md.")
    _training_arguments(parser)
    parser.add_argument("--output", required=True, metavar="CKPT",
                        help="checkpoint file to write (.pt)")
    parser.add_argument("--batch-size", type=int, default=d["batch_size"], metavar="N",
                        help=f"training batch size (default {d['batch_size']})")
    parser.add_argument("--learning-rate", type=float, default=d["learning_rate"],
                        metavar="LR", help=f"peak learning rate (default {d['learning_rate']})")
    parser.add_argument("--val-folds", type=int, default=d["val_folds"], metavar="N",
                        help=f"artist-disjoint folds (default {d['val_folds']})")
    parser.add_argument("--val-fold", type=int, default=d["val_fold"], metavar="I",
                        help="fold held out for validation; -1 = none, train on everything "
                             "(default 0)")
    return parser


def evaluate_parser() -> Parser:
    d = TRAIN_DEFAULTS
    parser = Parser(
        "m2p evaluate",
        "Cross-validate the model recipe on labelled music, with artists kept apart between "
        "folds,\nand compare it with simple baselines.",
        ["m2p evaluate --manifest labels.csv",
         "m2p evaluate --manifest labels.csv --only-fold 0 --json out/eval.json"])
    _training_arguments(parser)
    parser.add_argument("--folds", type=int, default=d["val_folds"], metavar="N",
                        help=f"number of artist-disjoint folds, all evaluated "
                             f"(default {d['val_folds']})")
    parser.add_argument("--only-fold", type=int, default=None, metavar="I",
                        help="evaluate one fold only")
    parser.add_argument("--json", default=None, metavar="PATH",
                        help="also write the table as JSON")
    return parser


#: the shipped v2 head (m2p_core.model.v2.HeadConfig; repeated here so --help imports nothing
#: heavy: tests/commands/test_args.py checks they agree)
HEAD_FEATURES_DEFAULT = "penultimate,tags,descriptors"
HEAD_KIND_DEFAULT = "quadrants"


def train_head_parser() -> Parser:
    parser = Parser(
        "m2p train-head",
        "Build the v2 model on a v1 checkpoint: the frozen musicnn tagger plus a calibrated "
        "emotion head fitted on a manifest of labelled music.",
        ["m2p train-head --manifest labels.csv --base m2p_core/model/checkpoints/m2p-v1.pt "
         "--output my-v2.pt"],
        "See docs/MODEL_CARD.md, section v2.")
    parser.add_argument("--manifest", required=True, metavar="CSV",
                        help="CSV with path + quadrant (or valence, arousal), artist")
    parser.add_argument("--base", required=True, metavar="V1.pt",
                        help="the v1 checkpoint to build on")
    parser.add_argument("--output", required=True, metavar="V2.pt",
                        help="v2 checkpoint file to write")
    parser.add_argument("--features", default=HEAD_FEATURES_DEFAULT,
                        help="comma-separated feature blocks of the head: penultimate, tags, "
                             "mean_pool, max_pool, descriptors, cnn_logits, svm_logits "
                             f"(default {HEAD_FEATURES_DEFAULT})")
    parser.add_argument("--kind", choices=("axes", "quadrants"), default=HEAD_KIND_DEFAULT,
                        help="axes: a logistic regression per axis; quadrants: one 4-class "
                             "regression summed per axis (default %(default)s)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for the feature extraction (default 1)")
    parser.add_argument("--cv-json", default=None, metavar="FILE",
                        help="also cross-validate the head variants and write the table here")
    parser.add_argument("--reliability", default=None, metavar="PNG",
                        help="also write the reliability diagram (implies the cross-validation)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where decoded audio is cached (default ~/.cache/music2palette)")
    return parser
