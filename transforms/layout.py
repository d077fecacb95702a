"""Where a run's outputs live under its ``--output`` folder: one place for every path.

::

    DIR/timelines/<stem>.parquet          one per media input (the timeline stage)
    DIR/failures/run-<run_id>.parquet     one per run (dead letters); a chunked local run
    DIR/failures/run-<run_id>-<chunk>.parquet   writes one per chunk that had failures
    DIR/media/<stem>.mp4                  a video recoloured by its own soundtrack (+ .json)
    DIR/media/<stem>--<music stem>.mp4    a video recoloured by a --music track    (+ .json)
    DIR/media/<stem>--<music stem>.<ext>  a recoloured image                       (+ .json)
    DIR/media/<stem>.<style>.mp4          a generated video (its record is in its metadata)

``<stem>`` is :func:`m2p_core.outputs.naming.output_stem` of the input's URI: readable, unique
per input, confined to its folder. The paths work on any Beam filesystem (local or gs://).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pyarrow.parquet as pq

from m2p_core.outputs.naming import output_stem
from transforms import fsio


def timeline_path(timelines_dir: str, source_uri: str) -> str:
    """``timelines/<stem>.parquet`` of the input ``source_uri``."""
    return fsio.join(timelines_dir, output_stem(source_uri) + ".parquet")


#: between a recoloured output's own stem and its palette source's
PALETTE_SEPARATOR = "--"


def recolored_stem(source_uri: str, palette_uri: str | None = None) -> str:
    """``<stem>``, or ``<stem>--<palette stem>`` when the palette comes from other media than
    the input itself (one video recoloured by two pieces of music gives two files)."""
    stem = output_stem(source_uri)
    if palette_uri and palette_uri != source_uri:
        stem += PALETTE_SEPARATOR + output_stem(palette_uri)
    return stem


def video_output_path(media_dir: str, source_uri: str, palette_uri: str | None = None) -> str:
    """``media/<stem>.mp4`` (recoloured by its own soundtrack) or
    ``media/<stem>--<music stem>.mp4`` (by ``palette_uri``)."""
    return fsio.join(media_dir, recolored_stem(source_uri, palette_uri) + ".mp4")


def image_output_path(media_dir: str, source_uri: str, palette_uri: str | None = None) -> str:
    """``media/<stem>--<music stem>.<ext>``: the recoloured image (same format as the input)."""
    ext = os.path.splitext(source_uri)[1].lower()
    return fsio.join(media_dir, recolored_stem(source_uri, palette_uri) + ext)


def generated_video_path(media_dir: str, source_uri: str, style: str) -> str:
    """``media/<stem>.<style>.mp4`` (the style in the name: several can sit side by side, and a
    recoloured ``<stem>.mp4`` of the same input is never overwritten)."""
    return fsio.join(media_dir, f"{output_stem(source_uri)}.{style}.mp4")


def sidecar_path(output_uri: str) -> str:
    """The JSON record beside a recoloured output: what made it (for the rerun skip)."""
    return output_uri + ".json"


def read_timeline_rows(timelines_dir: str, source_uri: str) -> list[dict]:
    """A media's timeline rows from ``timelines/`` (``[]`` if it has none)."""
    path = timeline_path(timelines_dir, source_uri)
    if not fsio.FileSystems.exists(path):
        return []
    with fsio.FileSystems.open(path, compression_type="uncompressed") as f:
        return pq.read_table(f).to_pylist()


@dataclass(frozen=True)
class OutputLayout:
    """The folders of one ``--output`` root (local path or URI)."""

    root: str

    @property
    def timelines_dir(self) -> str:
        return fsio.join(self.root, "timelines")

    @property
    def failures_dir(self) -> str:
        return fsio.join(self.root, "failures")

    @property
    def media_dir(self) -> str:
        return fsio.join(self.root, "media")

    def make_dirs(self, media: bool = False) -> None:
        """Create the output folders (``media/`` too when asked; no-op on object stores)."""
        for d in (self.timelines_dir, self.failures_dir, *((self.media_dir,) if media else ())):
            fsio.makedirs(d)
