"""Engine jobs in a worker process, so that torch never holds the studio's interpreter lock.

Torch operators hold the GIL for tens of milliseconds at a time (``unfold`` on a batch of feature maps: 40 ms and
more), which froze the studio's event loop for 100-270 ms while a job ran in one of its threads. The studio
therefore runs the jobs of built-in methods in one long-lived child process:

* :class:`EngineProcess` (the studio's side, no Qt) starts the child with the ``spawn`` method (a Qt process must
  never fork) on the first job and reuses it, since importing torch costs seconds; it runs one job at a time.
  :meth:`EngineProcess.run` sends a :class:`~goodsad_studio.engine.job_requests.JobRequest` and waits on the reply
  pipe (the wait releases the GIL), handing each engine ``Progress`` to a callback, and returns what the job gave
  back or raises what it raised.
* Cancelling sets a ``multiprocessing.Event`` that the engine checks as it checks a ``threading.Event``.
* When the child dies (killed for memory, crashed), its end of the reply pipe closes: the job fails with
  :class:`WorkerStopped` saying so, and the next job starts a new child. :meth:`EngineProcess.stop` ends it.
* :func:`worker_main` is the child's entry point, a plain importable function (a frozen build only needs
  ``multiprocessing.freeze_support()`` in its entry). The child rebuilds the dataset index from the root for every
  job, limits torch to all cores but one (the studio's UI keeps one) and ignores Ctrl+C (the studio decides).

Messages between the two processes are our own small plain objects, pickled by ``multiprocessing``; no user file
is ever unpickled.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import sys
import threading
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext
from multiprocessing.synchronize import Event as ProcessEvent
from typing import Any, Literal, cast

from goodsad_studio import errors
from goodsad_studio.engine.job_requests import JobRequest, run_job
from goodsad_studio.engine.jobs import ProgressFn
from goodsad_studio.errors import StudioError, WorkerError, WorkerStopped

WorkerRequest = JobRequest | Literal["about"]
"""What the studio sends the worker: a job, or ``"about"`` to ask for its :class:`WorkerInfo`."""

POLL_SECONDS = 0.05  # how often a waiting job looks at its cancel event
STOP_SECONDS = 1.0  # how long stop() lets an idle child leave on its own before terminating it


@dataclass(frozen=True)
class WorkerInfo:
    """What the worker process reports about itself (for diagnostics and tests)."""

    pid: int
    torch_threads: int
    qt_loaded: bool


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_threads(cores: int | None = None) -> int:
    """Torch threads of the worker: every core but one, which the studio's UI keeps (at least one)."""
    return max(1, (available_cores() if cores is None else cores) - 1)


# ---------------------------------------------------------------------------------------------------- child side
def worker_main(requests: Connection, replies: Connection, cancel: ProcessEvent) -> None:
    """The worker process: run requests from ``requests`` one after the other until ``None`` or the pipe closes,
    sending ``("progress" | "done" | "error", job id, payload)`` to ``replies``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import torch

        torch.set_num_threads(worker_threads())
    except ImportError:
        pass  # each job then fails with the import error, in words, rather than the worker dying unexplained
    while True:
        try:
            message = requests.recv()
        except (EOFError, OSError):
            break  # the studio is gone
        if message is None:
            break
        job_id, request = message
        try:
            reply = ("done", job_id, _execute(request, job_id, replies, cancel))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the studio
            reply = ("error", job_id, _describe(exc))
        try:
            _send(replies, reply)
        except (OSError, ValueError):
            break
    # Leave at once: tearing down an interpreter with torch loaded takes most of a second, and there is nothing
    # to clean up (every file the engine writes is written atomically).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _execute(request: WorkerRequest, job_id: int, replies: Connection, cancel: ProcessEvent) -> object:
    if request == "about":
        import torch

        return WorkerInfo(os.getpid(), torch.get_num_threads(), "PySide6" in sys.modules)
    from goodsad_studio.dataset.index import scan_dataset
    from goodsad_studio.engine.jobs import Workspace

    for name, value in request.environment.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    workspace = Workspace(scan_dataset(request.root), request.state_dir)
    # the engine only asks ``cancel.is_set()``, which a process event answers as a thread event does
    cancel_event = cast(threading.Event, cancel)
    return run_job(workspace, request, lambda progress: replies.send(("progress", job_id, progress)), cancel_event)


def _send(replies: Connection, reply: tuple[str, int, object]) -> None:
    try:
        replies.send(reply)
    except OSError:
        raise  # the pipe is gone
    except Exception as exc:  # noqa: BLE001 - the result could not be pickled: say so, keep serving
        replies.send(("error", reply[1], _describe(exc)))


def _describe(exc: BaseException) -> tuple[str, str, str | None, str]:
    """``(kind, message, path, traceback)`` of an exception, in plain strings the studio rebuilds it from."""
    from goodsad_studio.errors import Cancelled

    if isinstance(exc, Cancelled):
        return "cancelled", str(exc), None, ""
    if isinstance(exc, StudioError):
        return type(exc).__name__, exc.problem, str(exc.path) if exc.path is not None else None, ""
    return "unexpected", f"{type(exc).__name__}: {exc}", None, traceback.format_exc()


def _rebuild(kind: str, message: str, path: str | None, details: str) -> BaseException:
    from goodsad_studio.errors import Cancelled

    if kind == "cancelled":
        return Cancelled(message)
    if kind == "unexpected":
        return WorkerError(f"{message} (in the worker process)", details)
    cls = getattr(errors, kind, None)
    if not (isinstance(cls, type) and issubclass(cls, StudioError)):
        cls = StudioError
    return cls(message, path)


# ---------------------------------------------------------------------------------------------------- studio side
class _Worker:
    """One child process with its two pipes and its cancel event."""

    def __init__(self, context: SpawnContext) -> None:
        request_reader, self.requests = context.Pipe(duplex=False)
        self.replies, reply_writer = context.Pipe(duplex=False)
        self.cancel = context.Event()
        self.process = context.Process(
            target=worker_main,
            args=(request_reader, reply_writer, self.cancel),
            name="goodsad-studio-engine",
            daemon=True,
        )
        self.process.start()
        # only the child holds these ends now, so its death closes the reply pipe (EOF) for the studio
        request_reader.close()
        reply_writer.close()
        self.stopping = False

    def close_pipes(self) -> None:
        self.requests.close()
        self.replies.close()


def exit_words(code: int | None) -> str:
    """An exit code in words: ``"exit code -9: killed by SIGKILL, perhaps out of memory"``."""
    if code is None:
        return "exit code unknown"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = ", perhaps out of memory" if name == "SIGKILL" else ""
        return f"exit code {code}: killed by {name}{hint}"
    return f"exit code {code}"


class EngineProcess:
    """The studio's handle on its worker process; see the module docstring. Thread-safe: :meth:`run` may be called
    from any thread (one job at a time, later calls wait), :meth:`stop` from any other."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._job_lock = threading.Lock()
        self._lock = threading.Lock()
        self._worker: _Worker | None = None
        self._ids = itertools.count(1)
        self.last_job_pid: int | None = None  # the process that ran the last finished job
        self.started = 0  # how many worker processes this handle has started

    @property
    def pid(self) -> int | None:
        """The worker's process id while one is running, else None."""
        worker = self._worker
        return worker.process.pid if worker is not None and worker.process.is_alive() else None

    def about(self) -> WorkerInfo:
        """Start the worker if needed and ask it about itself."""
        info: WorkerInfo = self._call("about", None, None)
        return info

    def run(
        self, request: JobRequest, progress: ProgressFn | None = None, cancel: threading.Event | None = None
    ) -> Any:
        """Run ``request`` in the worker (started on first use) and return its result; raises what the job raised
        (``Cancelled``, a :class:`StudioError`), :class:`WorkerError` for anything unexpected in there, or
        :class:`WorkerStopped` when the worker process ended meanwhile."""
        return self._call(request, progress, cancel)

    def _call(self, request: WorkerRequest, progress: ProgressFn | None, cancel: threading.Event | None) -> Any:
        if cancel is not None and cancel.is_set():  # cancelled while queued: no worker needs to start for it
            from goodsad_studio.errors import Cancelled

            raise Cancelled("cancelled before it started")
        with self._job_lock:
            with self._lock:
                if self._worker is not None and not self._worker.process.is_alive():  # died while idle
                    dead, self._worker = self._worker, None
                    dead.process.join(1.0)
                    dead.close_pipes()
                if self._worker is None:
                    self._worker = _Worker(self._context)
                    self.started += 1
                worker = self._worker
            job_id = next(self._ids)
            worker.cancel.clear()
            try:
                worker.requests.send((job_id, request))
            except OSError:
                raise self._lost(worker) from None
            while True:
                if cancel is not None and cancel.is_set():
                    worker.cancel.set()
                try:
                    if not worker.replies.poll(POLL_SECONDS):
                        continue
                    kind, reply_id, payload = worker.replies.recv()
                except (EOFError, OSError):
                    raise self._lost(worker) from None
                if reply_id != job_id:
                    continue  # left over from a job whose wait ended early
                if kind == "progress":
                    if progress is not None:
                        progress(payload)
                    continue
                self.last_job_pid = worker.process.pid
                if kind == "done":
                    return payload
                raise _rebuild(*payload)

    def _lost(self, worker: _Worker) -> WorkerStopped:
        """The worker died: forget it (the next job starts another) and say why."""
        with self._lock:
            if self._worker is worker:
                self._worker = None
        worker.process.join(5.0)
        worker.close_pipes()
        if worker.stopping:
            return WorkerStopped("the worker process was stopped (the studio is closing)")
        return WorkerStopped(
            f"the worker process stopped unexpectedly ({exit_words(worker.process.exitcode)}); "
            "the next job starts a new one"
        )

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """End the worker: an idle one leaves on its own (terminated if it has not within ``timeout`` seconds), a
        busy one is terminated at once (its job is being cancelled anyway, and the engine writes every file
        atomically, so nothing is left half written). A later job starts a new worker."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is None:
            return
        worker.stopping = True
        worker.cancel.set()
        idle = self._job_lock.acquire(blocking=False)  # held for the whole of a job
        try:
            try:
                worker.requests.send(None)
            except OSError:
                pass
            process = worker.process
            if idle:
                process.join(timeout)
            for end in (process.terminate, process.kill):
                if process.is_alive():
                    end()
                    process.join(1.0)
            if idle:  # no job is waiting on the pipes (a waiting job closes them when it sees the end)
                worker.close_pipes()
        finally:
            if idle:
                self._job_lock.release()
