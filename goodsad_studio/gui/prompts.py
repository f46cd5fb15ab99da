"""Every question the studio asks the user, in one replaceable object.

The window never opens a dialog directly: it asks its :class:`Prompts`. The interactive one shows message boxes;
:class:`SilentPrompts` (the screenshot mode, scripted runs) answers without showing anything and never decides
for the user (recovered edits are left for later, nothing is discarded). Tests pass their own scripted answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QInputDialog, QMessageBox, QWidget

from goodsad_studio.annotation.recovery import RecoveryEntry
from goodsad_studio.dataset.index import ImageRecord
from goodsad_studio.dataset.mask_repair import NOT_BINARY, MaskProblem
from goodsad_studio.gui.rename_dialog import GoodsLookup, RenameDialog, StemFor

if TYPE_CHECKING:
    from goodsad_studio.gui.mask_repair_dialog import MaskRepairDialog

SAVE, DISCARD, CANCEL, KEEP = "save", "discard", "cancel", "keep"  # KEEP: close, edits stay in the journal
KEEP_BOTH, OVERWRITE = "keep_both", "overwrite"  # a save over a mask that changed on disk (annotation.storage)
REPAIR, OPEN_FOLDER = "repair", "open_folder"  # a mask refused as not binary or the wrong size (dataset.mask_repair)


class Prompts:
    """Message boxes over ``parent``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def warn(self, text: str) -> None:
        QMessageBox.warning(self.parent, "goodsad-studio", text)

    def ask_recovery(self, record: ImageRecord, entry: RecoveryEntry) -> bool | None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Recover unsaved edits?",
            f"{record.key} has mask edits that were autosaved at {entry.saved_at} but never saved "
            "(the studio was closed without saving, or crashed).\n\nRecover them? They become one "
            "undo step; the file on disk changes only when you save.",
            parent=self.parent,
        )
        recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(recover)
        box.exec()
        if box.clickedButton() is recover:
            return True
        if box.clickedButton() is discard:
            return False
        return None

    def ask_unsaved(self, keys: list[str]) -> str:
        shown = "\n".join(keys[:12]) + ("\n..." if len(keys) > 12 else "")
        answer = QMessageBox.question(
            self.parent,
            "Unsaved mask edits",
            f"{len(keys)} image{'s have' if len(keys) != 1 else ' has'} unsaved mask edits:\n{shown}\n\nSave them?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        return {QMessageBox.StandardButton.Save: SAVE, QMessageBox.StandardButton.Discard: DISCARD}.get(answer, CANCEL)

    def ask_conflict(self, path: Path, trash: Path | None = None) -> str:
        """The mask file ``path`` changed on disk since it was opened (another window or program saved or removed
        it): :data:`KEEP_BOTH` (the other version goes to ``trash``, ours is written), :data:`OVERWRITE` or
        :data:`CANCEL` (nothing is written, the edits stay unsaved)."""
        path = Path(path)
        where = f"the dataset's trash folder ({trash})" if trash is not None else "the dataset's trash folder"
        if path.exists():
            happened = "was changed on disk since you opened it (another studio window or program saved it)"
            keep = (
                f"Keep both: the other version is first copied into {where}, in a time-stamped folder, "
                "then your mask is saved: nothing is lost."
            )
        else:
            happened = "was removed from disk since you opened it (by another studio window or program)"
            keep = "Keep both: your mask is saved again (there is no other version to keep)."
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Mask changed on disk",
            f"{path}\n{happened}.\n\n{keep}\nOverwrite: your mask replaces it, the other version is lost.\n"
            "Cancel: nothing is written; your edits stay unsaved.",
            parent=self.parent,
        )
        return _choose(
            box,
            [
                ("Keep both", QMessageBox.ButtonRole.AcceptRole, KEEP_BOTH),
                ("Overwrite", QMessageBox.ButtonRole.DestructiveRole, OVERWRITE),
            ],
        )

    def ask_defect(self, record: ImageRecord, defects: list[str]) -> str | None:
        """A defect type for ``record``: one of ``defects`` or a new name typed in."""
        current = defects.index(record.defect) if record.defect in defects else 0
        name, ok = QInputDialog.getItem(
            self.parent,
            "Mark defective",
            f"Defect type of {record.file_name} (type a new name to create one):",
            defects,
            current,
            True,
        )
        return name.strip() if ok and name.strip() else None

    def ask_goods_id(self, record: ImageRecord, lookup: GoodsLookup, stem_for: StemFor) -> str | None:
        """A goods id to rename ``record`` to: typed in or picked from the engine's suggestions as they arrive."""
        dialog = RenameDialog(record, lookup, stem_for, self.parent)
        try:
            return dialog.goods_id() if dialog.exec() else None
        finally:
            dialog.deleteLater()  # a late answer of the look-up finds no dialog to fill

    def ask_mask_problem(self, problem: MaskProblem) -> str:
        """The mask of the shown image was refused (``problem``: not binary, or not its image's size): :data:`REPAIR`
        (preview the repair), :data:`OPEN_FOLDER` (fix it in another program) or :data:`CANCEL`."""
        height, width = problem.image_shape
        if problem.kind == NOT_BINARY:
            title, repair_text = "Mask is not binary", "Binarise..."
            repair_help = (
                "Binarise: preview the mask with every value above a threshold you choose as foreground, the rest "
                "as background, then apply"
            )
        else:
            title, repair_text = "Mask is the wrong size", "Resize the mask to the image..."
            repair_help = (
                f"Resize the mask to the image: preview it scaled to {width}x{height} by nearest neighbour (so it "
                "stays binary), then apply"
            )
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            title,
            f"{problem.path}\n{problem.message}.\n\n{repair_help}; the original is first copied into the dataset's "
            "trash folder.\nOpen the mask's folder: fix it in another program.\nCancel: leave it as it is; the image "
            "shows without its mask.",
            parent=self.parent,
        )
        return _choose(
            box,
            [
                (repair_text, QMessageBox.ButtonRole.AcceptRole, REPAIR),
                ("Open the mask's folder", QMessageBox.ButtonRole.ActionRole, OPEN_FOLDER),
            ],
        )

    def ask_repair(self, dialog: MaskRepairDialog) -> bool:
        """Show the repair preview; True when the user applied it (the mask file was rewritten)."""
        return dialog.exec() == QDialog.DialogCode.Accepted

    def confirm(self, text: str) -> bool:
        return QMessageBox.question(self.parent, "goodsad-studio", text) == QMessageBox.StandardButton.Yes


def _choose(box: QMessageBox, choices: list[tuple[str, QMessageBox.ButtonRole, str]]) -> str:
    """Show ``box`` with a button per (text, role, answer), the first the default, and Cancel (also Escape); the
    answer of the button clicked, :data:`CANCEL` for Cancel or a closed box."""
    buttons = [(box.addButton(text, role), answer) for text, role, answer in choices]
    cancel = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(buttons[0][0])
    box.setEscapeButton(cancel)
    box.exec()
    return next((answer for button, answer in buttons if box.clickedButton() is button), CANCEL)


class SilentPrompts(Prompts):
    """Answers without asking: warnings go nowhere (the status bar still shows them), nothing is decided."""

    def warn(self, text: str) -> None:
        return None

    def ask_recovery(self, record: ImageRecord, entry: RecoveryEntry) -> bool | None:
        return None

    def ask_unsaved(self, keys: list[str]) -> str:
        return KEEP

    def ask_conflict(self, path: Path, trash: Path | None = None) -> str:
        return CANCEL  # neither version is given up: the edits stay unsaved (and in the journal)

    def ask_defect(self, record: ImageRecord, defects: list[str]) -> str | None:
        return None

    def ask_goods_id(self, record: ImageRecord, lookup: GoodsLookup, stem_for: StemFor) -> str | None:
        return None

    def ask_mask_problem(self, problem: MaskProblem) -> str:
        return CANCEL  # the status bar says what is wrong; nothing is repaired without being asked

    def ask_repair(self, dialog: MaskRepairDialog) -> bool:
        return False

    def confirm(self, text: str) -> bool:
        return False
