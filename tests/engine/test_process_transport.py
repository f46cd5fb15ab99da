"""Engine jobs in the worker process (Qt-free): they run in another process without Qt and with one core left
free, give the same models and cached results as the engine run here, report progress, come back with every
error class as itself, cancel promptly, survive a killed worker, run plug-ins named by import path, and leave no
process behind."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import pytest
from engine_helpers import CATEGORY, FAILING, PLUGIN, SLOW, STUCK, small_demo

from goodsad_studio import errors
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.client import EngineClient
from goodsad_studio.engine.contract import About, Evaluate, Evaluated, Fit, Fitted, MethodSpec, Predict, Predicted
from goodsad_studio.engine.evaluations import load_outcomes
from goodsad_studio.engine.inspect import cached_results, result_set_for
from goodsad_studio.engine.transports.process import ProcessTransport
from goodsad_studio.engine.worker.main import worker_threads
from goodsad_studio.engine.worker.workspace import Workspace
from goodsad_studio.errors import Cancelled, StudioError, WorkerError, WorkerStopped


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    return small_demo(tmp_path_factory.mktemp("demo") / "demo")


@pytest.fixture(scope="module")
def engine():
    """One worker for the module (starting one costs seconds: the torch import)."""
    engine = ProcessTransport()
    yield engine
    engine.stop()


def _about(engine):
    return engine.run(About())


def _pid(engine) -> int:
    return _about(engine).pid


@pytest.fixture
def workspace(demo_root):
    return Workspace(scan_dataset(demo_root))


def _ours(pid) -> bool:
    return any(child.pid == pid for child in multiprocessing.active_children())


def test_the_worker_is_another_process_without_qt_and_leaves_a_core_free(engine):
    info = _about(engine)
    assert info.pid != os.getpid() and info.pid == engine.pid
    assert not info.qt_loaded
    assert info.torch_threads == worker_threads()
    assert [worker_threads(cores) for cores in (1, 2, 3, 16)] == [1, 1, 2, 15]


def test_predict_and_evaluate_in_the_worker_give_the_engines_models_and_results(engine, workspace):
    spec = MethodSpec("patchcore", {"coreset_ratio": 0.1})
    records = workspace.test_records(CATEGORY)
    seen = []
    predicted = engine.run(Predict(workspace.ref(), spec, CATEGORY, tuple(r.key for r in records)), seen.append)
    assert engine.last_job_pid == engine.pid != os.getpid()
    assert isinstance(predicted, Predicted)
    summary = predicted.model
    assert not summary.reused and summary.train_images == 16
    stages = [progress.stage for progress in seen]
    assert stages[0] == "features" and stages[-1] == "predict"  # a bar per stage: features, coreset, predict
    assert seen[-1].done == seen[-1].total == len(records)

    # the model on disk is the one the engine here finds for the same spec: same key, folder and label
    model = workspace.fit(spec, CATEGORY)
    assert model.reused and (model.key, model.directory, model.label) == (summary.key, summary.directory, summary.label)
    # every image's result is in the cache, and equals the engine's own prediction here
    found = cached_results(result_set_for(summary, workspace.cache_dir), records)
    assert sorted(found) == sorted(record.key for record in records)
    fresh = workspace.predict(model, records[:2], use_cache=False)
    for record in records[:2]:
        assert found[record.key].score == pytest.approx(fresh[record.key].score, rel=1e-4)

    evaluated = engine.run(Evaluate(workspace.ref(), spec, CATEGORY))
    assert isinstance(evaluated, Evaluated)
    outcome, again = evaluated.outcome, evaluated.model
    assert again.key == summary.key and again.reused  # evaluated with the saved model
    saved = {(o.category, o.method): o for o in load_outcomes(workspace.state_dir)}[(CATEGORY, "patchcore")]
    assert saved.rows[0].result.image_auroc == pytest.approx(outcome.rows[0].result.image_auroc)
    assert outcome.test_images == len(records)


def test_errors_in_the_worker_come_back_as_the_engines_errors(engine, workspace):
    pid = _pid(engine)
    with pytest.raises(StudioError, match="category 'nope' is not in this dataset") as caught:
        engine.run(Fit(workspace.ref(), MethodSpec("patchcore"), "nope"))
    assert caught.value.path == workspace.index.root
    with pytest.raises(errors.UnknownMethodError, match="unknown method 'no-such-method'"):
        engine.run(Fit(workspace.ref(), MethodSpec("no-such-method"), CATEGORY))
    with pytest.raises(errors.UnknownMethodError, match="cannot import module 'no_such_module'"):
        engine.run(Fit(workspace.ref(), MethodSpec("no_such_module:Method"), CATEGORY))
    assert engine.pid == pid  # the worker serves on


@pytest.mark.parametrize(
    "cls", [c for c in errors.error_classes() if c is not errors.StudioError], ids=lambda c: c.code
)
def test_every_error_class_raised_in_the_worker_arrives_as_itself(engine, workspace, cls):
    with pytest.raises(cls) as caught:
        engine.run(Fit(workspace.ref(), MethodSpec(FAILING, {"code": cls.code}), CATEGORY, reuse=False))
    assert type(caught.value) is cls and caught.value.problem.startswith("raised on purpose")
    if cls is not WorkerError:
        assert str(caught.value.path) == "/data/broken.png"


def test_an_unexpected_error_in_the_worker_arrives_with_its_class_and_traceback(engine, workspace):
    with pytest.raises(WorkerError, match=r"RuntimeError: raised on purpose \(unexpected\)") as caught:
        engine.run(Fit(workspace.ref(), MethodSpec(FAILING), CATEGORY, reuse=False))
    assert caught.value.origin == "RuntimeError" and "engine_helpers.py" in caught.value.details


def test_a_plug_in_named_by_import_path_runs_in_the_worker(engine, workspace):
    fitted = EngineClient(engine).fit(Fit(workspace.ref(), MethodSpec(PLUGIN), CATEGORY))
    assert isinstance(fitted, Fitted) and fitted.model.method == PLUGIN
    assert engine.last_job_pid == engine.pid != os.getpid()
    assert workspace.fit(MethodSpec(PLUGIN), CATEGORY).key == fitted.model.key  # the same model here


def test_cancel_stops_a_running_fit_promptly_and_keeps_the_worker(engine, workspace):
    pid = _pid(engine)
    cancel = threading.Event()
    cancelled_at = []

    def progress(p):
        if p.done > 0 and not cancel.is_set():  # the first batch is done: the fit is running
            cancelled_at.append(time.perf_counter())
            cancel.set()

    with pytest.raises(Cancelled, match="cancelled"):
        engine.run(Fit(workspace.ref(), SLOW, CATEGORY), progress, cancel)
    print(f"\ncancel took {time.perf_counter() - cancelled_at[0]:.2f} s")
    models = workspace.layout.models_dir / CATEGORY / "all"
    assert not list(models.glob("patchcore-*.checkpoints"))
    assert len(list(models.glob("patchcore-*"))) <= 1  # only the 0.1 model
    assert engine.pid == pid and _about(engine).pid == pid  # not killed: the next job reuses it


def test_cancel_ends_the_worker_when_a_step_does_not_return_within_the_grace(engine, workspace):
    pid = _pid(engine)
    cancel = threading.Event()
    cancelled_at = []

    def progress(p):
        if p.done > 0 and not cancel.is_set():  # inside the step that never returns
            cancelled_at.append(time.monotonic())
            cancel.set()

    with pytest.raises(Cancelled, match=r"did not return within 2.5 s of the cancel, so the worker process was ended"):
        engine.run(Fit(workspace.ref(), MethodSpec(STUCK), CATEGORY), progress, cancel)
    took = time.monotonic() - cancelled_at[0]
    print(f"\ncancel of a stuck step took {took:.2f} s (grace {engine.cancel_grace} s)")
    assert took >= engine.cancel_grace  # a cooperative stop was waited for first
    assert engine.pid is None and not _ours(pid)
    assert _about(engine).pid not in (pid, None)  # the next request starts a new worker


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_worker_fails_the_job_with_its_exit_code_and_the_next_job_starts_another(engine, workspace):
    pid = _pid(engine)
    started = engine.started

    killed = []

    def progress(p):
        if not killed:
            killed.append(pid)
            os.kill(pid, signal.SIGKILL)  # what the kernel's out-of-memory killer does

    request = Fit(workspace.ref(), SLOW, CATEGORY)
    with pytest.raises(
        WorkerStopped,
        match=r"the worker process stopped unexpectedly \(exit code -9: killed by "
        r"SIGKILL, perhaps out of memory\); the next job starts a new one",
    ):
        engine.run(request, progress)
    assert engine.pid is None and not _ours(pid)
    info = _about(engine)
    assert info.pid != pid and engine.started == started + 1

    os.kill(info.pid, signal.SIGKILL)  # a worker that dies between jobs is replaced without failing a job
    deadline = time.monotonic() + 60  # a generous deadline: the poll ends as soon as the death is noticed
    while engine.pid is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert engine.pid is None, "the worker's death was not noticed within 60 s"
    assert _about(engine).pid not in (info.pid, None) and engine.started == started + 2


def test_stop_ends_the_worker_even_during_a_job(engine, workspace):
    pid = _pid(engine)
    assert _ours(pid)
    running = threading.Event()
    outcome = []

    def job():
        request = Fit(workspace.ref(), SLOW, CATEGORY)
        try:
            engine.run(request, lambda p: running.set())
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


def test_a_description_is_answered_while_a_job_runs(engine, workspace):
    from goodsad_studio.engine.contract import Describe, Described, ListMethods, MethodList

    running, answered, outcome = threading.Event(), [], []

    def job():
        try:
            engine.run(Fit(workspace.ref(), SLOW, CATEGORY, reuse=False), lambda p: running.set())
        except BaseException as exc:  # noqa: BLE001 - looked at below
            outcome.append(exc)

    thread = threading.Thread(target=job)
    thread.start()
    assert running.wait(120)
    described = engine.run(Describe(MethodSpec("padim")))
    listed = engine.run(ListMethods())
    answered.append(thread.is_alive())  # the fit was still running when both answers came
    cancel_pid = _pid(engine)
    engine.stop()
    thread.join(60)
    assert isinstance(described, Described) and described.description.name == "padim"
    assert isinstance(listed, MethodList) and "gde" in listed.names
    assert answered == [True] and not _ours(cancel_pid)


def test_a_closed_transport_refuses_requests_instead_of_starting_a_worker():
    closed = ProcessTransport()
    closed.close()
    with pytest.raises(WorkerStopped, match="the studio is closing"):
        closed.run(About())
    assert closed.started == 0
