"""Measure how long the UI event loop is blocked: a timer that should tick every few milliseconds records the
longest gap between its ticks. Used by the GUI tests and benchmarks/bench_gui_jobs.py while a fit runs."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer


class StallMeter(QObject):
    def __init__(self, interval_ms: int = 5, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.worst_ms = 0.0
        self.worst_at = 0.0  # seconds after start() when the worst stall ended
        self.stalls: list[tuple[float, float]] = []  # (at s, ms) of every stall over 20 ms
        self.ticks = 0
        self.gaps: list[tuple[float, float]] = []  # (at s, ms beyond the interval) of every tick
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.worst_ms, self.ticks, self.stalls, self.gaps = 0.0, 0, [], []
        self._started = self._last = time.perf_counter()
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        stall = (now - self._last) * 1000.0 - self.interval_ms
        self.gaps.append((now - self._started, stall))
        if stall > 20:
            self.stalls.append((now - self._started, stall))
        if stall > self.worst_ms:
            self.worst_ms, self.worst_at = stall, now - self._started
        self._last = now
        self.ticks += 1

    def stop(self) -> float:
        """Stop and return the worst stall beyond the timer interval, in milliseconds."""
        self._timer.stop()
        return self.worst_ms

    def percentile(self, q: float, start: float = 0.0, end: float = float("inf")) -> float:
        """The ``q``-th percentile (0-100) of the stalls of the ticks between ``start`` and ``end`` seconds after
        start(), in milliseconds (0 without ticks)."""
        chosen = [ms for at, ms in self.gaps if start <= at <= end]
        return float(np.percentile(chosen, q)) if chosen else 0.0

    def worst_between(self, start: float, end: float) -> float:
        """The worst stall of the ticks between ``start`` and ``end`` seconds after start(), in milliseconds."""
        return max((ms for at, ms in self.gaps if start <= at <= end), default=0.0)
