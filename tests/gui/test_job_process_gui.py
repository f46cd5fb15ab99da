"""The studio's engine jobs in its worker process, as a user sees them in the job list: a fit or predict runs in
another process and its heatmaps show, Cancel stops it, a killed worker fails the job with a message and the next
job starts another, methods registered at run time still run (in a thread), and closing the window ends the
worker."""

from __future__ import annotations

import multiprocessing
import os
import signal

import numpy as np
import pytest
from engine_helpers import CATEGORY, SLOW, MeanImageDistance, small_demo
from stall import StallMeter

from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.job_process import EngineProcess
from goodsad_studio.engine.jobs import MethodSpec
from goodsad_studio.errors import Cancelled
from goodsad_studio.gui.analysis import Analysis
from goodsad_studio.gui.job_list import JobList
from goodsad_studio.gui.jobs import CANCELLED, DONE, FAILED
from goodsad_studio.methods import registry
from gui.helpers import JOB_WAIT_MS, UI_WAIT_MS


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    return small_demo(tmp_path_factory.mktemp("demo") / "demo")


@pytest.fixture(scope="module")
def engine():
    """One worker for the module's analyses (starting one costs seconds)."""
    engine = EngineProcess()
    yield engine
    engine.stop()


@pytest.fixture
def studio(qtbot, demo_root, engine):
    """An Analysis on the demo set using the module's worker, and the job list showing its jobs."""
    analysis = Analysis(engine=engine)
    analysis.set_index(scan_dataset(demo_root))
    jobs = JobList(analysis.runner)
    qtbot.addWidget(jobs)
    yield analysis, jobs
    qtbot.waitUntil(lambda: not analysis.runner.busy and not analysis._pool.busy, timeout=JOB_WAIT_MS)
    analysis.runner.shutdown()  # not analysis.shutdown(): that would stop the module's worker
    analysis._pool.shutdown()


def _wait(qtbot, job):
    qtbot.waitUntil(lambda: not job.running, timeout=JOB_WAIT_MS)


def _ours(pid) -> bool:
    return any(child.pid == pid for child in multiprocessing.active_children())


def test_predict_runs_in_the_worker_and_its_heatmaps_show(qtbot, studio, engine):
    analysis, jobs = studio
    records = analysis.workspace.test_records(CATEGORY)
    meter = StallMeter()
    meter.start()
    job = analysis.predict(MethodSpec("patchcore", {"coreset_ratio": 0.1}), CATEGORY, records, CATEGORY)
    _wait(qtbot, job)
    print(f"\nworst event-loop stall during a first job in the worker (start included): {meter.stop():.1f} ms")
    assert job.state == DONE, job.error
    assert engine.last_job_pid == engine.pid and engine.pid != os.getpid()
    assert jobs.rows[-1].title.text().endswith("done")
    result_set = analysis.result_set(CATEGORY, "patchcore")
    assert result_set is not None and result_set.key == job.result.key
    qtbot.waitUntil(lambda: len(analysis.summary(CATEGORY, "patchcore")) == len(records), timeout=UI_WAIT_MS)
    shown = analysis.result(records[-1], "patchcore")  # read from the cache the worker wrote
    assert shown is not None and shown.anomaly_map.ndim == 2 and np.isfinite(shown.score)


def test_cancel_in_the_job_list_stops_the_workers_fit(qtbot, studio, engine):
    analysis, jobs = studio
    pid = engine.about().pid
    models = analysis.workspace.models_dir / CATEGORY / "all"
    before = sorted(models.glob("*"))
    job = analysis.fit(SLOW, CATEGORY)
    qtbot.waitUntil(lambda: job.stage == "fit" or not job.running, timeout=JOB_WAIT_MS)  # the worker is fitting
    jobs.rows[-1].cancel.click()
    _wait(qtbot, job)
    assert job.state == CANCELLED and isinstance(job.error, Cancelled)
    assert "cancelled" in jobs.rows[-1].title.text()
    assert engine.pid == pid  # the worker was not killed for it
    assert sorted(models.glob("*")) == before  # no model saved, no checkpoints left


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_worker_fails_the_job_with_a_message_and_the_next_job_works(qtbot, studio, engine):
    analysis, jobs = studio
    pid = engine.about().pid
    failed = []
    analysis.job_failed.connect(failed.append)
    job = analysis.fit(SLOW, CATEGORY)
    qtbot.waitUntil(lambda: job.stage == "fit" or not job.running, timeout=JOB_WAIT_MS)
    os.kill(pid, signal.SIGKILL)  # what the kernel's out-of-memory killer does
    _wait(qtbot, job)
    assert job.state == FAILED and failed == [job]
    assert "the worker process stopped unexpectedly (exit code -9" in jobs.rows[-1].title.text()
    assert not _ours(pid)

    job = analysis.fit(MethodSpec("patchcore", {"coreset_ratio": 0.1}), CATEGORY)  # saved by the first test
    _wait(qtbot, job)
    assert job.state == DONE, job.error
    assert engine.last_job_pid not in (pid, os.getpid(), None)


def test_a_method_registered_at_run_time_runs_in_a_thread(qtbot, studio, engine, monkeypatch):
    monkeypatch.setitem(registry._REGISTRY, MeanImageDistance.name, MeanImageDistance)
    analysis, _jobs = studio
    before = engine.last_job_pid
    spec = MethodSpec(MeanImageDistance.name)
    assert not analysis.in_worker(spec) and analysis.in_worker(MethodSpec("patchcore"))
    records = analysis.workspace.test_records(CATEGORY)
    job = analysis.predict(spec, CATEGORY, records, CATEGORY)
    _wait(qtbot, job)
    assert job.state == DONE, job.error
    assert engine.last_job_pid == before  # the worker never saw it
    assert analysis.result_set(CATEGORY, MeanImageDistance.name).key == job.result.key
    assert analysis.result(records[0], MeanImageDistance.name) is not None
    qtbot.waitUntil(lambda: len(analysis.summary(CATEGORY, MeanImageDistance.name)) == len(records), timeout=UI_WAIT_MS)


def test_closing_the_window_ends_the_worker_and_its_job(qtbot, make_window, demo_root, engine):
    window = make_window(demo_root)
    analysis = window.analysis_ui.analysis
    analysis.engine = engine  # the module's worker, already started, instead of starting another
    pid = engine.about().pid
    job = analysis.fit(SLOW, CATEGORY)
    qtbot.waitUntil(lambda: job.stage == "fit" or not job.running, timeout=JOB_WAIT_MS)
    window.close()
    _wait(qtbot, job)
    assert job.state == CANCELLED
    assert engine.pid is None and not _ours(pid)
