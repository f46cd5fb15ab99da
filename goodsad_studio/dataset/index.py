"""The dataset index: every image of an MVTec-AD-layout tree with its category, split, defect, goods id and mask.

Layout (one category)::

    <category>/train/good/<name>.<ext>
    <category>/test/<defect or good>/<name>.<ext>
    <category>/ground_truth/<defect>/<name>_mask.png   (MVTec)   or   <name>.png   (same stem)

``scan_dataset(root)`` accepts a root that is one category or a parent of several. It reads directory entries only,
never pixel data, so a GoodsAD-sized tree indexes in a fraction of a second. Hidden files, stray files and empty
folders are skipped with a note rather than a crash.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from goodsad_studio.dataset.names import (
    GOOD,
    GROUND_TRUTH,
    MASK_STEM_SUFFIX,
    MASK_SUFFIXES,
    NO_GOODS_ID,
    SPLITS,
    is_image_file,
    mask_stem_to_image_stem,
    parse_stem,
)
from goodsad_studio.errors import DatasetError
from goodsad_studio.paths import STATE_DIR_NAME

MASK_STYLE_SUFFIX = "suffix"  # <stem>_mask.png, as MVTec AD
MASK_STYLE_SAME = "same"  # <stem>.png


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """One image of the dataset. ``key`` (category/split/defect/stem) identifies it everywhere in the studio."""

    category: str
    split: str
    defect: str
    stem: str
    image_path: Path
    mask_path: Path | None
    goods_id: str | None
    serial: str | None
    name_style: str

    @property
    def key(self) -> str:
        return f"{self.category}/{self.split}/{self.defect}/{self.stem}"

    @property
    def group(self) -> str:
        """The goods id, or :data:`NO_GOODS_ID` for names that carry none (all such images form one group)."""
        return self.goods_id if self.goods_id is not None else NO_GOODS_ID

    @property
    def is_anomalous(self) -> bool:
        return self.defect != GOOD

    @property
    def file_name(self) -> str:
        return self.image_path.name


@dataclass(frozen=True, slots=True)
class Note:
    """Something the scan skipped or found odd, naming the path."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(slots=True)
class MaskFile:
    category: str
    defect: str
    path: Path


@dataclass
class DatasetIndex:
    """Every image under ``root``. Records are immutable; edits make new records via :meth:`replace_record`."""

    root: Path
    category_dirs: dict[str, Path]
    records: list[ImageRecord]
    notes: list[Note] = field(default_factory=list)
    orphan_masks: list[MaskFile] = field(default_factory=list)
    mask_styles: dict[str, str] = field(default_factory=dict)
    duplicates: list[tuple[Path, Path]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_key = {record.key: record for record in self.records}

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[ImageRecord]:
        return iter(self.records)

    @property
    def categories(self) -> list[str]:
        return sorted(self.category_dirs)

    def get(self, key: str) -> ImageRecord | None:
        return self._by_key.get(key)

    def filter(
        self,
        *,
        category: str | None = None,
        split: str | None = None,
        defect: str | None = None,
        goods_id: str | None = None,
        has_mask: bool | None = None,
        anomalous: bool | None = None,
    ) -> list[ImageRecord]:
        """Records matching every given criterion (``goods_id`` matches :attr:`ImageRecord.group`)."""
        out = []
        for record in self.records:
            if category is not None and record.category != category:
                continue
            if split is not None and record.split != split:
                continue
            if defect is not None and record.defect != defect:
                continue
            if goods_id is not None and record.group != goods_id:
                continue
            if has_mask is not None and (record.mask_path is not None) != has_mask:
                continue
            if anomalous is not None and record.is_anomalous != anomalous:
                continue
            out.append(record)
        return out

    def goods_ids(self, category: str) -> list[str]:
        return sorted({record.group for record in self.records if record.category == category})

    def defects(self, category: str) -> list[str]:
        """Defect types of a category: test folders, ground-truth folders, ``good`` first."""
        names = {record.defect for record in self.records if record.category == category}
        gt = self.category_dirs.get(category, Path()) / GROUND_TRUTH
        if gt.is_dir():
            names.update(entry.name for entry in os.scandir(gt) if entry.is_dir() and not entry.name.startswith("."))
        return sorted(names, key=lambda name: (name != GOOD, name))

    def image_level_only(self, category: str) -> bool:
        """Whether ``category`` has no ``ground_truth/`` folder and no defective image with a mask: an image-level
        dataset (as MVTec-style sets without masks often are), evaluated without pixel metrics."""
        if (self.category_dirs.get(category, Path()) / GROUND_TRUTH).is_dir():
            return False
        return not any(r.mask_path is not None for r in self.records if r.category == category and r.is_anomalous)

    def mask_path_for(self, record: ImageRecord, defect: str | None = None) -> Path:
        """Where the mask of ``record`` lives or would be written, in the naming the category already uses."""
        defect = defect or record.defect
        if record.mask_path is not None and defect == record.defect:
            return record.mask_path
        style = self.mask_styles.get(record.category, MASK_STYLE_SUFFIX)
        stem = record.stem + MASK_STEM_SUFFIX if style == MASK_STYLE_SUFFIX else record.stem
        return self.category_dirs[record.category] / GROUND_TRUTH / defect / f"{stem}.png"

    def replace_record(self, old: ImageRecord, new: ImageRecord) -> None:
        """Swap one record for another (after an image-level edit moved a file or added a mask)."""
        position = self.records.index(old)
        self.records[position] = new
        del self._by_key[old.key]
        self._by_key[new.key] = new

    def add_record(self, record: ImageRecord) -> None:
        self.records.append(record)
        self._by_key[record.key] = record

    def with_mask(self, record: ImageRecord, mask_path: Path | None) -> ImageRecord:
        """Record the mask file of ``record`` in the index and return the new record."""
        new = replace(record, mask_path=mask_path)
        self.replace_record(record, new)
        return new


def _scandir(path: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except PermissionError:
        raise DatasetError("no permission to list this folder", path) from None
    except OSError as exc:
        raise DatasetError(f"cannot list this folder: {exc.strerror}", path) from None


def _is_category_dir(path: Path) -> bool:
    return any((path / split).is_dir() for split in SPLITS)


def find_category_dirs(root: Path) -> dict[str, Path]:
    """Categories under ``root``: the root itself when it holds train/ or test/, else its children that do."""
    if not root.exists():
        raise DatasetError("dataset folder not found", root)
    if not root.is_dir():
        raise DatasetError("not a folder: a dataset root is a folder in MVTec-AD layout", root)
    if _is_category_dir(root):
        return {root.resolve().name: root}
    found = {
        entry.name: Path(entry.path)
        for entry in _scandir(root)
        if entry.is_dir() and not entry.name.startswith(".") and _is_category_dir(Path(entry.path))
    }
    if not found:
        raise DatasetError(
            "no category found: expected train/ and test/ folders here or in its sub-folders "
            "(MVTec-AD layout: <category>/train/good, <category>/test/<defect>)",
            root,
        )
    return found


def scan_dataset(root: str | Path) -> DatasetIndex:
    """Index every image under ``root`` (one category, or a folder of categories). Reads no pixel data."""
    root = Path(root)
    category_dirs = find_category_dirs(root)
    records: list[ImageRecord] = []
    notes: list[Note] = []
    orphans: list[MaskFile] = []
    styles: dict[str, str] = {}
    duplicates: list[tuple[Path, Path]] = []
    for category, category_dir in sorted(category_dirs.items()):
        _scan_category(category, category_dir, records, notes, orphans, styles, duplicates)
    return DatasetIndex(root, category_dirs, records, notes, orphans, styles, duplicates)


def _image_entries(folder: Path, notes: list[Note], duplicates: list[tuple[Path, Path]]) -> dict[str, Path]:
    """Image files of one leaf folder by stem; anything else is noted and skipped."""
    images: dict[str, Path] = {}
    entries = _scandir(folder)
    if not entries:
        notes.append(Note(folder, "empty folder, skipped"))
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith("."):
            notes.append(Note(path, "hidden file or folder, skipped"))
        elif entry.is_dir():
            notes.append(Note(path, "unexpected sub-folder (MVTec layout has files here), skipped"))
        elif not is_image_file(entry.name):
            notes.append(Note(path, "not an image file (.png .jpg .jpeg .bmp .tif), skipped"))
        else:
            stem = path.stem
            if stem in images:
                duplicates.append((images[stem], path))
            else:
                images[stem] = path
    return images


def _scan_masks(category_dir: Path, notes: list[Note]) -> dict[tuple[str, str], Path]:
    """Mask files by (defect, image stem)."""
    masks: dict[tuple[str, str], Path] = {}
    gt_dir = category_dir / GROUND_TRUTH
    if not gt_dir.is_dir():
        return masks
    for defect_entry in _scandir(gt_dir):
        defect_path = Path(defect_entry.path)
        if defect_entry.name.startswith("."):
            notes.append(Note(defect_path, "hidden file or folder, skipped"))
            continue
        if not defect_entry.is_dir():
            notes.append(Note(defect_path, "stray file in ground_truth/ (masks belong in ground_truth/<defect>/)"))
            continue
        entries = _scandir(defect_path)
        if not entries:
            notes.append(Note(defect_path, "empty folder, skipped"))
        for entry in entries:
            path = Path(entry.path)
            suffix = path.suffix.lower()
            if entry.name.startswith("."):
                notes.append(Note(path, "hidden file or folder, skipped"))
            elif entry.is_dir() or suffix not in MASK_SUFFIXES:
                notes.append(Note(path, "not a mask file (.png .bmp .tif), skipped"))
            else:
                key = (defect_entry.name, mask_stem_to_image_stem(path.stem))
                # <stem>_mask.png wins over <stem>.png when a folder holds both
                if key not in masks or path.stem.endswith(MASK_STEM_SUFFIX):
                    masks[key] = path
    return masks


def _scan_category(
    category: str,
    category_dir: Path,
    records: list[ImageRecord],
    notes: list[Note],
    orphans: list[MaskFile],
    styles: dict[str, str],
    duplicates: list[tuple[Path, Path]],
) -> None:
    masks = _scan_masks(category_dir, notes)
    used: set[tuple[str, str]] = set()
    odd_names = 0
    for entry in _scandir(category_dir):
        if entry.name in SPLITS or entry.name in (GROUND_TRUTH, STATE_DIR_NAME):
            continue
        kind = "hidden file or folder" if entry.name.startswith(".") else "not part of the MVTec layout"
        notes.append(Note(Path(entry.path), f"{kind}, skipped"))
    for split in SPLITS:
        split_dir = category_dir / split
        if not split_dir.is_dir():
            notes.append(Note(split_dir, f"no {split}/ folder in this category"))
            continue
        for defect_entry in _scandir(split_dir):
            defect_path = Path(defect_entry.path)
            if defect_entry.name.startswith("."):
                notes.append(Note(defect_path, "hidden file or folder, skipped"))
                continue
            if not defect_entry.is_dir():
                notes.append(Note(defect_path, f"stray file in {split}/ (images belong in {split}/<defect>/), skipped"))
                continue
            defect = defect_entry.name
            for stem, image_path in _image_entries(defect_path, notes, duplicates).items():
                mask_path = masks.get((defect, stem)) if split == "test" else None
                if mask_path is not None:
                    used.add((defect, stem))
                parsed = parse_stem(stem)
                if parsed.style == "other":
                    odd_names += 1
                records.append(
                    ImageRecord(
                        category,
                        split,
                        defect,
                        stem,
                        image_path,
                        mask_path,
                        parsed.goods_id,
                        parsed.serial,
                        parsed.style,
                    )
                )
    for key, path in masks.items():
        if key not in used:
            orphans.append(MaskFile(category, key[0], path))
    if odd_names:
        notes.append(
            Note(
                category_dir,
                f"{odd_names} image names follow neither GoodsAD's 6 digits nor MVTec's "
                "3 digits: they are indexed with no goods id",
            )
        )
    suffix_style = sum(1 for path in masks.values() if path.stem.endswith(MASK_STEM_SUFFIX))
    styles[category] = MASK_STYLE_SAME if masks and suffix_style * 2 < len(masks) else MASK_STYLE_SUFFIX


def count_by(records: Iterable[ImageRecord], *fields: str) -> Counter[tuple[object, ...]]:
    """Counts of records by the tuple of the named attributes."""
    return Counter(tuple(getattr(record, name) for name in fields) for record in records)
