"""Screenshot steps of the studio's furniture (issue 21, point 10), for docs/take_screenshots.py (after its "open a
dataset" step: the window is shown, the demo set open, the Methods panel has described its method).

23-settings: Edit > Settings...: device, default method with its parameter form, data folder, results cache limit
with the cache's usage (PatchCore predicts the category first when the cache is empty) and the Clear cache button,
autosave interval.
24-about: Help > About: the versions, the weights source and the device the Methods panel's description names.
25-view-menu: the View menu open, listing every panel (the Triage panel closed, so unticked) and the windows.
26-goods-strip: a defect-type filter on the tree; the thumbnail strip still shows every photo of the goods, those
the filter hides dimmed.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QWidget
from screenshot_driver import Shooter, StepFailed

from goodsad_studio.engine.cache_usage import cache_sets
from goodsad_studio.gui.settings_dialog import SettingsDialog
from goodsad_studio.paths import dataset_state_dir

STRIP_KEY = "drink_can/test/surface_anomaly/002008"  # a defective photo of goods 002
STRIP_DEFECT = "surface_anomaly"


def settings(s: Shooter) -> None:
    index = s.window.index
    if index is None:
        raise StepFailed("no dataset is open")
    if not cache_sets(dataset_state_dir(index.root) / "cache"):  # a results cache to show the usage of
        s.choose_method("patchcore", {"coreset_ratio": 0.25})
        s.wait_job(s.start("predict"))
        s.idle()

    def prepare(dialog: QWidget) -> None:
        if not isinstance(dialog, SettingsDialog):
            raise StepFailed(f"Edit > Settings... opened {type(dialog).__name__}, not the settings dialog")
        dialog.method.setCurrentIndex(dialog.method.findData("patchcore"))
        s.wait(lambda: dialog.description is not None, "the settings dialog's parameter form")
        dialog.form.set_values({"coreset_ratio": 0.25})
        dialog.cache_limit.setValue(2048)
        s.wait(lambda: dialog.usage.text() != "measuring...", "the cache usage")
        dialog.resize(640, 820)

    s.shot_modal("23-settings", lambda: s.command("settings"), prepare)


def about(s: Shooter) -> None:
    if s.ui.methods.description is None:
        raise StepFailed("the Methods panel has not described its method: About would not name weights and device")
    s.shot_modal("24-about", lambda: s.command("about"), lambda dialog: None)


def view_menu(s: Shooter) -> None:
    window = s.window
    triage = window.findChild(QDockWidget, "triage-dock")
    if triage is None:
        raise StepFailed("the window has no Triage dock")
    triage.close()  # a closed panel: its entry shows unticked, and ticking it reopens the panel
    menu = window.view_menu
    title = next(action for action in window.menuBar().actions() if action.menu() is menu)
    window.menuBar().setActiveAction(title)  # as a click on View does
    s.wait(menu.isVisible, "the View menu to open")
    s.settle(300)
    s.shot("25-view-menu", menu)
    menu.hide()
    triage.toggleViewAction().trigger()
    s.wait(triage.isVisible, "the Triage panel to reopen")


def goods_strip(s: Shooter) -> None:
    filters = s.window.panel.filters
    filters.defect.setCurrentIndex(filters.defect.findData(STRIP_DEFECT))
    s.wait(lambda: s.window.tree.filter.defect == STRIP_DEFECT, "the defect filter")
    s.select(STRIP_KEY)
    strip = s.window.thumbnails
    s.wait(lambda: strip.loaded_count() == strip.count() and strip.count() > 0, "the strip's thumbnails")
    if not strip.hidden_keys():
        raise StepFailed("no photo of the goods is hidden by the filter: nothing is dimmed")
    s.shot("26-goods-strip")
    filters.defect.setCurrentIndex(0)
    s.wait(lambda: not s.window.tree.filter.active, "the filter to clear")
