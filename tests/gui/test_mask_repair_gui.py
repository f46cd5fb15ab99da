"""A mask the studio refuses (not binary, or not its image's size) is offered a repair instead of a message with
only OK: the binarise preview (threshold, changed pixels, Apply/Cancel), the resize preview, and the mask's folder
(opened through an injected opener: nothing really opens in a test)."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from goodsad_studio.dataset.imageio import read_mask
from goodsad_studio.dataset.mask_repair import NOT_BINARY, WRONG_SIZE, diagnose
from goodsad_studio.gui.mask_repair_dialog import MaskRepairDialog
from goodsad_studio.gui.prompts import CANCEL, OPEN_FOLDER, REPAIR, Prompts, SilentPrompts

from .helpers import UI_WAIT_MS, ScriptedPrompts

SOFT_KEY = "drink_can/test/scratch/001003"
SMALL_KEY = "drink_can/test/scratch/002001"


class RepairPrompts(ScriptedPrompts):
    """Scripted answers to the mask problem question, per image key (default Cancel); the preview is driven by
    ``drive`` instead of shown."""

    def __init__(self, answers: dict[str, str] | None = None, drive=None) -> None:
        super().__init__()
        self.answers = dict(answers or {})
        self.drive = drive
        self.problems = []
        self.dialogs = []

    def ask_mask_problem(self, problem):
        self.problems.append(problem)
        return self.answers.get(problem.record.key, CANCEL)

    def ask_repair(self, dialog):
        self.dialogs.append(dialog)
        return self.drive(dialog) if self.drive is not None else False

    def asked(self, key: str) -> list:
        return [problem for problem in self.problems if problem.record.key == key]


def _break(root):
    """A soft (non-binary) mask for 001003 and a half-size mask for 002001 (goods_root's two masks)."""
    gt = root / "drink_can" / "ground_truth" / "scratch"
    soft = np.zeros((30, 40), np.uint8)
    soft[4:10, 4:12] = 255
    soft[12:14, 0:10] = 90  # 20 pixels
    soft[20:22, 20:25] = 180  # 10 pixels
    cv2.imwrite(str(gt / "001003_mask.png"), soft)
    small = np.zeros((15, 20), np.uint8)
    small[2:5, 2:6] = 255
    cv2.imwrite(str(gt / "002001_mask.png"), small)
    return root


def _open(qtbot, make_window, goods_root, prompts, key):
    """A window on goods_root with both masks broken, showing ``key`` once its mask was refused and asked about."""
    window = make_window(prompts=prompts)
    opened = _opener(window)
    assert window.open_dataset(_break(goods_root))
    assert window.wait_until_loaded(UI_WAIT_MS)
    if not prompts.asked(key):
        assert window.select_image(key)
    qtbot.waitUntil(lambda: len(prompts.asked(key)) == 1, timeout=UI_WAIT_MS)
    return window, opened


def _opener(window):
    opened: list[QUrl] = []
    window.mask_repair.open_url = lambda url: opened.append(url) or True
    return opened


def _apply_at(threshold):
    def drive(dialog):
        dialog.set_threshold(threshold)
        dialog.apply_button.click()
        return dialog.result() == dialog.DialogCode.Accepted

    return drive


def test_a_non_binary_mask_offers_the_binarise_preview_and_apply_rewrites_it(qtbot, make_window, goods_root):
    prompts = RepairPrompts({SOFT_KEY: REPAIR}, _apply_at(100))
    window, opened = _open(qtbot, make_window, goods_root, prompts, SOFT_KEY)
    (problem,) = prompts.asked(SOFT_KEY)
    assert problem.kind == NOT_BINARY and "30 pixels are neither 0 nor 255" in problem.message
    assert not prompts.warnings  # a question with ways out, not a message with only OK
    mask_path = problem.path
    qtbot.waitUntil(lambda: window.canvas.document is not None, timeout=UI_WAIT_MS)
    assert window.canvas.document.path == mask_path  # shown again with its (now binary) mask
    written = cv2.imread(str(mask_path), cv2.IMREAD_UNCHANGED)
    assert set(np.unique(written)) == {0, 255} and int(np.count_nonzero(written)) == 48 + 10  # 90 <= 100 < 180
    (kept,) = (goods_root / ".goodsad-studio" / "trash").rglob("001003_mask.png")
    assert "the original is in the trash at .goodsad-studio/trash/" in window.status.currentMessage()
    assert set(np.unique(cv2.imread(str(kept), cv2.IMREAD_UNCHANGED))) == {0, 90, 180, 255}
    assert window.wait_until_loaded(UI_WAIT_MS)  # the validation passes, the dataset's and the mask's, are in
    assert window.findings.get(mask_path) == [] and window.findings.get(problem.record.image_path) == []
    assert window.findings.get(window.index.get(SMALL_KEY).mask_path)  # the other mask is still wrong
    assert not opened


def test_the_binarise_preview_follows_the_threshold_and_cancel_writes_nothing(qtbot, make_window, goods_root):
    window, _ = _open(qtbot, make_window, goods_root, RepairPrompts(), SOFT_KEY)
    record = window.index.get(SOFT_KEY)
    before = record.mask_path.read_bytes()
    dialog = MaskRepairDialog(window.index, diagnose(record), window)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Binarise mask" and dialog.threshold == 127
    assert dialog.summary.text().startswith("30 pixels change: 10 become foreground (255), 20 background (0).")
    assert "Values found: 0, 90, 180, 255; foreground 78 of 1200 pixels before, 58 of 1200 after" in (
        dialog.summary.text()
    )
    dialog.slider.setValue(50)
    assert dialog.spin.value() == 50 and "30 become foreground (255), 0 background (0)" in dialog.summary.text()
    assert dialog.after_title.text() == "Binarised above 50: 40x30 (zoomed)"
    dialog.zoom.setChecked(False)
    assert dialog.after_title.text() == "Binarised above 50: 40x30"
    assert (dialog.before.pixmap().width(), dialog.before.pixmap().height()) == (340, 255)  # the whole 40x30
    assert int(dialog.repair.mask.sum()) == 48 + 30
    assert not dialog.before.pixmap().isNull() and not dialog.after.pixmap().isNull()
    dialog.buttons.button(dialog.buttons.StandardButton.Cancel).click()
    assert dialog.kept is None and record.mask_path.read_bytes() == before
    assert not (goods_root / ".goodsad-studio" / "trash").exists()


def test_a_refused_apply_shows_in_the_dialog_which_stays_open(qtbot, make_window, goods_root, monkeypatch):
    from goodsad_studio.dataset import mask_repair

    window, _ = _open(qtbot, make_window, goods_root, RepairPrompts(), SOFT_KEY)
    record = window.index.get(SOFT_KEY)
    before = record.mask_path.read_bytes()
    dialog = MaskRepairDialog(window.index, diagnose(record), window)
    qtbot.addWidget(dialog)
    monkeypatch.setattr(mask_repair, "is_writable_dir", lambda path: False)
    dialog.apply_button.click()
    assert "cannot write here (read-only or no permission)" in dialog.error.text()
    assert not dialog.error.isHidden() and dialog.result() != dialog.DialogCode.Accepted
    assert dialog.kept is None and record.mask_path.read_bytes() == before


def test_a_wrong_size_mask_offers_resize_and_the_folder_instead_of_only_ok(qtbot, make_window, goods_root):
    prompts = RepairPrompts({SMALL_KEY: OPEN_FOLDER})
    window, opened = _open(qtbot, make_window, goods_root, prompts, SMALL_KEY)
    (problem,) = prompts.asked(SMALL_KEY)
    assert problem.kind == WRONG_SIZE and problem.message == "mask is 20x15 but its image 002001.png is 40x30"
    assert opened == [QUrl.fromLocalFile(str(problem.path.parent))]
    assert window.status.currentMessage() == f"Opened {problem.path.parent}"
    assert not prompts.dialogs and not prompts.warnings

    def resize(dialog):
        assert dialog.windowTitle() == "Resize the mask to the image" and dialog.threshold is None
        assert dialog.threshold_row.isHidden()  # the mask is binary: only its size changes
        assert dialog.after_title.text() == "Resized: 40x30 (zoomed)"
        assert "x2 across (40/20) and x2 down (30/15)" in dialog.summary.text()
        dialog.apply_button.click()
        return dialog.result() == dialog.DialogCode.Accepted

    prompts.drive = resize
    window.actions_by_id["resize_mask"].trigger()
    assert len(prompts.dialogs) == 1
    assert read_mask(problem.path, shape=(30, 40)).sum() == 4 * 3 * 4
    qtbot.waitUntil(lambda: window.canvas.document is not None, timeout=UI_WAIT_MS)
    assert window.canvas.document.mask.sum() == 48
    assert len(opened) == 1  # the repair opened nothing


def test_cancel_leaves_the_mask_and_the_menu_commands_say_when_nothing_needs_repair(qtbot, make_window, goods_root):
    prompts = RepairPrompts()
    window, opened = _open(qtbot, make_window, goods_root, prompts, SMALL_KEY)
    mask = window.index.get(SMALL_KEY).mask_path
    before = mask.read_bytes()
    assert not prompts.dialogs and not opened and not prompts.warnings
    assert "mask is 20x15 but its image is 40x30" in window.status.currentMessage()
    window.actions_by_id["binarise_mask"].trigger()  # the mask is binary; it is its size that is wrong
    assert window.status.currentMessage().endswith(
        "mask is 20x15 but its image 002001.png is 40x30; resize it first (Edit > Resize mask to image...)"
    )
    assert window.select_image(SOFT_KEY)
    qtbot.waitUntil(lambda: len(prompts.asked(SOFT_KEY)) >= 1, timeout=UI_WAIT_MS)
    window.actions_by_id["resize_mask"].trigger()
    assert "not binary" in window.status.currentMessage()
    assert window.status.currentMessage().endswith("its size is right: binarise it (Edit > Binarise mask...)")
    assert window.select_image("drink_can/test/good/001002")
    window.actions_by_id["binarise_mask"].trigger()
    assert window.status.currentMessage() == "drink_can/test/good/001002 has no mask file to repair"
    assert not prompts.dialogs and not opened and mask.read_bytes() == before


def test_the_silent_prompts_repair_nothing(qtbot, make_window, goods_root):
    window = make_window(prompts=SilentPrompts(None))
    opened = _opener(window)
    soft = goods_root / "drink_can" / "ground_truth" / "scratch" / "001003_mask.png"
    assert window.open_dataset(_break(goods_root))
    before = soft.read_bytes()
    assert window.select_image(SOFT_KEY)
    qtbot.waitUntil(lambda: "not binary" in window.status.currentMessage(), timeout=UI_WAIT_MS)
    assert soft.read_bytes() == before and not opened


def _answer_modal(answer: str | None) -> dict:
    """Look at the next message box: ``seen`` gets its title, text and buttons; then click ``answer`` (None: Esc)."""
    seen: dict = {}

    def look(tries: int = 500) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            if tries:
                QTimer.singleShot(10, lambda: look(tries - 1))
            return
        seen.update(title=box.windowTitle(), text=box.text(), buttons=[b.text() for b in box.buttons()])
        seen["default"] = box.defaultButton().text()
        wanted = next((b for b in box.buttons() if b.text() == answer), None)
        if wanted is not None:
            wanted.click()
        else:
            QTest.keyClick(box, Qt.Key.Key_Escape)

    QTimer.singleShot(0, look)
    return seen


def test_the_real_questions_offer_a_repair_the_folder_and_cancel(qtbot, make_window, goods_root):
    window, _ = _open(qtbot, make_window, goods_root, RepairPrompts(), SMALL_KEY)
    prompts = Prompts(window)
    small, soft = diagnose(window.index.get(SMALL_KEY)), diagnose(window.index.get(SOFT_KEY))
    seen = _answer_modal("Open the mask's folder")
    assert prompts.ask_mask_problem(small) == OPEN_FOLDER
    assert seen["title"] == "Mask is the wrong size"
    assert sorted(seen["buttons"]) == ["Cancel", "Open the mask's folder", "Resize the mask to the image..."]
    assert seen["default"] == "Resize the mask to the image..."
    assert seen["text"].startswith(f"{small.path}\nmask is 20x15 but its image 002001.png is 40x30.")
    assert "preview it scaled to 40x30 by nearest neighbour" in seen["text"]
    seen = _answer_modal("Binarise...")
    assert prompts.ask_mask_problem(soft) == REPAIR
    assert seen["title"] == "Mask is not binary"
    assert sorted(seen["buttons"]) == ["Binarise...", "Cancel", "Open the mask's folder"]
    seen = _answer_modal(None)
    assert prompts.ask_mask_problem(soft) == CANCEL and seen["default"] == "Binarise..."
