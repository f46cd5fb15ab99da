"""Image-level edits from the window (mark good, mark defective / set the defect type, rename to a goods id) and
re-validation.

The moves themselves are ``dataset.edits``; this module only keeps the open documents and caches in step and asks
the questions (through :class:`~goodsad_studio.gui.prompts.Prompts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from goodsad_studio.dataset.edits import (
    create_defect_type,
    goods_stem,
    mark_defective,
    mark_good,
    rename_record,
    rename_to_goods,
)
from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.dataset.names import GOOD
from goodsad_studio.dataset.validation import validate
from goodsad_studio.gui.documents import DocumentStore
from goodsad_studio.gui.image_loader import ImageLoader
from goodsad_studio.gui.prompts import Prompts
from goodsad_studio.gui.rename_dialog import GoodsLookup

Findings = dict[Path, list[str]]


@dataclass(frozen=True, slots=True)
class MaskLock:
    """Why the mask of an image cannot be edited (one line for the canvas), and whether marking it defective is the
    way out (then the canvas offers it with one click)."""

    reason: str
    offer_mark_defective: bool


def mask_lock(record: ImageRecord) -> MaskLock | None:
    """The lock on the mask tools for ``record``, or None when its mask can be edited (and saved).

    A good image has no ground-truth mask: an edit there could never be saved, so none may be made. It can be
    marked defective: it moves to test/<type>, where a mask belongs (a training image leaves the training set)."""
    if record.defect != GOOD:
        return None
    if record.split == "test":
        return MaskLock("Good image: no mask, so the mask tools are off. To draw one:", True)
    return MaskLock(
        "Training image: all training images are good and have no mask, so the mask tools are off. A defective "
        "one leaves the training set:",
        True,
    )


def mark_record_good(
    index: DatasetIndex, store: DocumentStore, loader: ImageLoader, prompts: Prompts, record: ImageRecord
) -> ImageRecord | None:
    """Move a defective test image to test/good (its mask to the trash); None when the user declined."""
    if record.defect == GOOD:
        return record
    if store.is_modified(record.key) and not prompts.confirm(
        f"{record.key} has unsaved mask edits; marking it good drops them (the saved mask goes to the studio's "
        "trash folder). Continue?"
    ):
        return None
    new = mark_good(index, record)
    store.discard(record.key)
    loader.forget(record.image_path)
    loader.forget_documents()
    return new


def mark_record_defective(
    index: DatasetIndex, store: DocumentStore, loader: ImageLoader, prompts: Prompts, record: ImageRecord
) -> ImageRecord | None:
    """Move an image to test/<defect> (asked for; a new name creates the defect type), a training one out of the
    training set; None when declined."""
    defects = [name for name in index.defects(record.category) if name != GOOD]
    name = prompts.ask_defect(record, defects)
    if name is None or name == record.defect:
        return None
    if name not in defects:
        create_defect_type(index, record.category, name)
    new = mark_defective(index, record, name)
    _follow(store, loader, record, new)
    return new


def rename_record_to_goods(
    index: DatasetIndex,
    store: DocumentStore,
    loader: ImageLoader,
    prompts: Prompts,
    record: ImageRecord,
    lookup: GoodsLookup,
) -> ImageRecord | None:
    """Rename a photo (and its mask) to ``<goods id><next serial>``, the goods id asked for with the engine's
    suggestions (``lookup``) offered; unsaved mask edits come along. None when the user declined."""
    goods_id = prompts.ask_goods_id(record, lookup, lambda goods: goods_stem(index, record, goods))
    if goods_id is None:
        return None
    new = rename_to_goods(index, record, goods_id)
    _follow(store, loader, record, new)
    return new


def rename_record_to(
    index: DatasetIndex, store: DocumentStore, loader: ImageLoader, record: ImageRecord, stem: str
) -> ImageRecord:
    """Rename a photo (and its mask) to exactly ``stem``: how a rename is undone and redone."""
    new = rename_record(index, record, stem)
    _follow(store, loader, record, new)
    return new


def _follow(store: DocumentStore, loader: ImageLoader, old: ImageRecord, new: ImageRecord) -> None:
    """The open mask document (with its unsaved edits) follows a moved or renamed image; what was decoded or
    prefetched under the old name is forgotten."""
    if new == old:
        return
    store.rekey(old.key, new)
    loader.forget(old.image_path)
    loader.forget_documents()


def check_records(index: DatasetIndex, records: list[ImageRecord]) -> Findings:
    """Validation findings of some records (of the whole dataset when ``records`` is every record), by path."""
    subset = (
        index if len(records) == len(index.records) else DatasetIndex(index.root, index.category_dirs, list(records))
    )
    found: Findings = {}
    for finding in validate(subset).findings:
        found.setdefault(finding.path, []).append(f"{finding.severity}: {finding.message}")
    return found
