"""What the heatmap displays and what the Methods panel sets up are separate choices (issue 21 point 6): setting up
another method keeps the heatmap on the canvas and its threshold; the heatmap dock's Showing choice changes the
heatmap, each displayed method keeps its own threshold, and the choice holds for the category for the session (other
images, the dataset reopened). A prediction of another method does not take the display from the method shown."""

from __future__ import annotations

import numpy as np
import pytest

from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.client import EngineClient
from goodsad_studio.engine.contract import MethodSpec
from goodsad_studio.engine.transports.inline import InlineTransport
from goodsad_studio.engine.worker.workspace import Workspace
from goodsad_studio.gui import methods_panel
from goodsad_studio.gui.jobs import JobState
from gui.helpers import JOB_WAIT_MS, UI_WAIT_MS, tiny_demo

CATEGORY = "drink_can"
SPECS = (MethodSpec("patchcore", {"coreset_ratio": 0.1}), MethodSpec("padim"))  # PaDiM's results are the newest


@pytest.fixture(scope="module")
def predicted_root(tmp_path_factory):
    """A tiny demo category with PatchCore's and then PaDiM's results of every test image in its cache."""
    root = tmp_path_factory.mktemp("shown") / "demo"
    tiny_demo(root)
    workspace = Workspace(scan_dataset(root))
    for spec in SPECS:
        workspace.predict(workspace.fit(spec, CATEGORY), workspace.test_records(CATEGORY))
    return root


@pytest.fixture
def padim_described(monkeypatch):
    """PaDiM's description, from the engine in this process, in the panel's session cache (as PatchCore's is)."""
    found = EngineClient(InlineTransport()).describe(MethodSpec("padim")).description
    monkeypatch.setitem(methods_panel._DESCRIPTIONS, ("padim", "auto", "auto", "auto"), found)
    return found


def _open(qtbot, make_window, root):
    index = scan_dataset(root)
    defective = index.filter(split="test", anomalous=True)
    window = make_window(root, select=defective[0].key)
    ui = window.analysis_ui
    qtbot.waitUntil(lambda: ui.methods.description is not None, timeout=UI_WAIT_MS)
    qtbot.waitUntil(
        lambda: not ui.busy and all(len(ui.analysis.summary(CATEGORY, s.method)) == 6 for s in SPECS),
        timeout=UI_WAIT_MS,
    )
    return window, ui, defective


def _settle(qtbot, ui):
    qtbot.waitUntil(lambda: not ui.busy and ui.metrics.inspection is not None, timeout=UI_WAIT_MS)


def _set_up(qtbot, ui, method):
    """Choose ``method`` in the Methods panel and wait for its form, as a user setting it up."""
    ui.methods.method.setCurrentText(method)
    qtbot.waitUntil(lambda: ui.methods.description.name == method, timeout=UI_WAIT_MS)
    _settle(qtbot, ui)


def _choose_shown(qtbot, ui, method):
    showing = ui.controls.showing
    showing.setCurrentIndex(showing.findText(method))
    qtbot.waitUntil(lambda: ui.overlay.result is ui.analysis.result(ui.window.current, method), timeout=UI_WAIT_MS)
    _settle(qtbot, ui)


def _shown_map(ui) -> np.ndarray:
    return ui.overlay.result.anomaly_map.copy()


def test_setting_up_another_method_keeps_the_heatmap_and_its_threshold(
    qtbot, make_window, predicted_root, padim_described
):
    window, ui, _defective = _open(qtbot, make_window, predicted_root)
    assert ui.methods.method.currentText() == "patchcore"  # set up in the panel ...
    assert ui.analysis.shown_method(CATEGORY) == "padim"  # ... while the newest results, PaDiM's, are displayed
    showing = ui.controls.showing
    assert [showing.itemText(i) for i in range(showing.count())] == ["padim", "patchcore"]
    assert showing.currentText() == "padim" and showing.isEnabled()
    _settle(qtbot, ui)
    padim = ui.analysis.result(window.current, "padim")
    assert np.array_equal(_shown_map(ui), padim.anomaly_map)
    ui.controls.set_threshold(float(np.quantile(padim.native_map(), 0.9)))
    threshold = ui.controls.threshold()
    _settle(qtbot, ui)
    heat, contour = _shown_map(ui), ui.overlay.layer.contour

    for method in ("padim", "patchcore"):  # setting up either method, the shown one too, changes nothing shown
        _set_up(qtbot, ui, method)
        assert ui.analysis.shown_method(CATEGORY) == "padim" and showing.currentText() == "padim"
        assert np.array_equal(_shown_map(ui), heat)
        assert ui.controls.threshold() == threshold
        assert ui.overlay.layer.contour == contour
        assert ui.metrics.values["method"].text() == "padim"  # the image metrics are the displayed method's
    window.close()


def test_the_showing_choice_changes_the_heatmap_and_each_method_keeps_its_threshold(
    qtbot, make_window, predicted_root, padim_described
):
    window, ui, defective = _open(qtbot, make_window, predicted_root)
    _settle(qtbot, ui)
    record = window.current
    padim, patchcore = (ui.analysis.result(record, method) for method in ("padim", "patchcore"))
    assert not np.array_equal(padim.anomaly_map, patchcore.anomaly_map)
    ui.controls.set_threshold(float(np.quantile(padim.native_map(), 0.9)))
    padim_threshold = ui.controls.threshold()  # as the box holds it (4 decimals)
    _settle(qtbot, ui)

    _choose_shown(qtbot, ui, "patchcore")
    assert ui.analysis.shown_method(CATEGORY) == "patchcore"
    assert np.array_equal(_shown_map(ui), patchcore.anomaly_map)
    assert ui.methods.method.currentText() == "patchcore"  # the panel's set-up is not the display's business
    assert ui.controls.threshold() != padim_threshold  # PatchCore starts at its own default
    ui.controls.set_threshold(float(np.quantile(patchcore.native_map(), 0.95)))
    patchcore_threshold = ui.controls.threshold()
    _settle(qtbot, ui)

    _choose_shown(qtbot, ui, "padim")  # each displayed method gets its threshold back
    assert np.array_equal(_shown_map(ui), padim.anomaly_map)
    assert ui.controls.threshold() == padim_threshold
    _choose_shown(qtbot, ui, "patchcore")
    assert ui.controls.threshold() == patchcore_threshold

    # the choice is the category's: another image shows PatchCore too, as does the dataset opened again
    assert window.select_image(defective[1].key) and window.wait_until_loaded(UI_WAIT_MS)
    _settle(qtbot, ui)
    assert ui.controls.showing.currentText() == "patchcore"
    assert np.array_equal(_shown_map(ui), ui.analysis.result(window.current, "patchcore").anomaly_map)
    assert window.open_dataset(predicted_root, select=defective[0].key) and window.wait_until_loaded(UI_WAIT_MS)
    qtbot.waitUntil(lambda: len(ui.analysis.summary(CATEGORY, "patchcore")) == 6, timeout=UI_WAIT_MS)
    _settle(qtbot, ui)
    assert ui.analysis.shown_method(CATEGORY) == "patchcore"  # not the newest results (PaDiM's)
    assert np.array_equal(_shown_map(ui), patchcore.anomaly_map)
    window.close()


def test_a_prediction_of_another_method_does_not_take_the_display(qtbot, make_window, predicted_root, padim_described):
    """Through the engine's worker: PatchCore displayed, PaDiM set up and predicted for this image. Its results are
    offered under Showing and named in the status bar; the canvas keeps PatchCore's heatmap and threshold."""
    window, ui, _defective = _open(qtbot, make_window, predicted_root)
    _settle(qtbot, ui)
    _choose_shown(qtbot, ui, "patchcore")
    threshold = ui.controls.threshold()
    heat = _shown_map(ui)
    _set_up(qtbot, ui, "padim")
    ui.methods.scope.setCurrentIndex(ui.methods.scope.findData("image"))
    ui.methods.buttons["predict"].click()
    job = ui.analysis.runner.jobs[-1]
    qtbot.waitUntil(lambda: not job.running, timeout=JOB_WAIT_MS)
    assert job.state == JobState.DONE, job.error
    assert "padim results for drink_can are ready" in window.status.currentMessage()
    qtbot.waitUntil(lambda: not ui.busy, timeout=UI_WAIT_MS)
    _settle(qtbot, ui)
    assert ui.analysis.shown_method(CATEGORY) == "patchcore" and ui.controls.showing.currentText() == "patchcore"
    assert np.array_equal(_shown_map(ui), heat)
    assert ui.controls.threshold() == threshold
    window.close()
