"""Chunked local runs: progress that survives a kill, memory flat in the catalogue's size.

A Beam batch pipeline writes a timeline only once every window of its media has been inferred,
and the timeline writer joins windows with their media (``CoGroupByKey``), which on a batch
runner is a barrier: nothing is written before every input has been decoded and inferred. One
pipeline over a whole catalogue therefore keeps nothing when it is killed, and holds the whole
catalogue's intermediate data at the barrier.

On the local runners the commands instead:

1. match the inputs once, up front, in this process (:func:`transforms.match.match_inputs`:
   names and sizes only), in a fixed order (by URI);
2. cut that list into chunks of at most ``--chunk-size`` inputs and ``--chunk-mb`` MB of input
   (an input larger than that is a chunk of its own); the first chunks are smaller (4, 8, 16
   inputs, ...), so that outputs and a first ETA come early;
3. run the pipeline once per chunk, one chunk after the other; each chunk's outputs
   (timelines, recoloured or generated videos, its failures file
   ``failures/run-<id>-<chunk>.parquet``) are written before the next chunk starts. The printed
   summary adds the chunks up.

The pipeline is built and translated once; it reads its chunk's inputs when it runs, from a
:class:`ChunkFile` the driver rewrites before each run, and the runner runs the same translated
pipeline again for the next chunk (:meth:`pipelines.options.LocalRunner.run_again`). What each
further chunk costs is then the runner's start and end of a run (its stages, the DoFns' set-up;
the model stays loaded: :func:`transforms.inference.load_model_cached`) and the padding of its
last inference batch; ``bench/catalogue.py --overhead N`` measures it.

What a kill loses is therefore the chunk in flight: at most ``--chunk-size`` inputs (and
``--chunk-mb`` MB) of decoding and inference. Finished chunks are complete on disk and a rerun
skips them (the usual incremental rule: same content, model and parameters). Recoloured and
generated videos are written one by one as they finish even inside a chunk.

On any other runner (Dataflow: the service retries failed bundles itself) the command builds one
pipeline over all inputs, as before; ``--chunk-size 0`` does the same locally.
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import apache_beam as beam

from m2p_core.outputs.progress import PROGRESS, RunProgress
from pipelines.options import LOCAL_RUNNERS, LocalRunner, is_dry_run, make_pipeline
from pipelines.summary import merge_summaries
from transforms.match import MatchedMedia, match_inputs

#: Inputs per chunk for `m2p timeline` (about a minute of work for 32 songs on 2 cores, against
#: ~0.3 s that one more chunk costs: ~1 %; for one-second clips the same cost is 20-50 %, so
#: catalogues of very short clips want a larger --chunk-size) and for the video commands (each
#: input is seconds to minutes of work, and their videos are written one by one anyway).

S = TypeVar("S")


def is_chunked(args: argparse.Namespace, beam_argv: list[str], test_pipeline=None) -> bool:
    """Whether this run goes in chunks: a local runner, ``--chunk-size`` > 0, no test pipeline
    handed in, not a dry run."""
    size = getattr(args, "chunk_size", 0) or 0
    if size < 0 or getattr(args, "chunk_mb", 1.0) <= 0:
        raise SystemExit("--chunk-size must be >= 0 and --chunk-mb > 0")
    return (test_pipeline is None and size > 0 and args.runner.lower() in LOCAL_RUNNERS
            and not is_dry_run(beam_argv))


@dataclass(frozen=True)
class Chunk:
    index: int
    media: list[MatchedMedia]
    #: failure rows of inputs that matched nothing (the first chunk carries them all)
    match_failures: list[dict] = field(default_factory=list)


class ChunkFile:
    """The chunk a pipeline built once is to run over next: a local file the driver rewrites
    before each run and the pipeline reads when it runs (:class:`transforms.match.LoadMedia`;
    the failures file's name). Pickled into the pipeline: only its path travels."""

    def __init__(self, path: str) -> None:
        self.path = path

    def put(self, chunk: Chunk) -> None:
        data = {"index": chunk.index, "media": [tuple(m) for m in chunk.media],
                "match_failures": list(chunk.match_failures)}
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.path)

    def get(self) -> Chunk:
        with open(self.path, "rb") as f:  # our own file, written just before the run
            data = pickle.load(f)
        return Chunk(data["index"], [MatchedMedia(*m) for m in data["media"]],
                     data["match_failures"])

    def index(self) -> int:
        """This chunk's number (0, 1, ...)."""
        return self.get().index

    def inputs(self) -> tuple[list[MatchedMedia], list[dict]]:
        """This chunk's media and match failure rows (for ``LoadMedia``)."""
        chunk = self.get()
        return chunk.media, chunk.match_failures

    def in_first_chunk(self, media: Sequence[MatchedMedia]) -> _FirstChunkOnly:
        """A ``LoadMedia`` source of ``media`` in the first chunk, of nothing in the others."""
        return _FirstChunkOnly(self, list(media))


class _FirstChunkOnly:
    def __init__(self, source: ChunkFile, media: list[MatchedMedia]) -> None:
        self.source = source
        self.media = media

    def __call__(self) -> tuple[list[MatchedMedia], list[dict]]:
        return (self.media if self.source.index() == 0 else []), []


#: The first chunks are smaller (4, 8, 16, ... inputs up to --chunk-size): a run writes its first
#: outputs and prints a first ETA within seconds, and a run killed early loses little.
FIRST_CHUNK = 4


#: The chunk file's folder in the temp dir: ``m2p-chunks-<pid>-<random>``.
CHUNK_DIR_PREFIX = "m2p-chunks-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_chunk_dirs(tmp: str | None = None) -> int:
    """Delete the chunk-file folders that killed runs left in the temp dir (their process is
    gone); returns how many."""
    tmp = tmp or tempfile.gettempdir()
    removed = 0
    try:
        entries = list(os.scandir(tmp))
    except OSError:
        return 0
    for entry in entries:
        name = entry.name
        if not name.startswith(CHUNK_DIR_PREFIX):
            continue
        pid = name[len(CHUNK_DIR_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)) and entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
    return removed


def plan_chunks(media: Sequence[MatchedMedia], match_failures: Sequence[dict], max_inputs: int,
                max_mb: float, first: int = FIRST_CHUNK) -> list[Chunk]:
    """Consecutive chunks of ``media`` (already in their fixed order) of at most ``max_inputs``
    inputs and ``max_mb`` MB each, the first ones smaller: ``first`` inputs, then twice as
    many each time up to ``max_inputs``. Always at least one chunk (it carries the match
    failures even when nothing matched)."""
    max_bytes = max_mb * 1e6
    groups: list[list[MatchedMedia]] = []
    current: list[MatchedMedia] = []
    size = 0
    limit = max(1, min(first, max_inputs))
    for m in media:
        if current and (len(current) >= limit or size + m.size_bytes > max_bytes):
            groups.append(current)
            current, size = [], 0
            limit = min(2 * limit, max_inputs)
        current.append(m)
        size += m.size_bytes
    if current or not groups:
        groups.append(current)
    return [Chunk(i, g, list(match_failures) if i == 0 else []) for i, g in enumerate(groups)]


def run_chunks(chunks: Sequence[Chunk], run_chunk: Callable[[Chunk], S],
               counts: Callable[[S], tuple[int, int, int]], what: str = "inputs") -> S:
    """``run_chunk`` on each chunk in turn; the chunks' summaries added up. A progress line
    (inputs done of total, written/skipped/failed from ``counts``, an ETA) goes to stderr
    every few seconds (:class:`RunProgress`)."""
    progress = RunProgress(sum(len(c.media) for c in chunks), what=what)
    total = None
    done = 0
    for chunk in chunks:
        summary = run_chunk(chunk)
        total = summary if total is None else merge_summaries(total, summary)
        done += len(chunk.media)
        progress.update(done, *counts(total))
    return total



def run_pipeline(args: argparse.Namespace, beam_argv: list[str],
                 build_fn: Callable[[beam.Pipeline], None],
                 summarise_fn: Callable[[object, float], S],
                 test_pipeline: beam.Pipeline | None = None) -> S:
    """Build a pipeline with ``build_fn(p)``, run it to the end, ``summarise_fn(result,
    wall_s)``."""
    t0 = time.perf_counter()
    p = make_pipeline(args, beam_argv, test_pipeline)
    build_fn(p)
    result = p.run()
    result.wait_until_finish()
    return summarise_fn(result, time.perf_counter() - t0)


def run_command(args: argparse.Namespace, beam_argv: list[str], inputs: list[str], run_id: str,
                build_fn: Callable[[beam.Pipeline, ChunkFile | None], None],
                summarise_fn: Callable[[object, float], S],
                counts: Callable[[S], tuple[int, int, int]],
                test_pipeline: beam.Pipeline | None = None,
                extra_failures: Sequence[dict] = (), what: str = "inputs",
                extensions: frozenset[str] | None = None,
                add_ignored: Callable[[S, int], S] = lambda summary, n: summary) -> S:
    """A command's pipeline(s): ``build_fn(p, None)`` once (it matches ``inputs`` itself), or,
    on a local runner (:func:`is_chunked`), ``inputs`` matched here and the pipeline
    ``build_fn(p, chunk_file)`` run once per chunk. ``extra_failures``: other match failure
    rows, for the first chunk. ``extensions``: what a folder scan keeps (default audio and
    video); ``add_ignored(summary, n)`` records the ``n`` files it left out.

    The progress lines' clock restarts here, so ``[m2p  12 s]`` and the summary's "in 48.2 s"
    both count from the run's start (not from the process's, which includes the imports)."""
    PROGRESS.reset()
    if not is_chunked(args, beam_argv, test_pipeline):
        return run_pipeline(args, beam_argv, lambda p: build_fn(p, None), summarise_fn,
                            test_pipeline)
    media, failures, ignored = match_inputs(inputs, run_id, extensions)
    chunks = plan_chunks(media, [*failures, *extra_failures], args.chunk_size, args.chunk_mb)
    remove_stale_chunk_dirs()
    with tempfile.TemporaryDirectory(prefix=f"{CHUNK_DIR_PREFIX}{os.getpid()}-") as tmp:
        source = ChunkFile(os.path.join(tmp, "chunk.pickle"))
        built: list[beam.Pipeline] = []

        def run_chunk(chunk: Chunk) -> S:
            t0 = time.perf_counter()
            source.put(chunk)
            if built and isinstance(built[0].runner, LocalRunner):
                result = built[0].runner.run_again(built[0].options)
            else:  # the first chunk (or a runner that cannot run a pipeline again)
                built[:] = [make_pipeline(args, beam_argv)]
                build_fn(built[0], source)
                result = built[0].run()
            result.wait_until_finish()
            summary = summarise_fn(result, time.perf_counter() - t0)
            del result
            # Each run leaves reference cycles (Beam's bundle processors, operations, ...)
            # that only a full collection frees, and the interpreter runs one rarely: RSS
            # went up and down by ~150 MB between chunks. Collected after every chunk but
            # the last, it stays flat; freezing what the first chunk left alive (modules,
            # the model, the pipeline) makes each collection take ~1 ms instead of ~170 ms.
            # After the last chunk the command ends: the first (unfrozen) collection walks
            # every object the imports made (~0.35 s), which a one-chunk run (one video)
            # would only wait for.
            if chunk.index < len(chunks) - 1:
                gc.collect()
                if chunk.index == 0:
                    gc.freeze()
            return summary

        try:
            return add_ignored(run_chunks(chunks, run_chunk, counts, what), ignored)
        finally:
            gc.unfreeze()
