"""Bad input through the window never reaches a traceback, a wrong mask or a lost edit: a save over a mask another
editor saved meanwhile asks first (keep both, overwrite, cancel) and loses neither version; core errors and
errors nobody caught in a slot reach the user as one line in a real dialog (the latter naming a crash log that
holds the traceback); a job's skipped images are named in the status bar and the job list."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

import goodsad_studio.fsutil
from goodsad_studio.annotation.storage import open_record, save_record
from goodsad_studio.dataset.imageio import read_mask
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.contract import Fitted, MethodSpec, ModelSummary
from goodsad_studio.errors import MaskError, WorkerError
from goodsad_studio.gui.crash_report import CrashReporter
from goodsad_studio.gui.jobs import JobState
from goodsad_studio.gui.prompts import CANCEL, KEEP_BOTH, OVERWRITE, SAVE, Prompts, SilentPrompts
from gui.helpers import JOB_WAIT_MS, UI_WAIT_MS, ScriptedPrompts, key
from gui.test_saving_and_recovery import KEY, mask_file, original, paint_line

TRASH = Path(".goodsad-studio") / "trash"


def other_editor_saves(root: Path) -> np.ndarray:
    """Another editor (a second studio window, a script: the core API) saves KEY's mask: a box at the bottom."""
    index = scan_dataset(root)
    record = index.get(KEY)
    document = open_record(index, record)
    theirs = np.zeros((30, 40), bool)
    theirs[22:28, 30:38] = True
    document.replace_mask(theirs, "the other editor's edit")
    save_record(document, index, record)
    assert np.array_equal(read_mask(mask_file(root)), theirs)
    return theirs


def trash_copies(root: Path) -> list[Path]:
    return sorted((root / TRASH).rglob("001003_mask.png"))


def closing_modal(qtbot, answer=None):
    """Schedule a look at the next modal dialog: ``seen`` gets its text and buttons, then it is closed (``answer``:
    the text of the button to click; None: the dialog's own Escape/close)."""
    seen: dict = {}

    def look(tries: int = 200) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            if tries:
                QTimer.singleShot(10, lambda: look(tries - 1))
            return
        seen.update(
            text=box.text(),
            detailed=box.detailedText(),
            buttons=[button.text() for button in box.buttons()],
            default=box.defaultButton().text() if box.defaultButton() is not None else None,
        )
        wanted = next((b for b in box.buttons() if b.text() == answer), None) if answer else None
        if wanted is not None:
            wanted.click()
        else:
            box.done(0)

    QTimer.singleShot(0, look)
    return seen


def one_line_no_traceback(text: str) -> None:
    assert text and "\n" not in text.strip(), text
    assert "Traceback" not in text and 'File "' not in text, text


# ------------------------------------------------------------------------------------------ two editors, one mask
@pytest.mark.parametrize("answer", [KEEP_BOTH, OVERWRITE, CANCEL])
def test_saving_over_a_mask_another_editor_saved_asks_first(qtbot, make_window, goods_root, answer):
    prompts = ScriptedPrompts()
    window = make_window(goods_root, KEY, prompts=prompts)
    ours = paint_line(qtbot, window)
    theirs = other_editor_saves(goods_root)
    prompts.conflict = answer
    key(qtbot, window, "Ctrl+S")
    assert prompts.conflicts == [mask_file(goods_root)]  # asked, naming the file
    assert not prompts.warnings  # a question, not an error
    message = window.status.currentMessage()
    if answer == CANCEL:
        assert np.array_equal(read_mask(mask_file(goods_root)), theirs)  # the other editor's version stays
        assert window.canvas.document.modified and np.array_equal(window.canvas.document.mask, ours)
        assert window.status.state.text().strip() == "unsaved"
        assert message.startswith(f"Not saved: {mask_file(goods_root)} changed on disk") and "unsaved" in message
        assert not trash_copies(goods_root)
        prompts.unsaved = "discard"
        return
    assert np.array_equal(read_mask(mask_file(goods_root)), ours)
    assert not window.canvas.document.modified and window.status.state.text().strip() == "saved"
    copies = trash_copies(goods_root)
    if answer == KEEP_BOTH:
        assert len(copies) == 1 and np.array_equal(read_mask(copies[0]), theirs)
        assert message == (  # the status bar names the copy first, relative to the dataset root in the title
            f"The other editor's version is kept in the trash at {copies[0].relative_to(goods_root)}; "
            "saved 001003_mask.png"
        )
        assert any(str(copies[0]) in note for note in window.canvas.document.notes)  # the core's note, in full
    else:
        assert not copies and message == f"Saved {mask_file(goods_root)}"
    key(qtbot, window, "Ctrl+S")  # saved now: nothing to ask again
    assert len(prompts.conflicts) == 1


def test_closing_and_saving_over_a_changed_mask_loses_neither_version(qtbot, make_window, goods_root):
    prompts = ScriptedPrompts()
    window = make_window(goods_root, KEY, prompts=prompts)
    ours = paint_line(qtbot, window)
    theirs = other_editor_saves(goods_root)
    prompts.unsaved, prompts.conflict = SAVE, CANCEL
    assert not window.close()  # Cancel in the conflict prompt cancels the close
    assert window.isVisible() and window.canvas.document.modified
    assert np.array_equal(read_mask(mask_file(goods_root)), theirs)
    prompts.conflict = KEEP_BOTH
    assert window.close()
    assert len(prompts.conflicts) == 2
    assert np.array_equal(read_mask(mask_file(goods_root)), ours)
    (copy,) = trash_copies(goods_root)
    assert np.array_equal(read_mask(copy), theirs)
    assert not list((goods_root / ".goodsad-studio" / "recovery").glob("*.json"))  # saved: no journal entry left


def test_save_all_stops_at_a_cancelled_conflict_and_silent_prompts_never_decide(qtbot, make_window, goods_root):
    prompts = ScriptedPrompts()
    window = make_window(goods_root, KEY, prompts=prompts)
    paint_line(qtbot, window)
    theirs = other_editor_saves(goods_root)
    assert not window.save_all()
    assert window.store.is_modified(KEY) and np.array_equal(read_mask(mask_file(goods_root)), theirs)
    window.store.autosave()  # autosave writes the journal only, never over the other editor's file
    assert np.array_equal(read_mask(mask_file(goods_root)), theirs)
    assert SilentPrompts().ask_conflict(mask_file(goods_root)) == CANCEL
    prompts.unsaved = "discard"


def test_the_real_conflict_dialog_offers_keep_both_by_default(qtbot, make_window, goods_root):
    window = make_window(goods_root, KEY, prompts=ScriptedPrompts())
    ours = paint_line(qtbot, window)
    window.prompts = Prompts(window)
    theirs = other_editor_saves(goods_root)
    seen = closing_modal(qtbot, "Keep both")
    assert window.save_current()
    assert seen["buttons"] and sorted(seen["buttons"]) == sorted(["Keep both", "Overwrite", "Cancel"])
    assert seen["default"] == "Keep both"
    assert str(mask_file(goods_root)) in seen["text"] and str(goods_root / TRASH) in seen["text"]
    assert "Traceback" not in seen["text"]
    assert np.array_equal(read_mask(mask_file(goods_root)), ours)
    (copy,) = trash_copies(goods_root)
    assert np.array_equal(read_mask(copy), theirs)
    assert str(copy.relative_to(goods_root)) in window.status.currentMessage()
    assert window.status.toolTip() == window.status.currentMessage()  # in full, where the line is cut


# ------------------------------------------------------------------------------------------ errors in real dialogs
def test_a_refused_save_shows_the_cores_one_line_in_a_real_dialog(qtbot, make_window, goods_root, monkeypatch):
    window = make_window(goods_root, KEY, prompts=ScriptedPrompts())
    ours = paint_line(qtbot, window)
    window.prompts = Prompts(window)
    target = mask_file(goods_root)
    real_replace = goodsad_studio.fsutil.os.replace

    def refusing(src, dst, *args, **kwargs):  # an immutable or read-only mask file
        if Path(dst).name == target.name:
            raise PermissionError(13, "Permission denied", str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(goodsad_studio.fsutil.os, "replace", refusing)
    seen = closing_modal(qtbot)
    assert not window.save_current()
    monkeypatch.undo()
    text = seen["text"]
    one_line_no_traceback(text)
    assert text.startswith(str(target)) and "cannot save the mask" in text
    assert text == window.status.currentMessage()  # the core's message, as it is
    assert np.array_equal(read_mask(target), original())
    assert window.canvas.document.modified and np.array_equal(window.canvas.document.mask, ours)
    window.prompts = ScriptedPrompts()
    window.prompts.unsaved = "discard"


def test_opening_a_missing_dataset_folder_says_so_in_a_real_dialog(qtbot, make_window, tmp_path):
    window = make_window(prompts=ScriptedPrompts())
    window.prompts = Prompts(window)
    missing = tmp_path / "no-such-dataset"
    seen = closing_modal(qtbot)
    assert not window.open_dataset(missing)
    one_line_no_traceback(seen["text"])
    assert str(missing) in seen["text"]


# ------------------------------------------------------------------------------------------ errors nobody caught
def test_an_error_raised_in_a_slot_shows_one_line_naming_its_crash_log(qtbot, make_window, goods_root):
    window = make_window(goods_root, KEY, prompts=ScriptedPrompts())
    window.prompts = Prompts(window)
    before = sys.excepthook
    reporter = CrashReporter(window).install()
    assert sys.excepthook == reporter.excepthook

    def a_slot_with_a_bug() -> None:
        raise RuntimeError("the slot went wrong\nsecond line")

    seen = closing_modal(qtbot)
    try:
        QTimer.singleShot(0, a_slot_with_a_bug)
        qtbot.waitUntil(lambda: "text" in seen, timeout=UI_WAIT_MS)
    finally:
        reporter.uninstall()
    assert sys.excepthook is before
    text = seen["text"]
    one_line_no_traceback(text)
    assert text.startswith("Unexpected error (RuntimeError: the slot went wrong second line); the details are in ")
    log = Path(text.split("the details are in ", 1)[1])
    assert log.is_file() and log.parent == goods_root / ".goodsad-studio" / "logs"  # the open dataset's state
    logged = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in logged and "a_slot_with_a_bug" in logged
    assert "RuntimeError: the slot went wrong" in logged
    assert window.status.currentMessage() == text and reporter.lines == [text]


def test_a_studio_error_in_a_slot_or_a_thread_is_reported_as_itself(qtbot, make_window, goods_root):
    prompts = ScriptedPrompts()
    window = make_window(goods_root, KEY, prompts=prompts)
    reporter = CrashReporter(window).install()
    try:

        def refuse() -> None:
            raise MaskError("not a binary mask", mask_file(goods_root))

        QTimer.singleShot(0, refuse)
        qtbot.waitUntil(lambda: len(prompts.warnings) == 1, timeout=UI_WAIT_MS)
        assert prompts.warnings == [f"{mask_file(goods_root)}: not a binary mask"]  # window.report: no log

        def thread_bug() -> None:
            raise ValueError("a worker thread's bug")

        thread = threading.Thread(target=thread_bug)
        thread.start()
        thread.join()
        qtbot.waitUntil(lambda: len(prompts.warnings) == 2, timeout=UI_WAIT_MS)  # shown on the GUI thread
    finally:
        reporter.uninstall()
    line = prompts.warnings[1]
    one_line_no_traceback(line)
    assert line.startswith("Unexpected error (ValueError: a worker thread's bug); the details are in ")
    assert Path(line.split("the details are in ", 1)[1]).is_file()


def test_the_studio_holds_the_hook_while_it_runs_and_gives_it_back(monkeypatch, goods_root, settings):
    from goodsad_studio.gui import launch, main_window

    held = []
    monkeypatch.setattr(main_window.MainWindow, "save_screenshot", lambda self, path: held.append(sys.excepthook) or 0)
    monkeypatch.setattr("goodsad_studio.gui.settings.StudioSettings", lambda: settings)
    before = sys.excepthook
    assert launch.launch(goods_root, screenshot=goods_root / "shot.png") == 0
    assert len(held) == 1 and isinstance(getattr(held[0], "__self__", None), CrashReporter)
    assert sys.excepthook is before


# ------------------------------------------------------------------------------------------ failed and skipping jobs
class Answering:
    """An engine client that answers every request with ``result`` (or raises ``error``) at once."""

    def __init__(self, result=None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error

    def run(self, request, on_event=None, cancel=None):
        if self.error is not None:
            raise self.error
        return self.result

    def close(self) -> None:
        pass


def _model(root: Path) -> ModelSummary:
    return ModelSummary("k" * 16, root / "model", "patchcore", "drink_can", None, "patchcore", 3, 0.1, True)


def test_a_job_that_skipped_images_names_them(qtbot, make_window, goods_root):
    window = make_window(goods_root, KEY)
    ui = window.analysis_ui
    skipped = tuple((str(goods_root / f"drink_can/train/good/00900{i}.png"), f"reason {i}") for i in range(3))
    ui.analysis.client = Answering(Fitted(_model(goods_root), skipped))
    job = ui.analysis.fit(MethodSpec("patchcore"), "drink_can")
    qtbot.waitUntil(lambda: not job.running, timeout=JOB_WAIT_MS)
    assert job.state == JobState.DONE
    assert window.status.currentMessage() == (  # relative to the open dataset, so that the reason fits
        "3 images skipped: drink_can/train/good/009000.png — reason 0 (and 2 more: see the job list)"
    )
    row = next(row for row in ui.methods.jobs.rows if row.job is job)
    assert row.title.text() == "Fit patchcore on drink_can — done, 3 images skipped"
    for path, reason in skipped:
        assert f"{path} — {reason}" in row.toolTip() and f"{path} — {reason}" in row.details_text
    assert row.details.isVisibleTo(row)
    seen = closing_modal(qtbot)
    row.details.click()
    assert seen["text"] == row.title.text() and seen["detailed"] == row.details_text


def test_a_worker_error_shows_its_message_and_keeps_the_traceback_behind_details(qtbot, make_window, goods_root):
    window = make_window(goods_root, KEY)
    ui = window.analysis_ui
    details = 'Traceback (most recent call last):\n  File "worker.py", line 1\nRuntimeError: CUDA out of memory'
    error = WorkerError("RuntimeError: CUDA out of memory.\nTried to allocate 2 GiB (in the worker process)", details)
    ui.analysis.client = Answering(error=error)
    job = ui.analysis.fit(MethodSpec("patchcore"), "drink_can")
    qtbot.waitUntil(lambda: not job.running, timeout=JOB_WAIT_MS)
    assert job.state == JobState.FAILED
    message = window.status.currentMessage()
    one_line_no_traceback(message)
    assert message == (
        "Fit patchcore on drink_can failed: RuntimeError: CUDA out of memory. Tried to allocate 2 GiB "
        "(in the worker process)"
    )
    row = next(row for row in ui.methods.jobs.rows if row.job is job)
    one_line_no_traceback(row.title.text())
    assert row.details.isVisibleTo(row) and row.details_text == details  # only behind the explicit button
    seen = closing_modal(qtbot)
    row.details.click()
    one_line_no_traceback(seen["text"])
    assert seen["detailed"] == details


def test_an_unexpected_error_of_a_job_in_the_studio_gets_a_log(qtbot, make_window, goods_root):
    window = make_window(goods_root, KEY)
    ui = window.analysis_ui
    ui.analysis.client = Answering(error=KeyError("a bug in the studio"))
    job = ui.analysis.fit(MethodSpec("patchcore"), "drink_can")
    qtbot.waitUntil(lambda: not job.running, timeout=JOB_WAIT_MS)
    message = window.status.currentMessage()
    one_line_no_traceback(message)
    assert message.startswith("Fit patchcore on drink_can failed: Unexpected error (KeyError: 'a bug in the studio')")
    log = Path(message.split("the details are in ", 1)[1])
    assert "Traceback" in log.read_text(encoding="utf-8")
    row = next(row for row in ui.methods.jobs.rows if row.job is job)
    one_line_no_traceback(row.title.text())
    assert "Traceback" in row.details_text


def test_a_real_fit_skips_a_header_bomb_and_says_so(qtbot, make_window, goods_root):
    """The engine (in this process) leaves out a training photo whose header declares 60000x60000 pixels."""
    from engine_helpers import PLUGIN
    from hostile.helpers import png_header_bomb

    from goodsad_studio.engine.client import EngineClient
    from goodsad_studio.engine.transports.inline import InlineTransport

    bomb = goods_root / "drink_can" / "train" / "good" / "001009.png"
    bomb.write_bytes(png_header_bomb(60000, 60000))
    window = make_window(goods_root, KEY)
    ui = window.analysis_ui
    ui.analysis.client = EngineClient(InlineTransport())
    job = ui.analysis.fit(MethodSpec(PLUGIN), "drink_can")
    qtbot.waitUntil(lambda: not job.running, timeout=JOB_WAIT_MS)
    assert job.state == JobState.DONE, job.error
    assert [Path(path).name for path, _reason in job.skipped] == ["001009.png"]
    message = window.status.currentMessage()
    assert message.startswith("1 image skipped: drink_can/train/good/001009.png — ") and "60000" in message
    row = next(row for row in ui.methods.jobs.rows if row.job is job)
    assert row.title.text().endswith("done, 1 image skipped") and "001009.png" in row.toolTip()


def test_an_evaluation_skips_an_unreadable_photo_and_a_bad_mask_and_its_results_say_so(qtbot, make_window, tmp_path):
    """Issue 21 point 3: a photo the studio flagged no longer fails the whole evaluation; the results name it."""
    from engine_helpers import PLUGIN, small_demo

    from goodsad_studio.dataset.imageio import write_mask
    from goodsad_studio.engine.client import EngineClient
    from goodsad_studio.engine.evaluations import load_outcomes
    from goodsad_studio.engine.transports.inline import InlineTransport
    from goodsad_studio.paths import dataset_state_dir

    root = small_demo(tmp_path / "demo")
    index = scan_dataset(root)
    defective = [r for r in index.records if r.split == "test" and r.mask_path is not None]
    cut, bad_mask = defective[0], defective[1]
    data = cut.image_path.read_bytes()
    cut.image_path.write_bytes(data[: len(data) // 3])  # truncated
    write_mask(bad_mask.mask_path, np.zeros((7, 9), bool))  # not its image's size
    good = next(r for r in index.records if r.split == "test" and r.defect == "good")
    window = make_window(root, good.key)
    ui = window.analysis_ui
    ui.analysis.client = EngineClient(InlineTransport())
    job = ui.analysis.evaluate(MethodSpec(PLUGIN), "drink_can")
    qtbot.waitUntil(lambda: not job.running, timeout=JOB_WAIT_MS)
    assert job.state == JobState.DONE, job.error
    assert {Path(path).name for path, _ in job.skipped} == {cut.image_path.name, bad_mask.mask_path.name}
    assert window.status.currentMessage().startswith("2 images skipped: ")
    view = ui.metrics_view
    qtbot.waitUntil(lambda: view.table.rowCount() > 0, timeout=UI_WAIT_MS)
    view.show_row(0)
    note = view.skipped_note
    assert note.isVisibleTo(view) and note.text().startswith("2 images skipped by this evaluation: drink_can/")
    assert "Its figures are over the other images." in note.text()
    assert cut.image_path.name in note.toolTip() and bad_mask.mask_path.name in note.toolTip()
    (saved,) = load_outcomes(dataset_state_dir(root))  # reopening the dataset shows them too
    assert {Path(path).name for path, _ in saved.skipped} == {cut.image_path.name, bad_mask.mask_path.name}
