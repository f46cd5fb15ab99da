"""What the COCO and labelme importers share: reading JSON, matching images, cleaning polygons, the import plan
and writing it.

An import is planned first (:class:`ImportReport` with one :class:`PlannedMask` per image) and written second
(:func:`apply_plan`), so input that must be rejected is rejected before any file changes, and a dry run is just
the plan. A planned mask keeps its sources (RLEs, shapely geometries) rather than pixels, so planning a large
import holds no full-size masks in memory; :meth:`PlannedMask.render` makes the pixels when they are needed.
"""

from __future__ import annotations

import json
import math
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import shapely
from pycocotools import mask as mask_utils
from shapely.geometry import GeometryCollection, box
from shapely.geometry.base import BaseGeometry

from goodsad_studio import strict_json
from goodsad_studio.dataset.edits import backup_to_trash, new_trash_stamp
from goodsad_studio.dataset.imageio import ImageInfo, probe_image, read_mask, write_mask
from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.dataset.names import GOOD
from goodsad_studio.errors import AnnotationFileError, MaskError, ReadOnlyError, StudioError
from goodsad_studio.fsutil import atomic_write_bytes, is_writable_dir
from goodsad_studio.geometry import rasterize


def decode_rle(rle: dict[str, Any]) -> np.ndarray:
    """pycocotools' decode as a bool array, quiet about the numpy-2 deprecation warning pycocotools 2.0.x raises."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        decoded: np.ndarray = mask_utils.decode(rle).astype(bool)  # pycocotools has no type information
        return decoded


@dataclass(frozen=True)
class Part:
    """One annotation's contribution to a mask: a COCO RLE (exact) or a cleaned shapely geometry."""

    source: str
    rle: dict[str, Any] | None = None
    geometry: BaseGeometry | None = None

    def render(self, shape: tuple[int, int]) -> np.ndarray:
        if self.rle is not None:
            return decode_rle(self.rle)
        return np.asarray(rasterize(self.geometry, shape), bool)


@dataclass
class PlannedMask:
    """A mask an import will write: for which image, where, at which (height, width), from which parts."""

    record: ImageRecord
    mask_path: Path
    shape: tuple[int, int]
    parts: list[Part]

    @property
    def replaces(self) -> bool:
        """True when a mask file is already there (it is copied to the trash before being replaced)."""
        return self.mask_path.exists()

    def render(self) -> np.ndarray:
        """The union of all parts as a bool (height, width) mask."""
        mask = np.zeros(self.shape, bool)
        for part in self.parts:
            mask |= part.render(self.shape)
        return mask


@dataclass
class ImportReport:
    """What an import planned, skipped, noticed and (unless a dry run) wrote. Every line names the file."""

    source: Path
    planned: list[PlannedMask] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)
    would_write: list[Path] = field(default_factory=list)  # a dry run: what a real import would write
    would_replace: list[Path] = field(default_factory=list)  # ... of which these overwrite a mask (backed up first)

    def summary(self) -> str:
        return (
            f"{self.source}: {len(self.planned)} masks planned, {len(self.written)} written, "
            f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped, {len(self.notes)} notes"
        )


def load_json(path: Path) -> Any:
    """Parse an annotation file strictly; raises :class:`AnnotationFileError` naming it when it is unreadable,
    invalid JSON, holds NaN/Infinity (or numbers too large to be finite), or nests deeper than
    :data:`goodsad_studio.strict_json.MAX_DEPTH`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AnnotationFileError("file not found", path) from None
    except IsADirectoryError:
        raise AnnotationFileError("is a folder, not a JSON file", path) from None
    except UnicodeDecodeError:
        raise AnnotationFileError("not a UTF-8 text file (expected JSON)", path) from None
    except OSError as exc:
        raise AnnotationFileError(f"cannot read the file: {exc.strerror}", path) from None
    try:
        return strict_json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnnotationFileError(f"invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", path) from None
    except ValueError as exc:
        raise AnnotationFileError(f"refused: {exc}", path) from None


def is_number(value: Any) -> bool:
    """A JSON number: an int or a finite float, and not a boolean (``true`` is an int to Python)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_count(value: Any) -> bool:
    """A JSON whole number >= 0 (not a boolean, not a float)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def rle_string_counts(counts: str) -> list[int] | None:
    """The run lengths of a compressed COCO RLE string (pycocotools' ``rleFrString`` format: 5 bits per
    character, offset by 48, runs after the second stored as differences), or None when the string is not of
    that format. pycocotools decodes without checking that the runs cover the image, so they are checked first."""
    runs: list[int] = []
    position = 0
    while position < len(counts):
        value, shift, more = 0, 0, True
        while more:
            if position >= len(counts):
                return None
            code = ord(counts[position]) - 48
            if not 0 <= code < 64:
                return None
            value |= (code & 0x1F) << shift
            more = bool(code & 0x20)
            position += 1
            shift += 5
            if not more and code & 0x10:
                value |= -1 << shift
        if len(runs) > 2:
            value += runs[-2]
        runs.append(value)
    return runs


def _tail(parts: Iterable[str]) -> tuple[str, ...]:
    return tuple(part for part in parts if part not in ("", ".", ".."))


class ImageMatcher:
    """Find the record an annotation file means by a file name.

    A name matches an image when, aligned from the end, their paths agree wherever both have parts: the name is
    the image's path relative to the dataset root, a tail of it (``scratch/000.png``, a basename), or that path
    under extra leading folders (a file written against a parent folder of the root). A name that several
    images fit is ambiguous and matches none.
    """

    def __init__(self, index: DatasetIndex):
        self._by_tail: dict[tuple[str, ...], list[ImageRecord]] = defaultdict(list)
        self._by_full: dict[tuple[str, ...], ImageRecord] = {}
        self._by_resolved: dict[Path, ImageRecord] = {}
        for record in index.records:
            try:
                parts = record.image_path.relative_to(index.root).parts
            except ValueError:
                parts = record.image_path.parts
            for depth in range(1, len(parts) + 1):
                self._by_tail[tuple(parts[-depth:])].append(record)
            self._by_full[tuple(parts)] = record
            self._by_resolved[record.image_path.resolve()] = record

    def by_path(self, path: Path) -> ImageRecord | None:
        """The record whose image is the file at ``path`` (after resolving links and ``..``)."""
        return self._by_resolved.get(path.resolve())

    def match(self, file_name: str) -> tuple[ImageRecord | None, str]:
        """The record for ``file_name`` and, when there is none, why (not in the dataset, or ambiguous)."""
        parts = _tail(PurePosixPath(file_name.replace("\\", "/")).parts)
        if not parts:
            return None, "empty file name"
        candidates = {id(record): record for record in self._by_tail.get(parts, [])}
        for depth in range(1, len(parts)):
            record = self._by_full.get(parts[-depth:])
            if record is not None:
                candidates[id(record)] = record
        if len(candidates) == 1:
            return next(iter(candidates.values())), ""
        if candidates:
            return None, (
                f"ambiguous: {len(candidates)} images of the dataset fit this name (give the path "
                "relative to the dataset root)"
            )
        return None, "no such image in the dataset"


def unmatched_error(path: Path, unmatched: list[str], index: DatasetIndex) -> AnnotationFileError:
    shown = ", ".join(repr(name) for name in unmatched[:5]) + (
        f", ... ({len(unmatched)} in all)" if len(unmatched) > 5 else ""
    )
    return AnnotationFileError(
        f"none of its images is in the dataset at {index.root} (file names not found: "
        f"{shown or 'none listed'}); is it for another dataset?",
        path,
    )


def check_size(width: Any, height: Any, info: ImageInfo, image: Path, path: Path) -> None:
    """Refuse an annotation file whose width/height for ``image`` differ from the image file's."""
    if width is None and height is None:
        return
    if not (is_count(width) and is_count(height)):
        raise AnnotationFileError(
            f"the width and height it gives for {image} are not whole numbers ({width!r}, {height!r})", path
        )
    if width != info.width or height != info.height:
        raise AnnotationFileError(
            f"says {image} is {width}x{height} but the file is {info.width}x{info.height} "
            "(width x height): the annotations are for another version of the image",
            path,
        )


def clean_geometry(
    polygons: Sequence[BaseGeometry], shape: tuple[int, int], label: str, report: ImportReport, path: Path
) -> BaseGeometry | None:
    """Repair invalid polygons (``shapely.make_valid``) and clip them to the image, noting each change.

    Valid polygons inside the image are kept exactly as given (no shapely operation touches their coordinates).

    Returns ``None`` when nothing with an area is left.
    """
    height, width = shape
    frame = box(0, 0, width, height)
    kept = []
    for number, polygon in enumerate(polygons):
        if not polygon.is_valid:
            reason = shapely.is_valid_reason(polygon)
            repaired = shapely.make_valid(polygon)
            polygon = shapely.union_all([part for part in _polygonal(repaired)])
            report.notes.append(f"{path}: {label}: polygon {number} was invalid ({reason}), repaired")
        if polygon.is_empty or polygon.area == 0:
            report.notes.append(f"{path}: {label}: polygon {number} has no area, ignored")
            continue
        if not polygon.within(frame):
            polygon = polygon.intersection(frame)
            if polygon.is_empty or polygon.area == 0:
                report.notes.append(
                    f"{path}: {label}: polygon {number} lies outside the image ({width}x{height}), ignored"
                )
                continue
            report.notes.append(
                f"{path}: {label}: polygon {number} reaches outside the image ({width}x{height}), clipped"
            )
        kept.append(polygon)
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else GeometryCollection(kept)  # rasterize unites overlapping parts


def _polygonal(geometry: BaseGeometry) -> list[BaseGeometry]:
    """The polygons inside whatever ``make_valid`` returned (it may add lines and points, which have no area)."""
    out = []
    for part in shapely.get_parts(geometry):
        if part.geom_type == "Polygon":
            out.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            out.extend(_polygonal(part))
    return out


def plan_target(index: DatasetIndex, record: ImageRecord, report: ImportReport, path: Path) -> Path | None:
    """Where the mask of ``record`` goes, or ``None`` (with the reason in ``report.skipped``)."""
    if record.defect == GOOD or record.split != "test":
        report.skipped.append(
            f"{path}: {record.image_path} is a good image ({record.split}/{record.defect}); "
            "mark it defective first to give it a mask; skipped"
        )
        return None
    target = index.mask_path_for(record)
    if target.suffix.lower() != ".png":
        report.skipped.append(f"{path}: the existing mask {target} is not a PNG; replace it by hand; skipped")
        return None
    return target


def _nearest_existing(directory: Path) -> Path:
    while not directory.exists() and directory.parent != directory:
        directory = directory.parent
    return directory


def _check_targets(report: ImportReport) -> None:
    """Refuse the whole import before anything is written: a read-only target folder, or a mask already there
    whose size is not its image's."""
    for folder in sorted({_nearest_existing(item.mask_path.parent) for item in report.planned}):
        if not is_writable_dir(folder):
            raise ReadOnlyError("cannot write masks here (read-only or no permission); nothing was imported", folder)
    for item in report.planned:
        if item.mask_path.exists():
            info = probe_image(item.mask_path)
            if (info.height, info.width) != item.shape:
                raise MaskError(
                    f"the mask already there is {info.width}x{info.height} but its image is "
                    f"{item.shape[1]}x{item.shape[0]}; fix or remove it; nothing was imported",
                    item.mask_path,
                )


def _outcome(item: PlannedMask, merge_existing: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The mask the import leaves at ``item.mask_path`` and the mask there now (None when there is none)."""
    mask = item.render()
    if not item.mask_path.exists():
        return mask, None
    old = read_mask(item.mask_path, shape=item.shape, binarize=True)
    return (mask | old if merge_existing else mask), old


def preview_plan(report: ImportReport, *, merge_existing: bool = False) -> ImportReport:
    """A dry run that tells exactly what :func:`apply_plan` would do, writing nothing: the same refusals, masks
    that would come out identical in ``unchanged``, the others in ``would_write`` (with ``would_replace`` listing
    those that overwrite a mask, which would go to the trash first)."""
    _check_targets(report)
    for item in report.planned:
        mask, old = _outcome(item, merge_existing)
        if old is not None and np.array_equal(old, mask):
            report.unchanged.append(item.mask_path)
        else:
            report.would_write.append(item.mask_path)
            if old is not None:
                report.would_replace.append(item.mask_path)
    return report


def apply_plan(index: DatasetIndex, report: ImportReport, *, merge_existing: bool = False) -> ImportReport:
    """Write the planned masks and record them in the index. Checks every target folder is writable first.

    Existing masks of the wrong size are refused before anything is written. A mask that would come out
    identical to the one on disk is left alone (listed in ``unchanged``); a mask that is replaced is first copied
    to the dataset's trash, one time-stamped folder per import (listed in ``backups``). Should writing fail half
    way (a full disk), ``report.written`` lists what was written.
    """
    stamp = new_trash_stamp()
    _check_targets(report)
    done: list[tuple[Path, Path | None]] = []  # (mask written, the trash copy of the mask it replaced)
    try:
        for item in report.planned:
            mask, old = _outcome(item, merge_existing)
            backup = None
            if old is not None:
                if np.array_equal(old, mask):
                    report.unchanged.append(item.mask_path)
                    continue
                backup = backup_to_trash(index, item.mask_path, stamp)
                report.backups.append(backup)
            write_mask(item.mask_path, mask)
            done.append((item.mask_path, backup))
            report.written.append(item.mask_path)
    except StudioError as exc:
        raise _rolled_back(exc, done) from exc
    for item in report.planned:
        current = index.get(item.record.key)
        if item.mask_path in report.written and current is not None and current.mask_path != item.mask_path:
            index.with_mask(current, item.mask_path)
    return report


def _rolled_back(exc: StudioError, done: list[tuple[Path, Path | None]]) -> StudioError:
    """Put back every mask an import wrote before ``exc`` stopped it (an import changes all or nothing); the
    error to raise, saying so (or naming what could not be put back)."""
    failed = []
    for path, backup in reversed(done):
        try:
            if backup is None:
                path.unlink(missing_ok=True)
            else:
                atomic_write_bytes(path, backup.read_bytes())
        except (OSError, StudioError):
            failed.append(path)
    if failed:
        note = f"; {len(failed)} masks written before it could not be put back: {', '.join(map(str, failed[:3]))}"
    else:
        note = "; nothing was imported" + (f" (the {len(done)} masks written before it were put back)" if done else "")
    return type(exc)(exc.problem + note, exc.path)
