"""Import COCO instance annotations (RLE or polygons, any ``iscrowd``) as masks of a dataset.

Import runs in two steps. :func:`plan_coco_import` reads and checks the whole file and returns an
:class:`~goodsad_studio.dataset.import_common.ImportReport` listing the masks it would write; it changes
nothing on disk and raises :class:`AnnotationFileError` naming the file for input it must reject (invalid JSON,
not COCO, no image of the file in the dataset, an image whose width/height in the JSON differ from the file).
:func:`apply_plan` then writes the masks (``imageio.write_mask``, atomic) into ``ground_truth/<defect>/`` in the
dataset's naming, keeping a copy of any mask it replaces in the dataset's trash.

Matching: an image entry's ``file_name`` is looked up as a path relative to the dataset root; failing that, by its
trailing path parts when they name exactly one image (``test/scratch/000.png``, or a basename unique in the dataset).
All annotations of one image are united into its mask. Polygons are rasterised with
:func:`goodsad_studio.geometry.rasterize` (a pixel is inside when its centre is); polygons reaching
outside the image are clipped, self-intersecting ones repaired with ``shapely.make_valid``, and both are reported.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils
from shapely.geometry import Polygon

from goodsad_studio.dataset.imageio import probe_image
from goodsad_studio.dataset.import_common import (
    ImageMatcher,
    ImportReport,
    Part,
    PlannedMask,
    apply_plan,
    check_size,
    clean_geometry,
    decode_rle,
    is_count,
    is_number,
    load_json,
    plan_target,
    preview_plan,
    rle_string_counts,
    unmatched_error,
)
from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.errors import AnnotationFileError

__all__ = ["AnnotationFileError", "ImportReport", "import_coco", "plan_coco_import", "apply_plan"]


def _scalar(value: Any) -> Any:
    """``value`` when it can name something (a number or text), else None: a list or an object names nothing."""
    return value if isinstance(value, (int, float, str)) else None


def _require_list(data: dict[str, Any], key: str, path: Path) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise AnnotationFileError(f"not a COCO instances file: no '{key}' list", path)
    return value


def _image_entries(images: list[Any], path: Path) -> dict[Any, dict[str, Any]]:
    entries: dict[Any, dict[str, Any]] = {}
    for position, image in enumerate(images):
        if (
            not isinstance(image, dict)
            or not isinstance(image.get("id"), (int, str))
            or not isinstance(image.get("file_name"), str)
        ):
            raise AnnotationFileError(f"images[{position}] has no 'id' (number) or no 'file_name' (text)", path)
        entries[image["id"]] = image
    return entries


def _rle_part(segmentation: dict[str, Any], label: str, shape: tuple[int, int], image: Path, path: Path) -> Part:
    height, width = shape
    size = segmentation.get("size")
    counts = segmentation.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(is_count(v) for v in size)) or not isinstance(
        counts, (str, list)
    ):
        raise AnnotationFileError(f"{label}: an RLE segmentation needs 'size' [h, w] and 'counts'", path)
    if size != [height, width]:
        raise AnnotationFileError(
            f"{label}: RLE size {size[1]}x{size[0]} differs from {image} ({width}x{height}, width x height)", path
        )
    runs = rle_string_counts(counts) if isinstance(counts, str) else counts
    if runs is None or not all(is_count(run) for run in runs):
        raise AnnotationFileError(f"{label}: corrupt RLE counts (not whole numbers >= 0)", path)
    if sum(runs) != height * width:
        raise AnnotationFileError(
            f"{label}: the RLE counts cover {sum(runs)} pixels but the image has {height * width} "
            f"({width}x{height}); refused rather than decoded",
            path,
        )
    try:
        rle = (
            mask_utils.frPyObjects(segmentation, height, width)
            if isinstance(counts, list)
            else {"size": [height, width], "counts": counts.encode("ascii")}
        )
        decoded = decode_rle(rle)
    except Exception as exc:  # noqa: BLE001 - pycocotools raises bare Exceptions/ValueErrors on corrupt counts
        raise AnnotationFileError(f"{label}: corrupt RLE counts ({exc})", path) from None
    if decoded.shape != (height, width):
        raise AnnotationFileError(
            f"{label}: RLE decodes to {decoded.shape[1]}x{decoded.shape[0]}, not {width}x{height}", path
        )
    return Part(label, rle=rle)


def _polygon_part(
    rings: list[Any], label: str, shape: tuple[int, int], report: ImportReport, path: Path
) -> Part | None:
    polygons = []
    for number, ring in enumerate(rings):
        if not isinstance(ring, list) or len(ring) % 2 or not all(is_number(v) for v in ring):
            raise AnnotationFileError(
                f"{label}: polygon {number} is not a flat list of x, y numbers (finite, not true/false)", path
            )
        if len(ring) < 6:
            report.notes.append(f"{path}: {label}: polygon {number} has fewer than 3 points, ignored")
            continue
        polygons.append(Polygon(np.asarray(ring, float).reshape(-1, 2)))
    geometry = clean_geometry(polygons, shape, label, report, path)
    return None if geometry is None else Part(label, geometry=geometry)


def _annotation_part(
    annotation: dict[str, Any], shape: tuple[int, int], image: Path, report: ImportReport, path: Path
) -> Part | None:
    label = f"annotation {_scalar(annotation.get('id', '?'))}"
    bbox = annotation.get("bbox")
    if bbox is not None and not (isinstance(bbox, list) and len(bbox) == 4 and all(map(is_number, bbox))):
        raise AnnotationFileError(
            f"{label}: 'bbox' is not [x, y, width, height] numbers (finite, not true/false)", path
        )
    segmentation = annotation.get("segmentation")
    if isinstance(segmentation, dict):
        return _rle_part(segmentation, label, shape, image, path)
    if isinstance(segmentation, list):
        return _polygon_part(segmentation, label, shape, report, path)
    if segmentation is None:
        report.notes.append(f"{path}: {label} has no segmentation (a box only?), ignored")
        return None
    raise AnnotationFileError(f"{label}: segmentation is neither RLE nor a list of polygons", path)


def plan_coco_import(index: DatasetIndex, json_path: str | Path) -> ImportReport:
    """Read and check a COCO file against ``index``; returns the masks an import would write (nothing written)."""
    path = Path(json_path)
    data = load_json(path)
    if not isinstance(data, dict):
        raise AnnotationFileError("not a COCO instances file: the top level is not an object", path)
    images = _image_entries(_require_list(data, "images", path), path)
    annotations = _require_list(data, "annotations", path)
    categories = data.get("categories")
    category_names = {
        _scalar(c.get("id")): c.get("name")
        for c in (categories if isinstance(categories, list) else [])
        if isinstance(c, dict) and isinstance(c.get("name"), str)
    }
    report = ImportReport(path)
    matcher = ImageMatcher(index)
    matched: dict[Any, ImageRecord] = {}
    unmatched: list[str] = []
    for image_id, image in images.items():
        record, why = matcher.match(image["file_name"])
        if record is None:
            unmatched.append(image["file_name"])
            report.skipped.append(f"{path}: image {image['file_name']!r}: {why}, skipped")
        else:
            matched[image_id] = record
    if not matched:
        raise unmatched_error(path, unmatched, index)
    shapes: dict[Any, tuple[int, int]] = {}
    for image_id, record in matched.items():
        image = images[image_id]
        info = probe_image(record.image_path)
        check_size(image.get("width"), image.get("height"), info, record.image_path, path)
        shapes[image_id] = (info.height, info.width)
    by_image: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for position, annotation in enumerate(annotations):
        if not isinstance(annotation, dict) or not isinstance(annotation.get("image_id"), (int, str)):
            raise AnnotationFileError(f"annotations[{position}] is not an object with an 'image_id'", path)
        if annotation["image_id"] not in images:
            report.skipped.append(
                f"{path}: annotation {annotation.get('id', position)} refers to image id "
                f"{annotation['image_id']!r}, which the file does not list; skipped"
            )
        elif annotation["image_id"] in matched:
            by_image[annotation["image_id"]].append(annotation)
    planned: dict[str, PlannedMask] = {}
    for image_id, items in by_image.items():
        record = matched[image_id]
        target = plan_target(index, record, report, path)
        if target is None:
            continue
        parts = [
            part
            for annotation in items
            if (part := _annotation_part(annotation, shapes[image_id], record.image_path, report, path))
        ]
        names = {category_names.get(_scalar(annotation.get("category_id"))) for annotation in items} - {None}
        if names and names != {record.defect}:
            report.notes.append(
                f"{path}: {record.image_path}: categories {', '.join(sorted(map(str, names)))} "
                f"differ from the image's folder ({record.defect}); the mask goes with the folder"
            )
        if not parts:
            continue
        if record.key in planned:
            report.notes.append(
                f"{path}: {record.image_path} is listed under several image ids; their annotations are united"
            )
            planned[record.key].parts.extend(parts)
        else:
            planned[record.key] = PlannedMask(record, target, shapes[image_id], parts)
    report.planned.extend(planned.values())
    return report


def import_coco(
    index: DatasetIndex, json_path: str | Path, *, dry_run: bool = False, merge_existing: bool = False
) -> ImportReport:
    """Import the masks of a COCO file into the dataset of ``index`` (or only plan them with ``dry_run``).

    ``merge_existing`` unites each imported mask with the mask already on disk instead of replacing it.
    """
    report = plan_coco_import(index, json_path)
    if dry_run:
        return preview_plan(report, merge_existing=merge_existing)
    apply_plan(index, report, merge_existing=merge_existing)
    return report
