"""Screenshot steps of comparing methods in depth (issue 21, point 9), for docs/take_screenshots.py (after its
"open a dataset" step: the window is shown, the demo set open). Each step evaluates PatchCore and PaDiM on the
category first where the session has no evaluation of them yet.

20-compare-outline: the compare view zoomed on the defect, the ground truth outlined in cyan over each method's
heatmap (sharp at any zoom), each pane's colour bar with the raw range it spans (and the threshold on the pane of
the method the main view shows) and its clipping note.
21-overlaid-curves: the dataset metrics view with the whole-category rows of two methods selected: their image ROC
and PR, pixel ROC, PR and PRO (to FPR 0.3) curves overlaid, each legend naming the method and its metric.
22-main-colour-bar: the main window with a fixed colour range narrower than the heatmap's scores: the colour bar
under the heatmap controls shows the range and the threshold, and says how much of the image is clipped.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from screenshot_driver import Shooter, StepFailed, mask_box, wheel_on

DEPTH_KEY = "drink_can/test/surface_anomaly/001008"  # a defective photo with a mask
FAST = {"patchcore": {"coreset_ratio": 0.25}, "padim": {}}  # short fits on the demo
METHODS = ("patchcore", "padim")


def _evaluated(s: Shooter) -> None:
    """Evaluate each of :data:`METHODS` on the shown photo's category unless the session already has it."""
    category = s.window.current.category
    for method in METHODS:
        if (category, method) not in s.ui.analysis.outcomes:
            s.choose_method(method, FAST[method])
            s.wait_job(s.start("evaluate"))
    s.ui.analysis.show(category, "patchcore")  # the heatmap shown (and its threshold) is PatchCore's
    s.idle()


def compare_outline(s: Shooter) -> None:
    s.select(DEPTH_KEY)
    _evaluated(s)
    controls = s.ui.controls
    controls.mode.setCurrentIndex(controls.mode.findData("category"))
    s.command("compare")  # Analysis > Compare methods...
    view = s.ui.compare
    view.resize(1400, 820)
    view.move(0, 0)
    s.wait(lambda: view.methods.count() >= len(METHODS), "the compare view's list of methods")
    for i in range(view.methods.count()):  # only the two methods of this step (an earlier step ran others too)
        item = view.methods.item(i)
        item.setCheckState(Qt.CheckState.Checked if item.text() in METHODS else Qt.CheckState.Unchecked)
    s.wait(lambda: len(view.panes) == 1 + len(METHODS), "the compare view's ground truth + method panes")
    s.idle()
    if not view.show_outline.isChecked() or any(pane.outline.path().isEmpty() for pane in view.panes[1:]):
        raise StepFailed("the method panes show no ground-truth outline")
    pane = view.panes[1]
    x0, y0, x1, y1 = mask_box(s.window.current.mask_path)
    wheel_on(pane.viewport(), QPointF(pane.mapFromScene(QPointF((x0 + x1) / 2, (y0 + y1) / 2))), 3)  # all follow
    s.settle()
    s.shot("20-compare-outline", view)
    view.close()


def overlaid_curves(s: Shooter) -> None:
    s.select(DEPTH_KEY)
    _evaluated(s)
    s.command("metrics")  # Analysis > Dataset metrics...
    view = s.ui.metrics_view
    view.resize(1500, 1000)
    view.move(0, 0)
    s.wait(lambda: view.table.rowCount() > 0, "the dataset metrics table")
    whole = [i for i, (_c, method, row) in enumerate(view.rows) if row.goods_id is None and method in METHODS]
    if len(whole) != len(METHODS):
        raise StepFailed(f"the metrics table lacks a whole-category row of {METHODS}")
    view.table.selectRow(whole[0])
    view.table.cellClicked.emit(whole[0], 0)
    for row in whole[1:]:  # Ctrl-click the other rows: their curves join the first's
        view.table.selectionModel().select(
            view.table.model().index(row, 0),
            view.table.selectionModel().SelectionFlag.Select | view.table.selectionModel().SelectionFlag.Rows,
        )
    s.settle()
    if view.overlaid != whole:
        raise StepFailed(f"the curves of rows {whole} are not overlaid (shown: {view.overlaid})")
    s.shot("21-overlaid-curves", view)
    view.close()


def main_colour_bar(s: Shooter) -> None:
    s.select(DEPTH_KEY)
    _evaluated(s)
    ui = s.ui
    s.dock("inspect-dock").raise_()
    s.share_right_column(200, 700)
    s.window.resizeDocks([s.dock("inspect-dock")], [470], Qt.Orientation.Horizontal)  # the controls fit unscrolled
    result = ui.overlay.result
    if result is None:
        raise StepFailed("no heatmap on the main view")
    low, high = float(result.anomaly_map.min()), float(result.anomaly_map.max())
    controls = ui.controls
    controls.low.setValue(low)
    controls.high.setValue(low + 0.8 * (high - low))  # the brightest scores are clipped to the top colour
    controls.mode.setCurrentIndex(controls.mode.findData("fixed"))
    s.idle()
    legend = ui.scale_legend
    if legend.clipped is None or legend.clipped.above == 0:
        raise StepFailed("the main view's colour bar reports no clipped pixel")
    s.shot("22-main-colour-bar")
    controls.mode.setCurrentIndex(controls.mode.findData("category"))
    s.idle()
