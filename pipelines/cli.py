"""The ``m2p`` console script: one sub-command per pipeline."""

from __future__ import annotations

import atexit
import logging
import os
import sys

USAGE = """usage: m2p COMMAND [ARGS...]

commands:
  timeline INPUT... --output DIR   palette timelines (Parquet) for audio/video files
  train --manifest CSV --output CKPT   train the model
  evaluate --manifest CSV          artist-disjoint cross-validation vs baselines
  demo [--output out/demo]         everything on generated demo media
  generate AUDIO... --output DIR [--size WxH] [--fps N] [--style NAME]   music-driven video
  export DIR --format cube|gpl|ase|css|json|mpl|all --output OUT   palettes for other tools
  report DIR                       DIR/report.html: a self-contained page of a run

Run `m2p COMMAND --help` for a command's options. Unknown flags go to Beam's PipelineOptions.
"""


def _prestart_workers(argv: list[str], pipeline_module: str) -> None:
    """With ``--workers N > 1``, start the local workers' fork server now, so that its imports
    (Beam, torch, the package) run beside this process's own (pipelines.local_workers)."""
    from pipelines import local_workers

    local_workers.prestart(argv, [pipeline_module])


def _timeline(argv: list[str]) -> int:
    _prestart_workers(argv, "pipelines.timeline")
    from pipelines import timeline

    summary = timeline.run(argv)
    print(summary.text())
    return 0


def _train(argv: list[str]) -> int:
    from pipelines import train

    return train.main(argv)


def _evaluate(argv: list[str]) -> int:
    from pipelines import evaluate

    return evaluate.main(argv)


def _demo(argv: list[str]) -> int:
    from pipelines import demo

    return demo.main(argv)


def _recolor(argv: list[str]) -> int:
    _prestart_workers(argv, "pipelines.recolor")
    from pipelines import recolor

    return recolor.main(argv)


def _recolor_image(argv: list[str]) -> int:
    from pipelines import recolor

    return recolor.main_images(argv)


COMMANDS = {"timeline": _timeline, "train": _train, "evaluate": _evaluate, "demo": _demo,
            "recolor": _recolor, "recolor-image": _recolor_image}


def _generate(argv: list[str]) -> int:
    _prestart_workers(argv, "pipelines.generate")
    from pipelines import generate

    return generate.main(argv)


def _export(argv: list[str]) -> int:
    from pipelines import export

    return export.main(argv)


def _report(argv: list[str]) -> int:
    from pipelines import report

    return report.main(argv)


COMMANDS.update({"generate": _generate, "export": _export, "report": _report})


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"m2p: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return COMMANDS[command](rest)


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
