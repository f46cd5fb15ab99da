"""The engine contract: what the studio (or the CLI) asks the engine, and what comes back. Plain frozen data
and enums, picklable, no torch and no Qt, so it crosses the worker pipe as it is.

A job is one :class:`Request` (one subclass per kind of job). While it runs it reports events
(:data:`~goodsad_studio.progress.Event`: ``Progress``, ``TrainingStatus``), then exactly one :class:`Result` of the
type :data:`RESULT_OF` names for its request, or one :class:`Failure`. Between processes everything travels in an
:class:`Envelope`. A failure carries the error's ``code`` (see :mod:`goodsad_studio.errors`), so every
:class:`~goodsad_studio.errors.StudioError` subclass arrives as itself; anything unexpected arrives as
:class:`~goodsad_studio.errors.WorkerError` with its traceback and the original class by name.
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from goodsad_studio.errors import StudioError, WorkerError, by_code
from goodsad_studio.goods.spec import GoodsSpec
from goodsad_studio.metrics.report import ReportRow
from goodsad_studio.native.spec import ViewRequest
from goodsad_studio.params import ParamSpec
from goodsad_studio.progress import Event, Progress, TrainingStatus

ENVIRONMENT = ("GOODSAD_STUDIO_DATA", "XDG_DATA_HOME", "TORCH_HOME")
"""Environment variables that decide where the engine reads and writes its files; a request carries their values
when it is made, so a worker started earlier uses the studio's current ones."""


# ---------------------------------------------------------------------------------------------------- what a job names
@dataclass(frozen=True)
class DatasetRef:
    """A dataset by its root folder and the state folder of its models, caches and evaluations."""

    root: str
    state_dir: str
    environment: tuple[tuple[str, str | None], ...] = ()  # None: unset

    @classmethod
    def of(cls, root: str | Path, state_dir: str | Path) -> DatasetRef:
        """A reference that carries this process's :data:`ENVIRONMENT`."""
        return cls(str(root), str(state_dir), tuple((name, os.environ.get(name)) for name in ENVIRONMENT))


@dataclass(frozen=True)
class MethodSpec:
    """Which method to run and how: a built-in name (``"patchcore"``) or a plug-in's import path
    (``"my_package.detectors:MyMethod"``), its parameters, and the backbone, weights and device requests."""

    method: str
    params: dict[str, Any] = field(default_factory=dict)
    backbone: str = "auto"
    weights: str = "auto"
    device: str = "auto"
    view: ViewRequest = ViewRequest()
    goods: GoodsSpec = GoodsSpec()
    """Which training photos each photo is compared with, and per-goods calibration (:mod:`goodsad_studio.goods`)."""
    """How the method sees each photo (object crop, tiles, multi-scale); ``auto`` parts are resolved at fit time
    from the training photos' size."""


class ExecutorKind(StrEnum):
    LOCAL = "local"
    RAY = "ray"


@dataclass(frozen=True)
class Executor:
    """Where a fit, predict or evaluate runs: in the engine's own process (``local``), or sharded into Ray tasks
    (``ray``: one per model to fit, then one per ``images_per_task`` images to predict) on the cluster at
    ``address`` (None: a one-machine Ray started with ``cpus`` CPUs, default all). Ray's nodes must see the dataset
    and its state folder at the request's paths (docs/ray.md)."""

    kind: ExecutorKind = ExecutorKind.LOCAL
    address: str | None = None
    cpus: int | None = None
    images_per_task: int = 0  # 0: as many shards as the cluster has CPUs, at least 8 images each


LOCAL = Executor()
"""The executor of every request unless one is named: this process (or the studio's worker process)."""


class Scope(StrEnum):
    """One model per category (the GoodsAD paper's protocol) or one per goods id."""

    CATEGORY = "category"
    GOODS = "goods"


class ExportKind(StrEnum):
    MVTEC = "mvtec"
    COCO = "coco"
    HEATMAPS = "heatmaps"
    REPORT = "report"


class Destination(StrEnum):
    FILE = "file"
    FOLDER = "folder"


@dataclass(frozen=True)
class ExportInfo:
    """How an export kind is offered: its label, whether it writes a file or a folder, and what it needs."""

    label: str
    destination: Destination
    needs: str = ""  # "" | "results" (a method's cached results) | "evaluation" (saved evaluations)


EXPORT_KINDS: dict[ExportKind, ExportInfo] = {
    ExportKind.MVTEC: ExportInfo("MVTec-AD subset (folder)", Destination.FOLDER),
    ExportKind.COCO: ExportInfo("COCO JSON (file)", Destination.FILE),
    ExportKind.HEATMAPS: ExportInfo("Heatmaps: PNG + raw .npy (folder)", Destination.FOLDER, "results"),
    ExportKind.REPORT: ExportInfo("Metrics report: md / CSV / JSON (folder)", Destination.FOLDER, "evaluation"),
}


@dataclass(frozen=True)
class SelectionSpec:
    """Which images an export takes: categories, goods ids, defect types, splits (None: all)."""

    categories: tuple[str, ...] | None = None
    goods_ids: tuple[str, ...] | None = None  # "042" (any category) or "drink_can/042"
    defects: tuple[str, ...] | None = None
    splits: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ExportOptions:
    size: int | tuple[int, int] | None = None  # MVTec: N (square) or (width, height); None: original size
    polygons: bool = False  # COCO: polygons instead of RLE
    overwrite: bool = False
    results: tuple[tuple[str, str], ...] = ()  # heatmaps: (category, result-set key) of the results to write


# ---------------------------------------------------------------------------------------------------- requests
class Request:
    """One job; one subclass per kind. The engine's dispatch has one handler per subclass."""


@dataclass(frozen=True)
class Fit(Request):
    """Fit ``spec`` on the normal training images of ``category`` (or of one goods id), or reuse the saved model."""

    dataset: DatasetRef
    spec: MethodSpec
    category: str
    goods_id: str | None = None
    reuse: bool = True
    executor: Executor = LOCAL


@dataclass(frozen=True)
class Predict(Request):
    """Fit (or reuse) on ``category`` and score the images ``keys``; the results land in the results cache."""

    dataset: DatasetRef
    spec: MethodSpec
    category: str
    keys: tuple[str, ...]
    goods_id: str | None = None
    executor: Executor = LOCAL


@dataclass(frozen=True)
class Evaluate(Request):
    """Fit (or reuse), predict the test split of ``category`` and compute the GoodsAD paper's metrics; the outcome
    is saved beside the models (reopening the dataset shows it)."""

    dataset: DatasetRef
    spec: MethodSpec
    category: str
    protocol: str = "native"
    scope: Scope = Scope.CATEGORY
    executor: Executor = LOCAL


@dataclass(frozen=True)
class Batch(Request):
    """Several fits, predictions or evaluations (methods x categories x goods ids) as one job, so that a sharding
    executor runs all their fits, then all their predictions, side by side; one result each, in the same order."""

    requests: tuple[Fit | Predict | Evaluate, ...]
    executor: Executor = LOCAL


@dataclass(frozen=True)
class Export(Request):
    dataset: DatasetRef
    kind: ExportKind
    dest: str
    selection: SelectionSpec = SelectionSpec()
    options: ExportOptions = ExportOptions()


@dataclass(frozen=True)
class Identify(Request):
    """Name the goods of photos: rank the goods ids of ``category``'s training photos by how like each photo of
    ``images`` (file paths) they look, with the global descriptor of ``spec``'s goods-aware method (its backbone
    and input size); the training photos' descriptors are computed once and kept in the state folder."""

    dataset: DatasetRef
    spec: MethodSpec
    category: str
    images: tuple[str, ...]
    top: int = 5


@dataclass(frozen=True)
class Describe(Request):
    """What a form shows for ``spec``: its parameters, backbone, weights and device (or why it cannot run)."""

    spec: MethodSpec


@dataclass(frozen=True)
class ListMethods(Request):
    """The methods the engine can run, with their parameters (no instance is built)."""


@dataclass(frozen=True)
class About(Request):
    """What the worker process reports about itself (diagnostics, tests)."""


# ---------------------------------------------------------------------------------------------------- results
class Result:
    """Exactly one per job (or a :class:`Failure`)."""


@dataclass(frozen=True)
class ModelSummary:
    """What the studio keeps of a fitted model: its cache key, where it is saved, the line shown to users, the
    category / goods id it was fitted on, and what fitting it cost."""

    key: str
    directory: Path
    method: str
    category: str
    goods_id: str | None
    label: str
    train_images: int
    fit_seconds: float
    reused: bool


@dataclass
class CategoryOutcome:
    """What one method did on one category: report rows (category + per goods id) and its costs."""

    category: str
    method: str
    rows: list[ReportRow]
    fit_seconds: float
    predict_ms_per_image: float
    train_images: int
    test_images: int
    label: str
    timings: dict[str, float] = field(default_factory=dict)
    skipped: tuple[tuple[str, str], ...] = ()
    """The images the evaluation left out, as (path, reason): its figures are over the rest."""


@dataclass(frozen=True)
class MethodCard:
    """A method as a menu lists it: name, one line about it, parameters, what it can do; or in ``problem`` why its
    module cannot be imported here (the other methods are listed all the same)."""

    name: str
    description: str
    params: tuple[ParamSpec, ...]
    capabilities: frozenset[str] = frozenset()
    problem: str = ""


@dataclass(frozen=True)
class MethodDescription:
    """A method as its form shows it, with these requests: the backbone, weights and device it would use, or in
    ``problem`` why it cannot be set up (weights missing, no GPU for ``cuda``)."""

    name: str
    description: str
    params: list[ParamSpec]
    backbones: list[str] = field(default_factory=list)
    backbone: str = ""
    weights_source: str = ""
    device: str = ""
    problem: str = ""
    capabilities: frozenset[str] = frozenset()


Skipped = tuple[tuple[str, str], ...]
"""Images a job left out, as (path, reason): unreadable, refused by their header, or with an unusable mask."""


@dataclass(frozen=True)
class Fitted(Result):
    model: ModelSummary
    skipped: Skipped = ()


@dataclass(frozen=True)
class Predicted(Result):
    model: ModelSummary
    keys: tuple[str, ...]
    skipped: Skipped = ()


@dataclass(frozen=True)
class Evaluated(Result):
    outcome: CategoryOutcome
    model: ModelSummary  # the model the evaluation used (with Scope.GOODS: the last goods id's)
    skipped: Skipped = ()


@dataclass(frozen=True)
class BatchDone(Result):
    results: tuple[Fitted | Predicted | Evaluated, ...]


@dataclass(frozen=True)
class Exported(Result):
    dest: Path
    files: int
    summary: str


@dataclass(frozen=True)
class GoodsMatch:
    """A goods id and the similarity (cosine, at most 1) of its most similar training photo to a photo."""

    goods_id: str
    similarity: float


@dataclass(frozen=True)
class Identified(Result):
    """For each photo of the request (in its order), its most likely goods ids, most similar first."""

    images: tuple[str, ...]
    matches: tuple[tuple[GoodsMatch, ...], ...]
    training_photos: int


@dataclass(frozen=True)
class Described(Result):
    description: MethodDescription


@dataclass(frozen=True)
class MethodList(Result):
    methods: tuple[MethodCard, ...]

    @property
    def names(self) -> list[str]:
        return [card.name for card in self.methods]


@dataclass(frozen=True)
class WorkerInfo(Result):
    pid: int
    torch_threads: int
    qt_loaded: bool


QUERIES = (Describe, ListMethods, About)
"""Requests that only read (no model is fitted, nothing is written, nothing to cancel): a worker answers them at
once, beside a running job."""

RESULT_OF: dict[type[Request], type[Result]] = {
    Fit: Fitted,
    Predict: Predicted,
    Evaluate: Evaluated,
    Batch: BatchDone,
    Export: Exported,
    Identify: Identified,
    Describe: Described,
    ListMethods: MethodList,
    About: WorkerInfo,
}


# ---------------------------------------------------------------------------------------------------- failures
UNEXPECTED = "unexpected"
"""The code of a failure that is no StudioError (a bug, an out-of-memory error, ...)."""


@dataclass(frozen=True)
class Failure:
    """A job's error as plain data: the :class:`StudioError` subclass's ``code`` (or ``"unexpected"``), its
    message and path; for an unexpected error its traceback and the class by name (never imported here)."""

    code: str
    message: str
    path: str | None = None
    details: str = ""
    origin: str = ""

    @classmethod
    def of(cls, exc: BaseException) -> Failure:
        if isinstance(exc, WorkerError):
            return cls(WorkerError.code, exc.problem, None, exc.details, exc.origin)
        if isinstance(exc, StudioError):
            return cls(exc.code, exc.problem, str(exc.path) if exc.path is not None else None)
        origin = f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins.")
        details = "".join(traceback.format_exception(exc))
        return cls(UNEXPECTED, f"{type(exc).__name__}: {exc}", None, details, origin)

    def rebuild(self) -> StudioError:
        """The error again: the registered class of ``code``; a plug-in's own error class (not importable here) as
        a :class:`StudioError` with its message and file; anything unexpected as a :class:`WorkerError`."""
        if self.code == WorkerError.code:
            return WorkerError(self.message, self.details, self.origin)
        if self.code == UNEXPECTED:
            return WorkerError(f"{self.message} (in the worker process)", self.details, self.origin)
        cls = by_code(self.code) or StudioError
        return cls(self.message, self.path)


@dataclass(frozen=True)
class Envelope:
    """What travels between the processes: job ``job``'s request, event, result or failure; ``body`` None asks
    the worker to stop."""

    job: int
    body: Request | Progress | TrainingStatus | Result | Failure | None


__all__ = [
    "ENVIRONMENT",
    "EXPORT_KINDS",
    "LOCAL",
    "QUERIES",
    "RESULT_OF",
    "About",
    "Batch",
    "BatchDone",
    "CategoryOutcome",
    "DatasetRef",
    "Describe",
    "Described",
    "Destination",
    "Envelope",
    "Evaluate",
    "Evaluated",
    "Event",
    "Executor",
    "ExecutorKind",
    "Export",
    "ExportInfo",
    "ExportKind",
    "ExportOptions",
    "Exported",
    "Failure",
    "Fit",
    "Fitted",
    "ListMethods",
    "MethodCard",
    "MethodDescription",
    "MethodList",
    "MethodSpec",
    "ModelSummary",
    "Predict",
    "Predicted",
    "Request",
    "Result",
    "Scope",
    "SelectionSpec",
    "WorkerInfo",
]
