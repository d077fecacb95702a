"""One base for the DoFns that take a matched media file and make something from it.

Every media step does the same few things, in the same order, and they used to drift apart in
three hand-written copies (hashing the display name instead of the path to open, for one):

1. hash the input's content from :attr:`~transforms.match.MatchedMedia.open_path` (which differs
   from ``source_uri`` for local names that are not UTF-8) — the ``media_id``;
2. skip work that is already done for that content, unless ``force``;
3. turn any exception into a failure row on the ``failures`` output, never into a failed run;
4. count what happened in Beam metrics (namespace ``m2p``).

A subclass implements :meth:`MediaFn.process_media` (a generator of outputs) and, optionally,
overrides ``READ_STAGE`` (``None``: an unreadable input is reported by another stage already).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from m2p_core.outputs.timeline import failure_row
from transforms import fsio
from transforms.match import MatchedMedia, check_regular_file


class MediaFn(beam.DoFn):
    """Base DoFn: ``MatchedMedia`` -> whatever :meth:`process_media` yields, plus failures."""

    FAILURES = "failures"
    #: stage named in the failure row of an input that cannot be read (None: say nothing,
    #: because the timeline stage, which saw the same input, has already reported it).
    READ_STAGE: str | None = "read"

    def __init__(self, run_id: str, force: bool = False) -> None:
        self._run_id = run_id
        self._force = force
        self._counters: dict[str, Any] = {}

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the Beam counter ``m2p/<name>``."""
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = Metrics.counter("m2p", name)
        counter.inc(n)

    def failure(self, uri: str, stage: str, error: BaseException | str,
                media_id: str | None = None, **extra: Any) -> beam.pvalue.TaggedOutput:
        """A failure row for ``uri`` on the failures output (``extra`` overrides columns)."""
        row = failure_row(uri, stage, error, self._run_id, media_id)
        row.update(extra)
        return beam.pvalue.TaggedOutput(self.FAILURES, row)

    def process(self, media, *args, **kwargs):  # no annotations: Beam would type-check them
        uri, path = media.source_uri, media.open_path
        try:
            check_regular_file(path)
            media_id = fsio.sha256_of(path)
        except Exception as e:
            if self.READ_STAGE is not None:
                yield self.failure(uri, self.READ_STAGE, e)
            return
        yield from self.process_media(media, media_id, *args, **kwargs)

    def process_media(self, media: MatchedMedia, media_id: str, *args: Any,
                      **kwargs: Any) -> Iterator[Any]:
        """Do this step's work for one readable input whose content hash is ``media_id``."""
        raise NotImplementedError
