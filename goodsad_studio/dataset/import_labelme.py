"""Import labelme JSON annotations (one file per image) as masks of a dataset.

Shapes taken: ``polygon`` (3 points or more; also shapes with no ``shape_type``, as old labelme wrote them),
``rectangle`` (two opposite corners, in any order), and ``circle`` (centre, then a point on the rim; drawn as a
polygon of 512 sides, which is within 0.02 px of the circle up to a radius of 1000 px). Shapes without an area
(``line``, ``linestrip``, ``point``, ``points``) and labelme's bitmap ``mask`` shapes are skipped and reported.

Coordinates are read as labelme's canvas draws them: continuous image coordinates where the image spans
``[0, W] x [0, H]``; a pixel belongs to a shape when its centre does
(:func:`goodsad_studio.geometry.rasterize`). labelme's own PIL-based export can differ from this by a
pixel along the border of a shape.

The image of a file is found from its ``imagePath`` (relative to the JSON file, as labelme writes it), else by
that name inside the dataset (see :class:`~goodsad_studio.dataset.import_common.ImageMatcher`), else as the image
beside the JSON file with the same stem. ``imageData`` is never decoded. All shapes of an image (from one or more
files) are united into its mask. Planning and writing work as for COCO (see :mod:`.import_coco`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import Point, Polygon, box

from goodsad_studio.dataset.imageio import probe_image
from goodsad_studio.dataset.import_common import (
    ImageMatcher,
    ImportReport,
    Part,
    PlannedMask,
    apply_plan,
    check_size,
    clean_geometry,
    is_number,
    load_json,
    plan_target,
    preview_plan,
    unmatched_error,
)
from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.dataset.names import IMAGE_SUFFIXES
from goodsad_studio.errors import AnnotationFileError

CIRCLE_QUAD_SEGMENTS = 128
NO_AREA_TYPES = frozenset({"line", "linestrip", "point", "points"})


def labelme_files(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """The JSON files named by ``paths``: files as given, folders searched recursively for ``*.json``."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(path.rglob("*.json"))
            if not found:
                raise AnnotationFileError("no labelme .json file in this folder", path)
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise AnnotationFileError("file not found", path)
    return files


def _points(shape: dict[str, Any], label: str, path: Path) -> np.ndarray:
    points = shape.get("points")
    if not (
        isinstance(points, list)
        and all(isinstance(point, list) and len(point) == 2 and all(map(is_number, point)) for point in points)
    ):
        raise AnnotationFileError(
            f"{label}: 'points' is not a list of [x, y] number pairs (finite numbers, not true/false)", path
        )
    return np.asarray(points, dtype=float).reshape(-1, 2)


def _shape_polygon(shape: dict[str, Any], label: str, report: ImportReport, path: Path) -> Polygon | None:
    """The polygon a labelme shape stands for, or None (reported) for shapes that are skipped."""
    kind = shape.get("shape_type") or "polygon"
    if not isinstance(kind, str):
        raise AnnotationFileError(f"{label}: 'shape_type' is not text ({type(kind).__name__})", path)
    if kind in NO_AREA_TYPES:
        report.notes.append(f"{path}: {label} is a {kind}, which has no area; skipped")
        return None
    if kind == "mask":
        report.notes.append(f"{path}: {label} is a bitmap 'mask' shape, which this importer does not read; skipped")
        return None
    points = _points(shape, label, path)
    if kind == "rectangle":
        if len(points) == 2:
            (x0, y0), (x1, y1) = points
            return box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        kind = "polygon"  # some writers store all four corners
    if kind == "circle":
        if len(points) != 2:
            raise AnnotationFileError(f"{label}: a circle needs 2 points (centre, rim), got {len(points)}", path)
        radius = float(np.hypot(*(points[1] - points[0])))
        return Point(points[0]).buffer(radius, quad_segs=CIRCLE_QUAD_SEGMENTS)
    if kind != "polygon":
        report.notes.append(f"{path}: {label} has shape type {kind!r}, which this importer does not read; skipped")
        return None
    if len(points) < 3:
        report.notes.append(f"{path}: {label} is a polygon with fewer than 3 points; skipped")
        return None
    return Polygon(points)


def _find_image(data: dict[str, Any], path: Path, matcher: ImageMatcher) -> tuple[ImageRecord | None, str]:
    image_path = data.get("imagePath")
    if isinstance(image_path, str) and image_path:
        record = matcher.by_path(path.parent / image_path.replace("\\", "/"))
        if record is not None:
            return record, ""
        record, why = matcher.match(image_path)
        if record is not None:
            return record, ""
    else:
        why = "no 'imagePath'"
    for suffix in sorted(IMAGE_SUFFIXES):
        record = matcher.by_path(path.with_suffix(suffix))
        if record is not None:
            return record, ""
    return None, f"image {image_path!r} not found ({why})"


def plan_labelme_import(
    index: DatasetIndex, paths: str | Path | Iterable[str | Path], *, labels: Iterable[str] | None = None
) -> ImportReport:
    """Read and check labelme files against ``index``; returns the masks an import would write (nothing written).

    ``labels`` keeps only shapes with those labels (``None``: all shapes).
    """
    files = labelme_files(paths)
    wanted = None if labels is None else set(labels)
    report = ImportReport(files[0] if len(files) == 1 else files[0].parent)
    matcher = ImageMatcher(index)
    planned: dict[str, PlannedMask] = {}
    unmatched: list[str] = []
    for path in files:
        data = load_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
            raise AnnotationFileError("not a labelme file: no 'shapes' list", path)
        record, why = _find_image(data, path, matcher)
        if record is None:
            unmatched.append(str(data.get("imagePath", path.name)))
            report.skipped.append(f"{path}: {why}; skipped")
            continue
        info = probe_image(record.image_path)
        check_size(data.get("imageWidth"), data.get("imageHeight"), info, record.image_path, path)
        shape_hw = (info.height, info.width)
        polygons, names = [], set()
        for number, shape in enumerate(data["shapes"]):
            if not isinstance(shape, dict):
                raise AnnotationFileError(f"shapes[{number}] is not an object", path)
            name = shape.get("label")
            if name is not None and not isinstance(name, str):
                raise AnnotationFileError(f"shapes[{number}]: 'label' is not text ({type(name).__name__})", path)
            if wanted is not None and name not in wanted:
                continue
            polygon = _shape_polygon(shape, f"shape {number} ({name!r})", report, path)
            if polygon is not None:
                polygons.append(polygon)
                names.add(name)
        geometry = clean_geometry(polygons, shape_hw, "shapes", report, path)
        if geometry is None:
            report.notes.append(f"{path}: no shape with an area for {record.image_path}; nothing to import")
            continue
        if names - {record.defect}:
            report.notes.append(
                f"{path}: labels {', '.join(sorted(map(str, names)))} differ from the image's "
                f"folder ({record.defect}); the mask goes with the folder"
            )
        _add(planned, index, record, shape_hw, Part(str(path), geometry=geometry), report, path)
    if len(unmatched) == len(files):
        raise unmatched_error(files[0] if len(files) == 1 else files[0].parent, unmatched, index)
    report.planned.extend(planned.values())
    return report


def _add(
    planned: dict[str, PlannedMask],
    index: DatasetIndex,
    record: ImageRecord,
    shape: tuple[int, int],
    part: Part,
    report: ImportReport,
    path: Path,
) -> None:
    existing = planned.get(record.key)
    if existing is not None:
        existing.parts.append(part)
        report.notes.append(f"{path}: {record.image_path} also has shapes in {existing.parts[0].source}; united")
        return
    target = plan_target(index, record, report, path)
    if target is not None:
        planned[record.key] = PlannedMask(record, target, shape, [part])


def import_labelme(
    index: DatasetIndex,
    paths: str | Path | Iterable[str | Path],
    *,
    dry_run: bool = False,
    merge_existing: bool = False,
    labels: Iterable[str] | None = None,
) -> ImportReport:
    """Import labelme files (or folders of them) into the dataset of ``index`` (only plan with ``dry_run``)."""
    report = plan_labelme_import(index, paths, labels=labels)
    if dry_run:
        return preview_plan(report, merge_existing=merge_existing)
    apply_plan(index, report, merge_existing=merge_existing)
    return report
