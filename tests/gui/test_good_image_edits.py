"""A good image has no mask that could be saved, so the mask tools are off there: the canvas says why and offers
"Mark as defective..." (a test image moves to test/<type>, then its mask can be drawn and saved); a training image
says what to do instead. Nothing unsaveable reaches Save, autosave, the recovery journal or the close prompt."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
from PySide6.QtCore import Qt

from goodsad_studio.annotation.recovery import FORMAT
from goodsad_studio.dataset.imageio import read_mask
from goodsad_studio.gui.badges import BADGES_ROLE
from goodsad_studio.gui.prompts import CANCEL
from gui.helpers import UI_WAIT_MS, ScriptedPrompts, drag, key, loaded, zoom_on

TEST_GOOD = "drink_can/test/good/001002"
TRAIN_GOOD = "drink_can/train/good/001000"
MASK_COMMANDS = ("tool_select", "tool_polygon", "tool_hole", "tool_brush", "tool_eraser", "undo", "redo", "delete")


def try_every_edit(qtbot, window) -> None:
    """A brush stroke, an eraser stroke, a polygon, undo, redo and delete, as a user would try them."""
    zoom_on(window, 16.0, 20, 15)
    for tool in ("B", "E"):
        key(qtbot, window, tool)
        drag(window, [(10.5, 10.5), (20.5, 12.5)])
    for name in ("brush", "polygon"):  # even a tool chosen by code reaches nothing
        window.canvas.set_tool(name)
        drag(window, [(12.5, 8.5), (18.5, 14.5)])
    for keys in ("Ctrl+Z", "Ctrl+Y", "Delete"):
        key(qtbot, window, keys)


def test_a_test_good_image_is_locked_until_marked_defective_with_one_click(qtbot, make_window, goods_root):
    prompts = ScriptedPrompts()
    window = make_window(goods_root, TEST_GOOD, prompts=prompts)
    banner = window.canvas.lock_banner
    assert banner.isVisible() and banner.button.isVisible()
    assert banner.label.text().startswith("Good image: no mask, so the mask tools are off")
    assert not any(window.actions_by_id[c].isEnabled() for c in (*MASK_COMMANDS, "propose", "save"))
    assert window.actions_by_id["save_all"].isEnabled()
    assert not window.analysis_ui.controls.propose_button.isEnabled() and not window.controls.radius.isEnabled()
    try_every_edit(qtbot, window)
    assert not window.canvas.document.mask.any() and not window.canvas.document.modified
    assert window.store.modified_keys() == [] and window.store.autosave() == []
    assert not list((goods_root / ".goodsad-studio" / "recovery").glob("*.json"))
    prompts.defect = "dent"
    qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current.key == "drink_can/test/dent/001002", timeout=UI_WAIT_MS)
    loaded(window)
    assert (goods_root / "drink_can" / "test" / "dent" / "001002.png").is_file()
    assert not banner.isVisible() and all(window.actions_by_id[c].isEnabled() for c in MASK_COMMANDS)
    assert window.analysis_ui.controls.propose_button.isEnabled()
    key(qtbot, window, "B")
    window.canvas.set_brush_radius(1)
    drag(window, [(30.5, 10.5), (33.5, 10.5)])
    painted = window.canvas.document.mask.copy()
    assert painted.any()
    key(qtbot, window, "Ctrl+S")
    saved = goods_root / "drink_can" / "ground_truth" / "dent" / "001002_mask.png"
    assert np.array_equal(read_mask(saved), painted) and window.status.state.text().strip() == "saved"


def test_a_training_image_is_locked_until_marked_defective_which_takes_it_out_of_training(
    qtbot, make_window, goods_root
):
    prompts = ScriptedPrompts()
    window = make_window(goods_root, TRAIN_GOOD, prompts=prompts)
    banner = window.canvas.lock_banner
    assert banner.isVisible() and banner.button.isVisible()
    assert "all training images are good" in banner.label.text() and "leaves the training set" in banner.label.text()
    try_every_edit(qtbot, window)
    assert window.store.modified_keys() == [] and not window.canvas.document.mask.any()
    window.select_image("drink_can/test/scratch/001003")  # a defective image: the tools are back
    loaded(window)
    assert not banner.isVisible() and window.actions_by_id["tool_brush"].isEnabled()
    window.select_image(TRAIN_GOOD)
    loaded(window)
    assert banner.isVisible() and not window.actions_by_id["tool_brush"].isEnabled()
    prompts.defect = "dent"
    qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    moved = "drink_can/test/dent/" + TRAIN_GOOD.rsplit("/", 1)[1]
    qtbot.waitUntil(lambda: window.current.key == moved, timeout=UI_WAIT_MS)
    loaded(window)
    assert not banner.isVisible() and window.actions_by_id["tool_brush"].isEnabled()
    assert window.index.get(TRAIN_GOOD) is None


def test_closing_after_trying_to_edit_good_images_asks_nothing(qtbot, make_window, goods_root):
    prompts = ScriptedPrompts()
    prompts.unsaved = CANCEL  # were the close prompt asked, the window would stay open
    window = make_window(goods_root, TEST_GOOD, prompts=prompts)
    try_every_edit(qtbot, window)
    window.select_image(TRAIN_GOOD)
    loaded(window)
    try_every_edit(qtbot, window)
    assert window.close()
    assert prompts.warnings == []


def _write_version_1_entry(root, mask_path, mask) -> None:
    """A recovery entry as the journal's version 1 wrote it (keyed by the mask path only)."""
    folder = root / ".goodsad-studio" / "recovery"
    folder.mkdir(parents=True, exist_ok=True)
    stem = hashlib.sha1(str(mask_path.resolve()).encode()).hexdigest()[:20]
    buffer = io.BytesIO()
    np.savez_compressed(buffer, bits=np.packbits(mask, axis=None), shape=np.asarray(mask.shape, np.int64))
    (folder / f"{stem}.1.npz").write_bytes(buffer.getvalue())
    meta = {"format": FORMAT, "version": 1, "mask_path": str(mask_path.resolve()), "npz": f"{stem}.1.npz"}
    meta |= {"shape": list(mask.shape), "saved_at": "2026-01-02 03:04:05", "base_signature": None}
    (folder / f"{stem}.json").write_text(json.dumps(meta))


def test_older_journal_entries_are_offered_only_for_the_one_image_they_name(qtbot, make_window, goods_root):
    """train/good/001000 and test/good/001000 would share ground_truth/good/001000_mask.png: the older journal's
    entry for it is dropped, with a message; an entry for a defect folder's mask names one image and is offered."""
    (goods_root / "drink_can" / "test" / "good" / "001000.png").write_bytes(
        (goods_root / "drink_can" / "train" / "good" / "001000.png").read_bytes()
    )
    ground_truth = goods_root / "drink_can" / "ground_truth"
    edits = np.zeros((30, 40), bool)
    edits[20:25, 20:30] = True
    _write_version_1_entry(goods_root, ground_truth / "good" / "001000_mask.png", edits)
    _write_version_1_entry(goods_root, ground_truth / "scratch" / "002001_mask.png", edits)
    prompts = ScriptedPrompts()
    window = make_window(goods_root, prompts=prompts)
    message = prompts.warnings[-1]
    assert "dropped unsaved edits of a good image" in message and "matched to drink_can/test/scratch/002001" in message
    for good in (TRAIN_GOOD, "drink_can/test/good/001000"):
        assert "recover" not in [b.text for b in window.tree.item_for(good).data(1, BADGES_ROLE)]
        window.select_image(good)
        loaded(window)
        assert prompts.recovery_asked == 0 and not window.canvas.document.mask.any()
    other = "drink_can/test/scratch/002001"
    assert "recover" in [b.text for b in window.tree.item_for(other).data(1, BADGES_ROLE)]
    window.select_image(other)
    loaded(window)
    assert prompts.recovery_asked == 1 and np.array_equal(window.canvas.document.mask, edits)
