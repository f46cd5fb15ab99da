"""The Ray executor: a fit, predict or evaluate sharded into Ray tasks (docs/ray.md, docs/adr/0013).

:mod:`~goodsad_studio.engine.worker.shards` plans the shards (a fit per model, then predictions of a few images
each); here each shard runs as one Ray task, which calls the engine's own
:func:`~goodsad_studio.engine.worker.dispatch.handle` with the local executor, so no method knows it runs on Ray.
Models and results land in the dataset's state folder as they do locally (the nodes must see it at the same path);
an evaluation's metrics are then computed from them in this process.

* **Ray is optional** (``pip install 'goodsad-studio[ray]'``) and imported only here. Without an address a
  one-machine Ray is started (``ray.init(num_cpus=…)``, usage statistics off) and kept for the process's later jobs;
  the first local start of a recent Ray writes an authentication token to ``~/.ray``.
* **Progress**: every task sends its events through one Ray queue; they are summed into the usual bars (the images
  predicted by all tasks, the fits of each stage), with how many tasks are done in the detail line.
* **Cancel** cancels every task not yet finished (``ray.cancel(force=True)`` ends the processes running them).
* **Failures**: a task that fails is retried once; a second failure is reported as the error it raised (a
  :class:`~goodsad_studio.errors.StudioError` as itself; anything else as a
  :class:`~goodsad_studio.errors.WorkerError` naming its type, with the traceback in its details).
* **CPUs**: a predict task asks for one CPU (torch on one thread: the tasks share the cores); a fit task for
  the cluster's CPUs over the number of models, so that one model alone fits on every core, as it does locally.
  (At most the CPUs of the largest node: a task asking for more could never be scheduled.)
* **GPUs**: on a cluster that has them, a task of a method that runs on ``auto`` or ``cuda`` asks Ray for one.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from goodsad_studio.engine.contract import Evaluate, Evaluated, Executor, Fit, Predict, Request, Result
from goodsad_studio.engine.worker.shards import Plan, Shardable, assemble, plan
from goodsad_studio.engine.worker.workspace import Workspace
from goodsad_studio.errors import Cancelled, StudioError, WorkerError
from goodsad_studio.progress import Event, Monitor, Progress, Stage, TrainingStatus

POLL_SECONDS = 0.2  # how often the driver looks at finished tasks, events and the cancel flag
RELAY_SECONDS = 0.2  # the most often a task sends an event of the same stage
RETRIES = 1
_LOCK = threading.Lock()
_STARTED: list[str | None] = []  # the address this process's Ray was started for ("" : a local one)


def _import_ray() -> Any:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report from a studio
    try:
        import ray
    except ImportError:
        raise StudioError(
            "the Ray executor needs the ray package, which is not installed: pip install 'goodsad-studio[ray]'"
        ) from None
    return ray


def connect(executor: Executor) -> Any:
    """Ray, initialised for ``executor``: the cluster at its address, or a one-machine Ray (started once per process
    and kept); a cluster that cannot be reached is a :class:`StudioError` naming the address."""
    ray = _import_ray()
    wanted = executor.address or ""
    with _LOCK:
        if ray.is_initialized():
            if _STARTED and _STARTED[0] == wanted:
                return ray
            ray.shutdown()
        _STARTED.clear()
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        try:
            if wanted:
                ray.init(address=wanted, **options)
            else:
                ray.init(num_cpus=executor.cpus or os.cpu_count() or 1, **options)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            where = f"the Ray cluster at {wanted}" if wanted else "a local Ray"
            raise StudioError(f"cannot start or reach {where}: {type(exc).__name__}: {exc}") from exc
        _STARTED.append(wanted)
    return ray


@dataclass(frozen=True)
class ShardTime:
    """How long one task ran, in its own process (without Ray's scheduling), and where."""

    what: str
    seconds: float
    pid: int
    node: str


class _Relay:
    """A task's events to the driver's queue without waiting for the queue (a call to its actor is a round trip:
    thousands of coreset steps would each wait for one): a new stage goes at once, later events of the same stage
    at most one every :data:`RELAY_SECONDS` (the latest one; a thread sends it when the task goes quiet, so a task
    stuck in a step has still reported where it is)."""

    def __init__(self, events: Any, index: int) -> None:
        self.events, self.index = events, index
        self.stage = ""
        self.pending: Event | None = None
        self.last_sent: Any = None  # the reference of the last event sent
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.sender = threading.Thread(target=self._send_pending, name="goodsad-ray-events", daemon=True)
        self.sender.start()

    def __call__(self, event: Event) -> None:
        stage = str(getattr(event, "stage", "training"))
        with self.lock:
            if stage != self.stage:
                self.stage, self.pending = stage, None
                self._send(event)
            else:
                self.pending = event

    def _send(self, event: Event) -> None:
        self.last_sent = self.events.actor.put_nowait.remote((self.index, event))  # a caller's calls run in order

    def _send_pending(self) -> None:
        while not self.done.wait(RELAY_SECONDS):
            self.flush()

    def flush(self) -> None:
        with self.lock:
            pending, self.pending = self.pending, None
            if pending is not None:
                self._send(pending)

    def close(self) -> None:
        """Send what is left and wait until the queue holds it: the driver reads a task's events before its result."""
        import ray

        self.done.set()
        self.sender.join()
        self.flush()
        if self.last_sent is not None:
            ray.get(self.last_sent)


def run_shard(request: Request, events: Any, index: int, threads: int) -> tuple[Result, float, int, str]:
    """One Ray task: ``request`` (a shard, on the local executor) through the engine's own dispatch with torch on
    ``threads`` threads (the CPUs the task asked for: a Ray worker process serves tasks of any size), its events
    sent to the driver tagged with ``index``; returns the result, the seconds it took, the process and the node."""
    import socket

    import torch

    from goodsad_studio.engine.worker.dispatch import JobContext, handle

    torch.set_num_threads(threads)

    started = time.perf_counter()
    relay = _Relay(events, index)
    try:
        result = handle(request, JobContext(Monitor(relay)))
    finally:
        relay.close()
    return result, time.perf_counter() - started, os.getpid(), socket.gethostname()


def _largest_node_cpus(ray: Any) -> int:
    """The CPUs of the largest live node: a task asking for more could never be scheduled."""
    nodes = [node.get("Resources", {}).get("CPU", 0) for node in ray.nodes() if node.get("Alive")]
    return max(1, int(max(nodes, default=1)))


def _wants_gpu(request: Fit | Predict, ray: Any) -> bool:
    return request.spec.device in ("auto", "cuda") and ray.cluster_resources().get("GPU", 0) >= 1


def _failure(error: BaseException, what: str) -> BaseException:
    """What a task's second failure is reported as (see the module docstring)."""
    cause = getattr(error, "cause", None) or error
    if isinstance(cause, StudioError | Cancelled):
        return cause
    message = f"{type(cause).__name__}: {cause} (in the Ray task that ran {what}, after {RETRIES} retry)"
    return WorkerError(message, str(error), type(cause).__name__)


def _what(request: Fit | Predict) -> str:
    kind = "fit" if isinstance(request, Fit) else f"predict of {len(request.keys)} images"
    goods = f" goods {request.goods_id}" if request.goods_id else ""
    return f"{kind} of {request.spec.method} on {request.category}{goods}"


class _Totals:
    """The events of many tasks summed into the driver's bars: per stage, the done and total of the tasks whose
    latest event is of that stage."""

    def __init__(self, tasks: int, kind: str) -> None:
        self.latest: dict[int, Progress] = {}
        self.tasks, self.finished, self.kind = tasks, 0, kind

    def add(self, index: int, event: Event, monitor: Monitor) -> None:
        if isinstance(event, TrainingStatus):
            monitor.status(event)
            return
        self.latest[index] = event
        self.emit(event.stage, monitor)

    def emit(self, stage: Stage, monitor: Monitor) -> None:
        same = [event for event in self.latest.values() if event.stage == stage]
        totals = [event.total for event in same]
        total = None if any(t is None for t in totals) else sum(t for t in totals if t is not None) or None
        done = sum(event.done for event in same)
        detail = f"{self.finished} of {self.tasks} Ray {self.kind} tasks done"
        monitor.forward(Progress(stage, min(done, total) if total else done, total, detail))


def _drain(events: Any, totals: _Totals, monitor: Monitor, empty: type[Exception]) -> None:
    """Pass on every event the queue holds."""
    try:
        for index, event in events.get_nowait_batch(events.qsize()):
            totals.add(index, event, monitor)
    except empty:
        pass


def run_all(
    ray: Any,
    requests: Sequence[Fit | Predict],
    monitor: Monitor,
    kind: str,
    timings: list[ShardTime] | None = None,
    cpus: int = 1,
) -> list[tuple[Result, float]]:
    """Run ``requests`` as Ray tasks of ``cpus`` CPUs each, side by side, and return their results and seconds in
    order (see the module docstring); each task's time, process and node are added to ``timings``."""
    if not requests:
        return []
    from ray.util.queue import Empty, Queue

    events = Queue()
    task = ray.remote(run_shard)
    refs = [
        task.options(
            num_cpus=cpus, num_gpus=1 if _wants_gpu(request, ray) else 0, max_retries=RETRIES, retry_exceptions=True
        ).remote(request, events, index, cpus)
        for index, request in enumerate(requests)
    ]
    position = {ref: index for index, ref in enumerate(refs)}
    results: dict[int, tuple[Result, float]] = {}
    totals = _Totals(len(refs), kind)
    pending = list(refs)
    try:
        while pending:
            if monitor.cancelled:
                raise Cancelled(f"{len(pending)} of {len(refs)} Ray {kind} tasks stopped")
            ready, pending = ray.wait(pending, num_returns=len(pending), timeout=POLL_SECONDS)
            _drain(events, totals, monitor, Empty)
            for ref in ready:
                index = position[ref]
                try:
                    result, seconds, pid, node = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - reported as the task's own error, below
                    raise _failure(exc, _what(requests[index])) from None
                results[index] = result, seconds
                totals.finished += 1
                if timings is not None:
                    timings.append(ShardTime(_what(requests[index]), seconds, pid, node))
        _drain(events, totals, monitor, Empty)  # the last tasks' last events
    except BaseException:  # cancelled, a failed task, Ctrl+C: no task of this job is left running
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        try:
            ray.kill(events.actor)
        except Exception:  # noqa: BLE001 - the queue's actor may be gone with the cluster already
            pass
    return [results[index] for index in range(len(refs))]


def run_sharded(
    request: Shardable,
    monitor: Monitor,
    evaluate_here: Callable[[Evaluate], Evaluated],
    workspace_of: Callable[[Evaluate], Workspace],
    timings: list[ShardTime] | None = None,
) -> Result:
    """``request`` on Ray: its fits side by side, then its predictions, then (an evaluation) its metrics here."""
    executor: Executor = request.executor
    ray = connect(executor)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    shards: Plan = plan(request, workspace_of, cpus, executor.images_per_task)
    # fewer models than CPUs: each fit gets a share of them (one model per category fits on all of them, as locally)
    fit_cpus = max(1, min(cpus // max(1, len(shards.fits)), _largest_node_cpus(ray)))
    fitted = [result for result, _seconds in run_all(ray, shards.fits, monitor, "fit", timings, fit_cpus)]
    predicted = run_all(ray, shards.predicts, monitor, "predict", timings)
    monitor.check()
    return assemble(
        request,
        shards,
        fitted,
        [result for result, _seconds in predicted],
        evaluate_here,
        [seconds for _result, seconds in predicted],
    )
