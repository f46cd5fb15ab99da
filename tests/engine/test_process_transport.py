"""Engine jobs in the worker process (Qt-free): they run in another process without Qt and with one core left
free, give the same models and cached results as the engine run here, report progress, come back with the
engine's errors, cancel promptly, survive a killed worker, and leave no process behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import pytest
from engine_helpers import CATEGORY, SLOW, small_demo

from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.evaluations import load_outcomes
from goodsad_studio.engine.inspect import cached_results, result_set_for
from goodsad_studio.engine.job_process import EngineProcess, worker_threads
from goodsad_studio.engine.job_requests import FittedSummary, JobRequest, runs_in_worker
from goodsad_studio.engine.jobs import MethodSpec, Workspace
from goodsad_studio.errors import Cancelled, StudioError, WorkerStopped
from goodsad_studio.methods import registry


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    return small_demo(tmp_path_factory.mktemp("demo") / "demo")


@pytest.fixture(scope="module")
def engine():
    """One worker for the module (starting one costs seconds: the torch import)."""
    engine = EngineProcess()
    yield engine
    engine.stop()


@pytest.fixture
def workspace(demo_root):
    return Workspace(scan_dataset(demo_root))


def _ours(pid) -> bool:
    return any(child.pid == pid for child in multiprocessing.active_children())


def test_the_worker_is_another_process_without_qt_and_leaves_a_core_free(engine):
    info = engine.about()
    assert info.pid != os.getpid() and info.pid == engine.pid
    assert not info.qt_loaded
    assert info.torch_threads == worker_threads()
    assert [worker_threads(cores) for cores in (1, 2, 3, 16)] == [1, 1, 2, 15]


def test_predict_and_evaluate_in_the_worker_give_the_engines_models_and_results(engine, workspace):
    spec = MethodSpec("patchcore", {"coreset_ratio": 0.1})
    records = workspace.test_records(CATEGORY)
    seen = []
    summary = engine.run(
        JobRequest.make("predict", workspace, spec, CATEGORY, [r.key for r in records]), progress=seen.append
    )
    assert engine.last_job_pid == engine.pid != os.getpid()
    assert isinstance(summary, FittedSummary) and not summary.reused and summary.train_images == 16
    stages = [progress.stage for progress in seen]
    assert stages[0] == "fit" and stages[-1] == "predict" and seen[-1].done == seen[-1].total == len(records)

    # the model on disk is the one the engine here finds for the same spec: same key, folder and label
    model = workspace.fit(spec, CATEGORY)
    assert model.reused and (model.key, model.directory, model.label) == (summary.key, summary.directory, summary.label)
    # every image's result is in the cache, and equals the engine's own prediction here
    found = cached_results(result_set_for(summary, workspace.cache_dir, "patchcore"), records)
    assert sorted(found) == sorted(record.key for record in records)
    fresh = workspace.predict(model, records[:2], use_cache=False)
    for record in records[:2]:
        assert found[record.key].score == pytest.approx(fresh[record.key].score, rel=1e-4)

    outcome, again = engine.run(JobRequest.make("evaluate", workspace, spec, CATEGORY))
    assert again.key == summary.key and again.reused  # evaluated with the saved model
    saved = {(o.category, o.method): o for o in load_outcomes(workspace.state_dir)}[(CATEGORY, "patchcore")]
    assert saved.rows[0].result.image_auroc == pytest.approx(outcome.rows[0].result.image_auroc)
    assert outcome.test_images == len(records)


def test_errors_in_the_worker_come_back_as_the_engines_errors(engine, workspace):
    pid = engine.about().pid
    with pytest.raises(StudioError, match="category 'nope' is not in this dataset") as caught:
        engine.run(JobRequest.make("fit", workspace, MethodSpec("patchcore"), "nope"))
    assert caught.value.path == workspace.index.root
    with pytest.raises(StudioError, match="unknown method 'no-such-method'"):
        engine.run(JobRequest.make("fit", workspace, MethodSpec("no-such-method"), CATEGORY))
    assert engine.pid == pid  # the worker serves on


def test_cancel_stops_a_running_fit_promptly_and_keeps_the_worker(engine, workspace):
    pid = engine.about().pid
    cancel = threading.Event()
    cancelled_at = []

    def progress(p):
        if p.stage == "fit" and not cancel.is_set():  # the first batch is done: the fit is running
            cancelled_at.append(time.perf_counter())
            cancel.set()

    with pytest.raises(Cancelled, match="cancelled"):
        engine.run(JobRequest.make("fit", workspace, SLOW, CATEGORY), progress=progress, cancel=cancel)
    print(f"\ncancel took {time.perf_counter() - cancelled_at[0]:.2f} s")
    assert not list((workspace.models_dir / CATEGORY / "all").glob("patchcore-*.checkpoints"))
    assert len(list((workspace.models_dir / CATEGORY / "all").glob("patchcore-*"))) <= 1  # only the 0.1 model
    assert engine.pid == pid and engine.about().pid == pid  # not killed: the next job reuses it


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_worker_fails_the_job_with_its_exit_code_and_the_next_job_starts_another(engine, workspace):
    pid = engine.about().pid
    started = engine.started

    killed = []

    def progress(p):
        if not killed:
            killed.append(pid)
            os.kill(pid, signal.SIGKILL)  # what the kernel's out-of-memory killer does

    request = JobRequest.make("fit", workspace, SLOW, CATEGORY)
    with pytest.raises(
        WorkerStopped,
        match=r"the worker process stopped unexpectedly \(exit code -9: killed by "
        r"SIGKILL, perhaps out of memory\); the next job starts a new one",
    ):
        engine.run(request, progress=progress)
    assert engine.pid is None and not _ours(pid)
    info = engine.about()
    assert info.pid != pid and engine.started == started + 1

    os.kill(info.pid, signal.SIGKILL)  # a worker that dies between jobs is replaced without failing a job
    deadline = time.monotonic() + 60  # a generous deadline: the poll ends as soon as the death is noticed
    while engine.pid is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert engine.pid is None, "the worker's death was not noticed within 60 s"
    assert engine.about().pid not in (info.pid, None) and engine.started == started + 2


def test_stop_ends_the_worker_even_during_a_job(engine, workspace):
    pid = engine.about().pid
    assert _ours(pid)
    running = threading.Event()
    outcome = []

    def job():
        request = JobRequest.make("fit", workspace, SLOW, CATEGORY)
        try:
            engine.run(request, progress=lambda p: running.set())
        except (Cancelled, WorkerStopped) as exc:
            outcome.append(exc)

    thread = threading.Thread(target=job)
    thread.start()
    assert running.wait(60)
    engine.stop()
    thread.join(60)  # returns as soon as the job thread ends; the deadline only bounds a hang
    assert not thread.is_alive() and len(outcome) == 1, outcome
    assert engine.pid is None and not _ours(pid)
    engine.stop()  # stopping twice is harmless


def test_built_in_methods_run_in_the_worker_and_run_time_registrations_do_not(monkeypatch):
    assert all(runs_in_worker(name) for name in registry._BUILTIN_MODULES)
    assert not runs_in_worker("no-such-method")

    from goodsad_studio.methods.base import AnomalyMethod

    class Plugin(AnomalyMethod):  # a plug-in, or a test's method: the worker process cannot import it
        name = "plugin-method"

    monkeypatch.setitem(registry._REGISTRY, Plugin.name, Plugin)
    assert not runs_in_worker("plugin-method")
    monkeypatch.setitem(registry._REGISTRY, "padim", Plugin)  # a built-in name taken by a plug-in
    assert not runs_in_worker("padim")
