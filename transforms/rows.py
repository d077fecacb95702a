"""ToTimelineRows: keyed inference results -> (source_uri, one window's prediction)."""

from __future__ import annotations

from typing import NamedTuple

import apache_beam as beam
import numpy as np

from m2p_core.outputs.progress import PROGRESS
from transforms.decode import WindowKey


class WindowPrediction(NamedTuple):
    key: WindowKey
    valence_arousal: np.ndarray  # (2,)
    palette_lab: np.ndarray  # (K, 3) CIELAB D65
    weights: np.ndarray  # (K,)


def _to_prediction(keyed) -> tuple[str, WindowPrediction]:
    key, result = keyed
    out = result.inference
    PROGRESS.add("windows")  # throttled: a line every few seconds at most
    return key.source_uri, WindowPrediction(
        key,
        out["valence_arousal"].cpu().numpy(),
        out["palette_lab"].cpu().numpy(),
        out["weights"].cpu().numpy(),
    )


class ToTimelineRows(beam.PTransform):
    def expand(self, keyed_results):
        return keyed_results | beam.Map(_to_prediction)
