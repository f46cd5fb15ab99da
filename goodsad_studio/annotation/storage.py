"""Opening and saving mask documents: MVTec mask files, dataset records, recovery on open.

Masks are saved as 8-bit single-channel PNGs holding 0 and 255 at the image's native size, in the naming the
dataset already uses (``DatasetIndex.mask_path_for``: ``ground_truth/<defect>/<stem>_mask.png`` as MVTec, or the
same stem). Every save is atomic (``goodsad_studio.fsutil``). A document that was not changed is not written at
all, so opening and saving gives back the very same file. Bad input (wrong size, non-binary values without an
explicit ``binarize``) raises :class:`MaskError` naming the file, and nothing on disk changes.

Edits are never lost to a second editor: a document remembers the content of its file when it was opened (and
after each of its saves). Saving over a file that changed since — another window or program saved it, or removed
it — raises :class:`MaskChangedError` unless the caller chose ``on_conflict="keep_both"`` (the other version is
copied to the dataset's trash first, as imports do) or ``"overwrite"``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from goodsad_studio.annotation.document import MaskDocument
from goodsad_studio.annotation.recovery import RecoveryJournal, file_signature
from goodsad_studio.dataset.edits import backup_to_trash
from goodsad_studio.dataset.imageio import mask_stats, probe_image, read_mask, write_mask
from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.dataset.names import GOOD
from goodsad_studio.errors import MaskChangedError, MaskError, ReadOnlyError

OnConflict = Literal["refuse", "keep_both", "overwrite"]


def file_digest(path: Path) -> str | None:
    """SHA-256 of a file's bytes, or None when there is no file to read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _track(document: MaskDocument, path: Path) -> None:
    document.disk_signature = file_signature(path)
    document.disk_digest = file_digest(path)
    document.disk_tracked = True


def open_mask(
    path: str | Path, shape: tuple[int, int] | None = None, *, binarize: bool = False, threshold: int = 127
) -> MaskDocument:
    """Open a mask file as an editable document (its polygons traced from the pixels).

    ``shape`` (height, width) is the image's size; a mask of another size is refused. A mask holding values other
    than 0 and 255 is refused unless ``binarize`` is given: then pixels above ``threshold`` become foreground, the
    document notes how many pixels were changed, and it counts as modified (saving writes the clean mask).
    """
    path = Path(path)
    signature = file_signature(path)
    if binarize:
        stats = mask_stats(path)
        mask = read_mask(path, shape=shape, binarize=True, threshold=threshold)
    else:
        stats = None
        mask = read_mask(path, shape=shape)
    document = MaskDocument(mask, path)
    _track(document, path)
    document.disk_signature = signature
    if stats is not None and stats.nonbinary_pixels:
        shown = ", ".join(str(v) for v in stats.values[:8])
        document.mark_differs_from_disk(
            f"{path}: binarised {stats.nonbinary_pixels} pixels that were neither 0 nor 255 (values {shown}; "
            f"foreground is > {threshold}); save to write the clean 0/255 mask"
        )
    return document


def save_mask(
    document: MaskDocument,
    path: str | Path | None = None,
    *,
    force: bool = False,
    on_conflict: OnConflict = "refuse",
    keep_other: Callable[[Path], Path] | None = None,
) -> bool:
    """Write the document's mask atomically to ``path`` (default: the file it came from).

    Returns False without touching the disk when the document is unchanged and its file exists (so an opened
    and saved mask stays byte-for-byte the same), True when the file was written. A folder that cannot be
    written raises :class:`ReadOnlyError` naming the mask file; the old file stays as it was.

    When the file changed on disk since the document read it (see the module docstring), ``on_conflict`` says
    what to do: ``"refuse"`` raises :class:`MaskChangedError` and writes nothing; ``"keep_both"`` first hands the
    other version to ``keep_other`` (which returns where it kept it, e.g. :func:`backup_to_trash`; see
    :func:`save_record`), then writes; ``"overwrite"`` writes over it.
    """
    target = Path(path) if path is not None else document.path
    if target is None:
        raise ValueError("the document has no mask path: pass one to save_mask")
    same_file = document.path is not None and target == Path(document.path)
    if not force and same_file and not document.modified and target.exists():
        return False
    if same_file and document.disk_tracked and on_conflict != "overwrite":
        _settle_conflict(document, target, on_conflict, keep_other)
    try:
        write_mask(target, document.mask)
    except ReadOnlyError as exc:
        raise ReadOnlyError(f"cannot save the mask ({exc.problem}: {exc.path})", target) from exc
    document.mark_saved(target)
    _track(document, target)
    return True


def _settle_conflict(
    document: MaskDocument, target: Path, on_conflict: OnConflict, keep_other: Callable[[Path], Path] | None
) -> None:
    current = file_digest(target)
    if current == document.disk_digest:
        return
    if on_conflict == "refuse":
        what = "was removed" if current is None else "was changed (saved by another editor or program)"
        raise MaskChangedError(
            f"the mask {what} on disk since it was opened; saving now would lose that version. Save again "
            "keeping both (the other version goes to the trash) or overwriting it",
            target,
        )
    if current is not None:
        if keep_other is None:
            raise ValueError("on_conflict='keep_both' needs keep_other (where the other version goes)")
        kept = keep_other(target)
        document.notes.append(f"{target}: the version saved by another editor is kept in the trash at {kept}")


def image_shape(record: ImageRecord) -> tuple[int, int]:
    """(height, width) of a record's image, from the file header."""
    info = probe_image(record.image_path)
    return info.height, info.width


def open_record(
    index: DatasetIndex,
    record: ImageRecord,
    *,
    defect: str | None = None,
    binarize: bool = False,
    journal: RecoveryJournal | None = None,
) -> MaskDocument:
    """The mask document of a dataset image: its mask file, or a blank mask where there is none yet.

    When ``journal`` holds unsaved edits of this mask (an autosave from a session that did not save), they are
    applied as one undoable step "Recover unsaved edits" and noted in ``document.notes``; undo returns to the
    file on disk.
    """
    shape = image_shape(record)
    path = index.mask_path_for(record, defect)
    if path.exists():
        document = open_mask(path, shape, binarize=binarize)
    else:
        document = MaskDocument.blank(shape, path)
        document.disk_tracked = True  # there was no file: one appearing before the save is another editor's
    if journal is not None:
        recover(document, journal)
    return document


def recover(document: MaskDocument, journal: RecoveryJournal) -> bool:
    """Apply the journal's entry for this document's mask, if any (see :func:`open_record`)."""
    if document.path is None:
        return False
    entry = journal.find(document.path)
    return entry is not None and entry.apply_to(document)


def save_record(
    document: MaskDocument,
    index: DatasetIndex,
    record: ImageRecord,
    *,
    journal: RecoveryJournal | None = None,
    force: bool = False,
    on_conflict: OnConflict = "refuse",
) -> ImageRecord:
    """Save a record's mask, enter a new mask file in the index, and drop the journal entry.

    ``on_conflict`` as in :func:`save_mask`; with ``"keep_both"`` the other version goes to the dataset's trash
    (``<root>/.goodsad-studio/trash/<time>/<its path>``). Returns the record as the index now holds it.
    """
    if document.path is None:
        document.path = index.mask_path_for(record)
    if Path(document.path).parent.name == GOOD:
        raise MaskError(
            f"a good image has no ground-truth mask: move the image to a defect folder first ({record.image_path})",
            document.path,
        )
    shape = image_shape(record)
    if document.shape != shape:
        raise MaskError(
            f"the document is {document.shape[1]}x{document.shape[0]} but the image is {shape[1]}x{shape[0]}",
            document.path,
        )
    save_mask(document, force=force, on_conflict=on_conflict, keep_other=lambda path: backup_to_trash(index, path))
    if journal is not None:
        journal.discard(document.path)
    current = index.get(record.key) or record
    if (
        current.mask_path is None
        and Path(document.path).exists()
        and Path(document.path) == index.mask_path_for(current)
    ):
        current = index.with_mask(current, Path(document.path))
    return current
