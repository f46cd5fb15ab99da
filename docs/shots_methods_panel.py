"""Screenshot steps of the Methods panel's fixed run section and the heatmap dock's Showing choice, for
docs/take_screenshots.py (after its "open a dataset" step: the window is shown, the demo set open).

16-methods-panel: a method with a long parameter form set up (its set-up scrolls), and the Fit / Predict /
Evaluate buttons and the job list (with the jobs that just ran) in their fixed section under it.
17-showing-method: PatchCore's heatmap displayed (Showing: patchcore) while PaDiM is set up in the Methods panel,
after a PaDiM prediction of the image finished: its results are offered under Showing, not forced on the canvas.
"""

from __future__ import annotations

from screenshot_driver import Shooter, StepFailed

SHOWING_KEY = "drink_can/test/surface_anomaly/001008"  # a defective photo with a mask
FAST = {"patchcore": {"coreset_ratio": 0.25}, "padim": {}}  # short fits on the demo
LONG_FORM = "fanogan"  # the method with the most parameters (17)


def _predict_image(s: Shooter, method: str) -> None:
    """Set ``method`` up and predict the current image only (Predict on: This image)."""
    panel = s.ui.methods
    s.choose_method(method, FAST[method])
    panel.scope.setCurrentIndex(panel.scope.findData("image"))
    s.wait_job(s.start("predict"))
    s.idle()


def methods_panel(s: Shooter) -> None:
    s.select(SHOWING_KEY)
    s.share_right_column(900, 1)
    _predict_image(s, "patchcore")
    _predict_image(s, "padim")
    panel = s.ui.methods

    def places() -> dict:
        return {kind: button.mapTo(s.window, button.rect().topLeft()) for kind, button in panel.buttons.items()}

    before = places()
    s.choose_method(LONG_FORM)
    s.settle()
    moved = {kind for kind, place in places().items() if place != before[kind]}
    if moved:
        raise StepFailed(f"the buttons {sorted(moved)} moved when {LONG_FORM}'s form arrived")
    if panel.settings_area.verticalScrollBar().maximum() == 0:
        raise StepFailed(f"{LONG_FORM}'s set-up fits without scrolling: the picture would not show the fixed section")
    s.shot("16-methods-panel")


def showing_method(s: Shooter) -> None:
    ui = s.ui
    s.select(SHOWING_KEY)
    category = s.window.current.category
    if {"padim", "patchcore"} - set(ui.analysis.methods_with_results(category)):
        _predict_image(s, "patchcore")
        _predict_image(s, "padim")
    showing = ui.controls.showing
    showing.setCurrentIndex(showing.findText("patchcore"))  # the user picks what to look at
    s.idle()
    shown = ui.overlay.result
    s.choose_method("padim", FAST["padim"])  # ... and sets another method up: the display stays
    s.idle()
    if ui.overlay.result is not shown or showing.currentText() != "patchcore":
        raise StepFailed("setting PaDiM up changed the heatmap on display")
    s.share_right_column(430, 300)
    s.dock("inspect-dock").raise_()
    s.idle()
    s.shot("17-showing-method")
