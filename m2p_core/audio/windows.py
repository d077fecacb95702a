"""Fixed-length analysis windows over a stream of mono sample chunks.

Window ``k`` covers samples ``[k*hop_n, k*hop_n + window_n)`` with ``hop_n = round(hop_s*sr)`` and
``window_n = round(window_s*sr)``, except the last one: the window that would reach past the end
of the audio is moved back to end with the audio, ``[n - window_n, n)``, so it holds a full
window of real music instead of a tail of silence (a mostly-silent last window once made its own
section with a palette of its own). Only audio shorter than one window gives a zero-padded window
(``padded``). When ``hop_n > window_n`` (gaps between windows) windows are never moved and the
last one may be padded. Windows are emitted as soon as their samples have arrived; the last one
waits for the end of the stream. The buffer never holds more than about one window plus one hop
plus one chunk.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from m2p_core.audio.decode import EmptyMediaError

__all__ = ["Window", "iter_windows", "window_count"]


@dataclass(frozen=True)
class Window:
    """One analysis window; times in seconds on the media timeline."""

    index: int  # 0-based
    start_s: float
    end_s: float  # min(start_s + window_s, media duration): the real audio end if padded
    samples: np.ndarray  # float32, exactly window_n samples, zero-padded past the audio end
    padded: bool  # True if the window extends past the end of the audio


def window_count(n_samples: int, window_n: int, hop_n: int) -> int:
    """Number of windows :func:`iter_windows` yields for ``n_samples`` samples.

    ``max(1, ceil(max(0, n - window_n) / hop_n) + 1)`` for ``n > 0`` when ``hop_n <= window_n``
    (the last window is the first one that reaches the end of the audio). When ``hop_n >
    window_n`` (gaps between windows) it is ``ceil(n / hop_n)``: windows that would start at or
    after the end of the audio are not produced. Zero samples give 0 windows.
    """
    if window_n <= 0 or hop_n <= 0:
        raise ValueError(f"window_n and hop_n must be > 0, got {window_n}, {hop_n}")
    if n_samples <= 0:
        return 0
    if hop_n > window_n:
        return max(1, -(-n_samples // hop_n))
    return max(1, -(-max(0, n_samples - window_n) // hop_n) + 1)


def _window_sizes(sample_rate: int, window_s: float, hop_s: float) -> tuple[int, int]:
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be > 0, got {sample_rate!r}")
    if not (math.isfinite(window_s) and window_s > 0):
        raise ValueError(f"window_s must be > 0, got {window_s!r}")
    if not (math.isfinite(hop_s) and hop_s > 0):
        raise ValueError(f"hop_s must be > 0, got {hop_s!r}")
    window_n = int(round(window_s * sample_rate))
    hop_n = int(round(hop_s * sample_rate))
    if window_n < 1 or hop_n < 1:
        raise ValueError(f"window_s={window_s} / hop_s={hop_s} are shorter than one sample at "
                         f"{sample_rate} Hz")
    return window_n, hop_n


def iter_windows(chunks: Iterable[np.ndarray], sample_rate: int, window_s: float,
                 hop_s: float) -> Iterator[Window]:
    """Cut a stream of mono chunks (any lengths) into windows of ``window_s`` seconds every
    ``hop_s`` seconds (``sample_rate`` in Hz).

    Window ``k`` starts at ``k * hop_s`` seconds (exactly ``k * hop_n / sample_rate``). The
    windows produced are those counted by :func:`window_count`; audio shorter than one window
    gives one padded window. Raises :class:`~m2p_core.audio.decode.EmptyMediaError` if the stream
    holds
    zero samples, ``ValueError`` on non-positive ``window_s`` / ``hop_s``. Validation happens on
    the call, windows are produced lazily.
    """
    window_n, hop_n = _window_sizes(sample_rate, window_s, hop_s)
    return _iter_windows(chunks, sample_rate, window_n, hop_n)


def _iter_windows(chunks: Iterable[np.ndarray], sr: int, window_n: int,
                  hop_n: int) -> Iterator[Window]:
    parts: list[np.ndarray] = []  # pending samples, starting at absolute index buf_start
    buf_start = 0
    buf_n = 0
    skip = 0  # samples still to drop from the incoming stream (gaps when hop_n > window_n)
    total = 0
    k = 0

    def take(lo: int, hi: int) -> np.ndarray:
        """Samples [lo, hi) (absolute indices within the buffer) as a fresh float32 array."""
        nonlocal parts
        if len(parts) > 1:
            parts = [np.concatenate(parts)]
        return parts[0][lo - buf_start:hi - buf_start].copy()

    def drop_before(pos: int) -> None:
        """Forget samples before absolute index ``pos``."""
        nonlocal parts, buf_start, buf_n, skip
        end = buf_start + buf_n
        if pos >= end:
            parts, buf_start, buf_n = [], pos, 0
            skip = pos - end
            return
        if pos > buf_start:
            if len(parts) > 1:
                parts = [np.concatenate(parts)]
            parts = [parts[0][pos - buf_start:]]
            buf_n -= pos - buf_start
            buf_start = pos

    for chunk in chunks:
        x = np.asarray(chunk, dtype=np.float32).reshape(-1)
        total += x.shape[0]
        if skip:
            cut = min(skip, x.shape[0])
            x = x[cut:]
            skip -= cut
        if x.shape[0] == 0:
            continue
        parts.append(x)
        buf_n += x.shape[0]
        start = k * hop_n
        while start + window_n <= buf_start + buf_n:  # window k complete: emit now
            samples = take(start, start + window_n)
            yield Window(k, start / sr, (start + window_n) / sr, samples, False)
            k += 1
            start = k * hop_n
            # keep one hop more than the next window needs: the last window may move back
            drop_before(start if hop_n > window_n else max(0, start - hop_n))

    if total == 0:
        raise EmptyMediaError("audio stream holds zero samples: no analysis window")
    n_windows = window_count(total, window_n, hop_n)
    while k < n_windows:  # the trailing window(s) that reach past the end of the audio
        start = k * hop_n
        if hop_n <= window_n and total >= window_n:  # moved back to end with the audio
            yield Window(k, (total - window_n) / sr, total / sr, take(total - window_n, total),
                         False)
            k += 1
            continue
        samples = np.zeros(window_n, dtype=np.float32)
        if start < total:
            real = take(start, total)
            samples[: real.shape[0]] = real
        yield Window(k, start / sr, min(start + window_n, total) / sr, samples, True)
        k += 1
