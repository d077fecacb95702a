"""Throttled progress lines for long local runs: counts (files, windows, frames, ...) printed
at most every few seconds, never one line per element.

A process-wide :data:`PROGRESS` is shared by all the DoFns running in a worker, so their counts
appear on one line. The first line appears only after ``interval_s`` (short runs stay quiet).
``M2P_PROGRESS_S`` sets the interval (``0`` disables progress output).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO


def _default_interval() -> float:
    try:
        return float(os.environ.get("M2P_PROGRESS_S", "5"))
    except ValueError:
        return 5.0


class Progress:
    def __init__(self, interval_s: float | None = None, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = _default_interval() if interval_s is None else interval_s
        self._stream = stream
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._start = clock()
        self._last = self._start
        self.lines = 0

    def add(self, what: str, n: int = 1) -> None:
        """Count ``n`` more of ``what``; print a summary line if the interval has passed."""
        with self._lock:
            self._counts[what] = self._counts.get(what, 0) + int(n)
            now = self._clock()
            if self.interval_s <= 0 or now - self._last < self.interval_s:
                return
            self._last = now
            line = self.text(now)
        stream = self._stream or sys.stderr
        print(line, file=stream, flush=True)
        self.lines += 1

    def text(self, now: float | None = None) -> str:
        now = self._clock() if now is None else now
        parts = ", ".join(f"{v} {k}" for k, v in self._counts.items())
        return f"[m2p {now - self._start:6.0f} s] {parts}"

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._start = self._last = self._clock()


PROGRESS = Progress()
