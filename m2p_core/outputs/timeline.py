"""Timeline rows and failure rows: the Parquet contracts of docs/ARCHITECTURE.md "Contracts".

One timeline row per (media, window); one Parquet file per media input, carrying in its
key-value metadata the facts that decide whether a rerun may skip it (content sha256, model
version, window parameters).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from m2p_core.colour.space import gamut_map_lab, lab_to_hex
from m2p_core.model.russell import quadrant_of

TIMELINE_SCHEMA = pa.schema(
    [
        ("media_id", pa.string()),
        ("source_uri", pa.string()),
        ("window_index", pa.int32()),
        ("start_s", pa.float64()),
        ("end_s", pa.float64()),
        ("valence", pa.float32()),
        ("arousal", pa.float32()),
        ("palette_lab", pa.list_(pa.list_(pa.float32()))),
        ("palette_hex", pa.list_(pa.string())),
        ("weights", pa.list_(pa.float32())),
        ("model_version", pa.string()),
        # extra columns (docs/ARCHITECTURE.md "Contracts" welcomes them)
        ("padded", pa.bool_()),
        ("quadrant", pa.string()),
        ("duration_s", pa.float64()),
        # null when the media decoded cleanly; otherwise why its rows cover partial/damaged audio
        ("decode_warnings", pa.string()),
    ]
)

FAILURE_SCHEMA = pa.schema(
    [
        ("source_uri", pa.string()),
        ("stage", pa.string()),
        ("error_type", pa.string()),
        ("message", pa.string()),
        ("media_id", pa.string()),
        ("run_id", pa.string()),
        ("timestamp", pa.timestamp("us", tz="UTC")),
    ]
)

_META_KEY = b"music2palette"


@dataclass(frozen=True)
class TimelineParams:
    """What, besides the content, determines a media's timeline."""

    model_version: str
    window_s: float
    hop_s: float

    def to_dict(self) -> dict:
        return {"model_version": self.model_version, "window_s": self.window_s, "hop_s": self.hop_s}


def timeline_row(
    *,
    media_id: str,
    source_uri: str,
    window_index: int,
    start_s: float,
    end_s: float,
    valence_arousal: Sequence[float],
    palette_lab: np.ndarray,
    weights: np.ndarray,
    model_version: str,
    padded: bool,
    duration_s: float,
    decode_warnings: str | None = None,
) -> dict:
    """One timeline row. Colours are mapped into the sRGB gamut (chroma reduction at constant
    L* and hue), so ``palette_lab`` and ``palette_hex`` describe the same displayable colours."""
    lab = gamut_map_lab(np.asarray(palette_lab, dtype=np.float64))
    w = np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    w = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
    v = float(np.clip(valence_arousal[0], -1.0, 1.0))
    a = float(np.clip(valence_arousal[1], -1.0, 1.0))
    return {
        "media_id": media_id,
        "source_uri": safe_text(source_uri),
        "window_index": int(window_index),
        "start_s": float(start_s),
        "end_s": float(end_s),
        "valence": v,
        "arousal": a,
        "palette_lab": lab.astype(np.float32).tolist(),
        "palette_hex": lab_to_hex(lab),
        "weights": w.astype(np.float32).tolist(),
        "model_version": model_version,
        "padded": bool(padded),
        "quadrant": quadrant_of(v, a),
        "duration_s": float(duration_s),
        "decode_warnings": None if decode_warnings is None else safe_text(decode_warnings),
    }


def timeline_parquet_bytes(
    rows: Sequence[Mapping], media_id: str, source_uri: str, params: TimelineParams
) -> bytes:
    """Serialise one media's rows (sorted by window) with the rerun metadata."""
    rows = sorted(rows, key=lambda r: r["window_index"])
    meta = {"media_id": media_id, "source_uri": safe_text(source_uri), **params.to_dict()}
    schema = TIMELINE_SCHEMA.with_metadata({_META_KEY: json.dumps(meta).encode()})
    table = pa.Table.from_pylist(list(rows), schema=schema)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def read_timeline_metadata(file: io.IOBase) -> dict | None:
    """The rerun metadata of a timeline file, or None if it is unreadable or foreign."""
    try:
        md = pq.read_schema(file).metadata or {}
        return json.loads(md[_META_KEY].decode())
    except Exception:  # a partial or foreign file simply does not count as done
        return None


def is_complete_for(meta: Mapping | None, media_id: str, params: TimelineParams) -> bool:
    return bool(meta) and meta.get("media_id") == media_id and all(
        meta.get(k) == v for k, v in params.to_dict().items()
    )


def failures_parquet_bytes(rows: Sequence[Mapping]) -> bytes:
    table = pa.Table.from_pylist(list(rows), schema=FAILURE_SCHEMA)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def safe_text(text: str) -> str:
    """``text`` as valid UTF-8 for Parquet: file names that are not UTF-8 reach Python with
    lone surrogates (``os.fsdecode``); those bytes are written as ``\\xNN`` escapes."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a surrogate that is not an escaped byte
            raw = text.encode("utf-8", "surrogatepass")
        return raw.decode("utf-8", "backslashreplace")


def failure_row(
    source_uri: str,
    stage: str,
    error: BaseException | str,
    run_id: str,
    media_id: str | None = None,
) -> dict:
    """One failures row; ``error`` may be the exception itself or a message."""
    if isinstance(error, BaseException):
        error_type, message = type(error).__name__, str(error) or repr(error)
    else:
        error_type, message = "Error", str(error)
    return {
        "source_uri": safe_text(source_uri),
        "stage": stage,
        "error_type": error_type,
        "message": safe_text(message)[:2000],
        "media_id": media_id,
        "run_id": run_id,
        "timestamp": datetime.now(timezone.utc),
    }
