"""What the window does about a mask it cannot open because it is not binary or not its image's size.

Instead of a message with only OK, the studio asks (through its :class:`Prompts`) what to do: repair the mask with a
preview (:class:`MaskRepairDialog`: binarise, or resize the mask to the image), open the mask's folder in the file
manager, or leave it. Edit > Binarise mask... and Edit > Resize mask to image... open the same preview for the shown
image. After a repair the image is shown again with its mask, and its findings are checked again.

``open_url`` (``QDesktopServices.openUrl`` by default) is an attribute, so tests replace it and nothing really opens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from goodsad_studio.dataset.mask_repair import NOT_BINARY, WRONG_SIZE, MaskProblem, diagnose
from goodsad_studio.errors import MaskError, StudioError
from goodsad_studio.gui.mask_repair_dialog import MaskRepairDialog
from goodsad_studio.gui.prompts import OPEN_FOLDER, REPAIR

if TYPE_CHECKING:
    from goodsad_studio.gui.main_window import MainWindow

NOTHING_TO_DO = {
    NOT_BINARY: "is binary already (only 0 and 255): nothing to binarise",
    WRONG_SIZE: "is its image's size already: nothing to resize",
}


class MaskRepairActions:
    """The window's mask repairs: offered when a mask is refused, and the two Edit menu commands."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl

    def handlers(self) -> dict[str, Callable[[], object]]:
        return {
            "binarise_mask": lambda: self.repair_current(NOT_BINARY),
            "resize_mask": lambda: self.repair_current(WRONG_SIZE),
        }

    def offer(self, error: Exception) -> bool:
        """``error`` refused the current image's mask: when a repair can fix it, ask what to do and return True;
        False (the caller reports the error as it is) for any other error."""
        record = self.window.current
        if not isinstance(error, MaskError) or record is None or record.mask_path is None:
            return False
        if error.path is not None and error.path != record.mask_path:
            return False
        problem = self._diagnose()
        if problem is None:
            return False
        self.window.status.showMessage(str(error), 20000)
        answer = self.window.prompts.ask_mask_problem(problem)
        if answer == REPAIR:
            self.repair(problem)
        elif answer == OPEN_FOLDER:
            self.open_folder(problem)
        return True

    def _diagnose(self) -> MaskProblem | None:
        record = self.window.current
        if record is None:
            return None
        try:
            return diagnose(record)
        except StudioError as exc:  # the image or the mask cannot be read at all
            self.window.report(exc)
            return None

    def repair_current(self, kind: str) -> None:
        """Edit > Binarise mask... (``kind`` :data:`NOT_BINARY`) or Resize mask to image... (:data:`WRONG_SIZE`)."""
        record = self.window.current
        if record is None or self.window.index is None:
            self.window.status.showMessage("Choose an image whose mask to repair", 8000)
            return
        if record.mask_path is None:
            self.window.status.showMessage(f"{record.key} has no mask file to repair", 8000)
            return
        problem = self._diagnose()
        if problem is None:
            self.window.status.showMessage(f"The mask of {record.key} {NOTHING_TO_DO[kind]}", 8000)
            return
        if problem.kind != kind:
            if problem.kind == WRONG_SIZE:  # resizing binarises too when the mask needs it
                hint = "resize it first (Edit > Resize mask to image...)"
            else:
                hint = "its size is right: binarise it (Edit > Binarise mask...)"
            self.window.status.showMessage(f"{problem.path}: {problem.message}; {hint}", 8000)
            return
        self.repair(problem)

    def repair(self, problem: MaskProblem) -> bool:
        """Open the preview of ``problem``'s repair; True when it was applied."""
        index = self.window.index
        if index is None:
            return False
        try:
            dialog = MaskRepairDialog(index, problem, self.window)
        except StudioError as exc:
            self.window.report(exc)
            return False
        try:
            if not self.window.prompts.ask_repair(dialog) or dialog.kept is None:
                return False
            kept = dialog.kept
        finally:
            dialog.deleteLater()
        self._repaired(problem, kept)
        return True

    def _repaired(self, problem: MaskProblem, kept) -> None:
        window, record = self.window, problem.record
        index = window.index
        assert index is not None  # repair() checked
        window.loader.forget(record.image_path)
        window.recheck(record)  # the findings and the tree's problem badge follow
        if window.current is not None and window.current.key == record.key:
            window.show_record(record.key)
        shown = kept.relative_to(index.root) if kept.is_relative_to(index.root) else kept
        verb = "Binarised" if problem.kind == NOT_BINARY else "Resized"
        window.status.showMessage(f"{verb} {problem.path.name}; the original is in the trash at {shown}", 30000)

    def open_folder(self, problem: MaskProblem) -> bool:
        """Show the mask's folder in the file manager (through ``open_url``)."""
        folder = problem.path.parent
        opened = bool(self.open_url(QUrl.fromLocalFile(str(folder))))
        self.window.status.showMessage(
            f"Opened {folder}" if opened else f"Could not open {folder} (no file manager answered)", 15000
        )
        return opened
