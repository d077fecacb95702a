"""DecodeWindows: matched media -> keyed mono analysis windows (plus skip/done/failure outputs)."""

from __future__ import annotations

import logging
from typing import NamedTuple

import apache_beam as beam
import torch
from apache_beam.metrics import Metrics

from m2p_core.audio.decode import DecodeStats, iter_audio
from m2p_core.audio.windows import iter_windows
from m2p_core.outputs.timeline import (
    TimelineParams,
    failure_row,
    is_complete_for,
    read_timeline_metadata,
    safe_text,
)
from transforms import fsio
from transforms.layout import timeline_path
from transforms.match import MatchedMedia
from transforms.media_fn import MediaFn


class WindowKey(NamedTuple):
    source_uri: str
    media_id: str
    window_index: int
    start_s: float
    end_s: float
    padded: bool


class MediaDone(NamedTuple):
    """Emitted once a media's audio decoded to the end: how many windows to expect."""

    media_id: str
    n_windows: int
    duration_s: float
    decode_warnings: str | None = None  # set when the audio decoded only partly (damaged)


class _DecodeWindowsFn(MediaFn):
    DONE = "done"

    def __init__(self, window_s: float, hop_s: float, sample_rate: int, timelines_dir: str,
                 params: TimelineParams, run_id: str, force: bool,
                 decode_timeout_s: float | None = None,
                 max_duration_s: float | None = None) -> None:
        self._decode_timeout_s = decode_timeout_s
        self._max_duration_s = max_duration_s
        self._window_s = window_s
        self._hop_s = hop_s
        self._sample_rate = sample_rate
        self._timelines_dir = timelines_dir
        self._params = params
        super().__init__(run_id, force)
        self._skipped = Metrics.counter("m2p", "media_skipped")
        self._windows = Metrics.counter("m2p", "windows")
        self._audio_ms = Metrics.counter("m2p", "audio_ms")
        self._inputs = Metrics.counter("m2p", "inputs")
        self._flagged = Metrics.counter("m2p", "media_flagged")

    def _already_done(self, uri: str, media_id: str) -> bool:
        if self._force:
            return False
        path = timeline_path(self._timelines_dir, uri)
        try:
            if not fsio.FileSystems.exists(path):
                return False
            with fsio.FileSystems.open(path, compression_type="uncompressed") as f:
                return is_complete_for(read_timeline_metadata(f), media_id, self._params)
        except Exception as e:  # an unreadable old output is redone, never fatal
            logging.getLogger(__name__).warning("cannot read %s (%s): redoing it", path, e)
            return False

    def process(self, media: MatchedMedia):
        self._inputs.inc()
        yield from super().process(media)

    def process_media(self, media: MatchedMedia, media_id: str):
        uri, path = media.source_uri, media.open_path
        if self._already_done(uri, media_id):
            self._skipped.inc()
            return
        n_windows, end_s = 0, 0.0
        stats = DecodeStats()
        staged = None
        try:
            with fsio.local_copy(path) as local:
                staged = local
                audio = iter_audio(local, self._sample_rate, stats=stats,
                                   time_budget_s=self._decode_timeout_s,
                                   max_duration_s=self._max_duration_s)
                windows = iter_windows(audio, self._sample_rate, self._window_s, self._hop_s)
                while True:
                    try:
                        w = next(windows)
                    except StopIteration:
                        break
                    n_windows += 1
                    end_s = max(end_s, w.end_s)
                    key = WindowKey(uri, media_id, w.index, w.start_s, w.end_s, w.padded)
                    yield key, torch.from_numpy(w.samples)
        except Exception as e:  # typed MediaError for bad input; anything else is still one input
            row = failure_row(uri, "decode", e, self._run_id, media_id)
            if staged and staged != uri:  # name the input, not its local staging copy
                row["message"] = row["message"].replace(safe_text(staged), uri)
            yield beam.pvalue.TaggedOutput(self.FAILURES, row)
            return
        warnings = "; ".join(stats.warnings) or None
        if warnings is not None:  # rows for what decoded are written, flagged; and said here
            self._flagged.inc()
            yield beam.pvalue.TaggedOutput(self.FAILURES, failure_row(
                uri, "decode", f"{warnings}; rows written for the "
                f"{stats.samples_out / self._sample_rate:.1f} s that decoded "
                "(decode_warnings column)", self._run_id, media_id) | {
                    "error_type": "PartialDecode"})
        self._windows.inc(n_windows)
        self._audio_ms.inc(int(round(end_s * 1000)))
        yield beam.pvalue.TaggedOutput(
            self.DONE, (uri, MediaDone(media_id, n_windows, end_s, warnings)))


class DecodeWindows(beam.PTransform):
    """Outputs: main = (WindowKey, waveform tensor), ``.done`` = (uri, MediaDone), ``.failures``."""

    def __init__(self, window_s: float, hop_s: float, sample_rate: int, timelines_dir: str,
                 params: TimelineParams, run_id: str, force: bool = False,
                 decode_timeout_s: float | None = None,
                 max_duration_s: float | None = None) -> None:
        super().__init__()
        self._fn = _DecodeWindowsFn(window_s, hop_s, sample_rate, timelines_dir, params, run_id,
                                    force, decode_timeout_s, max_duration_s)

    def expand(self, media):
        return media | beam.ParDo(self._fn).with_outputs(
            _DecodeWindowsFn.DONE, _DecodeWindowsFn.FAILURES, main="windows"
        )
