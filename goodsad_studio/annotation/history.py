"""Undo and redo of mask edits, stored as diffs of the touched box.

A :class:`Patch` is the XOR of the mask before and after a change, cut to the smallest box holding every changed
pixel and packed 8 pixels to a byte. XOR makes one patch serve both ways (applying it undoes, applying it again
redoes) and makes patches compose: a vertex drag of a hundred moves or a brush stroke of a hundred segments is
folded into one patch over the union of their boxes when its group ends. The history is unlimited within a
session; a new step clears the redo stack, as users expect.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Box = tuple[int, int, int, int]  # (y0, x0, y1, x1), half-open


@dataclass(frozen=True, slots=True)
class Patch:
    """Changed pixels of one edit: the box ``(y0, x0, y1, x1)`` and the packed XOR bits inside it."""

    box: Box
    bits: np.ndarray

    @classmethod
    def from_xor(cls, y0: int, x0: int, xor: np.ndarray) -> Patch | None:
        """A patch from the XOR of before and after over a region at (y0, x0); None when nothing changed."""
        rows = np.flatnonzero(xor.any(axis=1))
        if len(rows) == 0:
            return None
        cols = np.flatnonzero(xor[rows[0] : rows[-1] + 1].any(axis=0))
        r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        tight = xor[r0:r1, c0:c1]
        return cls((y0 + r0, x0 + c0, y0 + r1, x0 + c1), np.packbits(tight, axis=None))

    @property
    def shape(self) -> tuple[int, int]:
        y0, x0, y1, x1 = self.box
        return y1 - y0, x1 - x0

    def xor(self) -> np.ndarray:
        """The changed pixels as a bool array of the box's shape."""
        height, width = self.shape
        return np.unpackbits(self.bits, count=height * width).reshape(height, width).view(bool)

    @property
    def changed_pixels(self) -> int:
        return int(np.unpackbits(self.bits).sum())

    def apply(self, mask: np.ndarray) -> None:
        """Flip the changed pixels in ``mask`` (undo when after, redo when before)."""
        y0, x0, y1, x1 = self.box
        mask[y0:y1, x0:x1] ^= self.xor()

    @property
    def nbytes(self) -> int:
        return int(self.bits.nbytes)

    @staticmethod
    def compose(patches: Iterable[Patch]) -> Patch | None:
        """One patch with the effect of applying ``patches`` in turn (XOR over the union of their boxes)."""
        patches = list(patches)
        if not patches:
            return None
        if len(patches) == 1:
            return patches[0]
        y0 = min(p.box[0] for p in patches)
        x0 = min(p.box[1] for p in patches)
        y1 = max(p.box[2] for p in patches)
        x1 = max(p.box[3] for p in patches)
        total = np.zeros((y1 - y0, x1 - x0), bool)
        for patch in patches:
            py0, px0, py1, px1 = patch.box
            total[py0 - y0 : py1 - y0, px0 - x0 : px1 - x0] ^= patch.xor()
        return Patch.from_xor(y0, x0, total)


_step_ids = itertools.count(1)


@dataclass(slots=True)
class Step:
    """One undoable edit: its label, its pixel patch (None when only the polygon view changed), and opaque
    states of the owner before and after it (the document keeps its polygon view there)."""

    label: str
    patch: Patch | None
    before: Any = None
    after: Any = None
    id: int = field(default_factory=lambda: next(_step_ids))


class EditHistory:
    """Undo and redo stacks of :class:`Step`, with begin/end grouping of many changes into one step."""

    def __init__(self) -> None:
        self._undo: list[Step] = []
        self._redo: list[Step] = []
        self._group_label: str | None = None
        self._group_before: Any = None
        self._group_patches: list[Patch] = []
        self._depth = 0
        self._saved_id: int | None = 0

    # -------------------------------------------------------------------------------- grouping
    @property
    def in_group(self) -> bool:
        return self._depth > 0

    def begin(self, label: str, before: Any = None) -> None:
        """Open a group (nested groups join the outermost one)."""
        if self._depth == 0:
            self._group_label = label
            self._group_before = before
            self._group_patches = []
        self._depth += 1

    def record(self, patch: Patch | None) -> None:
        """Add one change made inside the open group."""
        if self._depth == 0:
            raise RuntimeError("EditHistory.record outside begin()/end()")
        if patch is not None:
            self._group_patches.append(patch)

    @property
    def group_size(self) -> int:
        """How many changes the open group holds (a mark for :meth:`group_patches_since`)."""
        return len(self._group_patches)

    def group_patches_since(self, mark: int) -> list[Patch]:
        return list(self._group_patches[mark:])

    def end(self, after: Any = None, *, keep_empty: bool = False) -> Step | None:
        """Close a group; the outermost close pushes one step (or nothing when nothing changed)."""
        if self._depth == 0:
            raise RuntimeError("EditHistory.end without begin()")
        self._depth -= 1
        if self._depth:
            return None
        patch = Patch.compose(self._group_patches)
        self._group_patches = []
        if patch is None and not keep_empty:
            return None
        step = Step(self._group_label or "edit", patch, self._group_before, after)
        self._undo.append(step)
        self._redo.clear()
        return step

    # -------------------------------------------------------------------------------- undo / redo
    @property
    def can_undo(self) -> bool:
        return bool(self._undo) and self._depth == 0

    @property
    def can_redo(self) -> bool:
        return bool(self._redo) and self._depth == 0

    @property
    def undo_label(self) -> str | None:
        return self._undo[-1].label if self._undo else None

    @property
    def redo_label(self) -> str | None:
        return self._redo[-1].label if self._redo else None

    def pop_undo(self) -> Step | None:
        """The step to undo (moved to the redo stack); the owner applies its patch."""
        if not self.can_undo:
            return None
        step = self._undo.pop()
        self._redo.append(step)
        return step

    def pop_redo(self) -> Step | None:
        if not self.can_redo:
            return None
        step = self._redo.pop()
        self._undo.append(step)
        return step

    def __len__(self) -> int:
        return len(self._undo)

    @property
    def redo_count(self) -> int:
        return len(self._redo)

    @property
    def nbytes(self) -> int:
        """Memory held by the patches of both stacks."""
        return sum(step.patch.nbytes for step in self._undo + self._redo if step.patch is not None)

    # -------------------------------------------------------------------------------- saved state
    @property
    def state_id(self) -> int:
        """Identifies the current state: the id of the last applied step (0 at the start)."""
        return self._undo[-1].id if self._undo else 0

    def mark_saved(self) -> None:
        self._saved_id = self.state_id

    @property
    def at_saved_state(self) -> bool:
        """True when undo/redo brought the document back to what was last saved (or opened)."""
        return self._saved_id == self.state_id and self._depth == 0
