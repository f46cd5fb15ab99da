"""Comparing methods in depth (issue 21, point 9): the compare view outlines the ground truth over each heatmap and
gives each pane a colour bar that says how many of the image's pixels its range clips; the main view has a colour
bar that follows the heatmap; the dataset metrics view overlays several methods' curves with their metrics."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, QPointF, Qt

from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.contract import MethodSpec
from goodsad_studio.engine.evaluations import save_outcome
from goodsad_studio.engine.worker.evaluate import evaluate_category
from goodsad_studio.engine.worker.workspace import Workspace
from goodsad_studio.gui.colour_bar import ClippedPixels, ScaleLegend
from goodsad_studio.gui.compare_view import mask_outline
from goodsad_studio.metrics.curve_plots import CURVE_PLOTS, plotted_curve
from gui.helpers import UI_WAIT_MS, tiny_demo

SPECS = (MethodSpec("patchcore", {"coreset_ratio": 0.1}), MethodSpec("padim"))


@pytest.fixture(scope="module")
def evaluated_root(tmp_path_factory):
    """A tiny demo category that PatchCore and PaDiM have both evaluated (saved as the engine saves them)."""
    root = tmp_path_factory.mktemp("depth") / "demo"
    tiny_demo(root)
    workspace = Workspace(scan_dataset(root))
    for spec in SPECS:
        outcome, _models = evaluate_category(workspace, spec, "drink_can")
        save_outcome(workspace.state_dir, outcome)
    return root


def _open(qtbot, make_window, root):
    defective = next(r.key for r in scan_dataset(root).filter(split="test", anomalous=True))
    window = make_window(root, select=defective)
    ui = window.analysis_ui
    for method in ("padim", "patchcore"):
        qtbot.waitUntil(lambda m=method: len(ui.analysis.summary("drink_can", m)) == 6, timeout=UI_WAIT_MS)
    qtbot.waitUntil(lambda: not ui.busy, timeout=UI_WAIT_MS)
    return window, ui


def test_each_method_pane_outlines_the_ground_truth_and_says_what_its_range_clips(qtbot, make_window, evaluated_root):
    window, ui = _open(qtbot, make_window, evaluated_root)
    ui.controls.mode.setCurrentIndex(ui.controls.mode.findData("category"))
    ui.show_compare()
    compare = ui.compare
    qtbot.waitUntil(lambda: len(compare.panes) == 3, timeout=UI_WAIT_MS)
    mask = window.canvas.document.mask
    assert mask.any()
    rows, cols = np.nonzero(mask)
    for pane in compare.panes[1:]:
        outline = pane.outline
        assert outline.isVisible() and outline.pen().isCosmetic()
        path = outline.path()
        # along the pixel edges: the outline's box is the mask's, and a pixel is inside it exactly when it is masked
        box = path.boundingRect()
        assert (box.left(), box.top(), box.right(), box.bottom()) == (
            cols.min(),
            rows.min(),
            cols.max() + 1,
            rows.max() + 1,
        )
        inside = np.array(
            [[path.contains(QPointF(x + 0.5, y + 0.5)) for x in range(mask.shape[1])] for y in range(mask.shape[0])]
        )
        assert np.array_equal(inside, mask)
    assert compare.panes[0].outline.path().isEmpty()  # the ground-truth pane shows the mask itself

    compare.show_outline.setChecked(False)
    assert not any(pane.outline.isVisible() for pane in compare.panes[1:])
    compare.show_outline.setChecked(True)

    # the category range holds every map of the category: nothing is clipped, and each bar shows its raw range
    for name, legend in compare.legends.items():
        assert legend.clipped == ClippedPixels(0, 0, legend.clipped.total) and legend.clipped.total > 0
        low, high = compare.ranges[name]
        assert legend.bar.tick_texts()["low"] == f"{low:.4g}" and legend.bar.tick_texts()["high"] == f"{high:.4g}"
        assert "inside the range" in legend.note.text()

    # a fixed range below the top of a map: the pane counts the pixels above it (at the top colour)
    result = ui.analysis.result(window.current, "padim")
    low, high = (float(v) for v in np.quantile(result.anomaly_map, [0.1, 0.8]))
    ui.controls.low.setValue(low)
    ui.controls.high.setValue(high)
    ui.controls.mode.setCurrentIndex(ui.controls.mode.findData("fixed"))
    low, high = ui.controls.fixed_range()  # as the spin boxes rounded them
    qtbot.waitUntil(lambda: compare.ranges.get("padim") == (low, high), timeout=UI_WAIT_MS)
    legend = compare.legends["padim"]
    above = int(np.count_nonzero(result.anomaly_map > high))
    below = int(np.count_nonzero(result.anomaly_map < low))
    assert legend.clipped == ClippedPixels(below, above, result.anomaly_map.size)
    assert f"{100 * above / result.anomaly_map.size:.1f} % of this image's pixels lie above it" in legend.note.text()
    assert f"{100 * below / result.anomaly_map.size:.1f} % lie below it" in legend.note.text()
    compare.close()
    window.close()


def test_the_clipping_note_counts_a_crafted_map():
    legend = ScaleLegend()
    values = np.arange(1000, dtype=np.float32).reshape(20, 50) / 10  # 0.0, 0.1, ... 99.9
    legend.show_map(np.zeros((256, 3), np.uint8), 10.0, 90.0, values, threshold=95.0)
    assert legend.clipped == ClippedPixels(below=100, above=99, total=1000)  # 0 ... 9.9 and 90.1 ... 99.9
    assert legend.note.text() == (
        "Scores outside the range are clipped to the end colours: 9.9 % of this image's pixels lie above it (at the "
        "top colour); 10.0 % lie below it (at the bottom colour)."
    )
    assert legend.bar.tick_texts() == {"low": "10", "high": "90", "threshold": "threshold 95 ▸"}
    assert legend.bar.threshold_fraction() == 1.0
    legend.show_map(np.zeros((256, 3), np.uint8), 0.0, 100.0, values)
    assert legend.clipped == ClippedPixels(0, 0, 1000) and "threshold" not in legend.bar.tick_texts()


def test_the_main_view_colour_bar_follows_the_heatmap(qtbot, make_window, evaluated_root):
    window, ui = _open(qtbot, make_window, evaluated_root)
    legend = ui.scale_legend
    assert legend.isVisibleTo(window)
    ui.controls.mode.setCurrentIndex(ui.controls.mode.findData("image"))
    result = ui.overlay.result
    assert result is not None
    low, high = float(result.anomaly_map.min()), float(result.anomaly_map.max())
    assert (legend.bar.low, legend.bar.high) == ui.overlay.layer.range == (low, high)
    assert legend.clipped == ClippedPixels(0, 0, result.anomaly_map.size)
    ui.controls.set_threshold((low + high) / 2)
    assert legend.bar.threshold == ui.controls.threshold()
    assert legend.bar.threshold_fraction() == pytest.approx(0.5, abs=1e-3)
    ui.controls.low.setValue(low)
    ui.controls.high.setValue((low + high) / 2)
    ui.controls.mode.setCurrentIndex(ui.controls.mode.findData("fixed"))
    shown_high = ui.controls.fixed_range()[1]
    assert legend.bar.high == shown_high
    assert legend.clipped.above == int(np.count_nonzero(result.anomaly_map > shown_high)) > 0
    ui.controls.show_heat.setChecked(False)
    assert legend.bar.tick_texts() == {} and legend.clipped is None
    window.close()


def test_the_metrics_view_overlays_the_curves_of_the_selected_methods(qtbot, make_window, evaluated_root):
    window, ui = _open(qtbot, make_window, evaluated_root)
    ui.show_metrics()
    view = ui.metrics_view
    whole = [i for i, (_c, _m, row) in enumerate(view.rows) if row.goods_id is None]
    assert sorted(view.rows[i][1] for i in whole) == ["padim", "patchcore"]
    view.table.clearSelection()
    selection = view.table.selectionModel()
    for i in whole:
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        selection.select(view.table.model().index(i, 0), flags)
    assert view.overlaid == whole
    for plot in CURVE_PLOTS:
        widget = view.curve_plots[plot.key]
        items = widget.getPlotItem().listDataItems()
        assert len(items) == 2, plot.key
        legend_texts = [label.text for _sample, label in widget.getPlotItem().legend.items]
        for item, i, text in zip(items, whole, legend_texts, strict=True):
            _category, method, row = view.rows[i]
            expected = plotted_curve(row.result, plot)
            assert expected is not None
            x, y = item.getData()
            assert np.array_equal(x, expected.x) and np.array_equal(y, expected.y)
            assert text == f"{method}  {expected.legend}"
            assert f"{row.result.metric(plot.metric):.4f}" in text
        assert {method for method in ("padim", "patchcore") if any(method in t for t in legend_texts)} == {
            "padim",
            "patchcore",
        }
        pens = {item.opts["pen"].color().name() for item in items}
        assert len(pens) == 2  # a colour per method
    pro_range = view.curve_plots["pro"].getPlotItem().viewRange()[0]
    assert pro_range[1] == pytest.approx(0.3, abs=0.02)  # PRO against FPR up to 0.3

    # one row clicked: back to its curves only
    only = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    selection.select(view.table.model().index(whole[0], 0), only)  # as a plain click (selectRow would read the
    view.table.cellClicked.emit(whole[0], 0)  # keyboard's modifiers, which an earlier test's Ctrl may leave set)
    assert view.overlaid == [whole[0]]
    assert all(len(view.curve_plots[p.key].getPlotItem().listDataItems()) == 1 for p in CURVE_PLOTS)
    view.close()
    window.close()


def test_the_outline_is_switched_by_its_check_box_only_on_method_panes(qtbot, make_window, evaluated_root):
    window, ui = _open(qtbot, make_window, evaluated_root)
    ui.show_compare()
    compare = ui.compare
    qtbot.waitUntil(lambda: len(compare.panes) == 3, timeout=UI_WAIT_MS)
    compare.show_outline.setChecked(False)
    compare.methods.item(0).setCheckState(Qt.CheckState.Unchecked)  # a rebuild keeps the choice
    qtbot.waitUntil(lambda: len(compare.panes) == 2, timeout=UI_WAIT_MS)
    assert not compare.panes[1].outline.isVisible() and not compare.panes[1].outline.path().isEmpty()
    assert list(compare.legends) == [compare.panes[1].method]
    compare.close()
    window.close()


def test_the_outline_follows_pixel_edges_around_holes_and_diagonal_touches(qtbot):
    rng = np.random.default_rng(1)
    for density in (0.2, 0.5, 0.8):  # scattered pixels, touching corners, masks with holes
        mask = rng.random((24, 24)) < density
        path = mask_outline(mask)
        inside = np.array([[path.contains(QPointF(x + 0.5, y + 0.5)) for x in range(24)] for y in range(24)])
        assert np.array_equal(inside, mask)
        corners = [path.elementAt(i) for i in range(path.elementCount())]
        assert all(float(c.x).is_integer() and float(c.y).is_integer() for c in corners)  # on pixel corners
    assert mask_outline(np.zeros((5, 5), bool)).isEmpty() and mask_outline(None).isEmpty()
