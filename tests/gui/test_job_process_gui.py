"""The studio's engine jobs in its worker process, as a user sees them in the job list: a fit or predict runs in
another process and its heatmaps show, Cancel stops it, a killed worker fails the job with a message and the next
job starts another, a plug-in method named by import path runs there too, the methods panel gets its list and
descriptions from there, and closing the window ends the worker."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import numpy as np
import pytest
from engine_helpers import CATEGORY, PLUGIN, SLOW, STUCK, small_demo
from stall import StallMeter

from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.client import EngineClient
from goodsad_studio.engine.contract import About, MethodSpec
from goodsad_studio.engine.transports.process import ProcessTransport
from goodsad_studio.errors import Cancelled
from goodsad_studio.gui.analysis import Analysis
from goodsad_studio.gui.job_list import JobList
from goodsad_studio.gui.jobs import JobState
from gui.helpers import JOB_WAIT_MS, UI_WAIT_MS


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    return small_demo(tmp_path_factory.mktemp("demo") / "demo")


@pytest.fixture(scope="module")
def engine():
    """One worker for the module's analyses (starting one costs seconds)."""
    engine = ProcessTransport()
    yield engine
    engine.stop()


def _pid(engine: ProcessTransport) -> int:
    info = engine.run(About())
    return info.pid  # type: ignore[attr-defined]


@pytest.fixture
def studio(qtbot, demo_root, engine):
    """An Analysis on the demo set using the module's worker, and the job list showing its jobs."""
    analysis = Analysis(client=EngineClient(engine))
    analysis.set_index(scan_dataset(demo_root))
    jobs = JobList(analysis.runner)
    qtbot.addWidget(jobs)
    yield analysis, jobs
    qtbot.waitUntil(lambda: not analysis.busy, timeout=JOB_WAIT_MS)
    analysis.runner.shutdown()  # not analysis.shutdown(): that would stop the module's worker


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
    assert job.state == JobState.DONE, job.error
    assert engine.last_job_pid == engine.pid and engine.pid != os.getpid()
    assert jobs.rows[-1].title.text().endswith("done")
    result_set = analysis.result_set(CATEGORY, "patchcore")
    assert result_set is not None and result_set.key == job.result.model.key
    qtbot.waitUntil(lambda: len(analysis.summary(CATEGORY, "patchcore")) == len(records), timeout=UI_WAIT_MS)
    shown = analysis.result(records[-1], "patchcore")  # read from the cache the worker wrote
    assert shown is not None and shown.anomaly_map.ndim == 2 and np.isfinite(shown.score)


def test_cancel_in_the_job_list_stops_the_workers_fit(qtbot, studio, engine):
    analysis, jobs = studio
    pid = _pid(engine)
    models = analysis.workspace.layout.models_dir / CATEGORY / "all"
    before = sorted(models.glob("*"))
    job = analysis.fit(SLOW, CATEGORY)
    qtbot.waitUntil(lambda: job.done > 0 or not job.running, timeout=JOB_WAIT_MS)  # the worker is fitting
    jobs.rows[-1].cancel.click()
    _wait(qtbot, job)
    assert job.state == JobState.CANCELLED and isinstance(job.error, Cancelled)
    assert "cancelled" in jobs.rows[-1].title.text()
    assert engine.pid == pid  # the worker was not killed for it
    assert sorted(models.glob("*")) == before  # no model saved, no checkpoints left


def test_cancel_ends_a_step_that_does_not_return_and_the_queued_job_then_runs(qtbot, studio, engine):
    """A cancelled job whose step never returns (nor looks at the cancel flag) is cancelled by ending the worker,
    within a few seconds, and says so; the job queued behind it then runs in a new worker."""
    analysis, jobs = studio
    pid = _pid(engine)
    stuck = analysis.fit(MethodSpec(STUCK), CATEGORY)
    queued = analysis.fit(MethodSpec(PLUGIN), CATEGORY)
    qtbot.waitUntil(lambda: stuck.done > 0 or not stuck.running, timeout=JOB_WAIT_MS)  # inside the stuck step
    assert stuck.running and queued.state == JobState.QUEUED
    row = next(row for row in jobs.rows if row.job is stuck)
    clicked = time.monotonic()
    row.cancel.click()
    assert row.cancel.text() == "Cancelling..."
    qtbot.waitUntil(lambda: not stuck.running, timeout=JOB_WAIT_MS)
    took = time.monotonic() - clicked
    print(f"\ncancel of a step that does not return: {took:.1f} s to the job's end (grace {engine.cancel_grace} s)")
    assert stuck.state == JobState.CANCELLED and isinstance(stuck.error, Cancelled)
    assert "the worker process was ended" in row.title.text(), row.title.text()
    assert not _ours(pid)
    _wait(qtbot, queued)
    assert queued.state == JobState.DONE, queued.error
    assert engine.last_job_pid not in (pid, os.getpid(), None)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_worker_fails_the_job_with_a_message_and_the_next_job_works(qtbot, studio, engine):
    analysis, jobs = studio
    pid = _pid(engine)
    failed = []
    analysis.job_failed.connect(failed.append)
    job = analysis.fit(SLOW, CATEGORY)
    qtbot.waitUntil(lambda: job.done > 0 or not job.running, timeout=JOB_WAIT_MS)
    os.kill(pid, signal.SIGKILL)  # what the kernel's out-of-memory killer does
    _wait(qtbot, job)
    assert job.state == JobState.FAILED and failed == [job]
    assert "the worker process stopped unexpectedly (exit code -9" in jobs.rows[-1].title.text()
    assert not _ours(pid)

    job = analysis.fit(MethodSpec("patchcore", {"coreset_ratio": 0.1}), CATEGORY)  # saved by the first test
    _wait(qtbot, job)
    assert job.state == JobState.DONE, job.error
    assert engine.last_job_pid not in (pid, os.getpid(), None)


def test_a_plug_in_method_named_by_import_path_runs_in_the_worker(qtbot, studio, engine):
    analysis, _jobs = studio
    records = analysis.workspace.test_records(CATEGORY)
    job = analysis.predict(MethodSpec(PLUGIN), CATEGORY, records, CATEGORY)
    _wait(qtbot, job)
    assert job.state == JobState.DONE, job.error
    assert engine.last_job_pid == engine.pid != os.getpid()
    assert analysis.result_set(CATEGORY, PLUGIN).key == job.result.model.key
    assert analysis.result(records[0], PLUGIN) is not None
    qtbot.waitUntil(lambda: len(analysis.summary(CATEGORY, PLUGIN)) == len(records), timeout=UI_WAIT_MS)


def test_the_methods_panel_asks_the_worker_for_its_list_and_descriptions(qtbot, demo_root, engine, monkeypatch):
    import goodsad_studio.gui.methods_panel as panel_module
    from goodsad_studio.gui.methods_panel import MethodsPanel

    monkeypatch.setattr(panel_module, "_METHODS", [])  # nothing asked yet in this session
    monkeypatch.setattr(panel_module, "_DESCRIPTIONS", {})
    asked = []

    class Recording:  # the module's worker, noting what it was asked
        def run(self, request, on_event=None, cancel=None):
            asked.append(type(request).__name__)
            return engine.run(request, on_event, cancel)

        def stop(self):
            pass

        def close(self):
            pass

    analysis = Analysis(client=EngineClient(Recording()))
    panel = MethodsPanel(analysis)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.description is not None, timeout=JOB_WAIT_MS)
    assert panel.method.currentText() == "patchcore" and panel.method.count() >= 10
    assert panel.description.backbone and "device" in panel.info.text()
    assert asked == ["ListMethods", "Describe"] and engine.last_job_pid == engine.pid  # asked in the worker
    panel.shutdown()
    analysis.runner.shutdown()


def test_closing_the_window_ends_the_worker_and_its_job(qtbot, make_window, demo_root, engine):
    window = make_window(demo_root)
    analysis = window.analysis_ui.analysis

    class Reusable(EngineClient):  # closing the window stops the module's worker, which later tests restart
        def close(self):
            self.stop()

    analysis.client = Reusable(engine)  # the module's worker, already started, instead of starting another
    pid = _pid(engine)
    job = analysis.fit(SLOW, CATEGORY)
    qtbot.waitUntil(lambda: job.done > 0 or not job.running, timeout=JOB_WAIT_MS)
    window.close()
    _wait(qtbot, job)
    assert job.state == JobState.CANCELLED
    assert engine.pid is None and not _ours(pid)
