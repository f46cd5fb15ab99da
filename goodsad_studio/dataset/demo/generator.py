"""Write the demo dataset to disk in MVTec-AD layout with GoodsAD names.

Layout written for each category::

    <dest>/<category>/train/good/<goods><serial>.jpg
    <dest>/<category>/test/good/<goods><serial>.jpg
    <dest>/<category>/test/<defect>/<goods><serial>.jpg
    <dest>/<category>/ground_truth/<defect>/<goods><serial>_mask.png
    <dest>/DEMO.json

Names have six digits, as in GoodsAD: the goods id (001, 002, ...) and a serial unique within the goods (train
photos first, then test good, then defective). ``DEMO.json`` records the settings; it is written first (marked
incomplete) and rewritten when the last image is saved, so an interrupted run is finished by running it again.
"""

from __future__ import annotations

import json
import numbers
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from goodsad_studio import strict_json
from goodsad_studio.dataset.demo.categories import CATEGORIES
from goodsad_studio.dataset.demo.render import render_sample
from goodsad_studio.dataset.imageio import write_image, write_mask
from goodsad_studio.dataset.names import GOOD, GROUND_TRUTH, MASK_STEM_SUFFIX
from goodsad_studio.errors import DatasetError, StudioError
from goodsad_studio.fsutil import atomic_write_text

DEMO_CATEGORIES: tuple[str, ...] = tuple(CATEGORIES)
"""The categories the demo can make, named and ordered as in GoodsAD."""

DEMO_DEFECTS: dict[str, tuple[str, ...]] = {name: spec.defects for name, spec in CATEGORIES.items()}
"""The defect types each category gets: only those that make physical sense for its goods."""

SMALL_DEFECTS = ("surface_damage", "surface_anomaly", "deformation")
"""The defect types that can be drawn small (0.05-0.5 % of the photo); caps and openings cannot."""
DEFECT_SIZES = ("any", "small")

DEMO_VERSION = 1
"""Bumped whenever the drawing changes, so that an old demo set is not mistaken for the current one."""

MARKER = "DEMO.json"
GENERATOR = "goodsad-studio demo"
MAX_SIZE = 8192


@dataclass(frozen=True)
class PlannedImage:
    """One image of the demo set and where it goes."""

    category: str
    goods: int
    serial: int
    split: str
    defect: str

    @property
    def stem(self) -> str:
        return f"{self.goods:03d}{self.serial:03d}"

    def image_path(self, dest: Path) -> Path:
        return dest / self.category / self.split / self.defect / f"{self.stem}.jpg"

    def mask_path(self, dest: Path) -> Path:
        return dest / self.category / GROUND_TRUTH / self.defect / f"{self.stem}{MASK_STEM_SUFFIX}.png"


def plan_demo(
    categories: Sequence[str],
    goods_per_category: int,
    train_per_goods: int,
    test_good_per_goods: int,
    defective_per_goods: int,
    defect_size: str = "any",
) -> list[PlannedImage]:
    """Every image of the set in writing order. Defect types rotate over goods so each type appears (with
    ``defect_size="small"``, only the types that can be drawn small)."""
    plan = []
    for category in categories:
        defects = DEMO_DEFECTS[category]
        if defect_size == "small":
            defects = tuple(name for name in defects if name in SMALL_DEFECTS)
        for index in range(goods_per_category):
            goods = index + 1
            serial = 0
            for _ in range(train_per_goods):
                plan.append(PlannedImage(category, goods, serial, "train", GOOD))
                serial += 1
            for _ in range(test_good_per_goods):
                plan.append(PlannedImage(category, goods, serial, "test", GOOD))
                serial += 1
            for j in range(defective_per_goods):
                defect = defects[(index * defective_per_goods + j) % len(defects)]
                plan.append(PlannedImage(category, goods, serial, "test", defect))
                serial += 1
    return plan


def _settings(
    seed: int, size: int, categories: Sequence[str], counts: dict[str, int], defect_size: str
) -> dict[str, object]:
    settings: dict[str, object] = {
        "generator": GENERATOR,
        "version": DEMO_VERSION,
        "seed": seed,
        "size": size,
        "categories": list(categories),
        **counts,
    }
    if defect_size != "any":  # recorded only when asked for, so earlier demo sets keep their settings
        settings["defects"] = defect_size
    return settings


def _whole(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_arguments(dest: Path, size: int, seed: int, categories: Sequence[str], counts: dict[str, int]) -> None:
    if not _whole(size) or not 64 <= size <= MAX_SIZE:
        raise DatasetError(
            f"demo image size must be a whole number of pixels from 64 to {MAX_SIZE}, got {size!r}", dest
        )
    if not _whole(seed) or seed < 0:
        raise DatasetError(f"demo seed must be a whole number >= 0, got {seed!r}", dest)
    unknown = [name for name in categories if name not in CATEGORIES]
    if unknown:
        raise DatasetError(
            f"unknown demo categories {', '.join(map(repr, unknown))} (known: {', '.join(DEMO_CATEGORIES)})", dest
        )
    if not categories or len(set(categories)) != len(categories):
        raise DatasetError("give at least one demo category, each once", dest)
    for name, value in counts.items():
        if not _whole(value) or value < 0:
            raise DatasetError(f"{name} must be a whole number >= 0, got {value!r}", dest)
    if not 1 <= counts["goods_per_category"] <= 899:
        raise DatasetError("goods_per_category must be from 1 to 899 (goods ids have three digits)", dest)
    per_goods = counts["train_per_goods"] + counts["test_good_per_goods"] + counts["defective_per_goods"]
    if per_goods > 1000:
        raise DatasetError(f"{per_goods} images per goods do not fit the three-digit serial of GoodsAD names", dest)


def _read_marker(dest: Path) -> dict[str, object]:
    marker = dest / MARKER
    try:
        recorded = strict_json.loads(marker.read_text(encoding="utf-8"), finite=False)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DatasetError(
            f"cannot read this demo marker ({exc}); delete the folder or choose another one", marker
        ) from None
    if not isinstance(recorded, dict) or recorded.get("generator") != GENERATOR:
        raise DatasetError("this DEMO.json was not written by the goodsad-studio demo generator", marker)
    return recorded


def _existing_demo(dest: Path, settings: dict[str, object]) -> bool:
    """True when ``dest`` already holds this exact, complete demo set; raises when it holds anything else."""
    if not dest.exists():
        return False
    if not dest.is_dir():
        raise DatasetError("is not a folder: the demo dataset needs a folder to write into", dest)
    try:
        entries = [entry.name for entry in dest.iterdir() if not entry.name.startswith(".")]
    except OSError as exc:
        raise DatasetError(f"cannot list this folder: {exc.strerror}", dest) from None
    if not entries:
        return False
    if MARKER not in entries:
        raise DatasetError(
            "folder is not empty and holds no demo dataset; the demo is only written into an empty "
            "or new folder (or over an earlier demo set), so nothing here was touched",
            dest,
        )
    recorded = _read_marker(dest)
    complete = recorded.pop("complete", False)
    if recorded != settings:
        differences = [
            f"{key}: {recorded.get(key)!r} there, {settings.get(key)!r} asked"
            for key in sorted(set(recorded) | set(settings))
            if recorded.get(key) != settings.get(key)
        ]
        raise DatasetError(
            "already holds a demo dataset made with other settings ("
            + "; ".join(differences)
            + "); choose another folder or delete this one first",
            dest,
        )
    return bool(complete)


def generate_demo(
    dest: str | Path,
    *,
    size: int = 512,
    seed: int = 0,
    categories: Sequence[str] | None = None,
    goods_per_category: int = 4,
    train_per_goods: int = 5,
    test_good_per_goods: int = 2,
    defective_per_goods: int = 3,
    defect_size: str = "any",
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write a small synthetic GoodsAD-shaped dataset to ``dest`` and return ``dest``.

    The same arguments give byte-identical files. ``dest`` must be new, empty, or a demo set made earlier: with the
    same settings the call does nothing (or finishes an interrupted run), with other settings it raises
    :class:`DatasetError` saying which differ; any other non-empty folder is refused untouched.
    ``progress(done, total)`` is called before the first image and after each one (once, with ``(total, total)``,
    when there is nothing to do); an exception raised from it stops the run (run again with the same arguments to
    finish). ``defect_size="small"`` draws only defects covering 0.05-0.5 % of the photo (of the types that can be
    that small), as the demo draws them otherwise, at random places.
    """
    dest = Path(dest)
    if isinstance(categories, str):  # one name, not its letters
        categories = [categories]
    categories = list(DEMO_CATEGORIES if categories is None else categories)
    counts = {
        "goods_per_category": goods_per_category,
        "train_per_goods": train_per_goods,
        "test_good_per_goods": test_good_per_goods,
        "defective_per_goods": defective_per_goods,
    }
    _check_arguments(dest, size, seed, categories, counts)
    if defect_size not in DEFECT_SIZES:
        raise DatasetError(f"defect size must be one of {', '.join(DEFECT_SIZES)}, got {defect_size!r}", dest)
    size, seed = int(size), int(seed)
    counts = {name: int(value) for name, value in counts.items()}
    settings = _settings(seed, size, categories, counts, defect_size)
    plan = plan_demo(
        categories, goods_per_category, train_per_goods, test_good_per_goods, defective_per_goods, defect_size
    )
    if _existing_demo(dest, settings):
        if progress is not None:
            progress(len(plan), len(plan))
        return dest
    created = not dest.exists()
    try:
        dest.mkdir(parents=True, exist_ok=True)
        atomic_write_text(dest / MARKER, json.dumps({**settings, "complete": False}, indent=2) + "\n")
        if progress is not None:
            progress(0, len(plan))
        for done, item in enumerate(plan, start=1):
            defect = None if item.defect == GOOD else item.defect
            sample = render_sample(
                item.category, item.goods, item.serial, defect, size=size, seed=seed, small=defect_size == "small"
            )
            write_image(item.image_path(dest), sample.image)
            if sample.mask is not None:
                write_mask(item.mask_path(dest), sample.mask)
            if progress is not None:
                progress(done, len(plan))
        atomic_write_text(dest / MARKER, json.dumps({**settings, "complete": True}, indent=2) + "\n")
    except (StudioError, OSError):
        if created:  # a folder this call made (a full disk half way): gone again, as it was
            shutil.rmtree(dest, ignore_errors=True)
        raise
    return dest
