"""GenerateVideo: matched audio + its palette timeline -> a music-driven video file.

Only paths and ids pass through Beam. Each media renders inside one DoFn call
(:func:`m2p_core.generate.video.render_video`: frames stream into the encoder, memory flat in
duration), into a hidden temp file that is moved into place when complete. The timeline stage's
written URIs arrive as a side input, which orders the two stages; timelines skipped as already
done are read from ``timelines/`` all the same. A video whose embedded record (content sha256,
model version, size, fps, style, renderer version) matches is skipped unless ``force``.
"""

from __future__ import annotations

import json

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.metrics import Metrics

from m2p_core.generate.video import VideoSpec, read_video_metadata, render_video, video_metadata
from m2p_core.outputs.naming import output_stem
from m2p_core.outputs.progress import PROGRESS
from m2p_core.outputs.timeline import failure_row
from transforms import fsio
from transforms.decode import timeline_path
from transforms.match import MatchedMedia


def generated_video_path(media_dir: str, source_uri: str, style: str) -> str:
    """``media/<stem>.<style>.mp4`` (the style in the name: several can sit side by side, and a
    recoloured ``<stem>.mp4`` of the same input is never overwritten)."""
    return fsio.join(media_dir, f"{output_stem(source_uri)}.{style}.mp4")


def _timeline_rows(timelines_dir: str, source_uri: str) -> list[dict]:
    path = timeline_path(timelines_dir, source_uri)
    if not fsio.FileSystems.exists(path):
        return []
    with fsio.FileSystems.open(path, compression_type="uncompressed") as f:
        return pq.read_table(f).to_pylist()


def _already_done(out_uri: str, record: str) -> bool:
    if not fsio.FileSystems.exists(out_uri):
        return False
    with fsio.local_copy(out_uri) as local:
        meta = read_video_metadata(local)
    return meta is not None and meta == json.loads(record)["m2p"]


class _GenerateFn(beam.DoFn):
    FAILURES = "failures"

    def __init__(self, media_dir: str, timelines_dir: str, spec: VideoSpec, run_id: str,
                 force: bool) -> None:
        self._media_dir = media_dir
        self._timelines_dir = timelines_dir
        self._spec = spec
        self._run_id = run_id
        self._force = force
        self._written = Metrics.counter("m2p", "videos_generated")
        self._skipped = Metrics.counter("m2p", "videos_skipped")
        self._frames = Metrics.counter("m2p", "frames_generated")

    def setup(self) -> None:
        fsio.makedirs(self._media_dir)

    def process(self, media: MatchedMedia, written=()):
        uri = media.source_uri
        rows = _timeline_rows(self._timelines_dir, uri)
        try:
            media_id = fsio.sha256_of(uri)
        except Exception:  # unreadable: the timeline stage has its failure row
            return
        if not rows or rows[0]["media_id"] != media_id:
            return  # no timeline for this content: its failure row is already out
        out_uri = generated_video_path(self._media_dir, uri, self._spec.style)
        record = video_metadata(media_id, rows[0]["model_version"], self._spec)
        if not self._force and _already_done(out_uri, record):
            self._skipped.inc()
            return
        try:
            with fsio.local_copy(uri) as local, fsio.staged_output(out_uri, ".mp4") as tmp:
                stats = render_video(local, rows, tmp, self._spec, metadata=record,
                                     on_frames=lambda n: PROGRESS.add("frames", n))
                fsio.publish_file(tmp, out_uri)
        except Exception as e:
            yield beam.pvalue.TaggedOutput(
                self.FAILURES, failure_row(uri, "generate", e, self._run_id, media_id))
            return
        self._written.inc()
        self._frames.inc(stats.frames)
        PROGRESS.add("videos")
        yield out_uri


class GenerateVideo(beam.PTransform):
    """Matched audio -> ``media/<stem>.<style>.mp4``, after the timeline stage has written
    (``written``: its written URIs, used as a side input). Outputs: main = video URIs,
    ``.failures``."""

    def __init__(self, written: beam.PCollection, media_dir: str, timelines_dir: str,
                 spec: VideoSpec, run_id: str, force: bool = False) -> None:
        super().__init__()
        self._written = written
        self._fn = _GenerateFn(media_dir, timelines_dir, spec, run_id, force)

    def expand(self, media):
        return media | beam.ParDo(
            self._fn, written=beam.pvalue.AsList(self._written)
        ).with_outputs(_GenerateFn.FAILURES, main="videos")
