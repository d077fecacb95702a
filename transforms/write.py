"""WriteTimelines and WriteFailures: atomic Parquet outputs."""

from __future__ import annotations

from collections.abc import Callable

import apache_beam as beam
from apache_beam.metrics import Metrics

from m2p_core.outputs.timeline import (
    TimelineParams,
    failure_row,
    failures_parquet_bytes,
    timeline_parquet_bytes,
    timeline_row,
)
from transforms import fsio
from transforms.layout import timeline_path


class _WriteMediaTimelineFn(beam.DoFn):
    FAILURES = "failures"

    def __init__(self, timelines_dir: str, params: TimelineParams, run_id: str) -> None:
        self._dir = timelines_dir
        self._params = params
        self._run_id = run_id
        self._written = Metrics.counter("m2p", "media_written")

    def setup(self) -> None:
        fsio.makedirs(self._dir)

    def process(self, joined):
        uri, groups = joined
        done = list(groups["done"])
        predictions = list(groups["windows"])
        errors = list(groups.get("errors", ()))
        if not done:  # decode failed part-way: its failure row is already out
            return
        media = done[0]
        if errors:  # inference raised for some of this media's windows
            yield beam.pvalue.TaggedOutput(self.FAILURES, failure_row(
                uri, "inference", f"{len(errors)} of {media.n_windows} windows failed: "
                f"{errors[0]}", self._run_id, media.media_id) | {
                    "error_type": errors[0].split(":", 1)[0] or "Error"})
            return
        indices = sorted({p.key.window_index for p in predictions})
        if indices != list(range(media.n_windows)):
            missing = media.n_windows - len(indices)
            yield beam.pvalue.TaggedOutput(self.FAILURES, failure_row(
                uri, "inference", f"{missing} of {media.n_windows} windows have no prediction",
                self._run_id, media.media_id))
            return
        try:
            seen, rows = set(), []
            for p in sorted(predictions, key=lambda p: p.key.window_index):
                if p.key.window_index in seen:
                    continue
                seen.add(p.key.window_index)
                rows.append(timeline_row(
                    media_id=media.media_id, source_uri=uri, window_index=p.key.window_index,
                    start_s=p.key.start_s, end_s=p.key.end_s,
                    valence_arousal=p.valence_arousal, palette_lab=p.palette_lab,
                    weights=p.weights, model_version=self._params.model_version,
                    padded=p.key.padded, duration_s=media.duration_s,
                    decode_warnings=getattr(media, "decode_warnings", None)))
            data = timeline_parquet_bytes(rows, media.media_id, uri, self._params)
            fsio.atomic_write_bytes(timeline_path(self._dir, uri), data)
        except Exception as e:
            yield beam.pvalue.TaggedOutput(
                self.FAILURES, failure_row(uri, "write", e, self._run_id, media.media_id))
            return
        self._written.inc()
        yield uri


def _per_window_errors(bad):
    batch, (exc_type, exc_repr, _tb) = bad
    name = getattr(exc_type, "__name__", str(exc_type))
    for key, _tensor in batch:
        yield key.source_uri, f"{name}: {exc_repr}"


class InferenceErrors(beam.PTransform):
    """RunInference's dead letters ``(batch of (WindowKey, tensor), (type, repr, traceback))``
    -> ``(source_uri, "ErrorType: message")`` per window."""

    def expand(self, failed_inferences):
        return failed_inferences | "PerWindow" >> beam.FlatMap(_per_window_errors)


class WriteTimelines(beam.PTransform):
    """Join window predictions with their media's completion record; write one Parquet file per
    media, atomically. Inputs: ``(predictions, done)`` or ``(predictions, done, errors)``
    where ``errors`` holds ``(source_uri, message)`` for windows whose inference failed (see
    :class:`InferenceErrors`). Outputs: main = written URIs, ``.failures``."""

    def __init__(self, timelines_dir: str, params: TimelineParams, run_id: str) -> None:
        super().__init__()
        self._fn = _WriteMediaTimelineFn(timelines_dir, params, run_id)

    def expand(self, inputs):
        predictions, done, *rest = inputs
        groups = {"windows": predictions, "done": done}
        if rest:
            groups["errors"] = rest[0]
        return (
            groups
            | "JoinByMedia" >> beam.CoGroupByKey()
            | "WriteParquet" >> beam.ParDo(self._fn).with_outputs(
                _WriteMediaTimelineFn.FAILURES, main="written")
        )


class _WriteFailuresFn(beam.DoFn):
    def __init__(self, failures_dir: str, run_id: str,
                 chunk: int | Callable[[], int] | None = None) -> None:
        self._dir = failures_dir
        self._run_id = run_id
        self._chunk = chunk
        self._failures = Metrics.counter("m2p", "failures")

    def process(self, rows):
        fsio.makedirs(self._dir)
        if not rows:
            return
        self._failures.inc(len(rows))
        for stage in sorted({r["stage"] for r in rows}):
            Metrics.counter("m2p", f"failures.{stage}").inc(
                sum(1 for r in rows if r["stage"] == stage))
        chunk = self._chunk() if callable(self._chunk) else self._chunk
        path = fsio.join(self._dir, failures_file_name(self._run_id, chunk))
        fsio.atomic_write_bytes(path, failures_parquet_bytes(rows))
        yield path


def failures_file_name(run_id: str, chunk: int | None = None) -> str:
    """``run-<run_id>.parquet``, or ``run-<run_id>-<chunk>.parquet`` for one chunk of a chunked
    local run (:mod:`pipelines.chunked`), so a kill keeps the failures of finished chunks."""
    return f"run-{run_id}.parquet" if chunk is None else f"run-{run_id}-{chunk:05d}.parquet"


class WriteFailures(beam.PTransform):
    """All failure rows of this run (or of this ``chunk`` of it) -> ``failures/run-<run_id>
    [-<chunk>].parquet`` (one atomic file; none when there are no failures). ``chunk``: the
    chunk's number, or a function that gives it when the pipeline runs."""

    def __init__(self, failures_dir: str, run_id: str,
                 chunk: int | Callable[[], int] | None = None) -> None:
        super().__init__()
        self._fn = _WriteFailuresFn(failures_dir, run_id, chunk)

    def expand(self, failures):
        return (
            failures
            | "Flatten" >> beam.Flatten()
            | "Collect" >> beam.combiners.ToList()
            | "Write" >> beam.ParDo(self._fn)
        )
