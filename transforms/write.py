"""WriteTimelines and WriteFailures: atomic Parquet outputs."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from m2p_core.timeline import (
    TimelineParams,
    failure_row,
    failures_parquet_bytes,
    timeline_parquet_bytes,
    timeline_row,
)
from transforms import fsio
from transforms.decode import timeline_path


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
        if not done:  # decode failed part-way: its failure row is already out
            return
        media = done[0]
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
                    padded=p.key.padded, duration_s=media.duration_s))
            data = timeline_parquet_bytes(rows, media.media_id, uri, self._params)
            fsio.atomic_write_bytes(timeline_path(self._dir, uri), data)
        except Exception as e:
            yield beam.pvalue.TaggedOutput(
                self.FAILURES, failure_row(uri, "write", e, self._run_id, media.media_id))
            return
        self._written.inc()
        yield uri


class WriteTimelines(beam.PTransform):
    """Join window predictions with their media's completion record; write one Parquet file per
    media, atomically. Outputs: main = written URIs, ``.failures``."""

    def __init__(self, timelines_dir: str, params: TimelineParams, run_id: str) -> None:
        super().__init__()
        self._fn = _WriteMediaTimelineFn(timelines_dir, params, run_id)

    def expand(self, inputs):
        predictions, done = inputs
        return (
            {"windows": predictions, "done": done}
            | "JoinByMedia" >> beam.CoGroupByKey()
            | "WriteParquet" >> beam.ParDo(self._fn).with_outputs(
                _WriteMediaTimelineFn.FAILURES, main="written")
        )


class _WriteFailuresFn(beam.DoFn):
    def __init__(self, failures_dir: str, run_id: str) -> None:
        self._dir = failures_dir
        self._run_id = run_id
        self._failures = Metrics.counter("m2p", "failures")

    def process(self, rows):
        fsio.makedirs(self._dir)
        if not rows:
            return
        self._failures.inc(len(rows))
        path = fsio.join(self._dir, f"run-{self._run_id}.parquet")
        fsio.atomic_write_bytes(path, failures_parquet_bytes(rows))
        yield path


class WriteFailures(beam.PTransform):
    """All failure rows of this run -> ``failures/run-<run_id>.parquet`` (one atomic file)."""

    def __init__(self, failures_dir: str, run_id: str) -> None:
        super().__init__()
        self._fn = _WriteFailuresFn(failures_dir, run_id)

    def expand(self, failures):
        return (
            failures
            | "Flatten" >> beam.Flatten()
            | "Collect" >> beam.combiners.ToList()
            | "Write" >> beam.ParDo(self._fn)
        )
