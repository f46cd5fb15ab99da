"""GUI part 2 through the window: fit and predict PatchCore on a tiny demo category as background jobs, the
heatmap overlay and per-image metrics against the engine's numbers, live TP/FP/FN while editing, propose-mask,
evaluation tables, reopening with cached heatmaps, cancelling, and exports. The second test finds what the first
leaves on disk (a model, its heatmaps, an evaluation); run alone or first, it has the engine make them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from stall import StallMeter

from goodsad_studio.dataset.imageio import read_mask
from goodsad_studio.engine.contract import MethodSpec
from goodsad_studio.engine.inspect import propose_mask
from goodsad_studio.gui.jobs import JobState
from goodsad_studio.metrics.per_image import per_image_metrics
from goodsad_studio.metrics.report import format_value
from gui.helpers import JOB_WAIT_MS, UI_WAIT_MS

DEFECTIVE = "drink_can/test/surface_damage/001006"
SPEC = MethodSpec("patchcore", {"coreset_ratio": 0.1})


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    from goodsad_studio.dataset.demo import generate_demo

    dest = tmp_path_factory.mktemp("demo") / "demo"
    generate_demo(
        dest,
        size=160,
        categories=["drink_can"],
        goods_per_category=2,
        train_per_goods=4,
        test_good_per_goods=2,
        defective_per_goods=2,
    )
    return dest


@pytest.fixture
def evaluated(demo_root):
    """The demo set with what the first test leaves there (SPEC fitted, the test split predicted and evaluated),
    whichever test runs first: the engine makes them here only when they are not on disk yet."""
    from goodsad_studio.dataset.index import scan_dataset
    from goodsad_studio.engine.client import EngineClient
    from goodsad_studio.engine.contract import Evaluate
    from goodsad_studio.engine.evaluations import load_outcomes
    from goodsad_studio.engine.records import OpenDataset
    from goodsad_studio.engine.transports.inline import InlineTransport

    dataset = OpenDataset(scan_dataset(demo_root))
    if not any(outcome.method == SPEC.method for outcome in load_outcomes(dataset.state_dir)):
        EngineClient(InlineTransport()).evaluate(Evaluate(dataset.ref(), SPEC, "drink_can"))
    return demo_root


def _ready(qtbot, window):
    ui = window.analysis_ui
    qtbot.waitUntil(lambda: ui.methods.description is not None, timeout=JOB_WAIT_MS)
    return ui


def _wait_job(qtbot, job):
    qtbot.waitUntil(lambda: not job.running, timeout=JOB_WAIT_MS)


def _settle(qtbot, ui):
    qtbot.waitUntil(lambda: not ui.busy, timeout=UI_WAIT_MS)


def test_predict_in_background_shows_heatmap_and_engine_metrics(qtbot, make_window, demo_root, tmp_path):
    window = make_window(demo_root, select=DEFECTIVE)
    ui = _ready(qtbot, window)
    assert ui.methods.method.currentText() == "patchcore"
    assert "device: CPU" in ui.methods.info.text() and "weights:" in ui.methods.info.text()
    assert "param-coreset_ratio" in {editor.objectName() for editor in ui.methods.form.editors.values()}
    ui.methods.form.set_values({"coreset_ratio": 0.1})
    meter = StallMeter()
    meter.start()
    ui.methods.buttons["predict"].click()  # scope: the whole category's test images
    job = ui.analysis.runner.jobs[-1]
    row = ui.methods.jobs.rows[-1]
    assert row.job is job and not row.cancel.isHidden()
    _wait_job(qtbot, job)
    stall = meter.stop()
    print(
        f"\nworst event-loop stall during fit+predict: {stall:.1f} ms over {meter.ticks} ticks; "
        f"stalls over 20 ms (s, ms): {[(round(a, 2), round(m)) for a, m in meter.stalls]}"
    )
    assert job.state == JobState.DONE, job.error
    assert row.bar.format() == "done"
    _settle(qtbot, ui)

    # the overlay shows the engine's cached map, and the metrics are the engine's for the current mask
    layer = ui.overlay.layer
    assert layer.has_heatmap
    result = ui.analysis.result(window.current)
    from goodsad_studio.engine.worker.workspace import Workspace

    # the engine's own answer here, for the same model (loaded, not refitted)
    workspace = Workspace(ui.analysis.workspace.index, ui.analysis.workspace.state_dir)
    model = workspace.fit(SPEC, "drink_can")
    assert model.reused
    engine = workspace.predict(model, [window.current], use_cache=False)[window.current.key]
    assert engine.score == pytest.approx(result.score, rel=1e-4)
    threshold = ui.controls.threshold()
    mask = read_mask(window.current.mask_path, shape=result.native_shape)
    expected = per_image_metrics(engine.native_map(), mask, threshold)
    shown = ui.metrics.inspection.metrics
    assert shown.pixel_ap == pytest.approx(expected.pixel_ap)
    assert (shown.tp, shown.fp, shown.fn) == (expected.tp, expected.fp, expected.fn)
    assert ui.metrics.values["pixel_auroc"].text() == f"{100 * expected.pixel_auroc:.1f} %"
    assert ui.metrics.values["rank"].text().endswith("of 8")
    assert not layer.contour.isEmpty() or expected.tp + expected.fp == 0

    # moving the threshold redraws the contour and the counts
    ui.controls.set_threshold(float(np.quantile(result.native_map(), 0.95)))
    _settle(qtbot, ui)
    assert not layer.contour.isEmpty()
    again = per_image_metrics(engine.native_map(), mask, ui.controls.threshold())
    assert ui.metrics.inspection.metrics.fp == again.fp

    # live TP/FP/FN while the mask is edited
    document = window.canvas.document
    report = document.paint([(20.0, 20.0), (60.0, 20.0)], 6.0)
    window.canvas.edit_done(report)
    _settle(qtbot, ui)
    edited = per_image_metrics(engine.native_map(), document.mask, ui.controls.threshold())
    assert (ui.metrics.inspection.metrics.tp, ui.metrics.inspection.metrics.fn) == (edited.tp, edited.fn)

    # propose mask from heatmap: one undoable edit equal to the engine's proposal
    before = document.mask.copy()
    ui.overlay.propose()
    assert np.array_equal(document.mask, propose_mask(result, ui.controls.threshold()))
    window.canvas.undo()
    assert np.array_equal(document.mask, before)
    # ... and with a threshold no pixel reaches, it refuses and leaves the mask alone (it used to empty it)
    highest = float(result.native_map().max())  # calibrated scores may be negative
    ui.controls.set_threshold(highest + abs(highest) + 1)
    ui.overlay.propose()
    assert np.array_equal(document.mask, before)
    assert "no pixel of the heatmap reaches the threshold" in window.status.currentMessage()
    ui.controls.set_threshold(float(np.quantile(result.native_map(), 0.95)))
    _settle(qtbot, ui)

    # evaluate: the metrics view shows the evaluation's numbers
    ui.methods.buttons["evaluate"].click()
    job = ui.analysis.runner.jobs[-1]
    _wait_job(qtbot, job)
    assert job.state == JobState.DONE, job.error
    outcome = ui.analysis.outcomes[("drink_can", "patchcore")]
    ui.show_metrics()
    table = ui.metrics_view.table
    assert table.item(0, 3).text() == format_value(outcome.rows[0].result.image_auroc)
    assert ui.metrics_view.images.rowCount() == 8
    ui.metrics_view.images.cellClicked.emit(0, 0)
    assert window.current.key == ui.metrics_view.images.item(0, 0).text()

    # exports: heatmaps (png + npy), the report and COCO, as the dialog sends them to the worker
    from goodsad_studio.gui.export_dialog import ExportDialog

    for kind in ("heatmaps", "report", "coco"):
        dialog = ExportDialog(ui.analysis, "drink_can", window)
        qtbot.addWidget(dialog)
        dialog.kind.setCurrentIndex(dialog.kind.findData(kind))
        dialog.dest.setText(str(tmp_path / ("coco.json" if kind == "coco" else kind)))
        job = dialog.start()
        _wait_job(qtbot, job)
        assert job.state == JobState.DONE, job.error
    npy = tmp_path / "heatmaps" / "drink_can" / "test" / "surface_damage" / "001006.npy"
    assert np.allclose(np.load(npy), engine.native_map(), atol=1e-2)
    assert (tmp_path / "report" / "report.md").read_text().count("patchcore") >= 1
    assert (tmp_path / "coco.json").stat().st_size > 100

    # compare view: GT + the method, one shared scale
    ui.show_compare()
    qtbot.waitUntil(lambda: len(ui.compare.panes) == 2, timeout=UI_WAIT_MS)
    assert ui.compare.panes[1].heat.range == ui.compare.ranges["patchcore"]
    ui.compare.panes[0].setTransform(ui.compare.panes[0].transform().scale(2, 2))
    ui.compare.panes[0].view_changed.emit(ui.compare.panes[0])
    assert ui.compare.panes[1].transform().m11() == pytest.approx(ui.compare.panes[0].transform().m11())
    window.canvas.document.undo()  # leave the brush edit out of the next test's way
    window.close()


def test_reopening_shows_cached_heatmaps_and_cancel_stops_a_job(qtbot, make_window, evaluated, tmp_path):
    demo_root = evaluated
    window = make_window(demo_root, select=DEFECTIVE)
    ui = window.analysis_ui
    _settle(qtbot, ui)
    assert ui.analysis.result_set("drink_can", "patchcore") is not None
    assert ui.overlay.layer.has_heatmap  # no job ran: read from the results cache
    _ready(qtbot, window)
    ui.methods.form.set_values({"coreset_ratio": 0.2})  # another model: a real fit would start
    ui.methods.buttons["fit"].click()
    job = ui.analysis.runner.jobs[-1]
    ui.methods.jobs.rows[-1].cancel.click()
    _wait_job(qtbot, job)
    assert job.state == JobState.CANCELLED
    assert "cancel" in str(job.error)
    models = list((demo_root / ".goodsad-studio" / "models" / "drink_can" / "all").iterdir())
    assert len(models) == 1  # only the model of SPEC (the first test's) was saved
    assert math.isfinite(ui.metrics.inspection.score)
    saved = ui.analysis.outcomes[("drink_can", "patchcore")]  # the evaluation of SPEC, from disk
    ui.show_metrics()
    assert ui.metrics_view.table.item(0, 3).text() == format_value(saved.rows[0].result.image_auroc)
    assert len(saved.rows[0].result.curves["image_roc"].x) > 2

    # triage: the defective image the heatmap explains worst comes first; a click opens it
    job = ui.triage.start()
    _wait_job(qtbot, job)
    assert job.state == JobState.DONE, job.error
    first = ui.triage.items[0]
    assert first.reason.startswith("defective") and ui.triage.list.count() == 8
    assert all(a.value <= b.value for a, b in zip(ui.triage.items[:4], ui.triage.items[1:4], strict=False))
    ui.triage.list.itemClicked.emit(ui.triage.list.item(0))
    assert window.current.key == first.key

    # the export dialog: an MVTec subset of one goods id, resized
    from goodsad_studio.dataset.imageio import probe_image
    from goodsad_studio.gui.export_dialog import ExportDialog

    dialog = ExportDialog(ui.analysis, "drink_can", window)
    qtbot.addWidget(dialog)
    dialog.goods.setText("002")
    dialog.size.setValue(64)
    dialog.dest.setText(str(tmp_path / "subset"))
    job = dialog.start()
    _wait_job(qtbot, job)
    assert job.state == JobState.DONE, job.error
    images = sorted((tmp_path / "subset" / "drink_can").rglob("*.jpg")) + sorted(
        (tmp_path / "subset" / "drink_can").rglob("*.png")
    )
    assert images and all(p.name.startswith("002") for p in images if "ground_truth" not in p.parts)
    assert (probe_image(images[0]).width, probe_image(images[0]).height) == (64, 64)
