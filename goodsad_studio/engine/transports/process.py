"""The studio's worker process, so that torch never holds the studio's interpreter lock (docs/adr/0007).

Torch operators hold the GIL for tens of milliseconds at a time (``unfold`` on a batch of feature maps: 40 ms and
more), which froze the studio's event loop for 100-270 ms while a job ran in one of its threads. Every job
therefore runs in one long-lived child process:

* :class:`ProcessTransport` (the studio's side, no Qt, no torch) starts the child with the ``spawn`` method (a Qt
  process must never fork) on the first job and reuses it, since importing torch costs seconds; it runs one job at
  a time. :meth:`ProcessTransport.run` sends the request in an
  :class:`~goodsad_studio.engine.contract.Envelope` and waits on the reply pipe (the wait releases the GIL),
  handing each event to a callback, and returns the job's result or raises its error as itself.
* Cancelling sets a ``multiprocessing.Event`` that the job's monitor reads between steps. A step that does not
  return (one huge torch operation, a stuck read) would keep a cancelled job, and every job queued behind it,
  waiting: when no answer has come :data:`CANCEL_GRACE_SECONDS` after the cancel, the worker is ended (terminated,
  then killed) and the job raises :class:`~goodsad_studio.errors.Cancelled` saying so; the next job starts a new
  worker. Every file the engine writes is written atomically, so ending it mid-step leaves nothing half written.
* When the child dies (killed for memory, crashed), its end of the reply pipe closes: the job fails with
  :class:`~goodsad_studio.errors.WorkerStopped` saying so, and the next job starts a new child.
  :meth:`ProcessTransport.stop` ends it, which ends any job.
* The child's entry is a trampoline that imports :mod:`goodsad_studio.engine.worker.main` by name, so nothing in
  the studio's process imports the worker side (the methods, torch). A frozen build only needs
  ``multiprocessing.freeze_support()`` in its entry.

Messages are the contract's plain dataclasses, pickled by ``multiprocessing`` between our own two processes; no
user file is ever unpickled.
"""

from __future__ import annotations

import importlib
import itertools
import multiprocessing
import queue
import signal
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext
from multiprocessing.synchronize import Event as ProcessEvent

from goodsad_studio.engine.contract import QUERIES, Envelope, Request, Result
from goodsad_studio.engine.transports.base import OnEvent, outcome
from goodsad_studio.errors import Cancelled, ProtocolError, WorkerStopped
from goodsad_studio.progress import CancelFlag, Progress, TrainingStatus

POLL_SECONDS = 0.05  # how often a waiting job looks at its cancel event
STOP_SECONDS = 1.0  # how long stop() lets an idle child leave on its own before terminating it
CANCEL_GRACE_SECONDS = 2.5  # how long a cancelled job may take to stop between steps before its worker is ended
END_SECONDS = 1.0  # how long an ended worker gets to die after SIGTERM, then after SIGKILL
WORKER_MAIN = "goodsad_studio.engine.worker.main"


def _worker_entry(requests: Connection, replies: Connection, cancel: ProcessEvent) -> None:
    """The child's entry point (see the module docstring)."""
    importlib.import_module(WORKER_MAIN).main(requests, replies, cancel)


# ---------------------------------------------------------------------------------------------------- studio side
class _Lost:
    """What the reader hands every waiting request when the worker's reply pipe ends."""


LOST = _Lost()


class _Worker:
    """One child process with its two pipes, its cancel event, and a reader thread that hands each reply to the
    request waiting for it (a job and queries may wait at the same time)."""

    def __init__(self, context: SpawnContext) -> None:
        request_reader, self.requests = context.Pipe(duplex=False)
        self.replies, reply_writer = context.Pipe(duplex=False)
        self.cancel = context.Event()
        self.process = context.Process(
            target=_worker_entry,
            args=(request_reader, reply_writer, self.cancel),
            name="goodsad-studio-engine",
            daemon=True,
        )
        self.process.start()
        # only the child holds these ends now, so its death closes the reply pipe (EOF) for the studio
        request_reader.close()
        reply_writer.close()
        self.stopping = False  # stop() ends it (the studio closes)
        self.ended_for_cancel = False  # a cancelled job's step did not return in time
        self.ended = False
        self._lock = threading.Lock()
        self._waiting: dict[int, queue.SimpleQueue[object]] = {}
        self._reader = threading.Thread(target=self._read, name="goodsad-studio-engine-replies", daemon=True)
        self._reader.start()

    def send(self, job: int, request: Request) -> queue.SimpleQueue[object]:
        """Send a request; its replies (events, then its result or failure) arrive in the queue returned."""
        replies: queue.SimpleQueue[object] = queue.SimpleQueue()
        with self._lock:
            if self.ended:
                raise OSError("the worker's reply pipe has ended")
            self._waiting[job] = replies
            try:
                self.requests.send(Envelope(job, request))
            except BaseException:
                del self._waiting[job]
                raise
        return replies

    def forget(self, job: int) -> None:
        with self._lock:
            self._waiting.pop(job, None)

    def _read(self) -> None:
        while True:
            try:
                reply = self.replies.recv()
            except (EOFError, OSError, ValueError):
                break  # the child ended (or the studio closed the pipe)
            with self._lock:
                target = self._waiting.get(reply.job) if isinstance(reply, Envelope) else None
            if target is not None:
                target.put(reply.body)
            elif not isinstance(reply, Envelope):  # not ours to route: every waiter learns the worker misbehaved
                self._broadcast(ProtocolError(f"the worker sent a {type(reply).__name__}, not an envelope"))
            # else: left over from a request whose wait ended early
        with self._lock:
            self.ended = True
        self._broadcast(LOST)

    def _broadcast(self, what: object) -> None:
        with self._lock:
            waiting = list(self._waiting.values())
        for target in waiting:
            target.put(what)

    def send_stop(self) -> None:
        """Ask the child to leave (an envelope with no body)."""
        with self._lock:
            self.requests.send(Envelope(0, None))

    def end(self) -> None:
        """Terminate the child, then kill it if it is still there (each given :data:`END_SECONDS` to go)."""
        for end in (self.process.terminate, self.process.kill):
            if self.process.is_alive():
                end()
                self.process.join(END_SECONDS)

    def close_pipes(self) -> None:
        """Close the studio's ends, once the child has ended: the reader sees the end of the reply pipe first, so
        it never reads a closed (or reused) descriptor."""
        if threading.current_thread() is not self._reader:
            self._reader.join(5.0)
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


class ProcessTransport:
    """The studio's handle on its worker process; see the module docstring. Thread-safe: :meth:`run` may be called
    from any thread, :meth:`stop` from any other. Jobs run one at a time (a later one waits); a query (the
    contract's :data:`~goodsad_studio.engine.contract.QUERIES`: a description, the method list) is answered
    beside a running job, so the methods panel never waits for a fit."""

    def __init__(self, cancel_grace: float = CANCEL_GRACE_SECONDS) -> None:
        self._context = multiprocessing.get_context("spawn")
        self.cancel_grace = cancel_grace  # seconds a cancelled job has to stop before its worker is ended
        self._job_lock = threading.Lock()
        self._lock = threading.Lock()
        self._worker: _Worker | None = None
        self._ids = itertools.count(1)
        self._closed = False
        self.last_job_pid: int | None = None  # the process that ran the last finished request
        self.started = 0  # how many worker processes this handle has started

    @property
    def pid(self) -> int | None:
        """The worker's process id while one is running, else None."""
        worker = self._worker
        return worker.process.pid if worker is not None and worker.process.is_alive() else None

    def _live_worker(self) -> _Worker:
        if self._closed:
            raise WorkerStopped("the worker process was stopped (the studio is closing)")
        if self._worker is not None and not self._worker.process.is_alive():  # died while idle
            dead, self._worker = self._worker, None
            dead.process.join(1.0)
            dead.close_pipes()
        if self._worker is None:
            self._worker = _Worker(self._context)
            self.started += 1
        return self._worker

    def run(self, request: Request, on_event: OnEvent | None = None, cancel: CancelFlag | None = None) -> Result:
        """Run ``request`` in the worker (started on first use) and return its result; raises what the job raised
        (as itself: ``Cancelled``, any :class:`StudioError`), :class:`WorkerError` for anything unexpected in
        there, or :class:`WorkerStopped` when the worker process ended meanwhile."""
        if cancel is not None and cancel.is_set():  # cancelled while queued: no worker needs to start for it
            raise Cancelled("cancelled before it started")
        if isinstance(request, QUERIES):
            return self._call(request, on_event, None)
        with self._job_lock:
            return self._call(request, on_event, cancel)

    def _call(self, request: Request, on_event: OnEvent | None, cancel: CancelFlag | None) -> Result:
        with self._lock:
            worker = self._live_worker()
            job_id = next(self._ids)
        if not isinstance(request, QUERIES):
            worker.cancel.clear()  # jobs run one at a time: the event is this job's
        try:
            replies = worker.send(job_id, request)
        except OSError:
            raise self._lost(worker) from None
        cancelled_at: float | None = None
        try:
            while True:
                if cancel is not None and cancel.is_set():
                    if cancelled_at is None:
                        cancelled_at = time.monotonic()
                        worker.cancel.set()
                    elif time.monotonic() - cancelled_at > self.cancel_grace:
                        raise self._end_for_cancel(worker)
                try:
                    body = replies.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                if body is LOST:
                    raise self._lost(worker)
                if isinstance(body, ProtocolError):
                    raise body
                if isinstance(body, Progress | TrainingStatus):
                    if on_event is not None:
                        on_event(body)
                    continue
                self.last_job_pid = worker.process.pid
                return outcome(request, body)
        finally:
            worker.forget(job_id)

    def _end_for_cancel(self, worker: _Worker) -> Cancelled:
        """A cancelled job's step has not returned within the grace: end its worker (the next job starts
        another) and say so."""
        with self._lock:
            if self._worker is worker:
                self._worker = None
        worker.ended_for_cancel = True
        worker.end()
        worker.close_pipes()
        return Cancelled(
            f"a step did not return within {self.cancel_grace:g} s of the cancel, so the worker process was ended "
            "(the next job starts a new one)"
        )

    def _lost(self, worker: _Worker) -> WorkerStopped:
        """The worker died: forget it (the next job starts another) and say why."""
        with self._lock:
            if self._worker is worker:
                self._worker = None
        worker.process.join(5.0)
        worker.close_pipes()
        if worker.stopping:
            return WorkerStopped("the worker process was stopped (the studio is closing)")
        if worker.ended_for_cancel:  # a query waiting beside the job
            return WorkerStopped("the worker process was ended to cancel a job; ask again")
        return WorkerStopped(
            f"the worker process stopped unexpectedly ({exit_words(worker.process.exitcode)}); "
            "the next job starts a new one"
        )

    def close(self) -> None:
        """:meth:`stop` for good (the window closes): a request still queued then fails with
        :class:`WorkerStopped` instead of starting another worker."""
        with self._lock:
            self._closed = True
        self.stop()

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
                worker.send_stop()
            except OSError:
                pass
            if idle:
                worker.process.join(timeout)
            worker.end()
            if idle:  # no job is waiting on the pipes (a waiting job closes them when it sees the end)
                worker.close_pipes()
        finally:
            if idle:
                self._job_lock.release()
