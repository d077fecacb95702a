"""RecolorVideo / RecolorImages: matched media + palette timelines -> recoloured media files.

Only paths, ids and palette rows pass through Beam; each video streams decode -> LUT -> encode
inside one DoFn call (:func:`m2p_core.recolor.video.recolor_video`). The timelines are read from
``timelines/`` once the timeline stage has written them (its written URIs arrive as a side
input, which orders the two stages). Outputs are written atomically next to a JSON sidecar
recording what made them (content sha256, palette source, model version, parameters), so a
rerun skips finished media; ``force`` redoes them. With ``segment_s`` > 0, a video longer than
1.5 × ``segment_s`` is recoloured as parallel time segments joined into the same output
(:mod:`transforms.recolor_split`).
"""

from __future__ import annotations

import contextlib
import json
from typing import NamedTuple

import apache_beam as beam

from m2p_core.outputs.progress import PROGRESS
from m2p_core.palette.sections import whole_media
from m2p_core.palette.track import PaletteTrack
from m2p_core.recolor.image import image_format_of, recolor_image_bytes
from m2p_core.recolor.video import RecolorParams, recolor_video
from m2p_core.video.transcode import frame_count, has_audio
from transforms import fsio
from transforms.layout import (
    image_output_path,
    read_timeline_rows,
    sidecar_path,
    video_output_path,
)
from transforms.match import MatchedMedia
from transforms.media_fn import MediaFn
from transforms.recolor_split import SEGMENTS, RecolorSegments, plan_jobs


def _is_done(output_uri: str, record: dict) -> bool:
    side = sidecar_path(output_uri)
    if not (fsio.FileSystems.exists(output_uri) and fsio.FileSystems.exists(side)):
        return False
    try:
        return json.loads(fsio.read_bytes(side).decode()) == record
    except Exception:
        return False


class _RecolorFn(MediaFn):
    def __init__(self, media_dir: str, timelines_dir: str, params: RecolorParams,
                 model_version: str, run_id: str, force: bool, music_uri: str | None,
                 segment_s: float = 0.0) -> None:
        self._media_dir = media_dir
        self._timelines_dir = timelines_dir
        self._params = params
        self._model_version = model_version
        self._music_uri = music_uri
        self._segment_s = segment_s
        super().__init__(run_id, force)

    def setup(self) -> None:
        fsio.makedirs(self._media_dir)

    def process(self, media, *args, **kwargs):
        self.count("recolor_inputs")
        yield from super().process(media, *args, **kwargs)

    def _rows(self, uri: str) -> tuple[str, list[dict]]:
        palette_uri = self._music_uri or uri
        return palette_uri, read_timeline_rows(self._timelines_dir, palette_uri)

    def _record(self, media_id: str, palette_uri: str, rows: list[dict]) -> dict:
        return {"media_id": media_id, "palette_source": palette_uri,
                "palette_media_id": rows[0]["media_id"], "model_version": self._model_version,
                **self._params.to_dict()}

    def process_media(self, media: MatchedMedia, media_id: str, written=()):
        uri = media.source_uri
        palette_uri, rows = self._rows(uri)
        if not rows:
            why = (f"no palette timeline for the --music track {palette_uri}" if self._music_uri
                   else "no palette timeline (no audio stream?): pass --music AUDIO")
            yield self.failure(uri, "recolor", why, media_id)
            return
        out_uri = self._output_path(uri)
        record = self._record(media_id, palette_uri, rows)
        if not self._force and _is_done(out_uri, record):
            self.count("recolor_skipped")
            return
        if self._segment_s > 0:
            try:
                jobs = plan_jobs(uri, out_uri, media_id, record, rows, self._segment_s,
                                 media.open_path, self._music_uri or "")
            except Exception as e:
                yield self.failure(uri, self._stage_of(e), e, media_id)
                return
            if jobs:  # recoloured in parallel segments, joined downstream
                for job in jobs:
                    yield beam.pvalue.TaggedOutput(SEGMENTS, job)
                return
        try:
            self._recolor(media.open_path, out_uri, rows)
            fsio.atomic_write_bytes(sidecar_path(out_uri), json.dumps(record).encode())
        except Exception as e:
            yield self.failure(uri, self._stage_of(e), e, media_id)
            return
        self.count("recolored")
        yield out_uri

    # --- per media kind ---
    def _output_path(self, uri: str) -> str:
        return video_output_path(self._media_dir, uri, self._music_uri)

    @staticmethod
    def _stage_of(error: Exception) -> str:
        from m2p_core.audio.decode import MediaError

        return "recolor" if isinstance(error, MediaError) else "encode"

    def _recolor(self, path: str, out_uri: str, rows: list[dict]) -> None:
        track = PaletteTrack.of_sections(rows)
        with contextlib.ExitStack() as stack:
            local = stack.enter_context(fsio.local_copy(path))
            # a video without sound gets the --music (when there is one) as its soundtrack
            music = (stack.enter_context(fsio.local_copy(self._music_uri))
                     if self._music_uri and not has_audio(local) else None)
            tmp = stack.enter_context(fsio.staged_output(out_uri, ".mp4"))
            task = PROGRESS.begin(path.rstrip("/").rsplit("/", 1)[-1], frame_count(local))
            stack.callback(task.finish)
            stats = recolor_video(local, tmp, track, self._params, audio_fallback=music,
                                  on_frame=lambda n: task.add(n - task.done))
            fsio.publish_file(tmp, out_uri)
        self.count("frames", stats.frames)


class _RecolorImageFn(_RecolorFn):
    def _output_path(self, uri: str) -> str:
        return image_output_path(self._media_dir, uri, self._music_uri)

    @staticmethod
    def _stage_of(error: Exception) -> str:
        return "recolor"

    def _recolor(self, path: str, out_uri: str, rows: list[dict]) -> None:
        image_format_of(path)  # unsupported types fail before any work
        data = recolor_image_bytes(fsio.read_bytes(path), path, whole_media(rows).palette_lab,
                                   self._params.transfer())
        fsio.atomic_write_bytes(out_uri, data)


class RecolorOutputs(NamedTuple):
    written: beam.PCollection
    failures: beam.PCollection


class RecolorVideo(beam.PTransform):
    """Matched videos -> ``media/<stem>.mp4``; waits for ``written`` (the timeline stage's
    written URIs). ``segment_s`` > 0: videos longer than 1.5 × ``segment_s`` are split into
    segments of about ``segment_s`` seconds recoloured in parallel (0: never).
    Outputs: ``.written`` (output URIs), ``.failures``."""

    _FN = _RecolorFn

    def __init__(self, written: beam.PCollection, media_dir: str, timelines_dir: str,
                 params: RecolorParams, model_version: str, run_id: str, force: bool = False,
                 music_uri: str | None = None, segment_s: float = 0.0) -> None:
        super().__init__()
        self._written = written
        self._params, self._run_id, self._segment_s = params, run_id, segment_s
        self._fn = self._FN(media_dir, timelines_dir, params, model_version, run_id, force,
                            music_uri, segment_s)

    def expand(self, media):
        out = media | beam.ParDo(self._fn, written=beam.pvalue.AsList(self._written)
                                 ).with_outputs(MediaFn.FAILURES, SEGMENTS, main="written")
        if self._segment_s <= 0:
            return RecolorOutputs(out.written, out.failures)
        joined = out[SEGMENTS] | "Segments" >> RecolorSegments(self._params, self._run_id)
        return RecolorOutputs(
            (out.written, joined.written) | "AllWritten" >> beam.Flatten(),
            (out.failures, joined.failures) | "AllFailures" >> beam.Flatten())


class RecolorImages(RecolorVideo):
    """Matched images -> ``media/<stem>.<ext>`` toward the music's overall palette."""

    _FN = _RecolorImageFn
