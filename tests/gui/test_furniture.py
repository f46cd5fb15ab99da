"""The studio's furniture: the Settings dialog (stored, validated, applied), Help > About, every panel in the View
menu, the tree following an image opened elsewhere, goods-and-serial order, and the thumbnail strip of the whole
goods."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, qVersion
from PySide6.QtWidgets import QApplication, QDockWidget, QLineEdit

import goodsad_studio.fsutil
from goodsad_studio.dataset.index import ImageRecord
from goodsad_studio.engine.cache_usage import cache_sets, prune_cache
from goodsad_studio.gui.about_dialog import AboutDialog
from goodsad_studio.gui.dataset_tree import natural_key, record_order
from goodsad_studio.gui.methods_panel import known_methods, remember
from goodsad_studio.gui.settings import StudioSettings
from goodsad_studio.gui.settings_dialog import DATA_ENV, MB, SettingsDialog
from goodsad_studio.gui.thumbnail_strip import DIMMED_OPACITY
from goodsad_studio.paths import dataset_state_dir
from gui.helpers import SUBPROCESS_S, UI_WAIT_MS, pattern, write_rgb

SCRATCH = "drink_can/test/scratch/002001"
DENT = "drink_can/test/dent/001004"


def record(stem: str, split: str = "test", defect: str = "good", goods: str | None = None, serial: str | None = None):
    return ImageRecord("c", split, defect, stem, Path(f"{stem}.png"), None, goods, serial, "goodsad")


def view_texts(window) -> list[str]:
    return [action.text() for action in window.view_menu.actions() if not action.isSeparator()]


def dialog_ready(qtbot, window) -> SettingsDialog:
    dialog = SettingsDialog(window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.description is not None or not dialog.chosen_method(), timeout=UI_WAIT_MS)
    qtbot.waitUntil(lambda: dialog.usage.text() != "measuring...", timeout=UI_WAIT_MS)
    return dialog


def fake_result_set(cache_dir: Path, name: str, size: int, written: float) -> Path:
    folder = cache_dir / name / "drink_can" / "test" / "good"
    folder.mkdir(parents=True)
    path = folder / "001002.npz"
    path.write_bytes(b"x" * size)
    os.utime(path, (written, written))
    return cache_dir / name


# ------------------------------------------------------------------------------------------------ View menu
def test_the_view_menu_lists_every_panel_and_reopens_a_closed_one(qtbot, make_window):
    window = make_window()
    texts = view_texts(window)
    for title in ("Dataset", "Goods", "Methods", "Heatmap and image metrics", "Triage", "Tools tool bar"):
        assert title in texts, f"{title} is missing from the View menu: {texts}"
    assert "&Compare methods..." in texts and "Dataset &metrics..." in texts
    docks = window.findChildren(QDockWidget)
    assert docks and all(dock.toggleViewAction() in window.view_menu.actions() for dock in docks)
    triage = next(dock for dock in docks if dock.windowTitle() == "Triage")
    triage.close()
    assert not triage.isVisible() and not triage.toggleViewAction().isChecked()
    triage.toggleViewAction().trigger()
    qtbot.waitUntil(triage.isVisible, timeout=UI_WAIT_MS)
    window.actions_by_id["metrics"].trigger()
    assert window.analysis_ui.metrics_view.isVisible()


def test_settings_and_about_are_in_the_menus(make_window):
    window = make_window()
    menus = {action.text(): action.menu() for action in window.menuBar().actions()}
    assert window.actions_by_id["settings"] in menus["&Edit"].actions()
    assert window.actions_by_id["settings"].shortcut().toString() == "Ctrl+,"
    assert window.actions_by_id["about"] in menus["&Help"].actions()


# ------------------------------------------------------------------------------------------------ order
def test_images_are_in_goods_then_serial_order_numerically():
    shuffled = [
        record("010000", goods="010", serial="000"),
        record("002003", "train", goods="002", serial="003"),
        record("002001", "test", "scratch", goods="002", serial="001"),
        record("002002", "train", goods="002", serial="002"),
        record("img10"),
        record("img9"),
    ]
    assert [r.stem for r in sorted(shuffled, key=record_order)] == [
        "002001",  # serial first: a test photo taken before a training one comes first
        "002002",
        "002003",
        "010000",
        "img9",  # no goods id (group "all"), then the stems with their numbers as numbers
        "img10",
    ]
    assert natural_key("9") < natural_key("10") and natural_key("042") == natural_key("42")


def test_the_tree_and_strip_show_goods_and_serials_in_order(make_window, tmp_path):
    root = tmp_path / "data"
    names = ("train/good/010001", "test/good/010000", "train/good/002002", "test/good/002000", "train/good/002010")
    for seed, name in enumerate(names):
        write_rgb(root / "bottle" / f"{name}.png", pattern(20, 20, seed))
    window = make_window(root, "bottle/test/good/002000")
    assert window.tree.visible_keys() == [
        "bottle/test/good/002000",
        "bottle/train/good/002002",
        "bottle/train/good/002010",
        "bottle/test/good/010000",
        "bottle/train/good/010001",
    ]
    category = window.tree.group_item("bottle")
    assert [category.child(i).text(0) for i in range(category.childCount())] == ["goods 002", "goods 010"]
    strip = window.thumbnails
    assert [strip.item(i).data(0x0100) for i in range(strip.count())] == window.tree.visible_keys()[:3]


# ------------------------------------------------------------------------------------------------ the tree follows
def test_the_tree_follows_an_image_opened_from_triage_compare_or_metrics(qtbot, make_window, goods_root):
    window = make_window(goods_root, "drink_can/train/good/002000")
    panel, tree = window.panel, window.tree
    tree.collapseAll()
    window.analysis_ui.triage.open_image.emit(DENT)
    assert window.current.key == DENT and tree.current_key() == DENT
    assert tree.group_item("drink_can", "001").isExpanded() and tree.group_item("drink_can").isExpanded()
    assert not panel.hidden_row.isVisibleTo(panel)
    window.analysis_ui.compare.open_image.emit(SCRATCH)
    assert tree.current_key() == SCRATCH
    window.analysis_ui.metrics_view.open_image.emit(DENT)
    assert tree.current_key() == DENT

    bar = panel.filters
    bar.split.setCurrentIndex(bar.split.findData("train"))  # hides the image shown
    assert tree.current_key() is None and panel.hidden_row.isVisibleTo(panel)
    assert panel.hidden_note.text() == "001004.png (test/dent) is hidden by the filter: split train"
    window.analysis_ui.triage.open_image.emit(SCRATCH)  # a hidden one: shown, the tree says why it has no row
    assert window.current.key == SCRATCH and tree.current_key() is None
    assert "002001.png (test/scratch) is hidden by the filter: split train" == panel.hidden_note.text()
    assert window.tree.visible_keys() == [
        "drink_can/train/good/001000",
        "drink_can/train/good/001001",
        "drink_can/train/good/002000",
    ]

    qtbot.mouseClick(panel.show_hidden, Qt.MouseButton.LeftButton)  # "Clear filter"
    assert bar.current().active is False and bar.split.currentData() is None
    assert tree.current_key() == SCRATCH and not panel.hidden_row.isVisibleTo(panel)
    assert window.current.key == SCRATCH and len(tree.visible_keys()) == 7


def test_the_filter_that_hides_an_image_is_named_part_by_part(make_window, goods_root):
    window = make_window(goods_root, SCRATCH)
    bar = window.panel.filters
    bar.blockSignals(True)
    bar.search.setText("0010")
    bar.defect.setCurrentIndex(bar.defect.findData("dent"))
    bar.blockSignals(False)
    bar._typing.timeout.emit()  # the search waits for a pause in typing
    assert window.panel.hidden_note.text().endswith("hidden by the filter: defect type dent, search '0010'")


# ------------------------------------------------------------------------------------------------ thumbnail strip
def test_the_strip_shows_every_photo_of_the_goods_and_dims_the_filtered_ones(qtbot, make_window, goods_root):
    window = make_window(goods_root)
    bar = window.panel.filters
    bar.defect.setCurrentIndex(bar.defect.findData("scratch"))
    assert window.select_image("drink_can/test/scratch/001003")
    assert window.wait_until_loaded(UI_WAIT_MS)
    strip = window.thumbnails
    every = [strip.item(i).data(0x0100) for i in range(strip.count())]
    assert every == [
        "drink_can/train/good/001000",
        "drink_can/train/good/001001",
        "drink_can/test/good/001002",
        "drink_can/test/scratch/001003",
        "drink_can/test/dent/001004",
    ]
    assert strip.hidden_keys() == [key for key in every if "/scratch/" not in key]
    assert "hidden by the tree's filter" in strip.item(0).toolTip()
    qtbot.waitUntil(lambda: strip.loaded_count() == 5, timeout=UI_WAIT_MS)
    for row, faded in ((0, True), (3, False)):  # a hidden photo fades into the strip's background, a shown one not
        thumbnail = window.loader.thumbnail(window.index.get(every[row]).image_path)
        icon = strip.item(row).icon().pixmap(thumbnail.size()).toImage()
        x, y = thumbnail.width() // 2, thumbnail.height() // 2
        original = thumbnail.pixelColor(x, y).red()
        expected = round(DIMMED_OPACITY * original + (1 - DIMMED_OPACITY) * 40) if faded else original
        assert abs(icon.pixelColor(x, y).red() - expected) <= 3, (row, original, icon.pixelColor(x, y).red())
    strip.itemClicked.emit(strip.item(4))  # a hidden photo opens; the tree says it hides it
    assert window.current.key == DENT and window.panel.hidden_row.isVisibleTo(window.panel)
    bar.defect.setCurrentIndex(0)
    assert strip.hidden_keys() == [] and window.tree.current_key() == DENT


# ------------------------------------------------------------------------------------------------ settings
def test_settings_fall_back_to_defaults_when_damaged(tmp_path):
    settings = StudioSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert (settings.device, settings.default_method, settings.default_params) == ("auto", "", {})
    assert (settings.data_folder, settings.cache_limit_mb, settings.autosave_s) == (None, 0, 3.0)
    settings.store.setValue("engine/device", "gpu")
    settings.store.setValue("engine/default_params", "{not json")
    settings.store.setValue("files/cache_limit_mb", "lots")
    settings.store.setValue("editing/autosave_s", 99999)
    assert (settings.device, settings.default_params, settings.cache_limit_mb) == ("auto", {}, 0)
    assert settings.autosave_s == 600.0


def test_the_settings_dialog_stores_and_applies_its_choices(qtbot, make_window, goods_root, settings):
    window = make_window(goods_root, SCRATCH)
    panel = window.analysis_ui.methods
    described = panel.description
    remember(known_methods(), {("patchcore", "auto", "auto", "cpu"): described})  # no worker process for this
    dialog = dialog_ready(qtbot, window)
    assert dialog.chosen_method() == "" and not dialog.form.specs  # the panel's own choice: no form
    dialog.method.setCurrentIndex(dialog.method.findData("patchcore"))
    qtbot.waitUntil(lambda: dialog.description is not None, timeout=UI_WAIT_MS)
    assert dialog.form.specs == described.params
    editor = dialog.form.editors["coreset_ratio"]
    assert isinstance(editor, QLineEdit)
    editor.setText("0.25")
    dialog.device.setCurrentText("cpu")
    dialog.cache_limit.setValue(512)
    dialog.autosave.setValue(7.5)
    dialog.accept()
    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    assert (settings.device, settings.default_method, settings.default_params) == (
        "cpu",
        "patchcore",
        {"coreset_ratio": 0.25},
    )
    assert (settings.cache_limit_mb, settings.autosave_s) == (512, 7.5)
    assert panel.device.currentText() == "cpu"  # at once
    assert window.store._timer.interval() == 3000  # the open dataset keeps its interval ...

    panel.form.set_values({"coreset_ratio": "0.5"})
    assert window.open_dataset(goods_root)  # ... the next one gets the new one, and the default parameters
    assert window.store._timer.interval() == 7500
    qtbot.waitUntil(lambda: panel.form.raw_values()["coreset_ratio"] == "0.25", timeout=UI_WAIT_MS)
    assert panel.method.currentText() == "patchcore" and panel.spec().params == {"coreset_ratio": 0.25}

    again = dialog_ready(qtbot, window)  # the dialog shows what is stored
    assert again.chosen_method() == "patchcore" and again.device.currentText() == "cpu"
    assert again.form.raw_values()["coreset_ratio"] == "0.25" and again.autosave.value() == 7.5


def test_the_settings_dialog_refuses_bad_parameters_and_folders(
    qtbot, make_window, goods_root, settings, tmp_path, monkeypatch
):
    window = make_window(goods_root)
    dialog = dialog_ready(qtbot, window)
    dialog.method.setCurrentIndex(dialog.method.findData("patchcore"))
    qtbot.waitUntil(lambda: dialog.description is not None, timeout=UI_WAIT_MS)
    dialog.form.editors["coreset_ratio"].setText("5")
    dialog.accept()
    assert dialog.result() != SettingsDialog.DialogCode.Accepted
    assert "coreset_ratio" in dialog.problem.text() and settings.default_method == ""
    dialog.form.editors["coreset_ratio"].setText("0.1")

    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    dialog.data_folder.setText(str(a_file))
    dialog.accept()
    assert dialog.problem.text() == f"{a_file}: the data folder is a file, not a folder"
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setattr(goodsad_studio.fsutil, "is_writable_dir", lambda folder: Path(folder) != locked)
    dialog.data_folder.setText(str(locked))
    dialog.accept()
    assert dialog.problem.text() == f"{locked}: the data folder is not writable; choose another"
    assert settings.data_folder is None

    fresh = tmp_path / "studio-data"
    dialog.data_folder.setText(str(fresh))
    dialog.accept()
    assert dialog.result() == SettingsDialog.DialogCode.Accepted and settings.data_folder == fresh and fresh.is_dir()
    assert "data folder is used from the next start" in window.statusBar().currentMessage()


def test_the_data_folder_applies_at_start_unless_the_environment_names_one(
    make_window, settings, tmp_path, monkeypatch
):
    settings.data_folder = tmp_path / "mine"
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "env"))
    make_window()
    assert os.environ[DATA_ENV] == str(tmp_path / "env")
    monkeypatch.delenv(DATA_ENV)
    make_window()
    assert os.environ[DATA_ENV] == str(tmp_path / "mine")


# ------------------------------------------------------------------------------------------------ caches
def test_the_cache_limit_removes_the_least_recently_written_sets(tmp_path):
    cache = tmp_path / "cache"
    fake_result_set(cache, "old", MB, 1_000)
    fake_result_set(cache, "mid", MB, 2_000)
    fake_result_set(cache, "new", 3 * MB, 3_000)
    assert [item.folder.name for item in cache_sets(cache)] == ["new", "mid", "old"]
    assert prune_cache(cache, 0) == []  # no limit
    removed = prune_cache(cache, 4 * MB)
    assert [item.folder.name for item in removed] == ["old"]
    assert [item.folder.name for item in prune_cache(cache, MB)] == ["mid"]  # the newest stays, even over the limit
    assert [item.folder.name for item in cache_sets(cache)] == ["new"]


def test_the_dialog_shows_cache_usage_and_clears_it_and_opening_holds_the_limit(
    qtbot, make_window, goods_root, settings
):
    cache = dataset_state_dir(goods_root) / "cache"
    for name, written in (("a", 1_000), ("b", 2_000), ("c", 3_000)):
        fake_result_set(cache, name, MB // 2, written)
    window = make_window(goods_root)
    dialog = dialog_ready(qtbot, window)
    assert "This dataset's results cache: 1.5 MB in 3 result sets" in dialog.usage.text()
    assert str(cache) in dialog.usage.text() and dialog.clear.isEnabled()
    window.prompts.confirmed = False
    assert not dialog.clear_cache() and len(cache_sets(cache)) == 3
    window.prompts.confirmed = True
    assert dialog.clear_cache() and cache_sets(cache) == []
    assert "Cleared the results cache: 3 result sets, 1.5 MB" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: "0.0 MB in 0 result sets" in dialog.usage.text(), timeout=UI_WAIT_MS)
    dialog.reject()

    for name, written in (("a", 1_000), ("b", 2_000), ("c", 3_000)):
        fake_result_set(cache, name, MB // 2, written)
    settings.cache_limit_mb = 1
    assert window.open_dataset(goods_root)
    assert [item.folder.name for item in cache_sets(cache)] == ["c", "b"]  # 1 MB: at the limit, not over
    settings.cache_limit_mb = 0  # no limit: the dialog's OK holds nothing
    fake_result_set(cache, "d", 3 * MB // 2, 4_000)
    dialog = dialog_ready(qtbot, window)
    dialog.cache_limit.setValue(2)  # 2 MB: over it, at once
    dialog.accept()
    assert [item.folder.name for item in cache_sets(cache)] == ["d", "c"]
    assert "removed 1 older result set (0.5 MB)" in window.statusBar().currentMessage()


# ------------------------------------------------------------------------------------------------ about
def test_about_names_the_versions_the_weights_and_the_device(qtbot, make_window, goods_root):
    window = make_window(goods_root)
    qtbot.waitUntil(lambda: window.analysis_ui.methods.description is not None, timeout=UI_WAIT_MS)
    description = window.analysis_ui.methods.description
    dialog = AboutDialog(description, window.settings.file_name(), window)
    qtbot.addWidget(dialog)
    assert dialog.value("torch") == importlib.metadata.version("torch")
    assert dialog.value("torchvision") == importlib.metadata.version("torchvision")
    assert dialog.value("Qt") == qVersion() and dialog.value("Python").startswith(sys.version.split()[0])
    assert dialog.value("Weights source") == description.weights_source and description.weights_source
    assert dialog.value("Device") == description.device
    assert dialog.value("Settings file") == window.settings.file_name()
    assert dialog.table.rowCount() == len(dialog.rows)
    dialog.copy()
    assert f"torch: {importlib.metadata.version('torch')}" in QApplication.clipboard().text().splitlines()
    waiting = AboutDialog(None)
    qtbot.addWidget(waiting)
    assert waiting.value("Device").startswith("not known yet")


def test_the_about_dialog_does_not_import_torch(tmp_path):
    script = (
        "import sys; from goodsad_studio.gui.about_dialog import about_rows; rows = dict(about_rows(None)); "
        "print(rows['torch'], 'torch' in sys.modules)"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=SUBPROCESS_S)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [importlib.metadata.version("torch"), "False"]


def test_settings_opens_from_its_shortcut(qtbot, make_window):
    window = make_window()
    seen = []

    def close_it():
        dialog = next((w for w in window.findChildren(SettingsDialog) if w.isVisible()), None)
        if dialog is None:
            QTimer.singleShot(20, close_it)
            return
        seen.append(dialog.windowTitle())
        dialog.reject()

    QTimer.singleShot(0, close_it)
    window.actions_by_id["settings"].trigger()
    assert seen == ["Settings"]


def test_run_jobs_on_a_ray_cluster_sends_later_jobs_there(qtbot, make_window, goods_root):
    from goodsad_studio.engine.contract import LOCAL, Executor, ExecutorKind, MethodSpec

    window = make_window(goods_root, "drink_can/train/good/002000")
    analysis = window.analysis_ui.analysis
    assert analysis.executor == LOCAL
    sent = []

    class Recording:  # the engine, noting each request instead of running it
        def run(self, request, on_event=None, cancel=None):
            sent.append(request)
            raise RuntimeError("not run in this test")

        def close(self) -> None:
            pass

    dialog = dialog_ready(qtbot, window)
    assert not dialog.ray_address.isEnabled()
    dialog.executor.setCurrentIndex(dialog.executor.findData("ray"))
    assert dialog.ray_address.isEnabled()
    dialog.ray_address.setText(" ray://head:10001 ")
    dialog.accept()
    assert (window.settings.executor, window.settings.ray_address) == ("ray", "ray://head:10001")
    assert analysis.executor == Executor(ExecutorKind.RAY, "ray://head:10001")
    analysis.client = Recording()
    job = analysis.fit(MethodSpec("patchcore"), "drink_can")
    qtbot.waitUntil(lambda: not job.running, timeout=UI_WAIT_MS)
    assert sent[-1].executor == Executor(ExecutorKind.RAY, "ray://head:10001")

    again = dialog_ready(qtbot, window)  # the dialog shows what is stored; this machine again
    assert again.executor.currentData() == "ray" and again.ray_address.text() == "ray://head:10001"
    again.executor.setCurrentIndex(again.executor.findData("local"))
    again.accept()
    assert analysis.executor == LOCAL
