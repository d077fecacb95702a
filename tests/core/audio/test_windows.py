"""m2p_core.audio.windows: fixed-length analysis windows from a chunk stream."""

from __future__ import annotations

import math
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from m2p_core import synth
from m2p_core.audio import decode as media
from m2p_core.audio.decode import EmptyMediaError
from m2p_core.audio.windows import Window, iter_windows, window_count

SR = 100  # small rate: exact sample arithmetic, fast tests


def _chunks(x: np.ndarray, sizes: list[int]) -> Iterator[np.ndarray]:
    pos = 0
    i = 0
    while pos < len(x):
        n = sizes[i % len(sizes)]
        yield x[pos: pos + n]
        pos += n
        i += 1


def _reference(x: np.ndarray, window_n: int, hop_n: int) -> list[tuple[int, np.ndarray]]:
    out = []
    for k in range(window_count(len(x), window_n, hop_n)):
        start = k * hop_n
        if start + window_n > len(x) and hop_n <= window_n and len(x) >= window_n:
            start = len(x) - window_n  # the last window ends with the audio
        seg = np.zeros(window_n, dtype=np.float32)
        part = x[start: start + window_n]
        seg[: len(part)] = part
        out.append((start, seg))
    return out


@pytest.mark.parametrize(
    "n, window_n, hop_n, expected",
    [
        (3000, 1000, 500, 5),  # 30 s, window 10, hop 5
        (3200, 1000, 500, 6),  # 32 s: last window padded
        (3001, 1000, 500, 6),
        (1000, 1000, 500, 1),
        (999, 1000, 500, 1),  # shorter than one window
        (1, 1000, 500, 1),
        (0, 1000, 500, 0),
        (2500, 1000, 1000, 3),
        (2500, 1000, 2000, 2),  # hop > window: gaps
        (2000, 1000, 2000, 1),
        (2001, 1000, 2000, 2),
    ],
)
def test_window_count(n: int, window_n: int, hop_n: int, expected: int) -> None:
    assert window_count(n, window_n, hop_n) == expected


def test_window_count_matches_formula_when_hop_le_window() -> None:
    for n in range(1, 400, 7):
        for w in (10, 37, 100):
            for h in (1, 5, 10, 37):
                if h > w:
                    continue
                assert window_count(n, w, h) == max(1, math.ceil(max(0, n - w) / h) + 1)


def test_thirty_seconds() -> None:
    x = np.arange(30 * SR, dtype=np.float32)
    ws = list(iter_windows(_chunks(x, [2 * SR]), SR, 10.0, 5.0))
    assert [w.index for w in ws] == [0, 1, 2, 3, 4]
    assert [w.start_s for w in ws] == [0.0, 5.0, 10.0, 15.0, 20.0]
    assert [w.end_s for w in ws] == [10.0, 15.0, 20.0, 25.0, 30.0]
    assert not any(w.padded for w in ws)


def test_thirty_two_seconds_last_window_ends_with_the_audio() -> None:
    """The window that would reach past the end moves back: a full window of real audio, no
    tail of silence (which once made a section and a palette of its own)."""
    x = np.arange(32 * SR, dtype=np.float32)
    ws = list(iter_windows(_chunks(x, [2 * SR]), SR, 10.0, 5.0))
    assert len(ws) == 6
    last = ws[-1]
    assert not last.padded and last.start_s == 22.0 and last.end_s == 32.0
    np.testing.assert_array_equal(last.samples, x[22 * SR:])
    assert not any(w.padded for w in ws)


def test_short_media_single_padded_window() -> None:
    x = np.full(int(3.5 * SR), 0.25, dtype=np.float32)
    (w,) = list(iter_windows([x], SR, 10.0, 5.0))
    assert isinstance(w, Window)
    assert w.index == 0 and w.start_s == 0.0 and w.end_s == 3.5 and w.padded
    assert w.samples.dtype == np.float32 and w.samples.shape == (10 * SR,)
    np.testing.assert_array_equal(w.samples[:350], x)
    assert not w.samples[350:].any()


@pytest.mark.parametrize(
    "n, window_s, hop_s, sizes",
    [
        (3000, 10.0, 5.0, [200]),
        (3200, 10.0, 5.0, [1, 7, 333, 50, 1000, 2]),
        (3137, 4.0, 1.5, [97]),
        (2501, 10.0, 20.0, [64, 300]),  # gaps
        (5000, 3.0, 3.0, [5000]),  # one chunk
        (777, 1.0, 0.01, [13]),
    ],
)
def test_samples_match_slicing(n: int, window_s: float, hop_s: float, sizes: list[int]) -> None:
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    window_n, hop_n = round(window_s * SR), round(hop_s * SR)
    ws = list(iter_windows(_chunks(x, sizes), SR, window_s, hop_s))
    ref = _reference(x, window_n, hop_n)
    assert len(ws) == len(ref) == window_count(n, window_n, hop_n)
    for w, (start, seg) in zip(ws, ref, strict=True):
        np.testing.assert_array_equal(w.samples, seg)
        assert w.start_s == pytest.approx(start / SR)
        assert w.end_s == pytest.approx(min(start + window_n, n) / SR)
        assert w.padded == (start + window_n > n)
    assert not ws[-1].padded or n < window_n or hop_n > window_n


def test_float64_and_2d_chunks_are_flattened_to_float32() -> None:
    x = np.linspace(-1, 1, 1500)
    ws = list(iter_windows([x[:700].reshape(1, -1), x[700:]], SR, 5.0, 5.0))
    assert all(w.samples.dtype == np.float32 for w in ws)
    np.testing.assert_allclose(np.concatenate([w.samples for w in ws[:3]]), x.astype(np.float32))


@pytest.mark.parametrize("chunks", [[], [np.zeros(0, dtype=np.float32)] * 3])
def test_empty_stream_raises(chunks: list[np.ndarray]) -> None:
    with pytest.raises(EmptyMediaError):
        list(iter_windows(iter(chunks), SR, 10.0, 5.0))


@pytest.mark.parametrize("window_s, hop_s", [(0.0, 5.0), (-1.0, 5.0), (10.0, 0.0),
                                             (10.0, -2.0), (float("nan"), 1.0)])
def test_invalid_sizes(window_s: float, hop_s: float) -> None:
    with pytest.raises(ValueError):
        iter_windows([np.zeros(10, dtype=np.float32)], SR, window_s, hop_s)


def test_windows_emitted_before_stream_ends() -> None:
    chunk_n = 2 * SR
    n_chunks = 1000  # 2000 s
    consumed = 0

    def source() -> Iterator[np.ndarray]:
        nonlocal consumed
        for i in range(n_chunks):
            consumed += 1
            yield np.full(chunk_n, i, dtype=np.float32)

    window_n, hop_n = 10 * SR, 5 * SR
    gen = iter_windows(source(), SR, 10.0, 5.0)
    for k in range(20):
        w = next(gen)
        assert w.index == k
        # window k needs samples up to k*hop + window: no more chunks than that were pulled
        assert consumed == math.ceil((k * hop_n + window_n) / chunk_n)
        assert w.samples[0] == (k * hop_n) // chunk_n
    rest = list(gen)
    assert consumed == n_chunks
    assert len(rest) + 20 == window_count(n_chunks * chunk_n, window_n, hop_n)


def test_memory_bounded_by_window_plus_chunk() -> None:
    sr = 8000
    chunk_n = 2 * sr
    n_chunks = 900  # 30 minutes at 8 kHz: 57.6 MB as float32 if held

    def source() -> Iterator[np.ndarray]:
        for i in range(n_chunks):
            yield np.full(chunk_n, i % 7, dtype=np.float32)

    tracemalloc.start()
    try:
        count = 0
        for w in iter_windows(source(), sr, 10.0, 5.0):
            count += 1
            assert w.samples.shape == (10 * sr,)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == window_count(n_chunks * chunk_n, 10 * sr, 5 * sr)
    window_bytes = 10 * sr * 4
    chunk_bytes = chunk_n * 4
    assert peak < 4 * (window_bytes + chunk_bytes)


def test_end_to_end_with_decoded_media(tmp_path: Path) -> None:
    sr = 16000
    path = tmp_path / "music.flac"
    synth.write_audio(path, synth.synthesize_music(synth.PRESETS["calm"], 32.0, sr), sr)
    ws = list(iter_windows(media.iter_audio(path, sr, chunk_s=2.0), sr, 10.0, 5.0))
    assert len(ws) == 6
    assert not ws[-1].padded and ws[-1].end_s == pytest.approx(32.0)
    assert ws[-1].start_s == pytest.approx(22.0)
    whole = media.decode_audio(path, sr)
    np.testing.assert_array_equal(ws[3].samples, whole[15 * sr: 25 * sr])
