"""The analysis state of the open dataset: the engine workspace, which result set each method shows per category,
the evaluation outcomes, and the jobs that produce them. Views read from here and listen to its signals; every
number comes from the engine (``engine.jobs``, ``engine.evaluate``, ``engine.inspect``).

Jobs of built-in methods run in the worker process of :mod:`goodsad_studio.engine.job_process` (torch in a thread
here would stall the event loop); a job gives back a summary of the model, and its results are read from the
results cache on disk, so no torch model is ever loaded in the studio's process.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal

from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.engine.cache import CachedResult
from goodsad_studio.engine.evaluate import CategoryOutcome
from goodsad_studio.engine.evaluations import load_outcomes
from goodsad_studio.engine.inspect import ResultSet, ResultSummary, result_set_for, saved_result_sets, summarise
from goodsad_studio.engine.job_process import EngineProcess
from goodsad_studio.engine.job_requests import FittedSummary, JobRequest, run_job, runs_in_worker
from goodsad_studio.engine.jobs import MethodSpec, Workspace
from goodsad_studio.gui.jobs import DONE, Job, JobRunner
from goodsad_studio.gui.workers import Relay, WorkerPool

KEEP_RESULTS = 48


class Analysis(QObject):
    """See the module docstring. ``method`` is the method whose heatmap the canvas shows."""

    results_changed = Signal(str)  # category whose results (or summaries) changed
    outcome_ready = Signal(object)  # CategoryOutcome
    method_changed = Signal(str)
    job_failed = Signal(object)  # Job

    def __init__(self, parent: QObject | None = None, engine: EngineProcess | None = None) -> None:
        super().__init__(parent)
        self.runner = JobRunner(self)
        self.engine = engine or EngineProcess()  # the worker process, started by the first job that needs it
        self.child_jobs = True  # off: every job runs in a thread here (benchmarks compare the two)
        self.workspace: Workspace | None = None
        self.sets: dict[tuple[str, str], ResultSet] = {}
        self.summaries: dict[str, dict[str, ResultSummary]] = {}  # by result set key
        self.outcomes: dict[tuple[str, str], CategoryOutcome] = {}
        self.method = ""
        self._results: OrderedDict[tuple[str, str], CachedResult] = OrderedDict()
        self._pool = WorkerPool("results", Relay(self))

    # ------------------------------------------------------------------------------------ dataset
    def set_index(self, index: DatasetIndex, state_dir=None) -> None:
        """A dataset was opened: earlier results on disk are offered at once (no model is loaded for that)."""
        self.workspace = Workspace(index, state_dir)
        self.sets, self.summaries, self.outcomes = {}, {}, {}
        self._results.clear()
        for result_set in reversed(saved_result_sets(self.workspace.cache_dir)):  # the newest wins
            if result_set.goods_id is None and result_set.category in index.category_dirs:
                self.sets[(result_set.category, result_set.method)] = result_set
        for outcome in load_outcomes(self.workspace.state_dir):
            if outcome.category in index.category_dirs:
                self.outcomes[(outcome.category, outcome.method)] = outcome
        if not self.method and self.sets:
            self.method = next(iter(self.sets))[1]
        for category, method in list(self.sets):
            self._summarise(category, method)

    def set_method(self, method: str) -> None:
        if method != self.method:
            self.method = method
            self.method_changed.emit(method)

    def _open_workspace(self) -> Workspace:
        """The workspace of the open dataset: result sets and jobs exist only once :meth:`set_index` ran (the
        window asks for a dataset before it starts a job)."""
        assert self.workspace is not None, "no dataset is open"
        return self.workspace

    def methods_with_results(self, category: str) -> list[str]:
        return sorted(method for (cat, method) in self.sets if cat == category)

    def result_set(self, category: str, method: str | None = None) -> ResultSet | None:
        return self.sets.get((category, method or self.method))

    def result(self, record: ImageRecord, method: str | None = None) -> CachedResult | None:
        """The cached result of ``record`` under ``method`` (default: the shown one), or None."""
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

    def _adopt(self, spec: MethodSpec, model: FittedSummary) -> None:
        result_set = result_set_for(model, self._open_workspace().cache_dir, spec.method)
        self.sets[(model.category, spec.method)] = result_set
        self._summarise(model.category, spec.method)

    # ------------------------------------------------------------------------------------ jobs
    def in_worker(self, spec: MethodSpec) -> bool:
        """Whether a job of ``spec`` runs in the worker process (built-in methods) or in a thread here (methods
        registered at run time, which the worker cannot import); ``child_jobs`` off runs every job in a thread."""
        return self.child_jobs and runs_in_worker(spec.method)

    def _start(self, title: str, request: JobRequest, adopt) -> Job:
        workspace, engine = self._open_workspace(), self.engine
        if self.in_worker(request.spec):

            def work(progress, cancel):
                return engine.run(request, progress=progress, cancel=cancel)
        else:

            def work(progress, cancel):
                return run_job(workspace, request, progress=progress, cancel=cancel)

        return self.runner.start(title, work, lambda job: self._after(job, adopt, workspace))

    def fit(self, spec: MethodSpec, category: str) -> Job:
        """Fit (or reuse the saved model of) ``spec`` on ``category`` in the background."""
        request = JobRequest.make("fit", self._open_workspace(), spec, category)
        return self._start(f"Fit {spec.method} on {category}", request, lambda model: self._adopt(spec, model))

    def predict(self, spec: MethodSpec, category: str, records: Sequence[ImageRecord], what: str) -> Job:
        """Fit (or reuse) and predict ``records`` (all of one category); results land in the cache."""
        request = JobRequest.make("predict", self._open_workspace(), spec, category, [record.key for record in records])
        return self._start(f"Predict {spec.method} on {what}", request, lambda model: self._adopt(spec, model))

    def evaluate(self, spec: MethodSpec, category: str) -> Job:
        """Fit (or reuse), predict the test split and compute the paper's metrics of ``category``."""

        def adopt(result) -> None:
            outcome, model = result
            self._adopt(spec, model)
            self.outcomes[(category, spec.method)] = outcome
            self.outcome_ready.emit(outcome)

        request = JobRequest.make("evaluate", self._open_workspace(), spec, category)
        return self._start(f"Evaluate {spec.method} on {category}", request, adopt)

    def _after(self, job: Job, adopt, workspace: Workspace) -> None:
        if job.state == DONE:
            if self.workspace is workspace:  # another dataset opened meanwhile: the results belong to the old one
                adopt(job.result)
        elif job.error is not None:
            self.job_failed.emit(job)

    def shutdown(self) -> None:
        """Cancel the jobs, end the worker process and wait a little for the threads."""
        self.runner.cancel_all()
        self.engine.stop()
        self.runner.shutdown()
        self._pool.shutdown()
