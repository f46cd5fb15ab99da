"""Vertex-level edits of shapely polygons, and the repair of what a user draws.

Rings are addressed as ring 0 = the exterior, ring k >= 1 = interior ring k - 1 (a hole); vertices by their index
in the ring without the closing repeat. Every function returns a new geometry (shapely geometries are immutable);
:func:`repair` then makes any result valid and clips it to the image, saying what it did in plain words.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

Point = tuple[float, float]


class ShapeEditError(ValueError):
    """A vertex edit that cannot be made (a bad index, a ring that would fall below three vertices)."""


def ring_coords(polygon: Polygon, ring: int) -> list[Point]:
    """Vertices of ring ``ring`` (0 = exterior, k = hole k-1), without the closing repeat."""
    if ring == 0:
        coords = polygon.exterior.coords
    elif 1 <= ring <= len(polygon.interiors):
        coords = polygon.interiors[ring - 1].coords
    else:
        raise ShapeEditError(f"ring {ring} does not exist (the polygon has {len(polygon.interiors)} holes)")
    return [(c[0], c[1]) for c in coords[:-1]]


def _with_ring(polygon: Polygon, ring: int, coords: Sequence[Point]) -> Polygon:
    rings = [ring_coords(polygon, i) for i in range(len(polygon.interiors) + 1)]
    rings[ring] = list(coords)
    return Polygon(rings[0], [r for r in rings[1:] if len(r) >= 3])


def _check_vertex(coords: list[Point], vertex: int, ring: int) -> None:
    if not 0 <= vertex < len(coords):
        raise ShapeEditError(f"vertex {vertex} does not exist (ring {ring} has {len(coords)} vertices)")


def move_vertex(polygon: Polygon, ring: int, vertex: int, to: Point) -> Polygon:
    """The polygon with one vertex moved to ``to`` (may be invalid until repaired)."""
    coords = ring_coords(polygon, ring)
    _check_vertex(coords, vertex, ring)
    coords[vertex] = (float(to[0]), float(to[1]))
    return _with_ring(polygon, ring, coords)


def insert_vertex(polygon: Polygon, ring: int, edge: int, at: Point) -> Polygon:
    """The polygon with a new vertex on edge ``edge`` (from vertex ``edge`` to the next one), placed at ``at``."""
    coords = ring_coords(polygon, ring)
    _check_vertex(coords, edge, ring)
    coords.insert(edge + 1, (float(at[0]), float(at[1])))
    return _with_ring(polygon, ring, coords)


def delete_vertex(polygon: Polygon, ring: int, vertex: int) -> Polygon:
    """The polygon without one vertex. A hole left with fewer than three vertices disappears; the exterior
    cannot lose its third vertex (delete the polygon instead)."""
    coords = ring_coords(polygon, ring)
    _check_vertex(coords, vertex, ring)
    if ring == 0 and len(coords) <= 3:
        raise ShapeEditError("a polygon needs three vertices: delete the polygon instead")
    del coords[vertex]
    return _with_ring(polygon, ring, coords)


def add_hole(polygon: Polygon, hole: Sequence[Point]) -> BaseGeometry:
    """The polygon with the area of ``hole`` cut out (a difference, so holes may cross the exterior)."""
    if len(hole) < 3:
        raise ShapeEditError(f"a hole needs at least three vertices, got {len(hole)}")
    cutter, _ = repair(Polygon(hole), None)
    return polygon.difference(cutter)


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the areas of ``geom``: lines and points from a collection dropped, as a Polygon or MultiPolygon."""
    if geom.is_empty:
        return MultiPolygon()
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [part for part in shapely.get_parts(geom) if part.geom_type in ("Polygon", "MultiPolygon")]
    flat = [p for part in parts for p in (part.geoms if part.geom_type == "MultiPolygon" else [part])]
    flat = [p for p in flat if not p.is_empty]
    if not flat:
        return MultiPolygon()
    return flat[0] if len(flat) == 1 else shapely.union_all(flat)


def repair(geom: BaseGeometry, shape: tuple[int, int] | None) -> tuple[BaseGeometry, list[str]]:
    """A valid polygonal version of ``geom`` clipped to the image ``(height, width)``, and notes on what changed.

    Self-intersecting rings are repaired with shapely's ``make_valid`` (a bow-tie becomes two triangles); parts
    outside the image are cut away. Each change is reported in a sentence for the user.
    """
    notes: list[str] = []
    if not np.all(np.isfinite(shapely.get_coordinates(geom))):
        raise ShapeEditError("the polygon has coordinates that are not finite numbers")
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        geom = polygonal(shapely.make_valid(geom))
        parts = len(shapely.get_parts(geom)) if not geom.is_empty else 0
        notes.append(
            f"the polygon was invalid ({reason}); repaired with make_valid into {parts} part{'s' if parts != 1 else ''}"
        )
    else:
        geom = polygonal(geom)
    if shape is not None and not geom.is_empty:
        height, width = shape
        frame = box(0, 0, width, height)
        if not frame.contains(geom):
            area = geom.area
            geom = polygonal(geom.intersection(frame))
            if geom.is_empty:
                notes.append(f"the polygon lies entirely outside the {width}x{height} image: nothing is left of it")
            else:
                outside = 1.0 - (geom.area / area if area > 0 else 0.0)
                notes.append(f"{outside:.1%} of the polygon lay outside the {width}x{height} image and was clipped")
    return geom, notes
