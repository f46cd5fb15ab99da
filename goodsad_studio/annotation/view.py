"""The polygon view of a mask: shapes the user edits vertex by vertex, always in step with the pixels.

Invariant: the shapes are valid polygons whose pixel sets (pixel-centre rule) are pairwise disjoint and together
equal the mask. A shape is either *traced* (pixel-edge polygon from :func:`trace`) or *authored* (the polygon the
user drew or edited, kept as long as its raster is exactly the pixels it stands for), so a polygon the user drew
keeps its few vertices instead of turning into a staircase.

Brush strokes change pixels without saying which shapes they touch; they only mark a box *dirty*. The next time
the shapes are asked for, every shape near a dirty box is dropped and the pixels there are traced again; shapes
elsewhere (authored ones included) are kept as they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

import numpy as np
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from goodsad_studio.geometry import rasterize_region, trace_polygons

Box = tuple[int, int, int, int]  # (y0, x0, y1, x1), half-open, pixels


@dataclass(frozen=True, slots=True)
class ViewState:
    """A snapshot of the view for undo: its shapes and the boxes still to be traced again."""

    shapes: tuple[Polygon, ...]
    dirty: tuple[Box, ...]


def pixel_box(geom: BaseGeometry, shape: tuple[int, int]) -> Box | None:
    """A box holding every pixel whose centre may lie inside ``geom`` (from its bounds), clipped to the image."""
    if geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    y0, x0 = max(0, math.floor(miny)), max(0, math.floor(minx))
    y1, x1 = min(shape[0], math.ceil(maxy)), min(shape[1], math.ceil(maxx))
    if y0 >= y1 or x0 >= x1:
        return None
    return y0, x0, y1, x1


def union_box(boxes: Iterable[Box | None]) -> Box | None:
    found = [b for b in boxes if b is not None]
    if not found:
        return None
    return (min(b[0] for b in found), min(b[1] for b in found), max(b[2] for b in found), max(b[3] for b in found))


def overlaps(a: Box | None, b: Box | None) -> bool:
    return a is not None and b is not None and a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def raster_in(geom: BaseGeometry, shape: tuple[int, int], area: Box) -> np.ndarray:
    """The pixels of ``geom`` inside ``area``, as a bool array of the area's shape."""
    y0, x0, y1, x1 = area
    out = np.zeros((y1 - y0, x1 - x0), bool)
    found = rasterize_region(geom, shape)
    if found is None:
        return out
    (ry0, rx0, ry1, rx1), region = found
    cy0, cx0, cy1, cx1 = max(y0, ry0), max(x0, rx0), min(y1, ry1), min(x1, rx1)
    if cy0 < cy1 and cx0 < cx1:
        out[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0] = region[cy0 - ry0 : cy1 - ry0, cx0 - rx0 : cx1 - rx0]
    return out


class ShapeView:
    """Shapes of a mask of ``shape`` (height, width), kept in step with it (see the module docstring)."""

    def __init__(self, shape: tuple[int, int], shapes: Iterable[Polygon] = (), dirty: Iterable[Box] = ()) -> None:
        self.image_shape = (int(shape[0]), int(shape[1]))
        self._shapes: list[Polygon] = list(shapes)
        self._dirty: list[Box] = list(dirty)

    @classmethod
    def of_mask(cls, mask: np.ndarray) -> ShapeView:
        """The view of a whole mask, traced lazily on first use (opening a big mask costs nothing up front)."""
        return cls(mask.shape, (), [(0, 0, mask.shape[0], mask.shape[1])] if mask.size else [])

    # ------------------------------------------------------------------------------- state for undo
    def state(self) -> ViewState:
        return ViewState(tuple(self._shapes), tuple(self._dirty))

    def restore(self, state: ViewState) -> None:
        self._shapes = list(state.shapes)
        self._dirty = list(state.dirty)

    # ------------------------------------------------------------------------------- reading
    def shapes(self, mask: np.ndarray) -> list[Polygon]:
        """The current shapes (traced again near dirty boxes first)."""
        if self._dirty:
            self._refresh(mask)
        return list(self._shapes)

    @property
    def is_dirty(self) -> bool:
        return bool(self._dirty)

    def mark_dirty(self, box: Box | None) -> None:
        if box is not None:
            self._dirty.append(box)

    def _refresh(self, mask: np.ndarray) -> None:
        height, width = self.image_shape
        grown = [
            (max(0, y0 - 1), max(0, x0 - 1), min(height, y1 + 1), min(width, x1 + 1)) for y0, x0, y1, x1 in self._dirty
        ]
        boxes = [pixel_box(s, self.image_shape) for s in self._shapes]
        affected = {i for i, b in enumerate(boxes) if any(overlaps(b, g) for g in grown)}
        area = union_box(grown + [boxes[i] for i in affected])
        assert area is not None  # _refresh runs only with dirty boxes, so grown holds at least one box
        y0, x0, y1, x1 = area
        pixels = mask[y0:y1, x0:x1].copy()
        kept = []
        for i, shape in enumerate(self._shapes):
            if i in affected:
                continue
            kept.append(shape)
            if overlaps(boxes[i], area):
                pixels &= ~raster_in(shape, self.image_shape, area)
        self._shapes = kept + list(trace_polygons(pixels, x0, y0))
        self._dirty = []

    # ------------------------------------------------------------------------------- editing
    def replace(
        self, mask: np.ndarray, remove: list[int], parts: list[Polygon], added_pixels: tuple[Box, np.ndarray] | None
    ) -> list[int]:
        """Swap the shapes at ``remove`` for ``parts`` (whose pixels, ``added_pixels``, are already in ``mask``).

        Kept shapes whose pixels the new parts overlap are merged with them: their shapely union when its raster
        is exactly the united pixels, else the trace of those pixels. Returns the indices of the new shapes.
        """
        current = self.shapes(mask)
        position = min(remove) if remove else len(current)
        removing = set(remove)
        kept = [(i, s) for i, s in enumerate(current) if i not in removing]
        merged_with: list[int] = []
        if added_pixels is not None:
            box, region = added_pixels
            for i, shape in kept:
                shape_box = pixel_box(shape, self.image_shape)
                if overlaps(shape_box, box) and (raster_in(shape, self.image_shape, box) & region).any():
                    merged_with.append(i)
        if added_pixels is not None and merged_with:  # shapes are merged only with added pixels
            group = [current[i] for i in merged_with]
            parts = self._merge(parts, group, added_pixels)
            position = min([position] + merged_with)
        drop = removing | set(merged_with)
        before = [s for i, s in enumerate(current) if i not in drop and i < position]
        after = [s for i, s in enumerate(current) if i not in drop and i >= position]
        self._shapes = before + parts + after
        return list(range(len(before), len(before) + len(parts)))

    def _merge(self, parts: list[Polygon], group: list[Polygon], added: tuple[Box, np.ndarray]) -> list[Polygon]:
        from shapely import union_all

        geoms = parts + group
        # the added pixels' own box too: a part's bounds can end short of pixels it was rasterised to
        (ay0, ax0, ay1, ax1), region = added
        area = union_box([*(pixel_box(g, self.image_shape) for g in geoms), (ay0, ax0, ay1, ax1)])
        assert area is not None  # the added pixels' box is in it
        expected = np.zeros((area[2] - area[0], area[3] - area[1]), bool)
        expected[ay0 - area[0] : ay1 - area[0], ax0 - area[1] : ax1 - area[1]] |= region
        for shape in group:
            expected |= raster_in(shape, self.image_shape, area)
        union = union_all(geoms)
        candidate = [p for p in _polygons_of(union)]
        if candidate and union.is_valid and np.array_equal(raster_in(union, self.image_shape, area), expected):
            return candidate
        return list(trace_polygons(expected, area[1], area[0]))

    def subtract(self, mask: np.ndarray, cutter: BaseGeometry, cut_box: Box) -> None:
        """Cut ``cutter`` out of every shape it overlaps (its pixels are already cleared from ``mask``)."""
        current = self.shapes(mask)
        out: list[Polygon] = []
        for shape in current:
            box = pixel_box(shape, self.image_shape)
            if box is None or not overlaps(box, cut_box) or not shape.intersects(cutter):
                out.append(shape)
                continue
            y0, x0, y1, x1 = box
            expected = mask[y0:y1, x0:x1] & raster_in(shape, self.image_shape, box)
            remainder = shape.difference(cutter)
            pieces = _polygons_of(remainder)
            if remainder.is_valid and np.array_equal(raster_in(remainder, self.image_shape, box), expected):
                out.extend(p for p in pieces if rasterize_region(p, self.image_shape) is not None)
            else:
                out.extend(trace_polygons(expected, x0, y0))
        self._shapes = out


def _polygons_of(geom: BaseGeometry) -> list[Polygon]:
    if geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [cast(Polygon, geom)]  # its geom_type says it is one
    return [p for p in getattr(geom, "geoms", []) if p.geom_type == "Polygon" and not p.is_empty]
