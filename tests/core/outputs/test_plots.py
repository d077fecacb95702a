"""Tests for m2p_core.outputs.plots: timeline PNG rendering and Russell quadrants."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from m2p_core.outputs.plots import quadrant_of, render_timeline_png

WINDOW_S = 10.0
HOP_S = 5.0

# Six distinct, saturated first colours (one per window) plus filler colours.
FIRST_COLOURS = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4"]
FILLERS = ["#000000", "#808080", "#ffffff", "#46f0f0"]
VA = [(0.8, 0.7), (-0.6, 0.5), (-0.7, -0.8), (0.4, -0.6), (0.0, 0.0), (0.9, 0.9)]


def _rows(n: int = 6) -> list[dict]:
    rows = []
    for i in range(n):
        palette = [FIRST_COLOURS[i % len(FIRST_COLOURS)], *FILLERS]
        rows.append(
            {
                "media_id": "abc",
                "window_index": i,
                "start_s": i * HOP_S,
                "end_s": i * HOP_S + WINDOW_S,
                "valence": VA[i % len(VA)][0],
                "arousal": VA[i % len(VA)][1],
                "palette_hex": palette,
                "weights": [0.4, 0.25, 0.15, 0.12, 0.08],
                "padded": i == n - 1,
            }
        )
    return rows


def _pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int16)


def _contains_colour(pixels: np.ndarray, hex_colour: str, tol: int = 3) -> bool:
    target = np.array([int(hex_colour[k : k + 2], 16) for k in (1, 3, 5)], dtype=np.int16)
    return bool(np.any(np.all(np.abs(pixels - target) <= tol, axis=-1)))


def test_render_writes_png_with_expected_size_and_palette_colours(tmp_path: Path) -> None:
    out = tmp_path / "timeline.png"
    render_timeline_png(_rows(), out, title="synthetic", dpi=100)
    assert out.exists()
    with Image.open(out) as im:
        assert im.format == "PNG"
        assert im.size == (1200, 600)  # 12 x 6 inches at 100 dpi
    pixels = _pixels(out)
    for colour in FIRST_COLOURS:
        assert _contains_colour(pixels, colour), colour
    # No temporary files left behind by the atomic write.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["timeline.png"]


def test_default_dpi_size_and_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "t.png"
    out.write_bytes(b"stale")
    render_timeline_png(_rows(), str(out))
    with Image.open(out) as im:
        assert im.size == (1320, 660)


def test_single_window(tmp_path: Path) -> None:
    out = tmp_path / "one.png"
    rows = _rows(1)
    rows[0]["end_s"] = 3.5  # media shorter than one window
    render_timeline_png(rows, out)
    assert _contains_colour(_pixels(out), FIRST_COLOURS[0])


def test_unsorted_rows_render_like_sorted(tmp_path: Path) -> None:
    rows = _rows()
    shuffled = [rows[i] for i in (3, 0, 5, 1, 4, 2)]
    a, b = tmp_path / "sorted.png", tmp_path / "shuffled.png"
    render_timeline_png(rows, a, title="t")
    render_timeline_png(shuffled, b, title="t")
    assert np.array_equal(_pixels(a), _pixels(b))


def test_pyarrow_table_input_matches_list_input(tmp_path: Path) -> None:
    rows = _rows()
    table = pa.Table.from_pylist(rows).cast(
        pa.schema(
            [
                ("media_id", pa.string()),
                ("window_index", pa.int32()),
                ("start_s", pa.float64()),
                ("end_s", pa.float64()),
                ("valence", pa.float32()),
                ("arousal", pa.float32()),
                ("palette_hex", pa.list_(pa.string())),
                ("weights", pa.list_(pa.float32())),
                ("padded", pa.bool_()),
            ]
        )
    )
    a, b = tmp_path / "list.png", tmp_path / "table.png"
    render_timeline_png(rows, a, title="t")
    render_timeline_png(table, b, title="t")
    pixels = _pixels(b)
    for colour in FIRST_COLOURS:
        assert _contains_colour(pixels, colour), colour
    assert np.array_equal(_pixels(a), pixels)


def test_rows_without_padded_column_and_variable_k(tmp_path: Path) -> None:
    rows = _rows(3)
    for r in rows:
        del r["padded"]
    rows[1]["palette_hex"] = rows[1]["palette_hex"][:3]
    rows[1]["weights"] = [0.5, 0.3, 0.2]
    out = tmp_path / "k.png"
    render_timeline_png(rows, out)
    assert _contains_colour(_pixels(out), FIRST_COLOURS[1])


def test_many_windows_is_fast(tmp_path: Path) -> None:
    rows = _rows(700)  # about an hour of audio at hop 5 s
    out = tmp_path / "long.png"
    t0 = time.perf_counter()
    render_timeline_png(rows, out)
    assert time.perf_counter() - t0 < 10.0
    assert os.path.getsize(out) > 0


def test_empty_rows_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        render_timeline_png([], tmp_path / "empty.png")
    assert not any(tmp_path.iterdir())


def test_mismatched_weights_rejected(tmp_path: Path) -> None:
    rows = _rows(2)
    rows[0]["weights"] = [1.0]
    with pytest.raises(ValueError):
        render_timeline_png(rows, tmp_path / "bad.png")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("valence", "arousal", "expected"),
    [
        (0.5, 0.5, "Q1"),
        (-0.5, 0.5, "Q2"),
        (-0.5, -0.5, "Q3"),
        (0.5, -0.5, "Q4"),
        (0.0, 0.0, "Q1"),
        (0.0, -0.1, "Q4"),
        (-0.1, 0.0, "Q2"),
        (1.0, -1.0, "Q4"),
    ],
)
def test_quadrant_of(valence: float, arousal: float, expected: str) -> None:
    assert quadrant_of(valence, arousal) == expected
