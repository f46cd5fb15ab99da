"""Run plain functions in worker threads and hand their results to the UI thread through a Qt signal.

The core functions (decode, open a mask, validate) are Qt-free and release the GIL in OpenCV and numpy, so a
thread pool is enough; a :class:`Relay` (a ``QObject`` living in the UI thread) turns each finished job into a
queued signal, so the callbacks always run on the UI thread where widgets may be touched.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal


class Relay(QObject):
    """Delivers ``(callback, result, error)`` from worker threads to the thread this object lives in."""

    finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.finished.connect(self._deliver)

    @staticmethod
    def _deliver(payload: tuple[Callable[[Any, BaseException | None], None], Any, BaseException | None]) -> None:
        callback, result, error = payload
        callback(result, error)


class WorkerPool:
    """A named single- or multi-thread pool whose jobs report back on the UI thread."""

    def __init__(self, name: str, relay: Relay, threads: int = 1) -> None:
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"goodsad-{name}")
        self._relay = relay
        self._running = 0
        self._closed = False

    @property
    def busy(self) -> bool:
        """True while a submitted job has not reported back yet."""
        return self._running > 0

    def submit(self, job: Callable[[], Any], done: Callable[[Any, BaseException | None], None]) -> Future | None:
        """Run ``job()`` in a worker; ``done(result, error)`` is then called on the UI thread (also when the job
        was cancelled before it started: then ``error`` is a ``CancelledError``). After :meth:`shutdown` (the
        window is closing) nothing runs and None is returned: a late callback asking for more work is ignored."""
        if self._closed:
            return None
        self._running += 1

        def finish(result: Any, error: BaseException | None) -> None:
            self._running -= 1
            done(result, error)

        def run() -> None:
            try:
                result, error = job(), None
            except BaseException as exc:  # noqa: BLE001 - every failure is reported to the UI thread
                result, error = None, exc
            self._emit((finish, result, error))

        def report_cancelled(f: Future) -> None:
            if f.cancelled():
                self._emit((finish, None, _cancelled()))

        future = self._executor.submit(run)
        future.add_done_callback(report_cancelled)
        return future

    def _emit(self, payload) -> None:
        try:
            self._relay.finished.emit(payload)
        except RuntimeError:  # the window (and its relay) is gone: nobody is waiting for the result
            pass

    def shutdown(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)


def _cancelled() -> BaseException:
    from concurrent.futures import CancelledError

    return CancelledError()
