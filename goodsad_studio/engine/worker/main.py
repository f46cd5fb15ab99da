"""The worker process's side: one :class:`~goodsad_studio.engine.contract.Envelope` with a request in, then its
events, then one result or one failure out, until an envelope with no body (or the pipe closes).

The child rebuilds the dataset index for every job, limits torch to all cores but one (the studio's UI keeps
one) and ignores Ctrl+C (the studio decides). It leaves with ``os._exit``: tearing down an interpreter with torch
loaded takes most of a second, and there is nothing to clean up (every file the engine writes is atomic).
"""

from __future__ import annotations

import os
import signal
import sys
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as ProcessEvent

from goodsad_studio.engine.contract import Envelope, Failure, Request, Result
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


def run_one(envelope: Envelope, replies: Connection, cancel: ProcessEvent) -> Result | Failure:
    """Run the request of ``envelope``, sending its events to ``replies``; its result, or the failure."""

    def send(event: Event) -> None:
        replies.send(Envelope(envelope.job, event))

    if not isinstance(envelope.body, Request):
        return Failure.of(ProtocolError(f"the worker takes requests, not {type(envelope.body).__name__}"))
    try:
        return handle(envelope.body, JobContext(Monitor(send, cancel)))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the studio
        return Failure.of(exc)


def main(requests: Connection, replies: Connection, cancel: ProcessEvent) -> None:
    """The worker process; see the module docstring."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import torch

        torch.set_num_threads(worker_threads())
    except ImportError:
        pass  # each job then fails with the import error, in words, rather than the worker dying unexplained
    while True:
        try:
            envelope = requests.recv()
        except (EOFError, OSError):
            break  # the studio is gone
        if not isinstance(envelope, Envelope) or envelope.body is None:
            break
        outcome = run_one(envelope, replies, cancel)
        try:
            try:
                replies.send(Envelope(envelope.job, outcome))
            except OSError:
                raise  # the pipe is gone
            except Exception as exc:  # noqa: BLE001 - the result could not be pickled: say so, keep serving
                replies.send(Envelope(envelope.job, Failure.of(exc)))
        except (OSError, ValueError):
            break
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
