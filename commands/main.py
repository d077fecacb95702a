"""The ``m2p`` console script: one sub-command per command module.

Pipelines (Beam) live in :mod:`pipelines`; the commands that build no pipeline (export, report,
demo, train, train-head, evaluate) in :mod:`commands`. Nothing heavy is imported before a command
runs."""

from __future__ import annotations

import atexit
import logging
import os
import sys

#: every command: name -> (module, function, Beam pipeline?, one-line usage, what it does).
#: The help screen is built from this table, so a command cannot be missing from it.
COMMANDS: dict[str, tuple[str, str, bool, str, str]] = {
    "timeline": ("pipelines.timeline", "main", True, "INPUT... --output DIR",
                 "palette timelines (Parquet) for audio and video files"),
    "recolor": ("pipelines.recolor", "main", True, "VIDEO... --output DIR [--music AUDIO]",
                "recolour videos so their colours follow the music"),
    "recolor-image": ("pipelines.recolor", "main_images", True,
                      "IMAGE... --music AUDIO --output DIR", "recolour still images"),
    "generate": ("pipelines.generate", "main", True, "AUDIO... --output DIR",
                 "a music-driven video from the palette timeline"),
    "export": ("commands.export", "main", False, "DIR --format FORMAT --output OUT",
               "palettes as .cube LUTs, swatches, CSS, JSON, matplotlib"),
    "report": ("commands.report", "main", False, "DIR", "DIR/report.html: a page to look at"),
    "demo": ("commands.demo", "main", False, "[--output out/demo]",
             "everything above on generated demo media"),
    "train": ("commands.train", "main", False, "--manifest CSV --output CKPT",
              "train the model"),
    "train-head": ("commands.train_head", "main", False,
                   "--manifest CSV --base V1.pt --output V2.pt",
                   "fit v2's calibrated emotion head (v1 + musicnn)"),
    "evaluate": ("commands.evaluate", "main", False, "--manifest CSV",
                 "artist-disjoint cross-validation against baselines"),
}


def usage() -> str:
    lines = ["usage: m2p COMMAND [ARGS...]", "", "commands:"]
    for name, (_, _, _, args, what) in COMMANDS.items():
        lines.append(f"  {name:<14} {what}")
        lines.append(f"  {'':<14}   m2p {name} {args}")
    lines += ["", "Run `m2p COMMAND --help` for a command's options."]
    return "\n".join(lines) + "\n"


def _prestart_workers(argv: list[str], pipeline_module: str) -> None:
    """With ``--workers N > 1``, start the local workers' fork server now, so that its imports
    (Beam, torch, the package) run beside this process's own (pipelines.local_workers)."""
    from pipelines import local_workers

    local_workers.prestart(argv, [pipeline_module])


def run_command(name: str, argv: list[str]) -> int:
    """Import the command's module (only then: ``--help`` stays light) and run it."""
    import importlib

    module, function, is_pipeline, _, _ = COMMANDS[name]
    if is_pipeline:
        _prestart_workers(argv, module)
    return getattr(importlib.import_module(module), function)(argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"m2p: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run_command(command, rest)


def console_main() -> None:
    """The installed ``m2p`` script: :func:`main`, then a fast exit.

    Tearing down the interpreter after a run (freeing the modules of torch, Beam, colour-science,
    scikit-learn, matplotlib) takes 1.2-1.7 s — a tenth of a short recolour. Once ``main`` has
    returned every output is written, closed and renamed into place, so the process runs the
    ``atexit`` handlers (logging, multiprocessing's worker clean-up), flushes stdout/stderr and
    leaves with ``os._exit``. Exceptions, including SystemExit from argparse, take the normal
    path. Library callers and tests use :func:`main`, which returns."""
    code = main()
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:  # not CPython: exit the ordinary way
        sys.exit(code)
    run_exit_handlers()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    console_main()
