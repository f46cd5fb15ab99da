"""The analysis state of the open dataset: the engine workspace, each method's result set per category, which of
them each category displays, the evaluation outcomes, and the jobs that produce them. Views read from here and
listen to its signals; every number comes from the engine (its contract, ``engine.inspect``,
``engine.evaluations``).

Every job runs in the engine's worker process (:mod:`goodsad_studio.engine.transports.process`; torch in a thread
here would stall the event loop): the analysis sends the contract's requests through its
:class:`~goodsad_studio.engine.client.EngineClient`; a job gives back a summary of the model, and its results are
read from the results cache on disk, so the studio's process never imports torch.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.engine.cache import CachedResult
from goodsad_studio.engine.client import EngineClient
from goodsad_studio.engine.contract import (
    LOCAL,
    CategoryOutcome,
    Evaluate,
    Evaluated,
    Export,
    Fit,
    Fitted,
    Identify,
    MethodSpec,
    ModelSummary,
    Predict,
    Predicted,
    Request,
    Result,
)
from goodsad_studio.engine.evaluations import load_outcomes
from goodsad_studio.engine.inspect import ResultSet, ResultSummary, result_set_for, saved_result_sets, summarise
from goodsad_studio.engine.records import OpenDataset
from goodsad_studio.engine.transports.process import ProcessTransport
from goodsad_studio.gui.jobs import Job, JobRunner, JobState
from goodsad_studio.gui.workers import Relay, WorkerPool

KEEP_RESULTS = 48


class Analysis(QObject):
    """See the module docstring. ``method`` is the method set up in the Methods panel (what the next job runs);
    ``shown`` is, per category, the method whose results are displayed (the heatmap dock's Showing choice, which
    triage and exports follow too). They are separate choices: setting up another method never changes what is
    displayed, so the result being inspected stays in view."""

    results_changed = Signal(str)  # category whose results (or summaries) changed
    outcome_ready = Signal(object)  # CategoryOutcome
    method_changed = Signal(str)  # the method set up in the Methods panel
    shown_changed = Signal(str)  # category whose displayed method the user changed
    result_arrived = Signal(str, str)  # (category, method): a job's results, not displayed (another method is)
    job_failed = Signal(object)  # Job
    images_skipped = Signal(object)  # Job: it finished, and its result names images it left out (Job.skipped)

    def __init__(self, parent: QObject | None = None, client: EngineClient | None = None) -> None:
        super().__init__(parent)
        self.runner = JobRunner(self)
        # the worker process, started by the first request that needs it
        self.client = client or EngineClient(ProcessTransport())
        self.executor = LOCAL  # where fits, predictions and evaluations run (the settings: this machine or Ray)
        self.workspace: OpenDataset | None = None
        self.sets: dict[tuple[str, str], ResultSet] = {}
        self.summaries: dict[str, dict[str, ResultSummary]] = {}  # by result set key
        self.outcomes: dict[tuple[str, str], CategoryOutcome] = {}
        self.method = ""
        self.shown: dict[str, str] = {}  # category -> displayed method, of the open dataset
        self._shown_by_dataset: dict[str, dict[str, str]] = {}  # kept for the session, if a dataset is reopened
        self._results: OrderedDict[tuple[str, str], CachedResult] = OrderedDict()
        self._pool = WorkerPool("results", Relay(self))

    # ------------------------------------------------------------------------------------ dataset
    def set_index(self, index: DatasetIndex, state_dir=None) -> None:
        """A dataset was opened: earlier results on disk are offered at once (no model is loaded for that)."""
        self.workspace = OpenDataset(index, state_dir)
        self.sets, self.summaries, self.outcomes = {}, {}, {}
        self._results.clear()
        self.shown = self._shown_by_dataset.setdefault(str(index.root), {})
        newest: dict[str, str] = {}
        for result_set in reversed(saved_result_sets(self.workspace.cache_dir)):  # the newest wins
            if result_set.goods_id is None and result_set.category in index.category_dirs:
                self.sets[(result_set.category, result_set.method)] = result_set
                newest[result_set.category] = result_set.method
        for category, method in newest.items():  # the newest results, unless the session displayed others
            if not self.shown_method(category):
                self.shown[category] = method
        for outcome in load_outcomes(self.workspace.state_dir):
            if outcome.category in index.category_dirs:
                self.outcomes[(outcome.category, outcome.method)] = outcome
        for category, method in list(self.sets):
            self._summarise(category, method)

    def set_method(self, method: str) -> None:
        if method != self.method:
            self.method = method
            self.method_changed.emit(method)

    def _open_workspace(self) -> OpenDataset:
        """The workspace of the open dataset: result sets and jobs exist only once :meth:`set_index` ran (the
        window asks for a dataset before it starts a job)."""
        assert self.workspace is not None, "no dataset is open"
        return self.workspace

    def methods_with_results(self, category: str) -> list[str]:
        return sorted(method for (cat, method) in self.sets if cat == category)

    def shown_method(self, category: str) -> str:
        """The method whose results ``category`` displays ("" while it has none)."""
        method = self.shown.get(category, "")
        return method if (category, method) in self.sets else ""

    def show(self, category: str, method: str) -> None:
        """Display ``method``'s results for ``category`` (the Showing choice), for the rest of the session."""
        if method != self.shown_method(category):
            self.shown[category] = method
            self.shown_changed.emit(category)

    def result_set(self, category: str, method: str | None = None) -> ResultSet | None:
        """``method``'s result set of ``category`` (default: the displayed one), or None."""
        return self.sets.get((category, method or self.shown_method(category)))

    def result(self, record: ImageRecord, method: str | None = None) -> CachedResult | None:
        """The cached result of ``record`` under ``method`` (default: the displayed one), or None."""
        result_set = self.result_set(record.category, method)
        if result_set is None:
            return None
        key = (result_set.key, record.key)
        if key in self._results:
            self._results.move_to_end(key)
            return self._results[key]
        result = result_set.get(record)
        if result is not None:
            self._results[key] = result
            while len(self._results) > KEEP_RESULTS:
                self._results.popitem(last=False)
        return result

    def summary(self, category: str, method: str | None = None) -> dict[str, ResultSummary]:
        result_set = self.result_set(category, method)
        return self.summaries.get(result_set.key, {}) if result_set is not None else {}

    def _summarise(self, category: str, method: str) -> None:
        result_set, workspace = self.sets[(category, method)], self._open_workspace()
        records = workspace.test_records(category)

        def done(found, error) -> None:
            if error is None and self.workspace is workspace:
                self.summaries[result_set.key] = found
                self.results_changed.emit(category)

        self._pool.submit(lambda: summarise(result_set, records), done)

    def _adopt(self, model: ModelSummary) -> None:
        """Take a job's results in. The category displays them if it displayed nothing or the same method (whose
        newer results they are); never in place of another method's results the user is looking at."""
        result_set = result_set_for(model, self._open_workspace().cache_dir)
        shown = self.shown_method(model.category)
        self.sets[(model.category, model.method)] = result_set
        if shown in ("", model.method):  # the views redraw once the summaries are in (results_changed)
            self.shown[model.category] = model.method
        else:
            self.result_arrived.emit(model.category, model.method)
        self._summarise(model.category, model.method)

    # ------------------------------------------------------------------------------------ jobs
    def start(self, title: str, request: Request, adopt: Callable[[Result], None] | None = None) -> Job:
        """Run ``request`` in the worker as a job; ``adopt(result)`` runs on the UI thread when it succeeds (and the
        same dataset is still open)."""
        workspace, client = self._open_workspace(), self.client

        def work(progress, cancel) -> Result:
            return client.run(request, progress, cancel)

        return self.runner.start(title, work, lambda job: self._after(job, adopt, workspace))

    def fit(self, spec: MethodSpec, category: str) -> Job:
        """Fit (or reuse the saved model of) ``spec`` on ``category`` in the background."""
        request = Fit(self._open_workspace().ref(), spec, category, executor=self.executor)

        def adopt(result: Result) -> None:
            assert isinstance(result, Fitted)  # the client checks results against the contract
            self._adopt(result.model)

        return self.start(f"Fit {spec.method} on {category}", request, adopt)

    def predict(self, spec: MethodSpec, category: str, records: Sequence[ImageRecord], what: str) -> Job:
        """Fit (or reuse) and predict ``records`` (all of one category); results land in the cache."""
        keys = tuple(record.key for record in records)
        request = Predict(self._open_workspace().ref(), spec, category, keys, executor=self.executor)

        def adopt(result: Result) -> None:
            assert isinstance(result, Predicted)  # the client checks results against the contract
            self._adopt(result.model)

        return self.start(f"Predict {spec.method} on {what}", request, adopt)

    def evaluate(self, spec: MethodSpec, category: str) -> Job:
        """Fit (or reuse), predict the test split and compute the paper's metrics of ``category``."""

        def adopt(result: Result) -> None:
            assert isinstance(result, Evaluated)  # the client checks results against the contract
            self._adopt(result.model)
            self.outcomes[(category, spec.method)] = result.outcome
            self.outcome_ready.emit(result.outcome)

        request = Evaluate(self._open_workspace().ref(), spec, category, executor=self.executor)
        return self.start(f"Evaluate {spec.method} on {category}", request, adopt)

    def identify(self, spec: MethodSpec, category: str, images: Sequence[str | Path], top: int = 5) -> Job:
        """Rank the goods ids of ``category``'s training photos by how like each of ``images`` (files) they look,
        with ``spec``'s global descriptor; the job's result is the engine's ``Identified``."""
        paths = tuple(str(path) for path in images)
        request = Identify(self._open_workspace().ref(), spec, category, paths, top)
        what = Path(paths[0]).name if len(paths) == 1 else f"{len(paths)} photos"
        return self.start(f"Look up the goods of {what}", request)

    def export(self, title: str, request: Export) -> Job:
        """Run an export in the worker (the dialog collects the options)."""
        return self.start(title, request)

    @property
    def busy(self) -> bool:
        """Whether a job runs or results are being read for the views."""
        return self.runner.busy or self._pool.busy

    def _after(self, job: Job, adopt: Callable[[Result], None] | None, workspace: OpenDataset) -> None:
        if job.state == JobState.DONE:
            # another dataset opened meanwhile: the results belong to the old one
            if adopt is not None and self.workspace is workspace:
                adopt(job.result)
            if job.skipped:  # the job did its work without them: the user hears which and why
                self.images_skipped.emit(job)
        elif job.error is not None:
            self.job_failed.emit(job)

    def shutdown(self) -> None:
        """Cancel the jobs, end the worker process and wait a little for the threads."""
        self.runner.cancel_all()
        self.client.close()
        self.runner.shutdown()
        self._pool.shutdown()
