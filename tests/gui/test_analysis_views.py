"""Analysis views over results the engine computed beforehand (found in the results cache on opening).

The compare view with two methods whose scores live on different scales (PatchCore and PaDiM): each pane spans its
own method's category range, so neither is a flat colour, the colour bar reads 0-100 %, and the fixed range shares
raw values. The triage list
judges the masks as they are being edited."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt

from goodsad_studio.dataset.imageio import read_mask
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.contract import MethodSpec
from goodsad_studio.engine.inspect import propose_mask
from goodsad_studio.engine.worker.workspace import Workspace
from goodsad_studio.gui.canvas.heatmap_layer import colourise
from goodsad_studio.metrics.per_image import per_image_metrics
from gui.helpers import JOB_WAIT_MS, UI_WAIT_MS, tiny_demo

SPECS = (MethodSpec("patchcore", {"coreset_ratio": 0.1}), MethodSpec("padim"))


@pytest.fixture(scope="module")
def predicted_root(tmp_path_factory):
    """A tiny demo category with PatchCore and PaDiM results of every test image in its cache."""
    root = tmp_path_factory.mktemp("compare") / "demo"
    tiny_demo(root)
    workspace = Workspace(scan_dataset(root))
    for spec in SPECS:
        model = workspace.fit(spec, "drink_can")
        workspace.predict(model, workspace.test_records("drink_can"))
    return root


@pytest.fixture
def release():
    """Holds a test's job until the test sets it, or at the latest until the test ends (passed or failed): no job
    thread outlives its test."""
    event = threading.Event()
    yield event
    event.set()


def _category_range(analysis, method):
    summary = analysis.summary("drink_can", method).values()
    return min(s.low for s in summary), max(s.high for s in summary)


def test_each_method_is_drawn_on_its_own_range_of_the_shared_scale(qtbot, make_window, predicted_root):
    defective = next(r.key for r in scan_dataset(predicted_root).filter(split="test", anomalous=True))
    window = make_window(predicted_root, select=defective)
    ui = window.analysis_ui
    qtbot.waitUntil(lambda: not ui.busy and len(ui.analysis.summary("drink_can", "padim")) == 6, timeout=UI_WAIT_MS)
    qtbot.waitUntil(lambda: len(ui.analysis.summary("drink_can", "patchcore")) == 6, timeout=UI_WAIT_MS)
    ui.controls.mode.setCurrentIndex(ui.controls.mode.findData("category"))
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)  # Analysis > Compare methods
    compare = ui.compare
    assert compare.isVisible()
    qtbot.waitUntil(lambda: len(compare.panes) == 3, timeout=UI_WAIT_MS)
    assert compare.chosen() == ["padim", "patchcore"]
    ranges = {method: _category_range(ui.analysis, method) for method in ("padim", "patchcore")}
    assert compare.ranges == ranges
    assert ranges["padim"] != ranges["patchcore"]
    lut = ui.controls.lut()
    for pane in compare.panes[1:]:
        assert pane.heat.range == ranges[pane.method]
        # the pane is coloured against its own method's range: its map spreads over the colormap
        result = ui.analysis.result(window.current, pane.method)
        colours = colourise(result.anomaly_map, *pane.heat.range, lut).reshape(-1, 3)
        assert len(np.unique(colours, axis=0)) > 20
    assert "each method" in compare.scale.text()
    assert (compare.bar_low.text(), compare.bar_high.text()) == ("0 %", "100 %")
    assert not compare.bar.pixmap().isNull()

    # per image: each pane spans exactly its own map
    ui.controls.mode.setCurrentIndex(ui.controls.mode.findData("image"))
    qtbot.waitUntil(lambda: len(compare.panes) == 3, timeout=UI_WAIT_MS)
    for pane in compare.panes[1:]:
        result = ui.analysis.result(window.current, pane.method)
        assert pane.heat.range == (float(result.anomaly_map.min()), float(result.anomaly_map.max()))

    # fixed: one raw range shared by every pane, and the bar shows its raw ends
    ui.controls.low.setValue(2.0)
    ui.controls.high.setValue(30.0)
    ui.controls.mode.setCurrentIndex(ui.controls.mode.findData("fixed"))
    qtbot.waitUntil(lambda: len(compare.panes) == 3 and compare.panes[1].heat.range == (2.0, 30.0), timeout=UI_WAIT_MS)
    assert compare.panes[2].heat.range == (2.0, 30.0)
    assert (compare.bar_low.text(), compare.bar_high.text()) == ("2", "30")

    # unticking a method removes its pane
    compare.methods.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert [pane.method for pane in compare.panes] == ["", "patchcore"]
    compare.close()
    window.close()


def test_triage_judges_unsaved_edits_not_the_saved_mask(qtbot, make_window, predicted_root):
    index = scan_dataset(predicted_root)
    defective = index.filter(split="test", anomalous=True)[0]
    window = make_window(predicted_root, select=defective.key)
    ui = window.analysis_ui
    qtbot.waitUntil(lambda: not ui.busy and len(ui.analysis.summary("drink_can")) == 6, timeout=UI_WAIT_MS)
    ui.analysis.show("drink_can", "patchcore")  # triage ranks the displayed method's results

    def triage_values():
        job = ui.triage.start()
        qtbot.waitUntil(lambda: not job.running, timeout=JOB_WAIT_MS)
        return {item.key: item.value for item in ui.triage.items}

    saved = triage_values()
    # the annotator replaces the mask by the method's own proposal: its pixel AP jumps, before any save
    result = ui.analysis.result(defective, "patchcore")
    proposal = propose_mask(result, float(np.quantile(result.native_map(), 0.9)))
    window.canvas.document.replace_mask(proposal, "test edit")
    assert window.store.is_modified(defective.key)
    edited = triage_values()
    expected = per_image_metrics(result.native_map(), proposal, math.inf, image_shape=result.native_shape).pixel_ap
    assert edited[defective.key] == pytest.approx(expected)
    assert edited[defective.key] > saved[defective.key]
    assert read_mask(defective.mask_path).sum() != proposal.sum()  # nothing was written
    window.canvas.document.undo()
    window.close()


def test_a_queued_job_says_so_until_it_starts(qtbot, make_window, release):
    window = make_window()
    ui = window.analysis_ui
    first = ui.analysis.runner.start("first", lambda progress, cancel: release.wait(JOB_WAIT_MS / 1000))
    second = ui.analysis.runner.start("second", lambda progress, cancel: 42)
    rows = {row.job.title: row for row in ui.methods.jobs.rows}
    qtbot.waitUntil(lambda: first.state == "running", timeout=UI_WAIT_MS)
    rows["first"].refresh()
    assert second.state == "queued"
    assert (rows["second"].bar.format(), rows["second"].eta.text()) == ("queued", "waiting")
    assert rows["first"].bar.format() != "queued"
    release.set()
    qtbot.waitUntil(lambda: not second.running, timeout=UI_WAIT_MS)
    assert second.result == 42 and rows["second"].bar.format() == "done"
    window.close()


def test_listeners_of_a_job_see_it_and_its_row_as_they_are_now(qtbot, make_window, release):
    """``progressed`` and ``finished`` come on the GUI thread once the job and its row in the job list show them,
    however a listener is connected: nobody (nor a test waiting for ``not job.running``) reads a stale row."""
    from goodsad_studio.progress import Progress, Stage

    window = make_window()
    ui = window.analysis_ui

    def work(progress, cancel):
        progress(Progress(Stage.PREDICT, 2, 5, ""))
        release.wait(JOB_WAIT_MS / 1000)
        return 7

    job = ui.analysis.runner.start("Quick", work)
    row = next(row for row in ui.methods.jobs.rows if row.job is job)
    seen = []

    def look(what):
        on_gui = threading.current_thread() is threading.main_thread()
        seen.append((what, on_gui, job.state, job.done, row.bar.format(), row.title.text()))

    direct = Qt.ConnectionType.DirectConnection
    job.progressed.connect(lambda _p: look("progressed"), direct)
    job.finished.connect(lambda _j: look("finished"), direct)
    qtbot.waitUntil(lambda: job.done == 2, timeout=UI_WAIT_MS)
    assert seen == [("progressed", True, "running", 2, "predict %v/%m", "Quick")]
    release.set()
    qtbot.waitUntil(lambda: not job.running, timeout=UI_WAIT_MS)
    assert seen[1:] == [("finished", True, "done", 2, "done", "Quick — done")]
    assert job.result == 7
    window.close()


def test_the_status_bar_follows_the_running_job_and_opens_the_job_list(qtbot, make_window, release):
    from goodsad_studio.progress import Progress, Stage

    window = make_window()
    ui = window.analysis_ui
    assert ui.job_status.isHidden()

    def work(progress, cancel):
        progress(Progress(Stage.FEATURES, 3, 10, "x"))
        release.wait(JOB_WAIT_MS / 1000)

    first = ui.analysis.runner.start("Fit demo", work)
    ui.analysis.runner.start("Predict demo", lambda progress, cancel: None)
    qtbot.waitUntil(lambda: first.done == 3, timeout=UI_WAIT_MS)
    assert ui.job_status.isVisible()  # refreshed in the same event-loop turn as the job took the progress
    assert ui.job_status.label.text().startswith("Fit demo: features 3/10")
    assert "(+1 queued)" in ui.job_status.label.text()
    assert (ui.job_status.bar.value(), ui.job_status.bar.maximum()) == (3, 10)
    qtbot.mouseClick(ui.job_status, Qt.MouseButton.LeftButton)
    assert ui.methods_dock.isVisible()
    release.set()
    qtbot.waitUntil(lambda: not ui.analysis.runner.busy, timeout=UI_WAIT_MS)
    qtbot.waitUntil(lambda: ui.job_status.isHidden(), timeout=UI_WAIT_MS)
    window.close()


def test_a_job_that_ends_after_another_dataset_opened_leaves_the_new_one_alone(
    qtbot, make_window, predicted_root, goods_root, monkeypatch, release
):
    from goodsad_studio.engine.client import EngineClient
    from goodsad_studio.engine.transports.inline import InlineTransport

    class Slow(InlineTransport):  # the job in this process, held until the other dataset is open
        def run(self, request, on_event=None, cancel=None):
            release.wait(JOB_WAIT_MS / 1000)
            return super().run(request, on_event, cancel)

    window = make_window(predicted_root)
    ui = window.analysis_ui
    ui.analysis.client = EngineClient(Slow())
    job = ui.analysis.fit(SPECS[0], "drink_can")  # the saved model: loads, no refit
    assert window.open_dataset(goods_root)  # also a drink_can category
    assert ui.analysis.result_set("drink_can", "patchcore") is None
    release.set()
    qtbot.waitUntil(lambda: not job.running, timeout=JOB_WAIT_MS)
    assert job.state == "done", job.error
    assert ui.analysis.result_set("drink_can", "patchcore") is None  # the old dataset's results stay with it
    window.close()


def test_a_training_job_shows_its_epoch_and_loss_and_a_stage_of_unknown_size_counts(qtbot, make_window, release):
    from goodsad_studio.progress import Progress, Stage, TrainingStatus

    window = make_window()
    ui = window.analysis_ui
    step = threading.Event()

    def work(progress, cancel):
        progress(Progress(Stage.LOAD, 5, None, "rd4ad on drink_can"))  # a reader that cannot say how many
        step.wait(JOB_WAIT_MS / 1000)
        progress(Progress(Stage.TRAIN, 3, 10, "rd4ad on drink_can"))
        progress(TrainingStatus(1, 2, 3, 10, 0.125))
        release.wait(JOB_WAIT_MS / 1000)

    job = ui.analysis.runner.start("Fit rd4ad", work)
    row = next(row for row in ui.methods.jobs.rows if row.job is job)
    qtbot.waitUntil(lambda: job.stage == "load", timeout=UI_WAIT_MS)
    assert row.bar.format() == "load 5" and row.bar.maximum() == 0  # busy: no total to fill
    step.set()
    qtbot.waitUntil(lambda: job.training is not None, timeout=UI_WAIT_MS)
    assert row.bar.format() == "train %v/%m" and row.bar.value() == 3
    assert row.title.text() == "Fit rd4ad — epoch 1/2, loss 0.125"
    release.set()
    qtbot.waitUntil(lambda: not job.running, timeout=UI_WAIT_MS)
    window.close()
