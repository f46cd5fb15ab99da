"""Export a selection of a dataset as COCO instance annotations (one JSON file).

* ``images``: every selected image, ``file_name`` relative to the dataset root (POSIX separators), ``width``,
  ``height``, and extra keys ``goods_category`` (the product category, e.g. drink_can), ``goods_id``, ``split`` and
  ``defect``. Good images appear here with no annotations.
* ``categories``: the defect types of the selected categories (``good`` excluded), ids from 1 in name order.
* ``annotations``: one per connected region of a mask, regions found with **8-connectivity** (pixels touching at a
  corner belong to one region, as a person drawing the defect would see it). ``segmentation`` is COCO RLE made by
  pycocotools (``mask.encode`` of the Fortran-ordered uint8 region), which is exact; ``area`` and ``bbox`` come
  from pycocotools too; ``iscrowd`` is 0 (these are real instances, which evaluation must not ignore).
* With ``polygons=True`` each annotation also gets ``polygons`` (COCO-style flat ``[x1, y1, x2, y2, ...]`` outer
  rings from :func:`goodsad_studio.geometry.trace`, in image coordinates where the image spans
  ``[0, W] x [0, H]``) and ``polygon_has_holes``. COCO polygons cannot hold holes, so a region with a hole is only
  approximated by its polygons; the RLE stays the exact segmentation. ``info.notes`` says so in the file.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import shapely
from pycocotools import mask as mask_utils

from goodsad_studio import __version__
from goodsad_studio.dataset.imageio import probe_image, read_mask
from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.dataset.names import GOOD
from goodsad_studio.dataset.selection import ALL, Selection
from goodsad_studio.errors import DatasetError
from goodsad_studio.fsutil import atomic_write_text
from goodsad_studio.geometry import trace
from goodsad_studio.progress import NO_MONITOR, Monitor, Stage

CONNECTIVITY = 8
POLYGON_NOTE = (
    "'polygons' are outer rings only (COCO polygons cannot hold holes); 'segmentation' (RLE) is "
    "exact. Polygon coordinates: the image spans [0, width] x [0, height]; a pixel belongs to a "
    "polygon when its centre does."
)


@dataclass
class CocoExportResult:
    path: Path | None
    coco: dict[str, Any]
    cancelled: bool = False

    @property
    def image_count(self) -> int:
        return len(self.coco["images"])

    @property
    def annotation_count(self) -> int:
        return len(self.coco["annotations"])


def relative_name(index: DatasetIndex, record: ImageRecord) -> str:
    """The image's path relative to the dataset root, with ``/`` separators (COCO ``file_name``)."""
    try:
        return record.image_path.relative_to(index.root).as_posix()
    except ValueError:
        return record.image_path.resolve().relative_to(index.root.resolve()).as_posix()


@dataclass(frozen=True, slots=True)
class Region:
    """One connected region of a mask: its pixels cropped to its bounding box, and where the box starts."""

    crop: np.ndarray
    x: int
    y: int

    def full(self, shape: tuple[int, int]) -> np.ndarray:
        out = np.zeros(shape, bool)
        out[self.y : self.y + self.crop.shape[0], self.x : self.x + self.crop.shape[1]] = self.crop
        return out


def mask_regions(mask: np.ndarray) -> list[Region]:
    """The connected regions (8-connectivity) of a bool mask, in label order (top-left first)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=CONNECTIVITY)
    regions = []
    for label in range(1, count):
        x, y, w, h = (int(v) for v in stats[label, :4])
        regions.append(Region(labels[y : y + h, x : x + w] == label, x, y))
    return regions


def encode_region(region: Region, shape: tuple[int, int]) -> dict[str, Any]:
    """COCO RLE (``counts`` as a str, JSON-ready) of one region of an image of ``shape`` (height, width).

    Same bytes as ``mask.encode`` of the Fortran-ordered full-size uint8 mask, but the runs are counted over the
    columns the region spans only (the columns left and right of it are one run of zeros each), so a small defect
    on a 3000 px photo costs a fraction of encoding the whole image.
    """
    height, width = shape
    band = np.zeros((height, region.crop.shape[1]), bool)
    band[region.y : region.y + region.crop.shape[0]] = region.crop
    flat = band.T.ravel()  # column-major, as COCO counts
    edges = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate(([0], edges, [flat.size]))).tolist()
    if flat[0]:
        runs.insert(0, 0)  # counts always start with a run of zeros
    runs[0] += region.x * height
    after = (width - region.x - region.crop.shape[1]) * height
    if after:
        if flat[-1]:
            runs.append(after)
        else:
            runs[-1] += after
    rle: dict[str, Any] = mask_utils.frPyObjects({"size": [height, width], "counts": runs}, height, width)
    rle["counts"] = rle["counts"].decode("ascii")
    return rle


def region_polygons(region: Region) -> tuple[list[list[float]], bool]:
    """COCO polygons (outer rings, flat lists, last point not repeated) of a region, and whether it has holes."""
    traced = trace(region.crop)
    rings: list[list[float]] = []
    has_holes = False
    for polygon in shapely.get_parts(traced):
        if polygon.is_empty:
            continue
        coords = np.asarray(polygon.exterior.coords)[:-1] + (region.x, region.y)
        rings.append([float(v) for v in coords.ravel()])
        has_holes = has_holes or len(polygon.interiors) > 0
    return rings, has_holes


def _categories(index: DatasetIndex, selection: Selection, records: list[ImageRecord]) -> dict[str, int]:
    categories = {record.category for record in records}
    names = {defect for category in categories for defect in index.defects(category) if defect != GOOD}
    if selection.defects is not None:
        names &= selection.defects
    return {name: number for number, name in enumerate(sorted(names), start=1)}


def build_coco(
    index: DatasetIndex,
    selection: Selection = ALL,
    *,
    polygons: bool = False,
    monitor: Monitor = NO_MONITOR,
) -> tuple[dict[str, Any], bool]:
    """The COCO dict of ``selection`` and whether it was cancelled (then it holds the images done so far).

    Masks are read with their image's size checked; a mask that is not binary or not the image's size raises
    :class:`MaskError` naming it.
    """
    records = selection.apply(index)
    category_ids = _categories(index, selection, records)
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    cancelled = False
    monitor.stage(Stage.EXPORT, len(records), "COCO export")
    for number, record in enumerate(records, start=1):
        if monitor.cancelled:
            cancelled = True
            break
        info = probe_image(record.image_path)
        images.append(
            {
                "id": number,
                "file_name": relative_name(index, record),
                "width": info.width,
                "height": info.height,
                "goods_category": record.category,
                "goods_id": record.goods_id,
                "split": record.split,
                "defect": record.defect,
            }
        )
        if record.mask_path is not None and record.defect != GOOD:
            mask = read_mask(record.mask_path, shape=(info.height, info.width))
            for region in mask_regions(mask):
                annotations.append(
                    _annotation(len(annotations) + 1, number, category_ids[record.defect], region, mask.shape, polygons)
                )
        monitor.advance(number)
    coco = {
        "info": {
            "description": f"GoodsAD-studio export of {index.root.resolve()}",
            "version": __version__,
            "date_created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "source_root": str(index.root.resolve()),
            "selection": selection.to_json(),
            "connectivity": CONNECTIVITY,
            "complete": not cancelled,
            "notes": [POLYGON_NOTE] if polygons else [],
        },
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [
            {"id": number, "name": name, "supercategory": "defect"} for name, number in category_ids.items()
        ],
    }
    return coco, cancelled


def _annotation(
    number: int, image_id: int, category_id: int, region: Region, shape: tuple[int, int], polygons: bool
) -> dict[str, Any]:
    rle = encode_region(region, shape)
    x, y, w, h = (float(v) for v in mask_utils.toBbox(rle))
    annotation: dict[str, Any] = {
        "id": number,
        "image_id": image_id,
        "category_id": category_id,
        "segmentation": rle,
        "area": int(mask_utils.area(rle)),
        "bbox": [x, y, w, h],
        "iscrowd": 0,
    }
    if polygons:
        rings, has_holes = region_polygons(region)
        annotation["polygons"] = rings
        annotation["polygon_has_holes"] = has_holes
    return annotation


_LAYOUT_FOLDERS = ("train", "test", "ground_truth")


def _refuse_dataset_file(index: DatasetIndex, dest: Path) -> None:
    """Refuse writing the export over an image or mask of the dataset, or into its image and mask folders
    (where it would be a stray file of the layout), ``--overwrite`` or not."""
    target = dest.resolve()
    dataset_files = {record.image_path.resolve() for record in index.records}
    dataset_files |= {record.mask_path.resolve() for record in index.records if record.mask_path is not None}
    dataset_files |= {orphan.path.resolve() for orphan in index.orphan_masks}
    if target in dataset_files:
        raise DatasetError("the COCO export destination is a file of the dataset: choose another name", dest)
    for folder in index.category_dirs.values():
        for name in _LAYOUT_FOLDERS:
            layout = (folder / name).resolve()
            if layout in target.parents:
                raise DatasetError(
                    f"the COCO export destination is inside the dataset's {name}/ folder ({layout}): choose a "
                    "place outside the image and mask folders",
                    dest,
                )


def export_coco(
    index: DatasetIndex,
    dest: str | Path,
    selection: Selection = ALL,
    *,
    polygons: bool = False,
    overwrite: bool = False,
    monitor: Monitor = NO_MONITOR,
) -> CocoExportResult:
    """Write the COCO JSON of ``selection`` to ``dest`` atomically; refuses an existing file unless ``overwrite``.

    A cancelled export writes nothing and returns ``cancelled=True``.
    """
    dest = Path(dest)
    if dest.is_dir():
        raise DatasetError("the COCO export destination is a folder: give a .json file name", dest)
    _refuse_dataset_file(index, dest)
    if dest.exists() and not overwrite:
        raise DatasetError("the COCO export file already exists (choose another name, or overwrite)", dest)
    coco, cancelled = build_coco(index, selection, polygons=polygons, monitor=monitor)
    if cancelled:
        return CocoExportResult(None, coco, cancelled=True)
    atomic_write_text(dest, json.dumps(coco, separators=(",", ":")) + "\n")
    return CocoExportResult(dest, coco)
