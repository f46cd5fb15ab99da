"""Pace, time left and a progress bar for the stages of a job, measured and drawn by tqdm.

A :class:`StageMeter` takes a job's events (:mod:`goodsad_studio.progress`): ``Progress`` reports move the meter,
``TrainingStatus`` reports add the epoch and loss to its line. Each stage gets a
tqdm meter of its own, so the rate and the time left (tqdm's smoothed rate) belong to the stage that runs now; a
stage starts when the report's ``stage`` or ``total`` changes or its count goes back (the next method or category of
an evaluation starts at 0 again). Where it draws:

- no stream (the studio's job list): nothing is drawn; :meth:`StageMeter.remaining` gives the time left;
- a terminal: tqdm's live bar, one line kept per finished stage;
- anything else (a CI log, a pipe, a file): plain lines, no carriage returns: one when a stage ends and one every
  ``log_every_s`` seconds while it runs.
"""

from __future__ import annotations

import math
import time
from typing import TextIO

from tqdm import tqdm

from goodsad_studio.progress import Event, Progress, TrainingStatus


class _Meter(tqdm):  # type: ignore[type-arg]  # tqdm's stubs make it generic over the iterable, unused here
    monitor_interval = 0  # no tqdm monitor thread: the meters are updated often enough by their reports


class _Discard:
    """Where a meter that draws nothing writes."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def format_eta(seconds: float | None) -> str:
    """ "ETA 01:23" (tqdm's interval format, whole seconds rounded up: a job with 0.4 s to go shows 00:01, not
    00:00), or "ETA —" while the pace is not known."""
    return "ETA —" if seconds is None else f"ETA {tqdm.format_interval(math.ceil(max(seconds, 0.0)))}"


class StageMeter:
    """Measures (and, given a stream, shows) the progress of a job's stages; see the module docstring."""

    def __init__(self, stream: TextIO | None = None, *, log_every_s: float = 30.0) -> None:
        self.stream = stream
        self.interactive = stream is not None and stream.isatty()
        self.log_every_s = log_every_s
        self._meter: _Meter | None = None
        self._stage = ""
        self._total: int | None = None
        self._reports = 0  # reports in the current stage: a stage told once (from a cache) has no pace
        self._detail = ""
        self._logged_at = 0.0
        self.training: TrainingStatus | None = None  # the last training report, for the job list

    def __call__(self, event: Event) -> None:
        if isinstance(event, TrainingStatus):
            self.training = event
            return
        progress: Progress = event
        meter = self._meter
        if meter is None or progress.stage != self._stage or progress.total != self._total or progress.done < meter.n:
            self.close()
            self._stage, self._total = progress.stage, progress.total
            meter = self._meter = self._start(progress)
            self._reports = 0
        self._reports += 1
        self._detail = progress.detail
        if self.interactive:
            meter.set_postfix_str(self.postfix(), refresh=False)
        meter.update(progress.done - meter.n)
        if progress.total is not None and progress.done >= progress.total:
            self.close()
        elif self.stream is not None and not self.interactive:
            now = time.monotonic()
            if now - self._logged_at >= self.log_every_s:
                self._log_line(meter)
                self._logged_at = now

    def postfix(self) -> str:
        """The detail line, with the epoch and loss while a network trains."""
        training = self.training
        if training is None or self._stage != "train":
            return self._detail[:40]
        return f"{self._detail[:30]} epoch {training.epoch}/{training.epochs} loss {training.loss:.4g}"

    def remaining(self) -> float | None:
        """Seconds left in the current stage at its smoothed pace; None before the pace is known or between stages."""
        meter = self._meter
        if meter is None or not meter.total:
            return None
        left = meter.total - meter.n
        rate = meter.format_dict["rate"]
        if not rate:  # tqdm has no smoothed rate yet: the average pace of the stage so far
            elapsed = meter.format_dict["elapsed"]
            rate = meter.n / elapsed if meter.n and elapsed else None
        return left / rate if rate else None

    def close(self) -> None:
        """Ends the current stage: on a terminal its bar stays as a line; in a log, its last line is written."""
        meter, self._meter = self._meter, None
        if meter is None:
            return
        if self.stream is not None and not self.interactive:
            self._log_line(meter)
        meter.close()

    def _start(self, progress: Progress) -> _Meter:
        self._logged_at = time.monotonic()
        return _Meter(
            total=progress.total or None,
            desc=progress.stage,
            file=self.stream if self.interactive else _Discard(),
            leave=self.interactive,
            mininterval=0.1 if self.interactive else 0.0,
            dynamic_ncols=self.interactive,
        )

    def _log_line(self, meter: _Meter) -> None:
        assert self.stream is not None
        stats = meter.format_dict
        elapsed, rate = (stats["elapsed"], stats["rate"]) if self._reports > 1 else (0.0, None)
        line = tqdm.format_meter(
            stats["n"], stats["total"], elapsed, ncols=100, prefix=stats["prefix"], ascii=True,
            postfix=self.postfix() or None, rate=rate,
        )  # fmt: skip
        self.stream.write(line + "\n")
        self.stream.flush()
