"""Image-level edits of a dataset on disk: mark a test image good or defective, create a defect type, rename a
photo into GoodsAD's six-digit scheme (goods id + serial).

Marking moves the image between ``test/<defect>/`` folders and its mask between ``ground_truth/<defect>/``
folders; renaming gives the image (and its mask) a new stem in the folders they are in. Either then updates the
:class:`DatasetIndex`. The rules a user can rely on:

* every check (names, clashes, permissions) runs before anything moves, so a refused edit changes nothing;
* a move never leaves a file in neither place: it hard-links the file at its new name and then unlinks the old
  name (so for an instant it is in both), or renames where links are not supported; a failed second step rolls
  the first one back;
* marking an image good never deletes its mask: the mask goes to ``<root>/.goodsad-studio/trash/<time>/...``
  (the same relative path it had), from where it can be put back by hand;
* renaming into GoodsAD's scheme takes the goods' next free serial, so names stay unique in the category; renaming
  to the old stem (:func:`rename_record`) undoes it exactly.
"""

from __future__ import annotations

import datetime as _dt
import errno
import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.dataset.names import (
    GOOD,
    GROUND_TRUTH,
    MASK_STEM_SUFFIX,
    MASK_SUFFIXES,
    is_image_file,
    mask_stem_to_image_stem,
    parse_stem,
)
from goodsad_studio.errors import DatasetError, ReadOnlyError, StudioError
from goodsad_studio.fsutil import is_writable_dir
from goodsad_studio.paths import STATE_DIR_NAME

TRASH_DIR = "trash"
DEFECT_NAME = re.compile(r"^[a-z0-9_]+$")
GOODS_ID = re.compile(r"^[0-9]{3}$")
SERIALS = 1000
"""Serials a goods id can have: three digits, 000 to 999."""


# ------------------------------------------------------------------------------------------------ names


def validate_defect_name(name: str) -> str:
    """Return ``name`` when it is a usable defect type name (lowercase letters, digits, underscore), else raise."""
    if not isinstance(name, str) or not DEFECT_NAME.fullmatch(name):
        raise DatasetError(
            f"defect type name {name!r} is not allowed: use lowercase letters, digits and "
            "underscores only (for example surface_damage)"
        )
    if name == GOOD or name == GROUND_TRUTH:
        raise DatasetError(f"defect type name {name!r} is reserved by the MVTec layout")
    return name


def _category_dir(index: DatasetIndex, category: str) -> Path:
    try:
        return index.category_dirs[category]
    except KeyError:
        raise DatasetError(
            f"no category {category!r} in this dataset (it has: {', '.join(index.categories)})", index.root
        ) from None


def _require_writable(directory: Path) -> None:
    """Raise :class:`ReadOnlyError` naming ``directory`` (or its nearest existing parent) when it cannot be written."""
    probe = directory
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not is_writable_dir(probe):
        raise ReadOnlyError("cannot write here (read-only or no permission); nothing was changed", probe)


# ------------------------------------------------------------------------------------------------ moves


def _move(source: Path, target: Path) -> None:
    """Move ``source`` to ``target`` without ever replacing an existing ``target`` and without a moment where the
    file is in neither place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except FileExistsError:
        raise DatasetError(
            f"a file with this name is already there (moving {source.name}); nothing was changed", target
        ) from None
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EROFS):
            raise ReadOnlyError("cannot write here (read-only or no permission)", target.parent) from None
        # no hard links here (EPERM, ENOTSUP, EXDEV, ...): rename after a clash check, or copy then delete
        if target.exists():
            raise DatasetError(f"a file with this name is already there (moving {source.name})", target) from None
        try:
            os.rename(source, target)
        except OSError as rename_exc:
            if rename_exc.errno != errno.EXDEV:
                raise
            try:
                shutil.copy2(source, target)
            except OSError:
                target.unlink(missing_ok=True)
                raise
            os.unlink(source)
        return
    try:
        os.unlink(source)
    except OSError:
        os.unlink(target)
        raise


def _move_back(moved: list[tuple[Path, Path]]) -> None:
    """Undo moves made so far, most recent first (best effort: a failure here leaves both names, never none)."""
    for source, target in reversed(moved):
        try:
            _move(target, source)
        except (OSError, StudioError):
            pass


def _do_moves(moves: list[tuple[Path, Path]]) -> None:
    """Perform ``moves`` in order; on any failure undo those done and raise an error naming the file."""
    done: list[tuple[Path, Path]] = []
    try:
        for source, target in moves:
            _move(source, target)
            done.append((source, target))
    except StudioError:
        _move_back(done)
        raise
    except PermissionError as exc:
        _move_back(done)
        raise ReadOnlyError(
            "cannot move the file (read-only or no permission); nothing was changed", exc.filename or source
        ) from None
    except OSError as exc:
        _move_back(done)
        raise StudioError(f"cannot move the file: {exc.strerror}; nothing was changed", source) from None


def trash_root(index: DatasetIndex) -> Path:
    """``<root>/.goodsad-studio/trash``: where edits put files they take out of the dataset."""
    return index.root / STATE_DIR_NAME / TRASH_DIR


def new_trash_stamp() -> str:
    """The name of a trash folder for one edit or import: local time down to microseconds."""
    return _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")


def trash_path_for(index: DatasetIndex, path: Path, stamp: str | None = None) -> Path:
    """Where ``path`` goes in the trash: its path relative to the dataset root, under a time-stamped folder."""
    stamp = stamp or new_trash_stamp()
    try:
        relative = path.resolve().relative_to(index.root.resolve())
    except ValueError:
        relative = Path(path.name)
    return trash_root(index) / stamp / relative


def backup_to_trash(index: DatasetIndex, path: Path, stamp: str | None = None) -> Path:
    """Copy ``path`` into the trash (before it is overwritten) and return the copy's path."""
    target = trash_path_for(index, path, stamp)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    except PermissionError:
        raise ReadOnlyError("cannot keep a copy of the old file in the trash (read-only)", target.parent) from None
    except OSError as exc:
        raise StudioError(f"cannot keep a copy of the old file in the trash: {exc.strerror}", target) from None
    return target


# ------------------------------------------------------------------------------------------------ clashes


def _image_clash(folder: Path, stem: str) -> Path | None:
    """An image in ``folder`` with ``stem`` (a second ``000.*`` would make the index ambiguous)."""
    if not folder.is_dir():
        return None
    for entry in os.scandir(folder):
        if is_image_file(entry.name) and Path(entry.name).stem == stem:
            return Path(entry.path)
    return None


def _mask_clash(folder: Path, stem: str) -> Path | None:
    """A mask in ``folder`` that the index would pair with image ``stem`` (either naming style)."""
    if not folder.is_dir():
        return None
    for entry in os.scandir(folder):
        path = Path(entry.path)
        if path.suffix.lower() in MASK_SUFFIXES and mask_stem_to_image_stem(path.stem) == stem:
            return path
    return None


def _check_indexed(index: DatasetIndex, record: ImageRecord) -> None:
    """Refuse a record the index does not hold as given, or whose image is gone from the disk."""
    if index.get(record.key) != record:
        raise DatasetError("this image is not in the index as given (rescan the dataset)", record.image_path)
    if not record.image_path.is_file():
        raise DatasetError("image file not found (moved or deleted outside the studio; rescan)", record.image_path)


def _check_test_record(index: DatasetIndex, record: ImageRecord) -> None:
    _check_indexed(index, record)
    if record.split != "test":
        raise DatasetError(
            "only test images can be marked good or defective (train images are all good)", record.image_path
        )


# ------------------------------------------------------------------------------------------------ edits


def mark_defective(index: DatasetIndex, record: ImageRecord, defect: str) -> ImageRecord:
    """Move a test image into ``test/<defect>/`` (and its mask, if any, into ``ground_truth/<defect>/``); a
    training image found defective moves out of the training set the same way (it has no mask yet; the models
    fitted on it are refitted by their next job, as their training set changed).

    The defect type must exist (see :func:`create_defect_type`). Returns the new record, already in the index.
    Marking an image with the defect it has returns it unchanged.
    """
    _check_indexed(index, record)
    if record.split not in ("test", "train"):
        raise DatasetError(f"an image of split {record.split!r} cannot be marked defective", record.image_path)
    validate_defect_name(defect)  # "good" is not a defect type
    if defect == record.defect and record.split == "test":
        return record
    category_dir = _category_dir(index, record.category)
    if defect not in index.defects(record.category) and not (category_dir / "test" / defect).is_dir():
        raise DatasetError(
            f"no defect type {defect!r} in category {record.category} (create it first; it has: "
            f"{', '.join(d for d in index.defects(record.category) if d != GOOD) or 'none'})",
            category_dir,
        )
    image_target = category_dir / "test" / defect / record.image_path.name
    moves = [(record.image_path, image_target)]
    mask_target = None
    if record.mask_path is not None:
        mask_target = category_dir / GROUND_TRUTH / defect / record.mask_path.name
        moves.append((record.mask_path, mask_target))
    _check_moves(record, image_target, category_dir / GROUND_TRUTH / defect, mask_target)
    _do_moves(moves)
    new = replace(record, split="test", defect=defect, image_path=image_target, mask_path=mask_target)
    index.replace_record(record, new)
    return new


def mark_good(index: DatasetIndex, record: ImageRecord) -> ImageRecord:
    """Move a defective test image into ``test/good/``; its mask goes to the trash (never deleted).

    Returns the new record, already in the index. Marking a good image good returns it unchanged.
    """
    _check_test_record(index, record)
    if record.defect == GOOD:
        return record
    category_dir = _category_dir(index, record.category)
    image_target = category_dir / "test" / GOOD / record.image_path.name
    moves = [(record.image_path, image_target)]
    _check_moves(record, image_target, None, None)
    if record.mask_path is not None:
        trash_target = trash_path_for(index, record.mask_path)
        _require_writable(record.mask_path.parent)
        _require_writable(trash_target.parent)
        moves.append((record.mask_path, trash_target))
    _do_moves(moves)
    new = replace(record, defect=GOOD, image_path=image_target, mask_path=None)
    index.replace_record(record, new)
    return new


def _check_moves(record: ImageRecord, image_target: Path, mask_folder: Path | None, mask_target: Path | None) -> None:
    """Refuse clashes and unwritable folders before anything moves.

    ``mask_folder`` is the ground-truth folder of the new defect (None when marking good): a mask already there
    for this image's stem would be paired with it by the next scan, so it is a clash even when the image brings
    no mask of its own.
    """
    clash = _image_clash(image_target.parent, record.stem)
    if clash is not None:
        raise DatasetError(
            f"an image named {clash.name} is already in {image_target.parent.name}/ (moving "
            f"{record.image_path}); nothing was changed",
            clash,
        )
    if mask_folder is not None:
        clash = _mask_clash(mask_folder, record.stem)
        if clash is not None:
            raise DatasetError(
                f"a mask for {record.stem} is already in {GROUND_TRUTH}/{mask_folder.name}/ "
                f"(moving {record.image_path}); nothing was changed",
                clash,
            )
    for directory in {record.image_path.parent, image_target.parent}:
        _require_writable(directory)
    if mask_target is not None and record.mask_path is not None:
        for directory in {record.mask_path.parent, mask_target.parent}:
            _require_writable(directory)


def create_defect_type(index: DatasetIndex, category: str, name: str) -> Path:
    """Create ``test/<name>/`` and ``ground_truth/<name>/`` in ``category``; returns the test folder.

    Refuses an invalid or existing name. When the second folder cannot be made, the first is removed again.
    """
    validate_defect_name(name)
    category_dir = _category_dir(index, category)
    test_dir = category_dir / "test" / name
    gt_dir = category_dir / GROUND_TRUTH / name
    for folder in (test_dir, gt_dir):
        if folder.exists():
            raise DatasetError(
                f"defect type {name!r} already exists in category {category}; nothing was changed", folder
            )
    _require_writable(category_dir / "test")
    _require_writable(category_dir / GROUND_TRUTH)
    missing = [folder for folder in (test_dir, gt_dir, test_dir.parent, gt_dir.parent) if not folder.exists()]
    try:
        for folder in (test_dir, gt_dir):
            folder.mkdir(parents=True)
    except OSError as exc:
        for folder in missing:  # children before parents; rmdir leaves anything not empty alone
            try:
                folder.rmdir()
            except OSError:
                pass
        if isinstance(exc, PermissionError):
            raise ReadOnlyError(
                "cannot create the folder (read-only or no permission); nothing was changed",
                exc.filename or category_dir,
            ) from None
        raise StudioError(
            f"cannot create the folder: {exc.strerror}; nothing was changed", exc.filename or category_dir
        ) from None
    return test_dir


# ------------------------------------------------------------------------------------------------ renames


def validate_goods_id(goods_id: str) -> str:
    """Return ``goods_id`` when it is a GoodsAD goods id (exactly three digits, such as ``042``), else raise."""
    if not isinstance(goods_id, str) or not GOODS_ID.fullmatch(goods_id):
        raise DatasetError(
            f"goods id {goods_id!r} is not allowed: a goods id is exactly three digits (for example 042)"
        )
    return goods_id


def validate_stem(stem: str) -> str:
    """Return ``stem`` when it can name an image in its folder (not empty, not hidden, no folder in it), else raise."""
    if not isinstance(stem, str) or not stem.strip() or stem.startswith(".") or any(c in stem for c in "/\\\0"):
        raise DatasetError(f"{stem!r} cannot name an image: use a plain file name (no folders, not hidden)")
    return stem


def _used_serials(index: DatasetIndex, category: str, goods_id: str) -> set[int]:
    """Serials of ``goods_id`` taken in ``category``: by its images in every split and defect folder, and by masks
    there without an image (an image given their name would be paired with them)."""
    stems = {record.stem for record in index.records if record.category == category}
    stems.update(mask_stem_to_image_stem(mask.path.stem) for mask in index.orphan_masks if mask.category == category)
    parsed = (parse_stem(stem) for stem in stems)
    return {int(name.serial) for name in parsed if name.goods_id == goods_id and name.serial is not None}


def next_serial(index: DatasetIndex, category: str, goods_id: str) -> str:
    """The serial a new photo of ``goods_id`` gets in ``category``: one after the highest taken (``000`` for a goods
    with none), or the lowest free one once ``999`` is taken. Raises when all :data:`SERIALS` are taken."""
    validate_goods_id(goods_id)
    category_dir = _category_dir(index, category)
    used = _used_serials(index, category, goods_id)
    if len(used) >= SERIALS:
        raise DatasetError(
            f"goods {goods_id} of category {category} already has all {SERIALS} serials (000 to 999); "
            "nothing was changed",
            category_dir,
        )
    after = max(used, default=-1) + 1
    serial = after if after < SERIALS else min(set(range(SERIALS)) - used)
    return f"{serial:03d}"


def goods_stem(index: DatasetIndex, record: ImageRecord, goods_id: str) -> str:
    """The stem :func:`rename_to_goods` gives ``record``: ``<goods_id><next serial>``, or its own stem when it is
    a photo of that goods already."""
    validate_goods_id(goods_id)
    if record.goods_id == goods_id:
        return record.stem
    return goods_id + next_serial(index, record.category, goods_id)


def rename_to_goods(index: DatasetIndex, record: ImageRecord, goods_id: str) -> ImageRecord:
    """Rename a photo (and its mask, if any) to ``<goods_id><serial>`` in the folders they are in, keeping the
    extensions; the serial is the goods' next free one in the category (:func:`next_serial`), so names stay unique in
    the category as GoodsAD's are. Any split and defect folder; a photo with a goods id may get another one.

    Returns the new record, already in the index. A photo of ``goods_id`` already is returned unchanged.
    """
    _check_indexed(index, record)
    return rename_record(index, record, goods_stem(index, record, goods_id))


def rename_record(index: DatasetIndex, record: ImageRecord, stem: str) -> ImageRecord:
    """Give a photo (and its mask, if any) the stem ``stem`` in the folders they are in, keeping the extensions and
    the mask's naming (``<stem>_mask.png`` or ``<stem>.png``); given its old stem, this undoes a rename.

    Refuses a name taken in those folders (an image, or a mask the next scan would pair with it) and a GoodsAD name
    taken anywhere in the category. Returns the new record, already in the index; the same stem returns it unchanged.
    """
    _check_indexed(index, record)
    validate_stem(stem)
    if stem == record.stem:
        return record
    image_target, mask_target = renamed_paths(record, stem)
    moves = [(record.image_path, image_target)]
    if record.mask_path is not None and mask_target is not None:
        moves.append((record.mask_path, mask_target))
    _check_rename(index, record, stem, image_target)
    _do_moves(moves)
    name = parse_stem(stem)
    new = replace(
        record,
        stem=stem,
        image_path=image_target,
        mask_path=mask_target,
        goods_id=name.goods_id,
        serial=name.serial,
        name_style=name.style,
    )
    index.replace_record(record, new)
    return new


def renamed_paths(record: ImageRecord, stem: str) -> tuple[Path, Path | None]:
    """Where :func:`rename_record` puts the image and the mask (None: it has none) of ``record`` for ``stem``: the
    same folders and extensions, the mask in the naming it has (``<stem>_mask`` or ``<stem>``)."""
    image = record.image_path.with_name(stem + record.image_path.suffix)
    if record.mask_path is None:
        return image, None
    suffixed = record.mask_path.stem == record.stem + MASK_STEM_SUFFIX
    return image, record.mask_path.with_name((stem + MASK_STEM_SUFFIX if suffixed else stem) + record.mask_path.suffix)


def _check_rename(index: DatasetIndex, record: ImageRecord, stem: str, image_target: Path) -> None:
    """Refuse clashes and unwritable folders before anything is renamed."""
    folder = f"{record.split}/{record.defect}/"
    clash = _image_clash(image_target.parent, stem)
    if clash is not None:
        raise DatasetError(
            f"an image named {clash.name} is already in {folder} (renaming {record.file_name}); nothing was changed",
            clash,
        )
    if record.split == "test":  # the scan pairs test images only with the masks of their defect
        ground_truth = _category_dir(index, record.category) / GROUND_TRUTH / record.defect
        clash = _mask_clash(ground_truth, stem)
        if clash is not None:
            raise DatasetError(
                f"a mask for {stem} is already in {GROUND_TRUTH}/{record.defect}/ (renaming {record.file_name}); "
                "nothing was changed",
                clash,
            )
    if parse_stem(stem).style == "goodsad":
        other = next((r for r in index.records if r.category == record.category and r.stem == stem), None)
        if other is not None:
            raise DatasetError(
                f"{stem} already names {other.key} (GoodsAD names are unique in a category; renaming "
                f"{record.file_name}); nothing was changed",
                other.image_path,
            )
    _require_writable(record.image_path.parent)
    if record.mask_path is not None:
        _require_writable(record.mask_path.parent)
