"""GenerateVideo: matched audio + its palette timeline -> a music-driven video file.

Only paths and ids pass through Beam. Each media renders inside one DoFn call
(:func:`m2p_core.generate.render.render_video`: frames stream into the encoder, memory flat in
duration), into a hidden temp file that is moved into place when complete. The timeline stage's
written URIs arrive as a side input, which orders the two stages; timelines skipped as already
done are read from ``timelines/`` all the same. A video whose embedded record (content sha256,
model version, size, fps, style, renderer version) matches is skipped unless ``force``.
"""

from __future__ import annotations

import json

import apache_beam as beam

from m2p_core.generate.render import VideoSpec, read_video_metadata, render_video, video_metadata
from m2p_core.outputs.progress import PROGRESS
from transforms import fsio
from transforms.layout import generated_video_path, read_timeline_rows
from transforms.match import MatchedMedia
from transforms.media_fn import MediaFn


def _already_done(out_uri: str, record: str) -> bool:
    if not fsio.FileSystems.exists(out_uri):
        return False
    with fsio.local_copy(out_uri) as local:
        meta = read_video_metadata(local)
    return meta is not None and meta == json.loads(record)["m2p"]


class _GenerateFn(MediaFn):
    READ_STAGE = None  # an unreadable input already has the timeline stage's failure row

    def __init__(self, media_dir: str, timelines_dir: str, spec: VideoSpec, run_id: str,
                 force: bool) -> None:
        self._media_dir = media_dir
        self._timelines_dir = timelines_dir
        self._spec = spec
        super().__init__(run_id, force)

    def setup(self) -> None:
        fsio.makedirs(self._media_dir)

    def process_media(self, media: MatchedMedia, media_id: str, written=()):
        uri = media.source_uri
        rows = read_timeline_rows(self._timelines_dir, uri)
        if not rows or rows[0]["media_id"] != media_id:
            return  # no timeline for this content: its failure row is already out
        out_uri = generated_video_path(self._media_dir, uri, self._spec.style)
        record = video_metadata(media_id, rows[0]["model_version"], self._spec)
        if not self._force and _already_done(out_uri, record):
            self.count("videos_skipped")
            return
        try:
            with fsio.local_copy(media.open_path) as local, \
                    fsio.staged_output(out_uri, ".mp4") as tmp:
                stats = render_video(local, rows, tmp, self._spec, metadata=record,
                                     on_frames=lambda n: PROGRESS.add("frames", n))
                fsio.publish_file(tmp, out_uri)
        except Exception as e:
            yield self.failure(uri, "generate", e, media_id)
            return
        self.count("videos_generated")
        self.count("frames_generated", stats.frames)
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
        ).with_outputs(MediaFn.FAILURES, main="videos")
