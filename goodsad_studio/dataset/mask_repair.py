"""Repairing mask files the studio refuses: binarising a mask that holds values other than 0 and 255, and scaling a
mask to the size of its image.

Both work on the mask's values as read from the file (``uint8``, one channel) and say what they did in plain words:

* :func:`binarise` makes every pixel above a threshold foreground (255) and every other pixel background (0), the
  rule ``read_mask(binarize=True)`` uses, and counts the pixels that change (every value that was neither 0 nor 255);
* :func:`resize_to_image` scales the mask to the image's width and height by nearest neighbour: each pixel of the
  result copies the mask pixel under its centre, so no new values appear and a binary mask stays binary. The scale
  is the image's size over the mask's, across and down separately (a mask of another aspect ratio is stretched).

:func:`plan_repair` reads one file and returns the repaired mask with its summary (the preview); :func:`apply_repair`
writes it atomically over the file, in the file's own format, after copying the original into the dataset's trash
(``<root>/.goodsad-studio/trash/<time>/<its path>``), from where it can be put back by hand. :func:`survey_masks`
finds the masks of a dataset that need either repair and :func:`apply_survey` repairs them all, checking first that
every folder it writes can be written, so a refused run changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from goodsad_studio.dataset.edits import backup_to_trash, new_trash_stamp, trash_root
from goodsad_studio.dataset.imageio import (
    encode_image,
    encode_mask_png,
    mask_stats,
    mask_value_counts,
    probe_image,
    read_mask_values,
)
from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.errors import MaskChangedError, MaskError, ReadOnlyError, StudioError
from goodsad_studio.fsutil import atomic_write_bytes, is_writable_dir

DEFAULT_THRESHOLD = 127
"""Foreground is every value above 127: the upper half of 0..255 (the threshold ``read_mask`` binarises with)."""
MAX_THRESHOLD = 254
"""A threshold of 255 or more would make every pixel background, 255s included."""
REPAIR_COMMAND = "goodsad-studio repair-masks"
SHOWN_VALUES = 8


def binarise_hint(threshold: int = DEFAULT_THRESHOLD) -> str:
    """The command that binarises the masks of a dataset, for messages that refuse a non-binary mask."""
    return f"{REPAIR_COMMAND} ROOT --binarise {threshold} (add --dry-run to preview)"


def check_threshold(threshold: int) -> int:
    """``threshold`` when it is a usable binarisation threshold (a whole number 0 to 254), else raise ``ValueError``."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)):
        raise ValueError(
            f"the binarisation threshold must be a whole number from 0 to {MAX_THRESHOLD}, got {threshold!r}"
        )
    if not 0 <= int(threshold) <= MAX_THRESHOLD:
        raise ValueError(
            f"the binarisation threshold must be from 0 to {MAX_THRESHOLD} (foreground is every value above it), "
            f"got {threshold}"
        )
    return int(threshold)


def _values_of(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim != 2 or values.dtype != np.uint8:
        raise ValueError(f"mask values must be a 2-D uint8 array, got {values.dtype} of shape {values.shape}")
    return values


def shown_values(values: Iterable[int], limit: int = SHOWN_VALUES) -> str:
    """``0, 12, 255`` for a list of values, ``...`` after the first ``limit``."""
    values = list(values)
    return ", ".join(str(v) for v in values[:limit]) + (", ..." if len(values) > limit else "")


# ------------------------------------------------------------------------------------------------ binarise


@dataclass(frozen=True, slots=True)
class Binarised:
    """A mask binarised at ``threshold``: ``mask`` (``bool``) and which pixels changed to get it."""

    mask: np.ndarray
    threshold: int
    values: tuple[int, ...]  # every distinct value of the input, ascending
    to_foreground: int  # pixels that were neither 0 nor 255 and become 255 (above the threshold)
    to_background: int  # pixels that were neither 0 nor 255 and become 0

    @property
    def changed_pixels(self) -> int:
        return self.to_foreground + self.to_background

    @property
    def summary(self) -> str:
        found = f"values {shown_values(self.values)}"
        if not self.changed_pixels:
            return f"{found}: already binary, no pixel changes"
        return (
            f"{found}; foreground is every value above {self.threshold}: {self.changed_pixels} pixels change "
            f"({self.to_foreground} to 255, {self.to_background} to 0)"
        )


def binarise(values: np.ndarray, threshold: int = DEFAULT_THRESHOLD) -> Binarised:
    """Binarise mask ``values`` (``uint8``, 2-D): foreground where a value is above ``threshold`` (0 to 254).

    Pixels holding 0 or 255 keep their value at every allowed threshold; each other pixel changes to one of them.
    """
    values = _values_of(values)
    threshold = check_threshold(threshold)
    counts = mask_value_counts(values)
    present = tuple(int(v) for v in np.flatnonzero(counts))
    middle = counts[1:255]
    to_foreground = int(middle[threshold:].sum())  # values threshold+1 .. 254 (index i holds value i + 1)
    to_background = int(middle[:threshold].sum())
    return Binarised(values > threshold, threshold, present, to_foreground, to_background)


# ------------------------------------------------------------------------------------------------ resize


@dataclass(frozen=True, slots=True)
class Resized:
    """Mask values scaled to an image's size by nearest neighbour, and how the scale was derived."""

    values: np.ndarray  # uint8, the image's height x width
    source_size: tuple[int, int]  # the mask's width, height
    target_size: tuple[int, int]  # the image's width, height

    @property
    def scale_x(self) -> float:
        return self.target_size[0] / self.source_size[0]

    @property
    def scale_y(self) -> float:
        return self.target_size[1] / self.source_size[1]

    @property
    def stretched(self) -> bool:
        """Whether the two scales differ by more than one pixel's worth (the aspect ratios differ)."""
        return abs(self.scale_x * self.source_size[1] - self.target_size[1]) >= 1.0

    @property
    def summary(self) -> str:
        (sw, sh), (tw, th) = self.source_size, self.target_size
        text = (
            f"scaled from {sw}x{sh} to the image's {tw}x{th} by nearest neighbour: x{self.scale_x:.4g} across "
            f"({tw}/{sw}) and x{self.scale_y:.4g} down ({th}/{sh})"
        )
        if self.stretched:
            text += "; the aspect ratios differ, so the mask is stretched more one way than the other"
        return text


def resize_to_image(values: np.ndarray, shape: tuple[int, int]) -> Resized:
    """Scale mask ``values`` (``uint8``, 2-D) to ``shape`` (the image's height, width) by nearest neighbour.

    Result pixel (y, x) copies mask pixel (floor((y + 0.5) * mh / h), floor((x + 0.5) * mw / w)): the one under its
    centre. No value is invented, so a 0/255 mask stays 0/255.
    """
    values = _values_of(values)
    height, width = (int(shape[0]), int(shape[1]))
    if height <= 0 or width <= 0:
        raise ValueError(f"the image size must be positive, got {width}x{height}")
    mask_height, mask_width = values.shape
    rows = np.minimum(((np.arange(height) + 0.5) * mask_height / height).astype(np.int64), mask_height - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * mask_width / width).astype(np.int64), mask_width - 1)
    scaled = values[rows[:, None], cols[None, :]]
    return Resized(np.ascontiguousarray(scaled), (mask_width, mask_height), (width, height))


# ------------------------------------------------------------------------------------------------ one file


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (to notice a file that changed between the preview and the write)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise MaskError(f"cannot read the mask: {exc.strerror or exc}", path) from None


@dataclass(frozen=True, slots=True)
class MaskRepair:
    """What repairing one mask file does: ``original`` as the file holds it, ``mask`` as it will be written."""

    path: Path
    digest: str  # of the file when it was read
    original: np.ndarray  # uint8 values at the file's size
    mask: np.ndarray  # bool at the target size
    binarised: Binarised | None  # None: the values were already 0/255 (or no threshold was given)
    resized: Resized | None  # None: the mask already had the image's size (or no size was given)

    @property
    def values(self) -> tuple[int, ...]:
        counts = mask_value_counts(self.original)
        return tuple(int(v) for v in np.flatnonzero(counts))

    @property
    def changes(self) -> bool:
        """Whether writing the repaired mask changes the file's pixels (an already clean mask needs no write)."""
        return self.resized is not None or (self.binarised is not None and self.binarised.changed_pixels > 0)

    @property
    def changed_pixels(self) -> int:
        """Pixels whose value differs in the written file; every pixel when the size changes."""
        if self.resized is not None:
            return int(self.mask.size)
        return self.binarised.changed_pixels if self.binarised is not None else 0

    @property
    def summary(self) -> str:
        parts = []
        if self.resized is not None:
            parts.append(self.resized.summary)
        if self.binarised is not None and (self.binarised.changed_pixels or self.resized is None):
            parts.append(self.binarised.summary)
        elif self.resized is not None:
            parts.append(f"values {shown_values(self.values)}")
        if not parts:
            parts.append(f"values {shown_values(self.values)}: binary and of the right size, nothing to change")
        before = int(np.count_nonzero(self.original))
        after = int(np.count_nonzero(self.mask))
        if self.changes:
            parts.append(
                f"foreground {before} of {self.original.size} pixels before, {after} of {self.mask.size} after"
            )
        return "; ".join(parts)


def plan_repair(
    path: str | Path, *, image_shape: tuple[int, int] | None = None, threshold: int | None = None
) -> MaskRepair:
    """Read a mask file and repair it in memory (nothing is written): scale it to ``image_shape`` (height, width)
    when it is another size, then binarise it at ``threshold`` when given.

    A mask that holds values other than 0 and 255 and no ``threshold`` raises :class:`MaskError` naming the file:
    binarising is never done without being asked.
    """
    path = Path(path)
    if threshold is not None:
        check_threshold(threshold)
    digest = file_digest(path)
    return repair_values(path, digest, read_mask_values(path), image_shape=image_shape, threshold=threshold)


def repair_values(
    path: Path,
    digest: str,
    original: np.ndarray,
    *,
    image_shape: tuple[int, int] | None = None,
    threshold: int | None = None,
) -> MaskRepair:
    """:func:`plan_repair` of values already read from ``path`` (whose bytes had ``digest``): a preview that tries
    threshold after threshold reads the file once."""
    values = _values_of(original)
    resized = None
    if image_shape is not None and original.shape != tuple(image_shape):
        resized = resize_to_image(original, image_shape)
        values = resized.values
    binarised = binarise(values, threshold) if threshold is not None else None
    if binarised is not None:
        mask = binarised.mask
    else:
        counts = mask_value_counts(values)
        nonbinary = int(values.size - counts[0] - counts[255])
        if nonbinary:
            present = [int(v) for v in np.flatnonzero(counts)]
            raise MaskError(
                f"mask is not binary: {nonbinary} pixels are neither 0 nor 255 (values: {shown_values(present)}); "
                f"choose a threshold to binarise it ({binarise_hint()})",
                path,
            )
        mask = values == 255
    return MaskRepair(Path(path), digest, original, mask, binarised, resized)


def encode_like(path: Path, mask: np.ndarray) -> bytes:
    """A 0/255 mask encoded in the format of ``path``'s suffix (PNG, BMP or TIFF), as the file it replaces."""
    if path.suffix.lower() == ".png":
        return encode_mask_png(mask)
    return encode_image(np.where(mask, 255, 0).astype(np.uint8), path.suffix)


def require_writable(index: DatasetIndex, folders: Iterable[Path]) -> None:
    """Raise :class:`ReadOnlyError` naming the first of ``folders`` (or the dataset's state folder, where the trash
    is) that cannot be written; nothing has been changed when it does."""
    state = trash_root(index)
    probe = state
    while not probe.exists() and probe != index.root and probe.parent != probe:
        probe = probe.parent
    for folder in [probe, *sorted(set(folders))]:
        if not is_writable_dir(folder):
            raise ReadOnlyError(
                "cannot write here (read-only or no permission), so no mask can be repaired; nothing was changed",
                folder,
            )


def apply_repair(index: DatasetIndex, repair: MaskRepair, stamp: str | None = None) -> Path:
    """Write ``repair``'s mask over its file atomically and return where the original was kept in the trash.

    Refused, with nothing changed: a folder that cannot be written (:class:`ReadOnlyError`), a file that changed
    since it was read for the preview (:class:`MaskChangedError`: preview again).
    """
    path = repair.path
    require_writable(index, [path.parent])
    if file_digest(path) != repair.digest:
        raise MaskChangedError(
            "the mask changed on disk since it was read for the preview; nothing was written (preview it again)", path
        )
    data = encode_like(path, repair.mask)
    kept = backup_to_trash(index, path, stamp)
    try:
        atomic_write_bytes(path, data)
    except StudioError:
        kept.unlink(missing_ok=True)  # the original is still in place: no copy of it is needed
        raise
    return kept


# ------------------------------------------------------------------------------------------------ a dataset

WRONG_SIZE, NOT_BINARY = "wrong-size", "not-binary"


@dataclass(frozen=True, slots=True)
class MaskProblem:
    """Why the studio refuses a record's mask: ``kind`` is :data:`WRONG_SIZE` or :data:`NOT_BINARY`."""

    record: ImageRecord
    path: Path
    kind: str
    image_shape: tuple[int, int]  # height, width of the image
    message: str


def diagnose(record: ImageRecord) -> MaskProblem | None:
    """The problem of ``record``'s mask that a repair can fix (wrong size first: it is read from the headers, without
    decoding the mask), or None when it has none or has no mask. Raises the core's error naming the file when the
    image or the mask cannot be read at all (no repair fixes that)."""
    path = record.mask_path
    if path is None:
        return None
    image = probe_image(record.image_path)
    declared = probe_image(path)
    shape = (image.height, image.width)
    if (declared.height, declared.width) != shape:
        return MaskProblem(
            record,
            path,
            WRONG_SIZE,
            shape,
            f"mask is {declared.width}x{declared.height} but its image {record.image_path.name} is "
            f"{image.width}x{image.height}",
        )
    stats = mask_stats(path)
    if stats.nonbinary_pixels:
        return MaskProblem(
            record,
            path,
            NOT_BINARY,
            shape,
            f"mask is not binary: {stats.nonbinary_pixels} pixels are neither 0 nor 255 "
            f"(values: {shown_values(stats.values)})",
        )
    return None


@dataclass(frozen=True, slots=True)
class PlannedRepair:
    """A mask :func:`survey_masks` found repairable, with what the repair does (the dry run's line)."""

    record: ImageRecord
    path: Path
    image_shape: tuple[int, int]  # height, width of the image (the mask is scaled to it when it differs)
    threshold: int | None
    summary: str


@dataclass
class RepairSurvey:
    """What repairing a dataset's masks would do: the repairs, the problems left alone (the repair that fixes them
    was not asked for), the masks that cannot be repaired as asked (unreadable, or not binary and no threshold
    given: each an error message naming the file), and how many masks were fine."""

    planned: list[PlannedRepair] = field(default_factory=list)
    left_alone: list[MaskProblem] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    fine: int = 0


def survey_masks(
    index: DatasetIndex,
    records: Iterable[ImageRecord] | None = None,
    *,
    threshold: int | None = None,
    resize: bool = False,
) -> RepairSurvey:
    """Find the masks of ``records`` (default: every record of ``index``) that binarising at ``threshold`` and/or
    scaling to their image (``resize``) would repair, and preview each repair. Nothing is written."""
    if threshold is None and not resize:
        raise ValueError("nothing to repair: give a binarisation threshold, resize, or both")
    if threshold is not None:
        check_threshold(threshold)
    survey = RepairSurvey()
    for record in index.records if records is None else records:
        if record.mask_path is None:
            continue
        try:
            problem = diagnose(record)
            if problem is None:
                survey.fine += 1
                continue
            if (problem.kind == WRONG_SIZE and not resize) or (problem.kind == NOT_BINARY and threshold is None):
                survey.left_alone.append(problem)
                continue
            repair = plan_repair(problem.path, image_shape=problem.image_shape, threshold=threshold)
        except StudioError as exc:
            survey.refused.append(str(exc))
            continue
        if repair.changes:
            survey.planned.append(PlannedRepair(record, problem.path, problem.image_shape, threshold, repair.summary))
        else:
            survey.fine += 1
    return survey


@dataclass(frozen=True, slots=True)
class AppliedRepair:
    """One mask repaired on disk: what was done and where the original is kept."""

    path: Path
    kept: Path
    summary: str


def apply_survey(index: DatasetIndex, survey: RepairSurvey, stamp: str | None = None) -> list[AppliedRepair]:
    """Repair every mask ``survey`` planned, each read again (a file that changed since is repaired as it is now),
    with the originals in one trash folder. Every folder is checked for writing first (see :func:`require_writable`).
    """
    require_writable(index, [planned.path.parent for planned in survey.planned])
    stamp = stamp or new_trash_stamp()
    done = []
    for planned in survey.planned:
        repair = plan_repair(planned.path, image_shape=planned.image_shape, threshold=planned.threshold)
        if not repair.changes:
            continue
        done.append(AppliedRepair(planned.path, apply_repair(index, repair, stamp), repair.summary))
    return done
