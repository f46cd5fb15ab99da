"""Shortcuts (one table drives the menus and the help dialog) and what the studio remembers between runs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QKeySequence

from goodsad_studio.gui import launch
from goodsad_studio.gui.commands import COMMANDS, POINTER_HELP
from goodsad_studio.gui.help_dialog import ShortcutsDialog, shortcut_rows


def test_every_command_has_a_distinct_shortcut_listed_in_the_help(qtbot, make_window):
    window = make_window()
    seen: dict[str, str] = {}
    for command in COMMANDS:
        action = window.actions_by_id[command.id]
        assert [s.toString() for s in action.shortcuts()] == [QKeySequence(k).toString() for k in command.keys]
        for sequence in command.keys:
            normal = QKeySequence(sequence).toString()
            assert normal not in seen, f"{sequence} is bound to {seen.get(normal)} and {command.id}"
            seen[normal] = command.id
    dialog = ShortcutsDialog(window)
    qtbot.addWidget(dialog)
    listed = {(dialog.table.item(r, 1).text(), dialog.table.item(r, 2).text()) for r in range(dialog.table.rowCount())}
    for command in COMMANDS:
        assert (command.text.replace("&", "").rstrip("."), ", ".join(command.keys)) in listed
    assert len(shortcut_rows()) == len(COMMANDS) + len(POINTER_HELP)


def test_tool_keys_switch_tools_and_the_toolbar_follows(qtbot, make_window, goods_root):
    window = make_window(goods_root, "drink_can/test/scratch/001003")
    for keys, name in (("P", "polygon"), ("H", "hole"), ("B", "brush"), ("E", "eraser"), ("V", "select")):
        qtbot.keyClick(window.canvas, QKeySequence(keys)[0].key())
        assert window.canvas.tool.name == name
        assert window.actions_by_id[f"tool_{name}"].isChecked()
        assert window.status.tool.text().startswith(window.canvas.tool.label)


def test_settings_survive_a_restart(qtbot, make_window, goods_root, settings):
    window = make_window(goods_root)
    window.controls.opacity.setValue(70)
    window.canvas.set_brush_radius(12)
    window.actions_by_id["outline"].setChecked(False)
    window.actions_by_id["snap"].setChecked(False)
    window.resize(760, 560)  # inside the offscreen screen (800x600), which restoreGeometry respects
    window.close()
    again = make_window(size=None)  # the size comes from the settings
    assert again.controls.opacity.value() == 70
    assert again.canvas.mask_layer.opacity_value == 0.7
    assert again.canvas.brush_radius == 12 and again.controls.radius.value() == 12
    assert not again.canvas.shape_layer.outline_visible and not again.canvas.snap_vertices
    assert (again.size().width(), again.size().height()) == (760, 560)
    assert settings.recent_datasets() == [goods_root.resolve()]
    assert [a.text() for a in again.recent_menu.actions()] == [str(goods_root.resolve())]


def test_damaged_settings_fall_back_to_defaults(settings):
    settings.store.setValue("overlay/opacity", "not a number")
    settings.store.setValue("tools/brush_radius", -5)
    assert settings.overlay_opacity == 0.4 and settings.brush_radius == 0.0


def test_first_launch_opens_the_recent_dataset_or_the_demo(tmp_path, monkeypatch):
    existing = tmp_path / "data"
    existing.mkdir()
    assert launch.default_root([tmp_path / "gone", existing]) == existing
    made = []
    monkeypatch.setattr(launch, "ensure_demo_dataset", lambda: made.append(1) or Path("demo"))
    assert launch.default_root([tmp_path / "gone"]) == Path("demo") and made == [1]


def test_the_settings_dialogs_choices_survive_a_restart(tmp_path):
    from PySide6.QtCore import QSettings

    from goodsad_studio.gui.settings import StudioSettings

    ini = str(tmp_path / "settings.ini")
    first = StudioSettings(QSettings(ini, QSettings.Format.IniFormat))
    first.device, first.default_method = "cuda", "padim"
    first.default_params = {"n_features": 100}
    first.data_folder, first.cache_limit_mb, first.autosave_s = tmp_path / "data", 4096, 12.5
    first.sync()
    again = StudioSettings(QSettings(ini, QSettings.Format.IniFormat))
    assert (again.device, again.default_method, again.default_params) == ("cuda", "padim", {"n_features": 100})
    assert (again.data_folder, again.cache_limit_mb, again.autosave_s) == (tmp_path / "data", 4096, 12.5)


def test_the_chosen_data_folder_applies_before_the_demo_set_is_made(tmp_path, monkeypatch, settings):
    import goodsad_studio.gui.settings as settings_module
    from goodsad_studio.gui.settings_dialog import apply_data_folder
    from goodsad_studio.paths import demo_dataset_dir

    monkeypatch.delenv("GOODSAD_STUDIO_DATA", raising=False)  # restored after the test
    settings.data_folder = tmp_path / "chosen"
    monkeypatch.setattr(settings_module, "StudioSettings", lambda: settings)  # the launch's own settings
    made = []
    monkeypatch.setattr(launch, "ensure_demo_dataset", lambda: made.append(demo_dataset_dir()) or tmp_path / "gone")
    assert launch.launch(None, demo=True, screenshot=tmp_path / "shot.png") == 2  # "gone" cannot be opened
    assert made == [tmp_path / "chosen" / "demo"]
    monkeypatch.setenv("GOODSAD_STUDIO_DATA", str(tmp_path / "env"))
    assert apply_data_folder(settings) is None and demo_dataset_dir() == tmp_path / "env" / "demo"  # it wins
