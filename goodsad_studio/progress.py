"""One meaning of progress and one cancel check, shared by the methods, the engine, the CLI and the studio.

A job reports :class:`Progress` (a stage, ``done`` of ``total`` items, ``total`` None while unknown, never 0) and,
while it trains a network, :class:`TrainingStatus`. A :class:`Monitor` is what a job is given: it turns calls to
:meth:`Monitor.stage`, :meth:`Monitor.advance` and :meth:`Monitor.status` into those events for whoever listens,
and :meth:`Monitor.check` is the only cancel check anywhere (it raises :class:`~goodsad_studio.errors.Cancelled`).
Plain data, no torch, picklable: the events cross the worker pipe as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from goodsad_studio.errors import Cancelled


class Stage(StrEnum):
    """What a job is doing; each stage gets a progress bar (and a time left) of its own."""

    LOAD = "load"
    FEATURES = "features"
    CORESET = "coreset"
    TRAIN = "train"
    PREDICT = "predict"
    EVALUATE = "evaluate"
    EXPORT = "export"


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` items of ``stage`` (``total`` None: not known in advance), and a detail line."""

    stage: Stage
    done: int
    total: int | None
    detail: str = ""

    def __post_init__(self) -> None:
        if self.total is not None and self.total < 1:
            raise ValueError(f"a progress total is None (unknown) or at least 1, got {self.total}")


@dataclass(frozen=True)
class TrainingStatus:
    """Where a training job is (``epoch`` counts from 1) and its last loss."""

    epoch: int
    epochs: int
    step: int
    total_steps: int
    loss: float


Event = Progress | TrainingStatus
"""What a job reports while it runs: zero or more of these, then one result or one failure."""


class CancelFlag(Protocol):
    """A ``threading.Event`` or a ``multiprocessing.Event``: all the monitor asks is whether it is set."""

    def is_set(self) -> bool: ...


class Monitor:
    """What a job reports progress to and asks whether to stop; see the module docstring.

    ``checkpoint_dir`` is where a method that checkpoints its training writes them (the engine's layout decides;
    None: no checkpoints)."""

    def __init__(
        self,
        on_event: Callable[[Event], None] | None = None,
        cancel: CancelFlag | None = None,
        *,
        checkpoint_dir: Path | None = None,
        detail: str = "",
    ) -> None:
        self._on_event = on_event
        self._cancel = cancel
        self.checkpoint_dir = checkpoint_dir
        self.detail = detail
        self._stage = Stage.LOAD
        self._total: int | None = None
        self._stage_detail = detail

    def derive(self, *, checkpoint_dir: Path | None = None, detail: str = "") -> Monitor:
        """A monitor for part of this job: the same listener and cancel flag, its own checkpoints and detail."""
        return Monitor(self._on_event, self._cancel, checkpoint_dir=checkpoint_dir, detail=detail or self.detail)

    @property
    def cancelled(self) -> bool:
        return self._cancel is not None and self._cancel.is_set()

    def check(self, what: str = "") -> None:
        """Raise :class:`Cancelled` when the job has been cancelled (``what``: for the message)."""
        if self.cancelled:
            raise Cancelled(f"{what} cancelled" if what else "cancelled by the user")

    def stage(self, stage: Stage, total: int | None, detail: str = "") -> None:
        """A new stage starts, of ``total`` items (None: not known); reported at 0 done."""
        self._stage, self._total = stage, (total if total else None)
        self._stage_detail = detail or self.detail
        self._emit(Progress(stage, 0, self._total, self._stage_detail))

    def advance(self, done: int, detail: str = "") -> None:
        """``done`` items of the current stage are finished (``detail``: the stage's, unless given)."""
        self._emit(Progress(self._stage, done, self._total, detail or self._stage_detail))

    def status(self, status: TrainingStatus) -> None:
        self._emit(status)

    def forward(self, event: Event) -> None:
        """Pass on an event made elsewhere (the summed events of a sharding executor's tasks) as it is."""
        self._emit(event)

    def _emit(self, event: Event) -> None:
        if self._on_event is not None:
            self._on_event(event)


NO_MONITOR = Monitor()
"""A monitor that reports to nobody and is never cancelled."""
