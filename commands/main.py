"""The ``m2p`` console script: one sub-command per command module.

Pipelines (Beam) live in :mod:`pipelines`; the commands that build no pipeline (export, report,
demo, train, train-head, evaluate) in :mod:`commands`. Nothing heavy is imported before a command
runs."""

from __future__ import annotations

import atexit
import logging
import os
import sys
import time
from typing import NamedTuple


class Command(NamedTuple):
    module: str  # what runs it: module and function (imported only then)
    function: str
    pipeline: bool  # a Beam pipeline (may start local worker processes)
    args: str  # one-line usage
    what: str  # what it does
    parser: str  # "module:function" building its argparse parser without heavy imports


#: every command. The help screen is built from this table, so a command cannot be missing
#: from it; each command's parser is light (pipelines/args.py, commands/args.py), so --help
#: and usage errors answer before Beam, torch or the library are imported.
COMMANDS: dict[str, Command] = {
    "timeline": Command("pipelines.timeline", "main", True, "INPUT... --output DIR",
                        "palette timelines (Parquet) for audio and video files",
                        "pipelines.args:timeline_parser"),
    "recolor": Command("pipelines.recolor", "main", True, "VIDEO... --output DIR [--music AUDIO]",
                       "recolour videos so their colours follow the music",
                       "pipelines.args:recolor_parser"),
    "recolor-image": Command("pipelines.recolor", "main_images", True,
                             "IMAGE... --music AUDIO --output DIR",
                             "recolour still images toward a piece of music's palette",
                             "pipelines.args:image_parser"),
    "generate": Command("pipelines.generate", "main", True, "AUDIO... --output DIR",
                        "a music-driven video from the palette timeline",
                        "pipelines.args:generate_parser"),
    "export": Command("commands.export", "main", False, "DIR --format FORMAT --output OUT",
                      "palettes as .cube LUTs, swatches, CSS, JSON, matplotlib",
                      "commands.args:export_parser"),
    "report": Command("commands.report", "main", False, "DIR",
                      "DIR/report.html: a page to look at the results",
                      "commands.args:report_parser"),
    "demo": Command("commands.demo", "main", False, "[--output out/demo]",
                    "everything above on generated demo media", "commands.args:demo_parser"),
    "train": Command("commands.train", "main", False, "--manifest CSV --output CKPT",
                     "train the model", "commands.args:train_parser"),
    "train-head": Command("commands.train_head", "main", False,
                          "--manifest CSV --base V1.pt --output V2.pt",
                          "fit v2's calibrated emotion head (v1 + musicnn)",
                          "commands.args:train_head_parser"),
    "evaluate": Command("commands.evaluate", "main", False, "--manifest CSV",
                        "artist-disjoint cross-validation against baselines",
                        "commands.args:evaluate_parser"),
}


def usage() -> str:
    lines = ["usage: m2p COMMAND [ARGS...]", "",
             "music2palette: colour palettes that follow the emotion of music.", "",
             "commands:"]
    for name, c in COMMANDS.items():
        lines.append(f"  {name:<14} {c.what}")
        lines.append(f"  {'':<14}   m2p {name} {c.args}")
    lines += ["", "Run 'm2p COMMAND --help' for a command's options and an example.",
              "Exit status: 0 done (or already done), 3 finished but some inputs failed,",
              "4 nothing could be done, 2 usage error, 130 stopped with Ctrl-C."]
    return "\n".join(lines) + "\n"


def command_parser(name: str):
    """The command's argparse parser (a light module: no Beam, torch or library imports)."""
    import importlib

    module, _, function = COMMANDS[name].parser.partition(":")
    return getattr(importlib.import_module(module), function)()


def _prestart_workers(argv: list[str], pipeline_module: str) -> None:
    """With ``--workers N > 1``, start the local workers' fork server now, so that its imports
    (Beam, torch, the package) run beside this process's own (pipelines.local_workers)."""
    from pipelines import local_workers

    local_workers.prestart(argv, [pipeline_module])


def run_command(name: str, argv: list[str]) -> int:
    """Import the command's module (only then: ``--help`` stays light) and run it."""
    import importlib

    c = COMMANDS[name]
    if c.pipeline:
        _prestart_workers(argv, c.module)
    return getattr(importlib.import_module(c.module), c.function)(argv)


def _exit_code(e: SystemExit, prog: str) -> int:
    """A SystemExit's status; its message (if any) goes to stderr in one line."""
    from pipelines.args import EXIT_ERROR, EXIT_USAGE, UsageError

    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code
    message = str(e.code)
    print(message if message.startswith("m2p") else f"{prog}: {message}", file=sys.stderr)
    return EXIT_USAGE if isinstance(e, UsageError) else EXIT_ERROR


def _output_of(options) -> str | None:
    for name in ("output", "dir"):
        value = getattr(options, name, None)
        if isinstance(value, str):
            return value
    return None


def _kept_outputs(root: str, since: float) -> int | None:
    """Files finished under ``root`` since ``since`` (local folders only; temp files and
    the failures log not counted)."""
    if not os.path.isdir(root):
        return None
    n = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "failures"]
        for f in files:
            if f.startswith(".") or f.endswith(".json"):
                continue
            try:
                if os.path.getmtime(os.path.join(folder, f)) >= since:
                    n += 1
            except OSError:
                continue
    return n


def _stopped(prog: str, output: str | None, since: float) -> None:
    where = ""
    if output:
        kept = _kept_outputs(output, since)
        where = (f"; {kept} new output{'s' if kept != 1 else ''} kept in {output}"
                 if kept is not None else f"; finished outputs are kept in {output}")
    print(f"\n{prog}: stopped{where} (run the same command again to finish: what is done "
          "is skipped)", file=sys.stderr, flush=True)


def _exit_on_interrupt(prog: str, output: str | None, since: float) -> None:
    """Ctrl-C (SIGINT) ends the process at once with one line and status 130. Every output is
    written under a temporary name and renamed into place when complete, so what is finished
    is kept and the next run skips it (and removes the temporary files); stopping Beam's
    threads instead would print their tracebacks (Beam wraps the interrupt in its own
    errors)."""
    import signal
    import threading

    from pipelines.args import EXIT_INTERRUPTED

    if threading.current_thread() is not threading.main_thread():
        return

    def stop(signum, frame) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while leaving
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            # from here on, what Beam's threads say about their ending goes nowhere
            logging.disable(logging.CRITICAL)
            stderr = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            workers = sys.modules.get("pipelines.local_workers")
            if workers is not None:  # local worker processes end first, quietly
                workers.stop_workers_now()
            sys.stderr = os.fdopen(stderr, "w")
            _stopped(prog, output, since)
            sys.stderr.flush()
        finally:
            os._exit(EXIT_INTERRUPTED)

    signal.signal(signal.SIGINT, stop)


def main(argv: list[str] | None = None, exit_on_interrupt: bool = False) -> int:
    """Run ``m2p`` with ``argv``; returns the exit status. ``exit_on_interrupt`` (the console
    script): Ctrl-C leaves the process at once, status 130 (see :func:`_exit_on_interrupt`);
    otherwise a KeyboardInterrupt that reaches here returns 130 after the same message."""
    from pipelines.args import EXIT_INTERRUPTED, EXIT_USAGE

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else EXIT_USAGE
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(command, list(COMMANDS), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        print(f"m2p: unknown command {command!r}{hint}\n\n{usage()}", file=sys.stderr)
        return EXIT_USAGE
    prog = f"m2p {command}"
    started = time.time()
    output = None
    try:
        options, _ = command_parser(command).parse(rest)  # --help and usage errors end here
        output = _output_of(options)
        if exit_on_interrupt:
            _exit_on_interrupt(prog, output, started)
        logging.basicConfig(level=logging.WARNING,
                            format="%(levelname)s %(name)s: %(message)s")
        return run_command(command, rest)
    except SystemExit as e:
        return _exit_code(e, prog)
    except KeyboardInterrupt:
        _quiet_after_interrupt()
        _stopped(prog, output, started)
        return EXIT_INTERRUPTED


def _quiet_after_interrupt() -> None:
    """After Ctrl-C, the threads the run left (Beam's workers) may still log their own
    interruption: only the one line of :func:`_stopped` is for the user."""
    logging.disable(logging.CRITICAL)


def console_main() -> None:
    """The installed ``m2p`` script: :func:`main`, then a fast exit.

    Tearing down the interpreter after a run (freeing the modules of torch, Beam, colour-science,
    scikit-learn, matplotlib) takes 1.2-1.7 s — a tenth of a short recolour. Once ``main`` has
    returned every output is written, closed and renamed into place, so the process runs the
    ``atexit`` handlers (logging, multiprocessing's worker clean-up), flushes stdout/stderr and
    leaves with ``os._exit``. Exceptions, including SystemExit from argparse, take the normal
    path. Library callers and tests use :func:`main`, which returns."""
    code = main(exit_on_interrupt=True)
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:  # not CPython: exit the ordinary way
        sys.exit(code)
    run_exit_handlers()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    console_main()
