"""m2p_core.outputs.timeline: timeline and failure rows, Parquet bytes and rerun metadata
(docs/ARCHITECTURE.md
§3)."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from m2p_core.colour.space import (
    delta_e2000,
    gamut_map_lab,
    hex_to_lab,
    in_srgb_gamut,
    lab_to_hex,
)
from m2p_core.outputs.timeline import (
    FAILURE_SCHEMA,
    TIMELINE_SCHEMA,
    TimelineParams,
    failure_row,
    failures_parquet_bytes,
    is_complete_for,
    read_timeline_metadata,
    timeline_parquet_bytes,
    timeline_row,
)

DESIGN_COLUMNS = {
    "media_id": pa.string(),
    "source_uri": pa.string(),
    "window_index": pa.int32(),
    "start_s": pa.float64(),
    "end_s": pa.float64(),
    "valence": pa.float32(),
    "arousal": pa.float32(),
    "palette_lab": pa.list_(pa.list_(pa.float32())),
    "palette_hex": pa.list_(pa.string()),
    "weights": pa.list_(pa.float32()),
    "model_version": pa.string(),
}

MEDIA_ID = "ab" * 32
URI = "gs://bucket/music/song.mp3"
PARAMS = TimelineParams(model_version="m2p-v0-0123456789ab", window_s=10.0, hop_s=5.0)

# includes colours far outside sRGB and an L* above 100
PALETTE = np.array(
    [
        [60.0, 20.0, 40.0],
        [50.0, 140.0, 60.0],
        [85.0, -120.0, 110.0],
        [30.0, 10.0, -140.0],
        [104.0, 0.0, 0.0],
    ]
)


def _row(window_index: int = 0, **over) -> dict:
    kw = dict(
        media_id=MEDIA_ID,
        source_uri=URI,
        window_index=window_index,
        start_s=5.0 * window_index,
        end_s=5.0 * window_index + 10.0,
        valence_arousal=(0.3, -0.4),
        palette_lab=PALETTE,
        weights=np.array([0.3, 0.2, 0.2, 0.2, 0.1]),
        model_version=PARAMS.model_version,
        padded=False,
        duration_s=42.0,
    )
    kw.update(over)
    return timeline_row(**kw)


def _parquet(rows, media_id=MEDIA_ID, uri=URI, params=PARAMS) -> bytes:
    return timeline_parquet_bytes(rows, media_id, uri, params)


# --- rows --------------------------------------------------------------------------------------


def test_row_has_design_fields():
    row = _row(3)
    assert set(DESIGN_COLUMNS) <= set(row)
    assert set(row) == set(TIMELINE_SCHEMA.names)
    assert row["window_index"] == 3 and isinstance(row["window_index"], int)
    assert row["start_s"] == 15.0 and row["end_s"] == 25.0
    assert row["media_id"] == MEDIA_ID and row["source_uri"] == URI
    assert row["model_version"] == PARAMS.model_version
    assert row["padded"] is False
    assert row["quadrant"] == "Q4"
    assert row["duration_s"] == 42.0
    assert len(row["palette_lab"]) == 5 and all(len(c) == 3 for c in row["palette_lab"])
    assert len(row["palette_hex"]) == 5 and len(row["weights"]) == 5


def test_row_palette_is_gamut_mapped_and_hex_matches():
    row = _row()
    lab = np.asarray(row["palette_lab"], dtype=np.float64)
    np.testing.assert_allclose(lab, gamut_map_lab(PALETTE), atol=1e-4)
    assert in_srgb_gamut(lab, tol=1e-3).all()
    assert (lab[:, 0] >= 0).all() and (lab[:, 0] <= 100).all()
    assert row["palette_hex"] == lab_to_hex(gamut_map_lab(PALETTE))
    for h in row["palette_hex"]:
        assert len(h) == 7 and h.startswith("#") and h == h.lower()
    # the hex colours are the lab colours up to 8-bit quantisation
    assert delta_e2000(hex_to_lab(row["palette_hex"]), lab).max() < 1.0


def test_row_in_gamut_palette_unchanged():
    pal = np.array([[50.0, 10.0, 10.0], [70.0, -10.0, 20.0], [30.0, 5.0, -20.0]])
    row = _row(palette_lab=pal, weights=np.ones(3))
    np.testing.assert_allclose(row["palette_lab"], pal, atol=1e-5)


def test_row_weights_normalised():
    row = _row(weights=np.array([2.0, 0.0, -1.0, 1.0, 1.0]))
    w = np.asarray(row["weights"])
    assert (w >= 0).all()
    assert w.sum() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(w, [0.5, 0.0, 0.0, 0.25, 0.25], atol=1e-7)


@pytest.mark.parametrize("weights", [np.zeros(5), -np.ones(5)])
def test_row_degenerate_weights_become_uniform(weights):
    w = np.asarray(_row(weights=weights)["weights"])
    np.testing.assert_allclose(w, np.full(5, 0.2), atol=1e-7)


@pytest.mark.parametrize(
    ("va", "expected", "quadrant"),
    [
        ((1.7, -3.0), (1.0, -1.0), "Q4"),
        ((-1.2, 1.01), (-1.0, 1.0), "Q2"),
        ((0.25, 0.5), (0.25, 0.5), "Q1"),
        ((-0.5, -0.5), (-0.5, -0.5), "Q3"),
        ((0.0, 0.0), (0.0, 0.0), "Q1"),
    ],
)
def test_row_valence_arousal_clipped(va, expected, quadrant):
    row = _row(valence_arousal=np.asarray(va, dtype=np.float32))
    assert (row["valence"], row["arousal"]) == pytest.approx(expected)
    assert isinstance(row["valence"], float) and isinstance(row["arousal"], float)
    assert row["quadrant"] == quadrant


# --- Parquet -----------------------------------------------------------------------------------


def test_parquet_schema_and_sorting():
    rows = [_row(i) for i in (2, 0, 3, 1)]
    table = pq.read_table(io.BytesIO(_parquet(rows)))
    assert table.schema.remove_metadata().equals(TIMELINE_SCHEMA.remove_metadata())
    for name, typ in DESIGN_COLUMNS.items():
        assert table.schema.field(name).type == typ, name
    assert table.column("window_index").to_pylist() == [0, 1, 2, 3]
    assert table.column("start_s").to_pylist() == [0.0, 5.0, 10.0, 15.0]
    assert table.num_rows == 4
    first = table.slice(0, 1).to_pylist()[0]
    assert first["palette_hex"] == _row(0)["palette_hex"]
    np.testing.assert_allclose(first["palette_lab"], _row(0)["palette_lab"])
    assert sum(first["weights"]) == pytest.approx(1.0, abs=1e-6)


def test_parquet_empty_rows():
    table = pq.read_table(io.BytesIO(_parquet([])))
    assert table.num_rows == 0
    assert table.schema.remove_metadata().equals(TIMELINE_SCHEMA.remove_metadata())


def test_parquet_files_form_a_dataset(tmp_path):
    """docs/ARCHITECTURE.md "Contracts": DIR/timelines is readable with
    pyarrow.dataset.dataset(DIR/timelines)."""
    (tmp_path / "a.parquet").write_bytes(_parquet([_row(0), _row(1)]))
    other = "cd" * 32
    rows_b = [_row(0, media_id=other, source_uri="b.wav")]
    (tmp_path / "b.parquet").write_bytes(_parquet(rows_b, media_id=other, uri="b.wav"))
    table = ds.dataset(str(tmp_path)).to_table()
    assert table.num_rows == 3
    assert sorted(set(table.column("media_id").to_pylist())) == sorted({MEDIA_ID, other})
    assert table.schema.field("palette_lab").type == DESIGN_COLUMNS["palette_lab"]


# --- rerun metadata ----------------------------------------------------------------------------


def test_metadata_round_trip_and_complete():
    meta = read_timeline_metadata(io.BytesIO(_parquet([_row(0)])))
    assert meta == {"media_id": MEDIA_ID, "source_uri": URI, **PARAMS.to_dict()}
    assert is_complete_for(meta, MEDIA_ID, PARAMS)
    # an equal but separately built params object
    assert is_complete_for(meta, MEDIA_ID, TimelineParams(PARAMS.model_version, 10.0, 5.0))


@pytest.mark.parametrize(
    ("media_id", "params"),
    [
        ("ff" * 32, PARAMS),
        (MEDIA_ID, TimelineParams("m2p-v0-ba9876543210", 10.0, 5.0)),
        (MEDIA_ID, TimelineParams(PARAMS.model_version, 8.0, 5.0)),
        (MEDIA_ID, TimelineParams(PARAMS.model_version, 10.0, 2.5)),
    ],
)
def test_metadata_mismatch_is_not_complete(media_id, params):
    meta = read_timeline_metadata(io.BytesIO(_parquet([_row(0)])))
    assert not is_complete_for(meta, media_id, params)


def test_source_uri_does_not_matter_for_completeness():
    """Incrementality is keyed by content: the same file under another name is complete."""
    meta = read_timeline_metadata(io.BytesIO(_parquet([_row(0)], uri="elsewhere/copy.mp3")))
    assert is_complete_for(meta, MEDIA_ID, PARAMS)


@pytest.mark.parametrize("meta", [None, {}])
def test_no_metadata_is_not_complete(meta):
    assert is_complete_for(meta, MEDIA_ID, PARAMS) is False


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage bytes, not parquet", b"PAR1" + b"\0" * 10 + b"PAR1"],
)
def test_metadata_of_garbage_is_none(data):
    assert read_timeline_metadata(io.BytesIO(data)) is None


def test_metadata_of_truncated_or_foreign_parquet_is_none():
    good = _parquet([_row(0), _row(1)])
    assert read_timeline_metadata(io.BytesIO(good[: len(good) // 2])) is None
    buf = io.BytesIO()
    pq.write_table(pa.table({"x": [1, 2]}), buf)
    assert read_timeline_metadata(io.BytesIO(buf.getvalue())) is None


# --- failures ----------------------------------------------------------------------------------


def test_failure_row_from_exception():
    before = datetime.now(timezone.utc)
    row = failure_row("a.mp3", "decode", ValueError("bad header"), run_id="run1", media_id="ab")
    assert set(row) == set(FAILURE_SCHEMA.names)
    assert row["source_uri"] == "a.mp3"
    assert row["stage"] == "decode"
    assert row["error_type"] == "ValueError"
    assert row["message"] == "bad header"
    assert row["media_id"] == "ab"
    assert row["run_id"] == "run1"
    ts = row["timestamp"]
    assert ts.tzinfo is not None and ts.utcoffset().total_seconds() == 0
    assert before <= ts <= datetime.now(timezone.utc)


def test_failure_row_from_message_and_empty_exception():
    row = failure_row("b.wav", "model", "it broke", run_id="r")
    assert row["error_type"] == "Error" and row["message"] == "it broke"
    assert row["media_id"] is None
    row = failure_row("b.wav", "model", RuntimeError(), run_id="r")
    assert row["error_type"] == "RuntimeError"
    assert row["message"] == "RuntimeError()"


def test_failure_message_truncated():
    row = failure_row("c", "s", "x" * 10_000, run_id="r")
    assert len(row["message"]) == 2000


def test_failures_parquet_schema():
    rows = [
        failure_row("a.mp3", "decode", OSError("nope"), "run", media_id=None),
        failure_row("b.mp3", "write", "disk full", "run", media_id="cd" * 32),
    ]
    table = pq.read_table(io.BytesIO(failures_parquet_bytes(rows)))
    assert table.schema.remove_metadata().equals(FAILURE_SCHEMA)
    assert table.column_names == [
        "source_uri",
        "stage",
        "error_type",
        "message",
        "media_id",
        "run_id",
        "timestamp",
    ]
    assert table.schema.field("media_id").nullable
    assert table.column("media_id").to_pylist() == [None, "cd" * 32]
    assert table.column("error_type").to_pylist() == ["OSError", "Error"]
    assert str(table.schema.field("timestamp").type.tz) == "UTC"


def test_failures_parquet_empty():
    table = pq.read_table(io.BytesIO(failures_parquet_bytes([])))
    assert table.num_rows == 0
    assert table.schema.remove_metadata().equals(FAILURE_SCHEMA)
