"""Background engine jobs (fit, predict, evaluate, export) with progress, ETA and cancel, and the list of them.

A :class:`Job` runs one callable on a ``QThreadPool`` thread. The callable receives ``progress`` (a function taking
the job's events, :mod:`goodsad_studio.progress`: ``Progress`` and ``TrainingStatus``) and ``cancel`` (a
``threading.Event``); the engine's monitor checks the event between batches and raises ``Cancelled``. Progress and
the outcome travel back to the UI thread as Qt signals (queued across threads), so the event loop never waits on a
job. The public signals ``progressed`` and
``finished`` are emitted on the UI thread, after the job's own fields (``stage``, ``done``, ``state``...) took the
new values: every listener, and every widget it updates, sees the same job in the same event-loop turn.

The engine's jobs (fit, predict, evaluate, export) do not compute on that thread: their callable waits there for
the studio's worker process (:mod:`goodsad_studio.engine.transports.process`), which does the torch work;
torch in a thread of this process would hold the interpreter lock and stall the event loop. The pool thread only
relays progress and forwards a cancel, so everything above holds for them unchanged; a cancelled engine job
whose step does not return within a few seconds is ended with its worker (``transports.process``), so Cancel
always ends a job promptly and the next queued one starts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from goodsad_studio.engine.progress_meter import StageMeter
from goodsad_studio.errors import Cancelled
from goodsad_studio.progress import Progress, TrainingStatus


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job(QObject):
    """One background job; see the module docstring. ``result``/``error`` hold the outcome once finished."""

    progressed = Signal(object)  # a Progress or TrainingStatus, on the UI thread once the job's fields show it
    finished = Signal(object)  # the job itself, on the UI thread once ``state`` is final and ``on_done`` ran
    _reported = Signal(object)  # from the pool thread: an event
    _ended = Signal(object)  # from the pool thread: the work returned or raised

    def __init__(self, title: str, work: Callable[..., Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.work = work
        self.cancel_event = threading.Event()
        self.state = JobState.QUEUED
        self.stage = ""
        self.detail = ""
        self.done = 0
        self.total: int | None = None
        self.training: TrainingStatus | None = None  # the last report of a training job
        self.result: Any = None
        self.error: BaseException | None = None
        self._meter = StageMeter()  # the stage's pace and time left (tqdm), drawn by the job list, not here
        self.started = 0.0
        self.seconds = 0.0  # how long it ran, once finished
        self._outcome = JobState.QUEUED
        self.on_done: list[Callable[[Job], None]] = []
        self._reported.connect(self._on_progress)  # queued: the job lives in the UI thread
        self._ended.connect(self._settle)

    @property
    def running(self) -> bool:
        return self.state in (JobState.QUEUED, JobState.RUNNING)

    @property
    def skipped(self) -> tuple[tuple[str, str], ...]:
        """The images a finished engine job left out, as (path, reason) (``Fitted``/``Predicted``/``Evaluated``
        ``.skipped``: unreadable, refused by their header, damaged, or with an unusable mask); empty otherwise."""
        if self.state != JobState.DONE:
            return ()
        return tuple((str(path), str(reason)) for path, reason in getattr(self.result, "skipped", ()) or ())

    def cancel(self) -> None:
        self.cancel_event.set()

    def eta(self) -> float | None:
        """Seconds left in the current stage at its smoothed pace (None until the pace is known)."""
        return self._meter.remaining()

    def _settle(self, _job) -> None:
        """On the UI thread: the state changes, the callbacks run and ``finished`` is emitted in one step, so
        nobody sees a finished job whose results have not been delivered yet, nor a job row that still says it
        runs (each queued slot of a cross-thread signal is a separate event, and events may run in between)."""
        self.state = self._outcome
        self._meter.close()
        for callback in self.on_done:
            callback(self)
        self.finished.emit(self)

    def _on_progress(self, event: Progress | TrainingStatus) -> None:
        if not self.running:
            return
        self._meter(event)
        self.state = JobState.RUNNING
        if isinstance(event, TrainingStatus):
            self.training = event
        else:
            self.stage = event.stage
            self.done, self.total, self.detail = event.done, event.total, event.detail
        self.progressed.emit(event)

    def _run(self) -> None:  # on the pool thread
        self.started = time.monotonic()
        self.state = JobState.RUNNING
        try:
            self.result = self.work(progress=self._reported.emit, cancel=self.cancel_event)
            outcome = JobState.DONE
        except BaseException as exc:  # noqa: BLE001 - shown to the user, never lost
            self.error = exc
            outcome = (
                JobState.CANCELLED if isinstance(exc, Cancelled) or self.cancel_event.is_set() else JobState.FAILED
            )
        self.seconds = time.monotonic() - self.started
        self._outcome = outcome  # becomes ``state`` when the UI thread receives ``_ended``
        try:
            self._ended.emit(self)
        except RuntimeError:  # the window is gone
            pass


def skipped_line(skipped: tuple[tuple[str, str], ...], root: Path | None = None) -> str:
    """``N images skipped: PATH — reason`` of the first one (as the CLI says it), and how many more there are;
    a path inside ``root`` (the open dataset) is shown relative to it, so that the reason fits a status line."""
    if not skipped:
        return ""
    count = len(skipped)
    path, reason = skipped[0]
    if root is not None and Path(path).is_relative_to(root):
        path = str(Path(path).relative_to(root))
    more = f" (and {count - 1} more: see the job list)" if count > 1 else ""
    return f"{count} image{'s' if count != 1 else ''} skipped: {path} — {reason}{more}"


def skipped_list(skipped: tuple[tuple[str, str], ...], limit: int | None = None) -> str:
    """Every skipped image on its own line ``PATH — reason`` (the first ``limit`` ones, and how many are left)."""
    shown = skipped if limit is None else skipped[:limit]
    lines = [f"{path} — {reason}" for path, reason in shown]
    if len(shown) < len(skipped):
        lines.append(f"… and {len(skipped) - len(shown)} more (Details lists them all)")
    count = len(skipped)
    return "\n".join([f"{count} image{'s' if count != 1 else ''} skipped:", *lines])


class _Runnable(QRunnable):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job
        self.setAutoDelete(True)

    def run(self) -> None:
        self.job._run()


class JobRunner(QObject):
    """Starts jobs on its own thread pool (one at a time by default: the CPU or GPU is shared) and keeps the list."""

    job_added = Signal(object)
    job_finished = Signal(object)

    def __init__(self, parent: QObject | None = None, threads: int = 1) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self.jobs: list[Job] = []

    def start(self, title: str, work: Callable[..., Any], on_done: Callable[[Job], None] | None = None) -> Job:
        """Queue ``work(progress=..., cancel=...)``; ``on_done(job)`` runs on the UI thread when it ends."""
        job = Job(title, work, self)
        if on_done is not None:
            job.on_done.append(on_done)
        job.on_done.append(self.job_finished.emit)
        self.jobs.append(job)
        self.job_added.emit(job)
        self.pool.start(_Runnable(job))
        return job

    @property
    def busy(self) -> bool:
        return any(job.running for job in self.jobs)

    def cancel_all(self) -> None:
        for job in self.jobs:
            job.cancel()

    def shutdown(self, wait_ms: int = 5000) -> None:
        """Cancel everything and wait a little for the threads (a batch in flight finishes first)."""
        self.cancel_all()
        self.pool.clear()
        self.pool.waitForDone(wait_ms)
