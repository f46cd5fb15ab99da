"""The one dispatch: :func:`handle` runs a request and returns its result, one handler per request type.

Whoever runs a job — the worker process, or the CLI and the tests in their own process — calls ``handle`` with a
:class:`~goodsad_studio.progress.Monitor` (events, cancel). A fit, predict or evaluate that names the Ray executor
is sharded into Ray tasks (:mod:`~goodsad_studio.engine.worker.ray_executor`), each of which calls ``handle`` with
the local executor. A job gives back a summary of the model rather than the
fitted method: the studio shows results from the results cache on disk, and loading a torch model in the studio's
own process would hold its interpreter lock for tens of milliseconds at a time.
"""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass

from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.contract import (
    About,
    Batch,
    BatchDone,
    DatasetRef,
    Describe,
    Described,
    Evaluate,
    Evaluated,
    ExecutorKind,
    Export,
    Exported,
    Fit,
    Fitted,
    Identified,
    Identify,
    ListMethods,
    MethodList,
    Predict,
    Predicted,
    Request,
    Result,
    Scope,
    WorkerInfo,
)
from goodsad_studio.engine.evaluations import save_outcome
from goodsad_studio.engine.worker.describe import describe_method, method_cards
from goodsad_studio.engine.worker.evaluate import evaluate_category
from goodsad_studio.engine.worker.exports import EXPORTERS
from goodsad_studio.engine.worker.identify import identify
from goodsad_studio.engine.worker.workspace import Workspace
from goodsad_studio.progress import NO_MONITOR, Monitor


@dataclass
class JobContext:
    """What a handler gets besides its request: where to report and whether to stop."""

    monitor: Monitor = NO_MONITOR

    def workspace(self, dataset: DatasetRef) -> Workspace:
        """The dataset's workspace, its index scanned afresh for every job (the studio may have edited it); the
        request's environment variables are applied first."""
        for name, value in dataset.environment:
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        return Workspace(scan_dataset(dataset.root), dataset.state_dir)


@functools.singledispatch
def handle(request: Request, ctx: JobContext) -> Result:
    raise TypeError(f"the engine has no handler for {type(request).__name__}")


def _on_ray(request: Fit | Predict | Evaluate | Batch, ctx: JobContext) -> Result:
    from goodsad_studio.engine.worker.ray_executor import run_sharded

    def evaluate_here(part: Evaluate) -> Evaluated:
        return _evaluate(part, ctx)

    return run_sharded(request, ctx.monitor, evaluate_here, lambda part: ctx.workspace(part.dataset))


@handle.register
def _fit(request: Fit, ctx: JobContext) -> Fitted | Result:
    if request.executor.kind == ExecutorKind.RAY:
        return _on_ray(request, ctx)
    workspace = ctx.workspace(request.dataset)
    model = workspace.fit(
        request.spec, request.category, goods_id=request.goods_id, reuse=request.reuse, monitor=ctx.monitor
    )
    return Fitted(model.summary, workspace.skipped_report())


@handle.register
def _predict(request: Predict, ctx: JobContext) -> Predicted | Result:
    if request.executor.kind == ExecutorKind.RAY:
        return _on_ray(request, ctx)
    workspace = ctx.workspace(request.dataset)
    records = [workspace.record(key) for key in request.keys]
    model = workspace.fit(request.spec, request.category, goods_id=request.goods_id, monitor=ctx.monitor)
    workspace.predict(model, records, monitor=ctx.monitor)
    return Predicted(model.summary, request.keys, workspace.skipped_report())


@handle.register
def _evaluate(request: Evaluate, ctx: JobContext) -> Evaluated:
    if request.executor.kind == ExecutorKind.RAY:
        result = _on_ray(request, ctx)
        assert isinstance(result, Evaluated)
        return result
    workspace = ctx.workspace(request.dataset)
    outcome, models = evaluate_category(
        workspace, request.spec, request.category, protocol=request.protocol, scope=request.scope, monitor=ctx.monitor
    )
    if request.scope == Scope.CATEGORY:
        save_outcome(workspace.state_dir, outcome)  # reopening the dataset shows the tables at once
    return Evaluated(outcome, models[-1].summary, workspace.skipped_report())


@handle.register
def _batch(request: Batch, ctx: JobContext) -> BatchDone | Result:
    if request.executor.kind == ExecutorKind.RAY:
        return _on_ray(request, ctx)
    results = []
    for part in request.requests:
        result = handle(part, ctx)
        assert isinstance(result, Fitted | Predicted | Evaluated)
        results.append(result)
    return BatchDone(tuple(results))


@handle.register
def _export(request: Export, ctx: JobContext) -> Exported:
    index = scan_dataset(request.dataset.root)
    return EXPORTERS[request.kind](request, index, ctx.monitor)


@handle.register
def _identify(request: Identify, ctx: JobContext) -> Identified:
    workspace = ctx.workspace(request.dataset)
    return identify(workspace, request.spec, request.category, request.images, top=request.top, monitor=ctx.monitor)


@handle.register
def _describe(request: Describe, ctx: JobContext) -> Described:
    return Described(describe_method(request.spec))


@handle.register
def _list_methods(request: ListMethods, ctx: JobContext) -> MethodList:
    return MethodList(method_cards())


@handle.register
def _about(request: About, ctx: JobContext) -> WorkerInfo:
    import torch

    return WorkerInfo(os.getpid(), torch.get_num_threads(), "PySide6" in sys.modules)
