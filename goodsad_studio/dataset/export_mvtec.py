"""Export a selection of a dataset as a clean MVTec-AD-layout copy, optionally resized, with a JSON manifest.

Layout written under the destination folder::

    <dest>/<category>/train/good/<image file>
    <dest>/<category>/test/<defect>/<image file>
    <dest>/<category>/ground_truth/<defect>/<mask file>      (the source's mask names are kept)
    <dest>/export_manifest.json

Without resizing every file is copied byte for byte (``shutil.copy2``, so times and modes follow). With a size,
images are resized with ``cv2.INTER_AREA`` and re-encoded in their own format (JPEG quality 95), and masks are
resized by **area then >= 0.5**: each output pixel is foreground when at least half of the source pixels it covers
are (a majority vote, which keeps masks binary and, unlike nearest-neighbour sampling, does not drop or shift a
defect depending on which source pixel happens to be sampled). A mask that becomes empty by resizing is named in
the manifest's notes, since a defective image with an empty mask would count as good in pixel metrics.

The export refuses a non-empty destination unless ``overwrite`` is given (then same-named files are replaced and
other files are left alone), and refuses a destination inside the source or the source inside it. Progress goes to
the ``monitor`` (stage ``export``, one count per file); a cancelled monitor stops between files: the result then says
``cancelled`` and the manifest records the files written so far.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from goodsad_studio import __version__
from goodsad_studio.dataset.imageio import encode_image, encode_mask_png, probe_image, read_image, read_mask
from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.dataset.names import GROUND_TRUTH
from goodsad_studio.dataset.selection import ALL, Selection
from goodsad_studio.errors import DatasetError, ReadOnlyError, StudioError
from goodsad_studio.fsutil import atomic_write_text, is_writable_dir
from goodsad_studio.progress import NO_MONITOR, Monitor, Stage

MANIFEST_NAME = "export_manifest.json"
MASK_RESIZE_METHOD = "area, then >= 0.5 (majority of covered source pixels)"
IMAGE_RESIZE_METHOD = "cv2.INTER_AREA"
JPEG_QUALITY = 95


@dataclass(frozen=True, slots=True)
class ExportedFile:
    """One file of an export: where it came from, where it went (relative to the destination), its sizes."""

    kind: str  # "image" or "mask"
    source: Path
    dest: str
    source_size: tuple[int, int]  # (width, height)
    size: tuple[int, int]

    def to_json(self) -> dict[str, str | int]:
        return {
            "kind": self.kind,
            "source": str(self.source),
            "dest": self.dest,
            "source_width": self.source_size[0],
            "source_height": self.source_size[1],
            "width": self.size[0],
            "height": self.size[1],
        }


@dataclass
class ExportResult:
    dest: Path
    manifest_path: Path
    files: list[ExportedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cancelled: bool = False

    @property
    def image_count(self) -> int:
        return sum(1 for item in self.files if item.kind == "image")

    @property
    def mask_count(self) -> int:
        return sum(1 for item in self.files if item.kind == "mask")


def normalise_size(size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    """``224`` -> ``(224, 224)``; ``(w, h)`` stays; refuses non-positive sizes."""
    if size is None:
        return None
    width, height = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if width < 1 or height < 1:
        raise StudioError(f"export size must be positive, got {width}x{height} (width x height)")
    return width, height


def check_destination(source_root: Path, dest: Path, *, overwrite: bool) -> None:
    """Refuse a destination that overlaps the source, is a file, or holds files (unless ``overwrite``)."""
    source = source_root.resolve()
    target = dest.resolve()
    if target == source or source in target.parents or target in source.parents:
        raise DatasetError(f"the export destination overlaps the dataset at {source}: choose a folder outside it", dest)
    if dest.exists() and not dest.is_dir():
        raise DatasetError("the export destination is a file, not a folder", dest)
    if dest.is_dir() and any(dest.iterdir()) and not overwrite:
        raise DatasetError("the export destination is not empty (choose an empty folder, or overwrite)", dest)


def _mkdir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if isinstance(exc, PermissionError) or exc.errno == errno.EROFS:
            raise ReadOnlyError("cannot create the folder (read-only or no permission)", path) from None
        raise StudioError(f"cannot create the folder: {exc.strerror}", path) from None


def _place(target: Path, write: Callable[[Path], object], source: Path) -> None:
    """Write ``target`` through a temporary name (``write(tmp)``), then rename: never a half-written file.

    No fsync per file: a whole export is flushed once (``os.sync``) before its manifest is written, which is
    several times faster on thousands of files and gives the same guarantee: a manifest saying ``complete``
    lists files that are on disk.
    """
    _mkdir(target.parent)
    tmp = target.with_name(f".{target.name}.part")
    try:
        write(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if not source.exists():
            raise DatasetError("file vanished from the dataset during the export", source) from None
        if isinstance(exc, PermissionError) or exc.errno == errno.EROFS:
            raise ReadOnlyError("cannot write the exported file (read-only or no permission)", target) from None
        raise StudioError(f"cannot write the exported file: {exc.strerror}", target) from None


def _copy(source: Path, target: Path) -> None:
    """Byte-for-byte copy (``shutil.copy2``: times and mode follow)."""
    _place(target, lambda tmp: shutil.copy2(source, tmp), source)


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a bool mask to ``size`` (width, height) by area then ``>= 0.5``; the result is bool."""
    if (mask.shape[1], mask.shape[0]) == size:
        return mask.copy()
    area = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    return area >= 0.5


def _export_image(record: ImageRecord, target: Path, size: tuple[int, int] | None) -> tuple[int, int]:
    info = probe_image(record.image_path)
    if size is None:
        _copy(record.image_path, target)
        return info.width, info.height
    image = read_image(record.image_path, gray=info.channels == 1)
    resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    data = encode_image(resized, target.suffix, jpeg_quality=JPEG_QUALITY)
    _place(target, lambda tmp: tmp.write_bytes(data), record.image_path)
    return info.width, info.height


def _export_mask(
    record: ImageRecord, target: Path, image_size: tuple[int, int], size: tuple[int, int] | None, notes: list[str]
) -> Path:
    """Copy or resize the mask of ``record``; returns the path written (resized masks are always PNG)."""
    assert record.mask_path is not None
    if size is None:
        _copy(record.mask_path, target)
        return target
    mask = read_mask(record.mask_path, shape=(image_size[1], image_size[0]))
    resized = resize_mask(mask, size)
    if mask.any() and not resized.any():
        notes.append(
            f"{record.mask_path}: the defect vanished when the mask was resized to {size[0]}x{size[1]} "
            f"({int(mask.sum())} source pixels, under half of any output pixel)"
        )
    target = target.with_suffix(".png")
    data = encode_mask_png(resized)
    _place(target, lambda tmp: tmp.write_bytes(data), record.mask_path)
    return target


def export_mvtec(
    index: DatasetIndex,
    dest: str | Path,
    selection: Selection = ALL,
    *,
    size: int | tuple[int, int] | None = None,
    overwrite: bool = False,
    monitor: Monitor = NO_MONITOR,
) -> ExportResult:
    """Copy the images (and masks) of ``selection`` into ``dest`` in MVTec-AD layout and write a manifest.

    ``size`` is ``(width, height)`` or one int for a square; ``None`` copies files unchanged. Returns what was
    written; errors name the file concerned (a source file that cannot be read, a destination that cannot be
    written).
    """
    dest = Path(dest)
    size = normalise_size(size)
    records = selection.apply(index)
    check_destination(index.root, dest, overwrite=overwrite)
    _mkdir(dest)
    if not is_writable_dir(dest):
        raise ReadOnlyError("cannot write into the export destination (read-only or no permission)", dest)
    result = ExportResult(dest, dest / MANIFEST_NAME)
    total = len(records) + sum(1 for record in records if record.mask_path is not None)
    done = 0
    monitor.stage(Stage.EXPORT, total, f"MVTec export to {dest}")
    for record in records:
        if monitor.cancelled:
            result.cancelled = True
            break
        category_dest = dest / record.category
        image_target = category_dest / record.split / record.defect / record.image_path.name
        source_size = _export_image(record, image_target, size)
        out_size = size or source_size
        result.files.append(
            ExportedFile("image", record.image_path, image_target.relative_to(dest).as_posix(), source_size, out_size)
        )
        done += 1
        monitor.advance(done)
        if record.mask_path is None:
            continue
        mask_target = category_dest / GROUND_TRUTH / record.defect / record.mask_path.name
        mask_target = _export_mask(record, mask_target, source_size, size, result.notes)
        result.files.append(
            ExportedFile("mask", record.mask_path, mask_target.relative_to(dest).as_posix(), source_size, out_size)
        )
        done += 1
        monitor.advance(done)
    os.sync()  # every exported file on disk before the manifest says so
    write_manifest(result, index, selection, size)
    return result


def write_manifest(
    result: ExportResult, index: DatasetIndex, selection: Selection, size: tuple[int, int] | None
) -> None:
    """Write ``export_manifest.json``: what was exported from where, how, and by which version of the tool."""
    manifest = {
        "tool": "goodsad-studio",
        "tool_version": __version__,
        "format": "mvtec",
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "source_root": str(index.root.resolve()),
        "selection": selection.to_json(),
        "resize": None
        if size is None
        else {
            "width": size[0],
            "height": size[1],
            "images": IMAGE_RESIZE_METHOD,
            "masks": MASK_RESIZE_METHOD,
            "jpeg_quality": JPEG_QUALITY,
        },
        "copy": "byte-for-byte (shutil.copy2)" if size is None else "re-encoded",
        "complete": not result.cancelled,
        "counts": {"images": result.image_count, "masks": result.mask_count},
        "notes": result.notes,
        "files": [item.to_json() for item in result.files],
    }
    atomic_write_text(result.manifest_path, json.dumps(manifest, indent=1) + "\n")
