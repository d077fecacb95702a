"""Long videos recoloured as parallel segments (the Beam half of :mod:`m2p_core.recolor.segments`).

    RecolorVideo's DoFn: a video longer than 1.5 × segment_s -> analysis pass + plan
        -> one SegmentJob per segment
    --Reshuffle--> RecolorSegment (any worker) -> (output URI, SegmentResult)
    --GroupByKey--> JoinSegments -> media/<stem>.mp4 + sidecar, or one failures row

Segment files are hidden temp files next to the final output (``.<stem>.mp4.seg001of005.tmp-
<12 hex>.mp4``: the name derives from the sidecar record and the frame range, so a retried
segment overwrites its own file, and :func:`transforms.fsio.remove_stale_temps` removes leftovers
of killed runs); the join deletes them whether it succeeds or not. Only paths, ids, palette rows
and the small analysis record per segment pass through Beam.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import time
from dataclasses import dataclass

import apache_beam as beam
from apache_beam.metrics import Metrics

from m2p_core.audio.decode import MediaError
from m2p_core.outputs.timeline import failure_row
from m2p_core.palette.track import PaletteTrack
from m2p_core.recolor.segments import (
    MIN_SPLIT_RATIO,
    Segment,
    analyse_video,
    plan_segments,
    probe_duration_s,
    recolor_segment,
)
from m2p_core.recolor.video import RecolorParams
from m2p_core.video.join import join_segments
from transforms import fsio
from transforms.layout import sidecar_path

SEGMENTS = "segments"


@dataclass(frozen=True)
class SegmentJob:
    """One segment of one video to recolour."""

    out_uri: str
    source_uri: str
    media_id: str
    record: dict  # the sidecar the joined output gets
    rows: list[dict]  # the palette timeline rows
    segment: Segment
    segment_uri: str
    open_path: str = ""  # the path to read (differs from source_uri for non-UTF-8 names)
    audio_fallback: str = ""  # the --music: the soundtrack of a video that has none

    @property
    def input_path(self) -> str:
        return self.open_path or self.source_uri


@dataclass(frozen=True)
class SegmentResult:
    job: SegmentJob
    frames: int = 0
    seconds: float = 0.0
    error_stage: str | None = None
    error_type: str | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.message is None


def stage_of(error: BaseException) -> str:
    return "recolor" if isinstance(error, MediaError) else "encode"


def segment_uri(out_uri: str, record: dict, seg: Segment) -> str:
    parent, name = out_uri.rsplit("/", 1)
    token = hashlib.sha256(
        (json.dumps(record, sort_keys=True) + f"|{seg.start}-{seg.end}").encode()
    ).hexdigest()[:12]
    return f"{parent}/.{name}.seg{seg.index:03d}of{seg.count:03d}.tmp-{token}.mp4"


def _duration_s(uri: str) -> float:
    if fsio.is_local(uri):
        return probe_duration_s(uri)
    with fsio.FileSystems.open(uri, compression_type="uncompressed") as f:  # reads the index
        return probe_duration_s(f)


def plan_jobs(uri: str, out_uri: str, media_id: str, record: dict, rows: list[dict],
              segment_s: float, open_path: str | None = None,
              audio_fallback: str = "") -> list[SegmentJob]:
    """The segment jobs of a video longer than ``MIN_SPLIT_RATIO`` × ``segment_s`` (its
    analysis pass runs here); ``[]`` for a video to recolour in one pass."""
    path = open_path or uri
    if segment_s <= 0 or _duration_s(path) <= MIN_SPLIT_RATIO * segment_s:
        return []
    with fsio.local_copy(path) as local:
        analysis = analyse_video(local)
    segments = plan_segments(analysis, segment_s)
    if len(segments) < 2:
        if not analysis.splittable:
            logging.getLogger(__name__).info("%s: one pass (%s)", uri, analysis.why_not)
        return []
    return [SegmentJob(out_uri, uri, media_id, record, rows, s, segment_uri(out_uri, record, s),
                       path, audio_fallback) for s in segments]


class RecolorSegmentFn(beam.DoFn):
    """SegmentJob -> (output URI, SegmentResult); never raises."""

    def __init__(self, params: RecolorParams) -> None:
        self._params = params
        self._segments = Metrics.counter("m2p", "recolor_segments")

    def process(self, job: SegmentJob):
        t0 = time.perf_counter()
        light = dataclasses.replace(job, rows=[])  # what the join needs, without the palettes
        try:
            track = PaletteTrack.of_sections(job.rows)
            with fsio.local_copy(job.input_path) as local, \
                    fsio.staged_output(job.segment_uri, ".mp4") as tmp:
                stats = recolor_segment(local, tmp, track, job.segment, self._params)
                fsio.publish_file(tmp, job.segment_uri)
        except Exception as e:
            yield job.out_uri, SegmentResult(light, seconds=time.perf_counter() - t0,
                                             error_stage=stage_of(e),
                                             error_type=type(e).__name__,
                                             message=str(e) or repr(e))
            return
        self._segments.inc()
        yield job.out_uri, SegmentResult(light, stats.frames, time.perf_counter() - t0)


class JoinSegmentsFn(beam.DoFn):
    """(output URI, [SegmentResult]) -> the joined output's URI, or one failures row; the
    segment files are deleted either way."""

    FAILURES = "failures"

    def __init__(self, run_id: str) -> None:
        self._run_id = run_id
        self._written = Metrics.counter("m2p", "recolored")
        self._frames = Metrics.counter("m2p", "frames")

    def process(self, keyed):
        out_uri, results = keyed
        results = list(results)
        try:
            failure, frames = self._join(out_uri, results)
        finally:
            _delete({r.job.segment_uri for r in results})
        if failure is not None:
            yield beam.pvalue.TaggedOutput(self.FAILURES, failure)
            return
        self._written.inc()
        self._frames.inc(frames)
        yield out_uri

    def _join(self, out_uri: str, results: list[SegmentResult]) -> tuple[dict | None, int]:

        job = results[0].job
        by_index: dict[int, SegmentResult] = {}
        for r in results:  # a retried segment may report twice: a success wins
            old = by_index.get(r.job.segment.index)
            if old is None or (r.ok and not old.ok):
                by_index[r.job.segment.index] = r
        count = job.segment.count
        bad = sorted((r for r in by_index.values() if not r.ok), key=lambda r: r.job.segment.index)
        missing = sorted(set(range(count)) - set(by_index))
        if bad or missing:
            if bad:
                r = bad[0]
                stage, what = r.error_stage, f"{r.error_type}: {r.message}"
                where = f"segment {r.job.segment.index + 1} of {count} " \
                        f"(frames {r.job.segment.start}-{r.job.segment.end - 1})"
                more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
            else:
                stage, what, more = "recolor", "no result", ""
                where = f"segment(s) {[i + 1 for i in missing]} of {count}"
            return failure_row(job.source_uri, stage, f"{where}{more}: {what}", self._run_id,
                               job.media_id), 0
        ordered = [by_index[i] for i in range(count)]
        try:
            with contextlib.ExitStack() as stack:
                paths = [stack.enter_context(fsio.local_copy(r.job.segment_uri)) for r in ordered]
                source = stack.enter_context(fsio.local_copy(job.input_path))
                music = (stack.enter_context(fsio.local_copy(job.audio_fallback))
                         if job.audio_fallback else None)
                tmp = stack.enter_context(fsio.staged_output(out_uri, ".mp4"))
                stats = join_segments(paths, source, tmp, [r.job.segment for r in ordered],
                                      audio_fallback=music)
                fsio.publish_file(tmp, out_uri)
            fsio.atomic_write_bytes(sidecar_path(out_uri), json.dumps(job.record).encode())
        except Exception as e:
            return failure_row(job.source_uri, stage_of(e), e, self._run_id, job.media_id), 0
        return None, stats.frames


def _delete(uris: set[str]) -> None:
    for uri in uris:
        with contextlib.suppress(Exception):
            if fsio.FileSystems.exists(uri):
                fsio.FileSystems.delete([uri])


class RecolorSegments(beam.PTransform):
    """SegmentJobs -> joined outputs. Outputs: main = written output URIs, ``.failures``."""

    def __init__(self, params: RecolorParams, run_id: str) -> None:
        super().__init__()
        self._params, self._run_id = params, run_id

    def expand(self, jobs):
        return (jobs
                | "SpreadSegments" >> beam.Reshuffle()
                | "RecolorSegment" >> beam.ParDo(RecolorSegmentFn(self._params))
                | "GroupSegments" >> beam.GroupByKey()
                | "JoinSegments" >> beam.ParDo(JoinSegmentsFn(self._run_id)).with_outputs(
                    JoinSegmentsFn.FAILURES, main="written"))
