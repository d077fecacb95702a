"""Throttled progress lines for long local runs: counts (files, windows, frames, ...) printed
at most every few seconds, never one line per element.

A process-wide :data:`PROGRESS` is shared by all the DoFns running in a worker, so their counts
appear on one line. The first line appears only after ``interval_s`` (short runs stay quiet).
``M2P_PROGRESS_S`` sets the interval (``0`` disables progress output).

Work whose size is known ahead (a video's frames, a report's tracks) is a :class:`Task`
(:meth:`Progress.begin`): the line then shows it as done/total with an ETA, e.g.
``[m2p     12 s] 310 frames | clip.mp4 310/900 frames, ETA 24 s``.
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


class Task:
    """One piece of work of known size on a :class:`Progress` line (see :meth:`Progress.begin`)."""

    def __init__(self, progress: Progress, label: str, total: int, what: str) -> None:
        self.progress, self.label, self.total, self.what = progress, label, max(0, total), what
        self.done = 0
        self.started = progress._clock()

    def add(self, n: int = 1) -> None:
        """``n`` more done (counted on the line's ``what`` too); may print the line."""
        self.done += int(n)
        self.progress.add(self.what, n)

    def finish(self) -> None:
        """The task leaves the line (its counts stay in the totals)."""
        with self.progress._lock:
            if self in self.progress._tasks:
                self.progress._tasks.remove(self)

    def text(self, now: float) -> str:
        total = max(self.total, self.done)
        eta = ""
        elapsed = now - self.started
        if 0 < self.done < total and elapsed > 0:
            eta = f", ETA {format_duration((total - self.done) * elapsed / self.done)}"
        return f"{self.label} {self.done}/{total} {self.what}{eta}"


class Progress:
    def __init__(self, interval_s: float | None = None, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = _default_interval() if interval_s is None else interval_s
        self._stream = stream
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._tasks: list[Task] = []
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

    def begin(self, label: str, total: int, what: str = "frames") -> Task:
        """A task of ``total`` units of ``what`` (a video's frames): shown as done/total with an
        ETA from its own rate until :meth:`Task.finish`."""
        task = Task(self, label, total, what)
        with self._lock:
            self._tasks.append(task)
        return task

    def text(self, now: float | None = None) -> str:
        now = self._clock() if now is None else now
        parts = ", ".join(f"{v} {k}" for k, v in self._counts.items())
        tasks = "; ".join(t.text(now) for t in self._tasks[-3:])
        return f"[m2p {now - self._start:6.0f} s] {parts}" + (f" | {tasks}" if tasks else "")

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._tasks.clear()
            self._start = self._last = self._clock()


PROGRESS = Progress()


def format_duration(seconds: float) -> str:
    """``"45 s"``, ``"4 min 05 s"``, ``"2 h 07 min"``."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class RunProgress:
    """The progress of a run over a known number of inputs (a chunked local run updates it
    after each chunk): ``done/total inputs (written, skipped, failed), ETA``. Throttled like
    :class:`Progress`: a line at most every ``interval_s`` (``M2P_PROGRESS_S``, default 5;
    0 = never), the first only once that much time has passed, so short runs stay quiet.
    The ETA assumes the remaining inputs go at the average pace so far."""

    def __init__(self, total: int, interval_s: float | None = None,
                 stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic,
                 what: str = "inputs") -> None:
        self.total = int(total)
        self.interval_s = _default_interval() if interval_s is None else interval_s
        self.what = what
        self._stream = stream
        self._clock = clock
        self._start = self._last = clock()
        self.done = self.written = self.skipped = self.failed = 0
        self.lines = 0

    def update(self, done: int, written: int, skipped: int, failed: int) -> None:
        """Set the running totals; print a line if the interval has passed."""
        self.done, self.written, self.skipped, self.failed = done, written, skipped, failed
        now = self._clock()
        if self.interval_s <= 0 or now - self._last < self.interval_s:
            return
        self._last = now
        print(self.text(now), file=self._stream or sys.stderr, flush=True)
        self.lines += 1

    def eta_s(self, now: float | None = None) -> float | None:
        now = self._clock() if now is None else now
        if self.done <= 0:
            return None
        return (now - self._start) / self.done * max(0, self.total - self.done)

    def text(self, now: float | None = None) -> str:
        now = self._clock() if now is None else now
        eta = self.eta_s(now)
        return (f"[m2p {now - self._start:6.0f} s] {self.done}/{self.total} {self.what} "
                f"({self.written} written, {self.skipped} skipped, {self.failed} failed), "
                f"ETA {'?' if eta is None else format_duration(eta)}")
