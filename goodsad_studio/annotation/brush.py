"""Brush and eraser footprints under the pixel-centre rule.

A stroke of radius ``r`` through points ``p0, p1, ...`` covers every pixel whose centre ``(col + 0.5, row + 0.5)``
lies within distance ``r`` of the polyline (a chain of capsules), plus the pixel under each point itself, so that a
click with the smallest brush always paints the pixel clicked even when ``r < 0.5``. Work is done per segment over
the segment's bounding box only, which keeps a stroke on a 3000x3000 image to a few thousand pixels of arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Box = tuple[int, int, int, int]  # (y0, x0, y1, x1), half-open, in pixels


def segment_footprint(
    a: tuple[float, float], b: tuple[float, float], radius: float, shape: tuple[int, int]
) -> tuple[Box, np.ndarray] | None:
    """Pixels of one capsule from ``a`` to ``b`` (x, y image coordinates): its box and a bool region, or None.

    None means the capsule covers no pixel of the image (it lies outside, or the radius is too small to reach a
    centre and the points are outside).
    """
    if not radius >= 0 or not math.isfinite(radius):
        raise ValueError(f"brush radius must be a finite number >= 0, got {radius!r}")
    height, width = shape
    (ax, ay), (bx, by) = a, b
    x0 = max(0, math.floor(min(ax, bx) - radius))
    y0 = max(0, math.floor(min(ay, by) - radius))
    x1 = min(width, math.floor(max(ax, bx) + radius) + 1)
    y1 = min(height, math.floor(max(ay, by) + radius) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    px = np.arange(x0, x1, dtype=np.float64)[None, :] + 0.5
    py = np.arange(y0, y1, dtype=np.float64)[:, None] + 0.5
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    if length2 > 0:
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / length2, 0.0, 1.0)
        ex, ey = px - (ax + t * dx), py - (ay + t * dy)
    else:
        ex, ey = px - ax, py - ay
    region = ex * ex + ey * ey <= radius * radius
    for x, y in (a, b):
        col, row = math.floor(x), math.floor(y)
        if x0 <= col < x1 and y0 <= row < y1:
            region[row - y0, col - x0] = True
    return (y0, x0, y1, x1), region


def stroke_footprint(
    points: Sequence[tuple[float, float]], radius: float, shape: tuple[int, int]
) -> tuple[Box, np.ndarray] | None:
    """Pixels of a whole stroke: the union of its segments' capsules, as (box, region), or None when empty."""
    if len(points) == 0:
        return None
    pairs = [(points[0], points[0])] if len(points) == 1 else list(zip(points[:-1], points[1:], strict=True))
    pieces = [found for a, b in pairs if (found := segment_footprint(a, b, radius, shape)) is not None]
    if not pieces:
        return None
    y0 = min(box[0] for box, _ in pieces)
    x0 = min(box[1] for box, _ in pieces)
    y1 = max(box[2] for box, _ in pieces)
    x1 = max(box[3] for box, _ in pieces)
    region = np.zeros((y1 - y0, x1 - x0), bool)
    for (by0, bx0, by1, bx1), piece in pieces:
        region[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0] |= piece
    return (y0, x0, y1, x1), region
