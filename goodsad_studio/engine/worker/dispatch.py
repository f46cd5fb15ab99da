"""The studio's engine jobs (fit, predict, evaluate) as small plain requests, and what they give back.

A :class:`JobRequest` names the dataset (root and state folder), the method and the category, never a loaded model
or an index, so that it can run where the index and the model are rebuilt from disk: in the studio's worker
process (:mod:`goodsad_studio.engine.job_process`) for built-in methods, or in a thread of the studio itself for
methods registered at run time, which the worker cannot import (:func:`runs_in_worker` draws the line).

Either way :func:`run_job` does the same thing, and a job gives back a :class:`FittedSummary` (and, for an
evaluation, the :class:`~goodsad_studio.engine.evaluate.CategoryOutcome`) rather than the fitted method: the
studio shows results from the results cache on disk, and loading a torch model in the studio's own process would
hold its interpreter lock for tens of milliseconds at a time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from goodsad_studio.dataset.index import ImageRecord
from goodsad_studio.engine.jobs import FittedModel, MethodSpec, ProgressFn, Workspace
from goodsad_studio.errors import StudioError

if TYPE_CHECKING:
    from goodsad_studio.engine.evaluate import CategoryOutcome

JOB_KINDS = ("fit", "predict", "evaluate")

ENVIRONMENT = ("GOODSAD_STUDIO_DATA", "XDG_DATA_HOME", "TORCH_HOME")
"""Environment variables that decide where the engine reads and writes its files; a request carries their values
when it is made, so a worker started earlier uses the studio's current ones."""


@dataclass(frozen=True)
class FittedSummary:
    """What the studio keeps of a fitted model: everything :func:`~goodsad_studio.engine.inspect.result_set_for`
    needs (key, label, category, goods id), where the model is saved, and what fitting it cost."""

    key: str
    directory: Path
    category: str
    goods_id: str | None
    label: str
    train_images: int
    fit_seconds: float
    reused: bool

    @classmethod
    def of(cls, model: FittedModel) -> FittedSummary:
        return cls(
            model.key,
            Path(model.directory),
            model.category,
            model.goods_id,
            model.label,
            model.train_images,
            model.fit_seconds,
            model.reused,
        )


@dataclass(frozen=True)
class JobRequest:
    """One job: ``kind`` (see :data:`JOB_KINDS`) of ``spec`` on ``category`` of the dataset at ``root``, whose
    models and results live in ``state_dir``; ``record_keys`` are the images a predict job scores."""

    kind: str
    root: str
    state_dir: str
    spec: MethodSpec
    category: str
    record_keys: tuple[str, ...] = ()
    environment: dict[str, str | None] = field(default_factory=dict)  # None: unset

    @classmethod
    def make(
        cls, kind: str, workspace: Workspace, spec: MethodSpec, category: str, record_keys: Sequence[str] = ()
    ) -> JobRequest:
        if kind not in JOB_KINDS:
            raise ValueError(f"unknown job kind {kind!r}: use one of {', '.join(JOB_KINDS)}")
        environment = {name: os.environ.get(name) for name in ENVIRONMENT}
        return cls(
            kind, str(workspace.index.root), str(workspace.state_dir), spec, category, tuple(record_keys), environment
        )


def runs_in_worker(method: str) -> bool:
    """Whether jobs of ``method`` run in the worker process: exactly the built-in methods
    (:func:`~goodsad_studio.methods.registry.is_builtin`). A method registered at run time exists only in the
    process that registered it, so its jobs run in a thread there."""
    from goodsad_studio.methods.registry import is_builtin

    return is_builtin(method)


def run_job(
    workspace: Workspace, request: JobRequest, progress: ProgressFn | None = None, cancel: threading.Event | None = None
) -> FittedSummary | tuple[CategoryOutcome, FittedSummary]:
    """Run ``request`` on ``workspace`` (the dataset it names); returns a :class:`FittedSummary`, or for an
    evaluation ``(outcome, summary)`` after saving the outcome beside the models."""
    from goodsad_studio.engine.evaluate import evaluate_category
    from goodsad_studio.engine.evaluations import save_outcome

    spec, category = request.spec, request.category
    if category not in workspace.index.category_dirs:
        raise StudioError(f"category {category!r} is not in this dataset", workspace.index.root)
    if request.kind == "fit":
        return FittedSummary.of(workspace.fit(spec, category, progress=progress, cancel=cancel))
    if request.kind == "predict":
        records = [_record(workspace, key) for key in request.record_keys]
        model = workspace.fit(spec, category, progress=progress, cancel=cancel)
        workspace.predict(model, records, progress=progress, cancel=cancel)
        return FittedSummary.of(model)
    if request.kind == "evaluate":
        outcome = evaluate_category(workspace, spec, category, progress=progress, cancel=cancel)
        save_outcome(workspace.state_dir, outcome)  # reopening the dataset shows the tables at once
        model = workspace.fit(spec, category)  # saved by the evaluation: loads, does not refit
        return outcome, FittedSummary.of(model)
    raise ValueError(f"unknown job kind {request.kind!r}: use one of {', '.join(JOB_KINDS)}")


def _record(workspace: Workspace, key: str) -> ImageRecord:
    record = workspace.index.get(key)
    if record is None:
        raise StudioError(f"image {key} is no longer in the dataset (was it moved or deleted?)", workspace.index.root)
    return record
