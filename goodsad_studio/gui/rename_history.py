"""The renames of this session, undone and redone in order (Image > Undo rename, Redo rename).

A step remembers the photo's category and its stem before and after. Undo finds the photo by the stem it was given
(a GoodsAD name, unique in its category, so it is found even when it was marked good or defective since) and
renames it back; redo finds it by its old stem (the key it had after the undo tells apart MVTec names, which repeat
across folders). Undo and redo are renames like the first one (``dataset.edits.rename_record``): refused, with
nothing changed and the step kept, when the name was taken in the meantime. Opening a dataset starts a new history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.errors import StudioError

Rename = Callable[[ImageRecord, str], ImageRecord]
"""Renames a record to exactly a stem (``record_actions.rename_record_to`` with the window's parts)."""
Moved = tuple[ImageRecord, ImageRecord]
"""The record before and after an undo or redo."""


@dataclass
class RenameStep:
    """One rename: ``category``, the stems ``before`` and ``after``, and ``key``, where the photo was last seen."""

    category: str
    before: str
    after: str
    key: str

    def label(self) -> str:
        return f"{self.before} -> {self.after}"


class RenameHistory:
    """See the module docstring."""

    def __init__(self) -> None:
        self._done: list[RenameStep] = []
        self._undone: list[RenameStep] = []

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    def record(self, old: ImageRecord, new: ImageRecord) -> None:
        """``old`` was renamed to ``new``: a new step, and nothing left to redo."""
        self._done.append(RenameStep(old.category, old.stem, new.stem, new.key))
        self._undone.clear()

    def clear(self) -> None:
        self._done.clear()
        self._undone.clear()

    def undo(self, index: DatasetIndex, rename: Rename) -> Moved | None:
        """Rename the photo of the last step back to its old stem; None when there is nothing to undo."""
        if not self._done:
            return None
        step = self._done[-1]
        old = _find(index, step, step.after)
        new = rename(old, step.before)
        step.key = new.key
        self._undone.append(self._done.pop())
        return old, new

    def redo(self, index: DatasetIndex, rename: Rename) -> Moved | None:
        """Rename the photo of the step undone last to its new stem again; None when there is nothing to redo."""
        if not self._undone:
            return None
        step = self._undone[-1]
        old = _find(index, step, step.before)
        new = rename(old, step.after)
        step.key = new.key
        self._done.append(self._undone.pop())
        return old, new


def _find(index: DatasetIndex, step: RenameStep, stem: str) -> ImageRecord:
    """The photo of ``step`` now named ``stem``: at the key it was last seen at, else the one photo of that stem
    in its category."""
    seen = index.get(step.key)
    if seen is not None and seen.stem == stem:
        return seen
    found = [record for record in index.records if record.category == step.category and record.stem == stem]
    if len(found) == 1:
        return found[0]
    if not found:
        problem = f"no photo is named {stem} in {step.category} any more (renamed or removed since?)"
    else:
        problem = f"{len(found)} photos are named {stem} in {step.category}: cannot tell which one was renamed"
    raise StudioError(f"cannot undo or redo the rename {step.label()}: {problem}; nothing was changed", index.root)
