"""MatchMedia: input paths, folders and globs -> matched files (never their bytes).

A folder is searched for media files only: files whose extension is not one of ``extensions``
(say ``notes.txt``, ``cover.jpg`` beside the music) are *ignored* — counted (Beam counter
``m2p/ignored``), never failures. Files named one by one, and glob patterns, are always tried
(a text file named ``.mp3`` then fails to decode, as it should).
"""

from __future__ import annotations

import glob
import os
import stat
from typing import NamedTuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from m2p_core.outputs.timeline import failure_row, safe_text
from transforms import fsio

AUDIO_EXTENSIONS = frozenset({
    ".mp3", ".mp2", ".wav", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".wma", ".aif",
    ".aiff", ".aifc", ".mka", ".ac3", ".amr", ".ape", ".wv", ".caf", ".weba"})
VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts",
    ".wmv", ".flv", ".3gp", ".ogv", ".mxf", ".y4m"})
MEDIA_EXTENSIONS = AUDIO_EXTENSIONS | VIDEO_EXTENSIONS  # what has music in it
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".webp"})


def has_extension(path: str, extensions: frozenset[str]) -> bool:
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return os.path.splitext(name)[1].lower() in extensions


def is_folder_scan(user_input: str) -> bool:
    """Whether an input names a folder to search (a local folder, or a URI ending in /)."""
    if FileSystems.get_scheme(user_input) is None:
        return os.path.isdir(user_input)
    return user_input.endswith("/")


class MatchedMedia(NamedTuple):
    source_uri: str  # the matched file's path/URI (valid UTF-8; see ``fs_path``)
    size_bytes: int
    # A local name that is not valid UTF-8: its raw bytes (``source_uri`` then shows them as
    # ``\xNN`` escapes, since Beam and Parquet need valid UTF-8 strings).
    fs_path: bytes | None = None

    @property
    def open_path(self) -> str:
        """The path to open (differs from ``source_uri`` only for non-UTF-8 local names)."""
        return os.fsdecode(self.fs_path) if self.fs_path is not None else self.source_uri


def to_media(path: str, size_bytes: int) -> MatchedMedia:
    """A MatchedMedia for a matched path, whatever bytes its name holds."""
    try:
        path.encode("utf-8")
        return MatchedMedia(path, int(size_bytes))
    except UnicodeEncodeError:
        return MatchedMedia(safe_text(path), int(size_bytes), os.fsencode(path))


def as_match_pattern(user_input: str) -> str:
    """Turn what a user typed into a Beam match pattern.

    Existing local files and folders are escaped (so ``song [live].mp3`` is not a glob); a folder
    matches recursively. Local paths and patterns become absolute and normalised (no ``..``
    segments), so one file always has one ``source_uri`` however it was named. Remote URIs
    ending in ``/`` match recursively; anything else is a pattern.
    """
    if FileSystems.get_scheme(user_input) is None:  # local path
        if os.path.isdir(user_input):
            return os.path.join(glob.escape(os.path.abspath(user_input)), "**")
        if os.path.exists(user_input):
            return glob.escape(os.path.abspath(user_input))
        if not glob.has_magic(user_input):
            return os.path.abspath(user_input)
        if not os.path.isabs(user_input):  # the working directory is literal, not a pattern
            user_input = os.path.join(glob.escape(os.getcwd()), user_input)
        return os.path.normpath(user_input)
    return user_input + "**" if user_input.endswith("/") else user_input


class NotARegularFileError(OSError):
    """A local input that is a FIFO, socket or device: never opened (it could block)."""


def check_regular_file(uri: str) -> None:
    """Raise :class:`NotARegularFileError` for a local path that is not a regular file."""
    if not fsio.is_local(uri):
        return
    mode = os.stat(uri).st_mode
    if not stat.S_ISREG(mode):
        raise NotARegularFileError(f"{uri} is not a regular file (a FIFO, socket or device); "
                                   "it is not read")


NO_MATCH = "FileNotFoundError: no file matches this input"


def match_inputs(inputs: list[str], run_id: str,
                 extensions: frozenset[str] | None = None
                 ) -> tuple[list[MatchedMedia], list[dict], int]:
    """Match user inputs now, in this process (what :class:`MatchMedia` does inside a
    pipeline): the matched files, each once, in a deterministic order (by URI), and a failures
    row for each input that matches nothing or cannot be matched. Only names and sizes are
    read (Beam ``FileSystems.match``), never the files' bytes. The chunked local runs
    (:mod:`pipelines.chunked`) cut this list into chunks, so it must not change while a run
    goes on. Files found by a folder scan without one of ``extensions`` (default: audio and
    video) are left out and counted: the third value."""
    extensions = MEDIA_EXTENSIONS if extensions is None else frozenset(extensions)
    media: dict[tuple, MatchedMedia] = {}
    failures: list[dict] = []
    ignored = 0
    for user_input in inputs:
        scanned = is_folder_scan(user_input)
        try:
            found = FileSystems.match([as_match_pattern(user_input)])[0].metadata_list
        except Exception as e:  # a broken pattern or unreachable filesystem
            failures.append(failure_row(user_input, "match", e, run_id))
            continue
        if not found:
            failures.append(failure_row(user_input, "match", NO_MATCH, run_id))
        for m in found:
            if scanned and not has_extension(m.path, extensions):
                ignored += 1
                continue
            item = to_media(m.path, m.size_in_bytes)
            media.setdefault(tuple(item), item)
    ordered = sorted(media.values(), key=lambda m: (m.source_uri, m.fs_path or b""))
    return ordered, failures, ignored


class _UnmatchedInputs(beam.DoFn):
    """A failures row for each input that matches no file."""

    def __init__(self, run_id: str) -> None:
        self._run_id = run_id

    def process(self, item: tuple[str, str]):
        user_input, pattern = item
        try:
            found = FileSystems.match([pattern], limits=[1])[0].metadata_list
        except Exception as e:  # a broken pattern or unreachable filesystem
            yield failure_row(user_input, "match", e, self._run_id)
            return
        if not found:
            yield failure_row(user_input, "match", NO_MATCH, self._run_id)


class _KeepMedia(beam.DoFn):
    """Files found by a folder scan: those with a media extension; the rest are counted."""

    def __init__(self, extensions: frozenset[str]) -> None:
        self._extensions = extensions
        self._ignored = Metrics.counter("m2p", "ignored")

    def process(self, item: tuple[tuple, bool]):
        media, scanned = item
        if scanned and not has_extension(media[0], self._extensions):
            self._ignored.inc()
            return
        yield media


def _match(pattern_and_scan: tuple[str, bool]):
    """Files matching one pattern, each with whether it was found by a folder scan."""
    pattern, scanned = pattern_and_scan
    for result in FileSystems.match([pattern]):
        for m in result.metadata_list:
            yield tuple(to_media(m.path, m.size_in_bytes)), scanned


class MatchMedia(beam.PTransform):
    """Match user inputs; outputs ``.media`` and ``.failures``. Folders are searched for
    files with one of ``extensions`` (default: audio and video); others are ignored."""

    def __init__(self, inputs: list[str], run_id: str,
                 extensions: frozenset[str] = MEDIA_EXTENSIONS) -> None:
        super().__init__()
        self._inputs = list(inputs)
        self._run_id = run_id
        self._extensions = frozenset(extensions)

    def expand(self, pbegin):
        inputs = pbegin | "Inputs" >> beam.Create(
            [(i, as_match_pattern(i), is_folder_scan(i)) for i in self._inputs])
        media = (
            inputs
            | "Patterns" >> beam.Map(lambda item: (item[1], item[2]))
            | "MatchAll" >> beam.FlatMap(_match)
            | "KeepMedia" >> beam.ParDo(_KeepMedia(self._extensions))
            | "Dedup" >> beam.Distinct()  # overlapping inputs name a file once; spreads work
            | "AsMedia" >> beam.MapTuple(MatchedMedia)
        )
        failures = (inputs | "InputAndPattern" >> beam.Map(lambda item: (item[0], item[1]))
                    | "Unmatched" >> beam.ParDo(_UnmatchedInputs(self._run_id)))
        return MatchOutputs(media, failures)


class MatchOutputs(NamedTuple):
    media: beam.PCollection
    failures: beam.PCollection


def _loaded_media(_, load):
    return [tuple(m) for m in load()[0]]


def _loaded_failures(_, load):
    return load()[1]


class LoadMedia(beam.PTransform):
    """Inputs matched beforehand (:func:`match_inputs`) as a pipeline's ``MatchOutputs``, read
    when the pipeline runs from ``load()`` -> ``(media, match failure rows)``, so that a
    pipeline built once can run over one chunk of inputs after another
    (:mod:`pipelines.chunked`). As with :class:`MatchMedia`, the media are spread over the
    workers."""

    def __init__(self, load) -> None:
        super().__init__()
        self._load = load

    def expand(self, pbegin):
        start = pbegin | "Start" >> beam.Impulse()
        media = (start
                 | "Media" >> beam.FlatMap(_loaded_media, self._load)
                 | "Spread" >> beam.Reshuffle()
                 | "AsMedia" >> beam.MapTuple(MatchedMedia))
        failures = start | "MatchFailures" >> beam.FlatMap(_loaded_failures, self._load)
        return MatchOutputs(media, failures)
