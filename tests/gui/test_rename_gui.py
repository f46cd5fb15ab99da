"""Rename to goods id from the window: the engine's suggestions reach the dialog, the photo and its mask (with
unsaved edits) take the new name, and Image > Undo rename / Redo rename go back and forth."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt

from goodsad_studio.dataset.edits import goods_stem
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.client import EngineClient
from goodsad_studio.engine.contract import GoodsMatch, Identified, Identify, MethodSpec
from goodsad_studio.errors import StudioError
from goodsad_studio.gui.methods_panel import GOODS_AWARE
from goodsad_studio.gui.rename_dialog import LOOKING_UP, GoodsLookup, RenameDialog
from gui.helpers import UI_WAIT_MS, ScriptedPrompts, drag, key, loaded, zoom_on

SHELF = "drink_can/test/scratch/shelf_7"
RENAMED = "drink_can/test/scratch/002002"  # goods 002 has 000 (train) and 001 (scratch)
MATCHES = (GoodsMatch("002", 0.912), GoodsMatch("001", 0.704))


class IdentifyOnly:
    """A transport that answers ``Identify`` with ``MATCHES`` (or fails with ``error``) and records the requests;
    anything else is refused (the methods panel's descriptions come from the session's cache)."""

    def __init__(self, error: str = "") -> None:
        self.error = error
        self.requests: list = []

    def run(self, request, on_event=None, cancel=None):
        self.requests.append(request)
        if isinstance(request, Identify) and not self.error:
            return Identified(request.images, tuple(MATCHES for _ in request.images), 3)
        raise StudioError(self.error or f"{type(request).__name__} is not answered in this test")

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def unnamed_root(goods_root):
    """goods_root plus a photo whose name carries no goods id: test/scratch/shelf_7.png, with a mask."""
    can = goods_root / "drink_can"
    shutil.copy2(can / "test" / "scratch" / "001003.png", can / "test" / "scratch" / "shelf_7.png")
    shutil.copy2(
        can / "ground_truth" / "scratch" / "001003_mask.png", can / "ground_truth" / "scratch" / "shelf_7_mask.png"
    )
    return goods_root


def engine(window, transport: IdentifyOnly) -> IdentifyOnly:
    window.analysis_ui.analysis.client = EngineClient(transport)
    return transport


def paint(qtbot, window) -> np.ndarray:
    """An unsaved brush stroke on the current mask; returns the mask as painted."""
    key(qtbot, window, "B")
    window.canvas.set_brush_radius(0)
    zoom_on(window, 16.0, 20, 15)
    drag(window, [(10.5, 20.5), (20.5, 20.5)])
    assert window.canvas.document.modified
    return window.canvas.document.mask.copy()


def test_rename_to_goods_id_then_undo_and_redo(qtbot, make_window, unnamed_root):
    prompts = ScriptedPrompts()
    prompts.goods_id = "002"
    window = make_window(unnamed_root, SHELF, prompts=prompts)
    transport = engine(window, IdentifyOnly())
    scratch, truth = unnamed_root / "drink_can" / "test" / "scratch", unnamed_root / "drink_can" / "ground_truth"
    painted = paint(qtbot, window)
    assert not window.actions_by_id["undo_rename"].isEnabled()

    key(qtbot, window, "F2")
    loaded(window)
    assert window.current.key == RENAMED and window.tree.item_for(SHELF) is None
    assert window.tree.item_for(RENAMED) is not None
    assert (scratch / "002002.png").is_file() and not (scratch / "shelf_7.png").exists()
    assert (truth / "scratch" / "002002_mask.png").is_file() and not (truth / "scratch" / "shelf_7_mask.png").exists()
    document = window.store.get(RENAMED)
    assert document is window.canvas.document and document.modified  # the unsaved stroke came along
    assert np.array_equal(document.mask, painted) and document.path == truth / "scratch" / "002002_mask.png"

    lookup = prompts.lookups[-1]
    qtbot.waitUntil(lambda: not lookup.pending, timeout=UI_WAIT_MS)
    assert lookup.matches == MATCHES and lookup.training_photos == 3 and not lookup.error
    (request,) = transport.requests
    assert request.category == "drink_can" and request.images == (str(scratch / "shelf_7.png"),)
    methods = window.analysis_ui.methods
    assert GOODS_AWARE in methods.description.capabilities and request.spec == methods.spec()  # patchcore's own

    assert window.actions_by_id["undo_rename"].isEnabled()
    key(qtbot, window, "Ctrl+Alt+Z")
    loaded(window)
    assert window.current.key == SHELF and (scratch / "shelf_7.png").is_file()
    assert (truth / "scratch" / "shelf_7_mask.png").is_file() and not (scratch / "002002.png").exists()
    assert np.array_equal(window.canvas.document.mask, painted)
    assert not window.actions_by_id["undo_rename"].isEnabled() and window.actions_by_id["redo_rename"].isEnabled()

    key(qtbot, window, "Ctrl+Alt+Shift+Z")
    loaded(window)
    assert window.current.key == RENAMED and (scratch / "002002.png").is_file()
    assert not window.actions_by_id["redo_rename"].isEnabled()
    assert {r.key for r in scan_dataset(unnamed_root)} == {r.key for r in window.index}


def test_undo_finds_the_photo_after_it_was_marked_good_and_refuses_a_taken_name(qtbot, make_window, unnamed_root):
    prompts = ScriptedPrompts()
    prompts.goods_id = "002"
    window = make_window(unnamed_root, SHELF, prompts=prompts)
    engine(window, IdentifyOnly())
    window.rename_to_goods()
    loaded(window)
    key(qtbot, window, "Ctrl+G")  # marked good since: the rename is still undone where the photo is now
    loaded(window)
    assert window.current.key == "drink_can/test/good/002002"
    good = unnamed_root / "drink_can" / "test" / "good"
    shutil.copy2(good / "002002.png", good / "shelf_7.jpg")  # the old name is taken meanwhile
    window.undo_rename()
    assert "an image named shelf_7.jpg is already in test/good/" in prompts.warnings[-1]
    assert (good / "002002.png").is_file() and window.actions_by_id["undo_rename"].isEnabled()
    (good / "shelf_7.jpg").unlink()
    window.undo_rename()
    loaded(window)
    assert window.current.key == "drink_can/test/good/shelf_7" and (good / "shelf_7.png").is_file()


def test_a_failed_look_up_reaches_the_dialog_and_a_declined_rename_changes_nothing(qtbot, make_window, unnamed_root):
    prompts = ScriptedPrompts()  # goods_id None: the user cancels
    window = make_window(unnamed_root, SHELF, prompts=prompts)
    engine(window, IdentifyOnly("no training photos with goods ids in drink_can"))
    window.rename_to_goods()
    lookup = prompts.lookups[-1]
    qtbot.waitUntil(lambda: not lookup.pending, timeout=UI_WAIT_MS)
    assert "no training photos with goods ids" in lookup.error and lookup.matches == ()
    assert window.current.key == SHELF and not window.actions_by_id["undo_rename"].isEnabled()
    assert (unnamed_root / "drink_can" / "test" / "scratch" / "shelf_7.png").is_file()


# ------------------------------------------------------------------------------------------------ the dialog
@pytest.fixture
def dialog_for(qtbot, unnamed_root):
    """``dialog_for(key)``: the dialog over a fresh scan, with a lookup still pending."""
    index = scan_dataset(unnamed_root)

    def make(key: str = SHELF) -> RenameDialog:
        record = index.get(key)
        dialog = RenameDialog(record, GoodsLookup(), lambda goods: goods_stem(index, record, goods))
        qtbot.addWidget(dialog)
        return dialog

    return make


def test_the_dialog_fills_in_the_suggestions_when_they_arrive(qtbot, dialog_for):
    dialog = dialog_for()
    assert dialog.status.text() == LOOKING_UP and dialog.suggestions.count() == 0
    assert not dialog.rename_button.isEnabled() and "three digits" in dialog.new_name.text()
    dialog.lookup.finish(MATCHES, 3)
    assert [dialog.suggestions.item(r).text() for r in range(2)] == ["002    0.912", "001    0.704"]
    assert dialog.goods_id() == "002" and dialog.suggestions.currentRow() == 0  # prefilled with the best match
    assert dialog.new_name.text() == "002002.png  (mask: 002002_mask.png)" and dialog.rename_button.isEnabled()
    assert "3 training photos" in dialog.status.text()
    item = dialog.suggestions.item(1)
    qtbot.mouseClick(
        dialog.suggestions.viewport(), Qt.MouseButton.LeftButton, pos=dialog.suggestions.visualItemRect(item).center()
    )
    assert dialog.goods_id() == "001" and dialog.new_name.text().startswith("001005.png")
    dialog.goods.clear()
    qtbot.keyClicks(dialog.goods, "4x2")  # the validator keeps digits only
    assert dialog.goods_id() == "42" and not dialog.rename_button.isEnabled()
    qtbot.keyClicks(dialog.goods, "7")
    assert dialog.new_name.text().startswith("427000.png") and dialog.suggestions.currentRow() == -1


def test_a_typed_goods_id_is_kept_and_a_failure_is_shown(qtbot, dialog_for):
    dialog = dialog_for()
    qtbot.keyClicks(dialog.goods, "004")
    dialog.lookup.fail("no training photos with goods ids in drink_can")
    assert dialog.status.text() == "No suggestions: no training photos with goods ids in drink_can"
    assert dialog.goods_id() == "004" and dialog.rename_button.isEnabled()
    assert dialog.new_name.text().startswith("004000.png")
    late = dialog_for()
    qtbot.keyClicks(late.goods, "005")
    late.lookup.finish(MATCHES, 3)
    assert late.goods_id() == "005" and late.suggestions.count() == 2  # listed, not put over what was typed


def test_a_photo_of_that_goods_already_has_nothing_to_rename(dialog_for):
    dialog = dialog_for("drink_can/test/scratch/001003")
    dialog.lookup.finish((GoodsMatch("001", 0.99),), 3)
    assert "is a photo of goods 001 already" in dialog.new_name.text() and not dialog.rename_button.isEnabled()
    dialog.goods.setText("002")
    assert dialog.new_name.text() == "002002.png  (mask: 002002_mask.png)" and dialog.rename_button.isEnabled()


def test_the_look_up_uses_patchcore_when_the_chosen_method_is_not_goods_aware(make_window):
    window = make_window()
    methods = window.analysis_ui.methods
    assert methods.identify_spec() == methods.spec()
    methods.description = dataclasses.replace(methods.description, capabilities=frozenset())
    methods.weights.setText("random")
    assert methods.identify_spec() == MethodSpec("patchcore", backbone="auto", weights="random", device="auto")
