"""How a fit, predict or evaluate is cut into shards for a sharding executor (Ray), and how the shards' results
become the request's result. Pure planning: no Ray here (:mod:`goodsad_studio.engine.worker.ray_executor` runs the
shards).

A request becomes, first, one :class:`Fit` per model it needs (a category, or each goods id with
``Scope.GOODS``), then :class:`Predict` requests of at most ``images_per_task`` images each, all run by the same
:func:`~goodsad_studio.engine.worker.dispatch.handle` as the local path: a shard is an ordinary request with the
local executor. The predictions only land in the results cache; an evaluation's metrics are then computed here,
by the local handler, from that cache (every model reused, every map a cache hit), so a sharded evaluation gives
the same report as a local one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from goodsad_studio.engine.contract import (
    LOCAL,
    Batch,
    BatchDone,
    Evaluate,
    Evaluated,
    Fit,
    Fitted,
    Predict,
    Predicted,
    Result,
    Scope,
    Skipped,
)
from goodsad_studio.engine.worker.workspace import Workspace

Part = Fit | Predict | Evaluate
Shardable = Part | Batch
MIN_IMAGES_PER_TASK = 8  # a predict shard loads its model first: fewer images would spend more on that than on them


@dataclass(frozen=True)
class Plan:
    """The shards of one request: the fits first (each model once), then the predictions."""

    fits: tuple[Fit, ...]
    predicts: tuple[Predict, ...]


def _model_of(fit: Fit) -> str:
    """What makes two fits the same model (a MethodSpec holds a dict: not hashable)."""
    return repr((fit.dataset.root, fit.dataset.state_dir, fit.spec, fit.category, fit.goods_id))


def _parts(request: Shardable) -> list[Part]:
    return list(request.requests) if isinstance(request, Batch) else [request]


def plan(
    request: Shardable, workspace_of: Callable[[Evaluate], Workspace], cpus: int, images_per_task: int = 0
) -> Plan:
    """The shards of ``request`` (see the module docstring). ``workspace_of`` opens an evaluation's dataset (to list
    its test images and goods ids); ``cpus``: the executor's, to size the predict shards when
    ``images_per_task`` is 0."""
    fits: dict[str, Fit] = {}
    wanted: list[tuple[Fit, tuple[str, ...]]] = []  # (the model, the images it predicts)
    for part in _parts(request):
        if isinstance(part, Fit):
            fit = dataclasses.replace(part, executor=LOCAL)
            fits.setdefault(_model_of(fit), fit)
        elif isinstance(part, Predict):
            fit = Fit(part.dataset, part.spec, part.category, part.goods_id)
            fits.setdefault(_model_of(fit), fit)
            wanted.append((fit, part.keys))
        else:
            workspace = workspace_of(part)
            workspace.require_category(part.category)
            test = workspace.test_records(part.category)
            groups: list[str | None] = [None]
            if part.scope == Scope.GOODS:
                groups = list(workspace.index.goods_ids(part.category))
            for group in groups:
                fit = Fit(part.dataset, part.spec, part.category, group)
                fits.setdefault(_model_of(fit), fit)
                keys = tuple(record.key for record in test if group is None or record.group == group)
                wanted.append((fit, keys))
    total = sum(len(keys) for _fit, keys in wanted)
    size = images_per_task or max(MIN_IMAGES_PER_TASK, math.ceil(total / max(1, cpus)))
    predicts = [
        Predict(fit.dataset, fit.spec, fit.category, keys[start : start + size], fit.goods_id)
        for fit, keys in wanted
        for start in range(0, len(keys), size)
    ]
    return Plan(tuple(fits.values()), tuple(predicts))


def merged_skipped(*groups: Sequence[tuple[str, str]]) -> Skipped:
    """Every (path, reason) once, in the order first seen."""
    seen: dict[str, str] = {}
    for group in groups:
        for path, reason in group:
            seen.setdefault(path, reason)
    return tuple(seen.items())


def _job_of(request: Part) -> str:
    """The method on a category of a dataset (each goods id's model included)."""
    return repr((request.dataset.root, request.dataset.state_dir, request.spec, request.category))


def _where(request: Part) -> tuple[str, str]:
    return request.dataset.root, request.category


def assemble(
    request: Shardable,
    shards: Plan,
    fitted: Sequence[Result],
    predicted: Sequence[Result],
    evaluate_here: Callable[[Evaluate], Evaluated],
    predict_seconds: Sequence[float] = (),
) -> Result:
    """The result of ``request`` from its shards' results (in the plan's order); an evaluation's metrics come from
    ``evaluate_here`` (the local handler, which finds every model and map in place), its costs from the shards (the
    fits' seconds, and ``predict_seconds``: each predict shard's). Each part of the request gets the images its own
    category's shards skipped."""
    done: list[tuple[Fit | Predict, Result]] = [
        *zip(shards.fits, fitted, strict=True),
        *zip(shards.predicts, predicted, strict=True),
    ]
    models = {
        _model_of(fit): result.model for fit, result in done if isinstance(fit, Fit) and isinstance(result, Fitted)
    }

    def skipped_of(part: Part) -> Skipped:
        return merged_skipped(
            *(getattr(result, "skipped", ()) for shard, result in done if _where(shard) == _where(part))
        )

    results: list[Fitted | Predicted | Evaluated] = []
    for part in _parts(request):
        if isinstance(part, Fit):
            results.append(Fitted(models[_model_of(dataclasses.replace(part, executor=LOCAL))], skipped_of(part)))
        elif isinstance(part, Predict):
            model = models[_model_of(Fit(part.dataset, part.spec, part.category, part.goods_id))]
            results.append(Predicted(model, part.keys, skipped_of(part)))
        else:
            evaluated = evaluate_here(dataclasses.replace(part, executor=LOCAL))
            outcome = evaluated.outcome
            fit_seconds = sum(
                result.model.fit_seconds
                for fit, result in done
                if isinstance(fit, Fit) and isinstance(result, Fitted) and _job_of(fit) == _job_of(part)
            )
            seconds = sum(
                s for shard, s in zip(shards.predicts, predict_seconds, strict=False) if _job_of(shard) == _job_of(part)
            )
            costs = dataclasses.replace(
                outcome,
                fit_seconds=fit_seconds,
                predict_ms_per_image=1000 * seconds / max(1, outcome.test_images)
                if predict_seconds
                else outcome.predict_ms_per_image,
            )
            skipped = merged_skipped(skipped_of(part), evaluated.skipped)
            costs = dataclasses.replace(costs, skipped=skipped)
            results.append(dataclasses.replace(evaluated, outcome=costs, skipped=skipped))
    return BatchDone(tuple(results)) if isinstance(request, Batch) else results[0]
