"""The worker process's side: one :class:`~goodsad_studio.engine.contract.Envelope` with a request in, then its
events, then one result or one failure out, until an envelope with no body (or the pipe closes). Jobs run one
after the other on a job thread; queries (:data:`~goodsad_studio.engine.contract.QUERIES`) are answered at once on
the reading thread, beside a running job. Replies from both threads go out one whole envelope at a time.

The child rebuilds the dataset index for every job, limits torch to all cores but one (the studio's UI keeps
one) and ignores Ctrl+C (the studio decides). It leaves with ``os._exit``: tearing down an interpreter with torch
loaded takes most of a second, and there is nothing to clean up (every file the engine writes is atomic).
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as ProcessEvent

from goodsad_studio.engine.contract import QUERIES, Envelope, Failure, Request, Result
from goodsad_studio.engine.worker.dispatch import JobContext, handle
from goodsad_studio.errors import ProtocolError
from goodsad_studio.progress import Event, Monitor


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_threads(cores: int | None = None) -> int:
    """Torch threads of the worker: every core but one, which the studio's UI keeps (at least one)."""
    return max(1, (available_cores() if cores is None else cores) - 1)


Send = Callable[[Envelope], None]


def run_one(envelope: Envelope, send: Send, cancel: ProcessEvent | None) -> Result | Failure:
    """Run the request of ``envelope``, sending its events; its result, or the failure."""

    def report(event: Event) -> None:
        send(Envelope(envelope.job, event))

    if not isinstance(envelope.body, Request):
        return Failure.of(ProtocolError(f"the worker takes requests, not {type(envelope.body).__name__}"))
    try:
        return handle(envelope.body, JobContext(Monitor(report, cancel)))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the studio
        return Failure.of(exc)


def answer(envelope: Envelope, send: Send, cancel: ProcessEvent | None) -> None:
    """Run one request and send its outcome; a result that cannot be pickled goes back as a failure."""
    outcome = run_one(envelope, send, cancel)
    try:
        send(Envelope(envelope.job, outcome))
    except OSError:
        raise  # the pipe is gone
    except Exception as exc:  # noqa: BLE001 - the result could not be pickled: say so, keep serving
        send(Envelope(envelope.job, Failure.of(exc)))


def _jobs(pending: queue.SimpleQueue[Envelope], send: Send, cancel: ProcessEvent) -> None:
    while True:
        try:
            answer(pending.get(), send, cancel)
        except (OSError, ValueError):
            os._exit(0)  # the studio is gone


def main(requests: Connection, replies: Connection, cancel: ProcessEvent) -> None:
    """The worker process; see the module docstring."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import torch

        torch.set_num_threads(worker_threads())
    except ImportError:
        pass  # each job then fails with the import error, in words, rather than the worker dying unexplained
    lock = threading.Lock()

    def send(envelope: Envelope) -> None:
        with lock:
            replies.send(envelope)

    pending: queue.SimpleQueue[Envelope] = queue.SimpleQueue()
    threading.Thread(target=_jobs, args=(pending, send, cancel), name="jobs", daemon=True).start()
    while True:
        try:
            envelope = requests.recv()
        except (EOFError, OSError):
            break  # the studio is gone
        if not isinstance(envelope, Envelope) or envelope.body is None:
            break
        if isinstance(envelope.body, QUERIES):
            try:
                answer(envelope, send, None)
            except (OSError, ValueError):
                break
        else:
            pending.put(envelope)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
