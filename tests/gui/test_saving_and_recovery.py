"""Saving, autosave and recovery, closing with unsaved edits, read-only folders, and marking images good or
defective: what a user keeps on disk after each."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from goodsad_studio.dataset.imageio import read_mask
from goodsad_studio.gui.badges import BADGES_ROLE
from goodsad_studio.gui.prompts import DISCARD, KEEP, SAVE
from gui.helpers import UI_WAIT_MS, ScriptedPrompts, drag, key, loaded, zoom_on

KEY = "drink_can/test/scratch/001003"


def mask_file(root: Path, stem: str = "001003", defect: str = "scratch") -> Path:
    return root / "drink_can" / "ground_truth" / defect / f"{stem}_mask.png"


def original() -> np.ndarray:
    mask = np.zeros((30, 40), bool)
    mask[4:10, 4:12] = True
    return mask


def paint_line(qtbot, window, row: float = 20.5) -> np.ndarray:
    """Brush radius 0 along one row, x 10..20: returns the mask expected."""
    key(qtbot, window, "B")
    window.canvas.set_brush_radius(0)
    zoom_on(window, 16.0, 20, 15)
    drag(window, [(10.5, row), (15.5, row), (20.5, row)])
    expected = original()
    expected[int(row), 10:21] = True
    assert np.array_equal(window.canvas.document.mask, expected)
    return expected


def test_autosave_then_recovery_after_a_crash(qtbot, make_window, goods_root):
    other = "drink_can/test/scratch/002001"
    crashed = make_window(goods_root, other, autosave_ms=50)
    expected = paint_line(qtbot, crashed)
    assert crashed.status.state.text().strip() == "unsaved"
    qtbot.waitUntil(lambda: crashed.status.state.text().startswith(" autosaved"), timeout=UI_WAIT_MS)
    assert np.array_equal(read_mask(mask_file(goods_root, "002001")), original())  # the file is untouched
    # the studio dies here (no close, no save); a new session opens the same dataset
    prompts = ScriptedPrompts()
    prompts.recovery = True
    reopened = make_window(goods_root, prompts=prompts)
    assert "recover" in [badge.text for badge in reopened.tree.item_for(other).data(1, BADGES_ROLE)]
    assert prompts.recovery_asked == 0
    reopened.select_image(other)
    loaded(reopened)
    assert prompts.recovery_asked == 1
    assert np.array_equal(reopened.canvas.document.mask, expected)
    assert reopened.status.state.text().strip() == "unsaved"
    key(qtbot, reopened, "Ctrl+Z")  # the recovery is one undo step: back to the file
    assert np.array_equal(reopened.canvas.document.mask, original())
    key(qtbot, reopened, "Ctrl+Y")
    key(qtbot, reopened, "Ctrl+S")
    assert np.array_equal(read_mask(mask_file(goods_root, "002001")), expected)
    assert not list((goods_root / ".goodsad-studio" / "recovery").glob("*.json"))  # the journal entry is gone
    assert "recover" not in [badge.text for badge in reopened.tree.item_for(other).data(1, BADGES_ROLE)]


def test_declined_recovery_is_discarded(qtbot, make_window, goods_root):
    crashed = make_window(goods_root, KEY)
    paint_line(qtbot, crashed)
    crashed.store.autosave()
    prompts = ScriptedPrompts()
    prompts.recovery = False
    reopened = make_window(goods_root, KEY, prompts=prompts)
    assert prompts.recovery_asked == 1
    assert np.array_equal(reopened.canvas.document.mask, original())
    third = make_window(goods_root, KEY, prompts=prompts)
    assert prompts.recovery_asked == 1 and np.array_equal(third.canvas.document.mask, original())


@pytest.mark.parametrize("answer", [SAVE, DISCARD, KEEP])
def test_closing_with_unsaved_edits(qtbot, make_window, goods_root, answer):
    prompts = ScriptedPrompts()
    window = make_window(goods_root, KEY, prompts=prompts)
    expected = paint_line(qtbot, window)
    prompts.unsaved = answer
    assert window.close()
    on_disk = read_mask(mask_file(goods_root))
    journal = list((goods_root / ".goodsad-studio" / "recovery").glob("*.json"))
    if answer == SAVE:
        assert np.array_equal(on_disk, expected) and not journal
    elif answer == DISCARD:
        assert np.array_equal(on_disk, original()) and not journal
    else:
        assert np.array_equal(on_disk, original()) and len(journal) == 1  # offered again next time


def test_cancelled_close_keeps_the_window(qtbot, make_window, goods_root):
    prompts = ScriptedPrompts()
    window = make_window(goods_root, KEY, prompts=prompts)
    paint_line(qtbot, window)
    prompts.unsaved = "cancel"
    assert not window.close()
    assert window.isVisible() and window.canvas.document.modified
    prompts.unsaved = DISCARD


def test_edits_on_other_images_survive_navigation_with_their_history(qtbot, make_window, goods_root):
    window = make_window(goods_root, KEY)
    expected = paint_line(qtbot, window)
    window.select_image("drink_can/test/scratch/002001")
    loaded(window)
    window.select_image(KEY)
    loaded(window)
    assert np.array_equal(window.canvas.document.mask, expected)
    key(qtbot, window, "Ctrl+Z")
    assert np.array_equal(window.canvas.document.mask, original())


def test_read_only_folder_is_reported_and_nothing_changes(qtbot, make_window, goods_root, monkeypatch):
    window = make_window(goods_root, KEY)
    paint_line(qtbot, window)
    folder = mask_file(goods_root).parent.resolve()
    real_mkstemp = tempfile.mkstemp

    def refusing(*args, **kwargs):
        if Path(kwargs.get("dir") or tempfile.gettempdir()).resolve() == folder:
            raise PermissionError(13, "Permission denied", str(folder))
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", refusing)
    key(qtbot, window, "Ctrl+S")
    assert any("001003_mask.png" in text for text in window.prompts.warnings)
    assert np.array_equal(read_mask(mask_file(goods_root)), original())
    assert window.canvas.document.modified and window.status.state.text().strip() == "unsaved"
    monkeypatch.undo()
    key(qtbot, window, "Ctrl+S")
    assert window.status.state.text().strip() == "saved"


def test_a_mask_on_a_good_image_needs_a_defect_type_first(qtbot, make_window, goods_root):
    prompts = ScriptedPrompts()
    window = make_window(goods_root, "drink_can/test/good/001002", prompts=prompts)
    key(qtbot, window, "B")
    window.canvas.set_brush_radius(1)
    zoom_on(window, 16.0, 20, 15)
    drag(window, [(30.5, 10.5), (33.5, 10.5)])
    assert not window.canvas.document.modified  # the mask tools are off: no edit that could not be saved
    prompts.defect = "dent"  # Ctrl+D: mark defective, type dent
    key(qtbot, window, "Ctrl+D")
    assert window.current.key == "drink_can/test/dent/001002"
    assert (goods_root / "drink_can" / "test" / "dent" / "001002.png").is_file()
    key(qtbot, window, "B")
    drag(window, [(30.5, 10.5), (33.5, 10.5)])
    painted = window.canvas.document.mask.copy()
    assert painted.any()
    key(qtbot, window, "Ctrl+S")
    assert np.array_equal(read_mask(mask_file(goods_root, "001002", "dent")), painted)
    assert window.tree.item_for("drink_can/test/dent/001002") is not None


def test_mark_good_and_a_new_defect_type(qtbot, make_window, goods_root):
    prompts = ScriptedPrompts()
    window = make_window(goods_root, KEY, prompts=prompts)
    key(qtbot, window, "Ctrl+G")
    loaded(window)
    assert window.current.key == "drink_can/test/good/001003"
    assert not mask_file(goods_root).exists()
    assert list((goods_root / ".goodsad-studio" / "trash").rglob("001003_mask.png"))  # kept, not deleted
    assert not window.canvas.document.mask.any()
    prompts.defect = "crushed"
    window.mark_defective()
    assert window.current.key == "drink_can/test/crushed/001003"
    assert (goods_root / "drink_can" / "ground_truth" / "crushed").is_dir()
    assert window.panel.filters.defect.findData("crushed") >= 0
    window.select_image("drink_can/train/good/001000")
    loaded(window)
    prompts.defect = "dent"
    window.mark_defective()  # a training photo found defective leaves the training set for test/dent
    assert window.current.key == "drink_can/test/dent/001000"
    assert (goods_root / "drink_can" / "test" / "dent" / "001000.png").is_file()
    assert not (goods_root / "drink_can" / "train" / "good" / "001000.png").exists()
