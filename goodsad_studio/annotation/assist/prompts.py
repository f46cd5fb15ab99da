"""The prompts of the outlining tools: clicks, boxes and scribbles, in image coordinates.

Coordinates follow docs/adr/0003-pixel-convention.md: ``x`` to the right, ``y`` down, in image pixels as floats;
pixel ``(row, col)`` is the unit square ``[col, col + 1] x [row, row + 1]`` with its centre at
``(col + 0.5, row + 0.5)``. A click at ``(x, y)`` is on pixel ``(floor(y), floor(x))``; a box covers the pixels
whose centres lie inside it (:meth:`BoxPrompt.pixel_bounds`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Point:
    """A click: on the object (``positive``) or on the background to be left out."""

    x: float
    y: float
    positive: bool = True

    def pixel(self) -> tuple[int, int]:
        """The ``(row, col)`` of the pixel under the click."""
        return math.floor(self.y), math.floor(self.x)


@dataclass(frozen=True, slots=True)
class BoxPrompt:
    """A box dragged around the object, corners in image coordinates (either order)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def ordered(self) -> BoxPrompt:
        return BoxPrompt(min(self.x0, self.x1), min(self.y0, self.y1), max(self.x0, self.x1), max(self.y0, self.y1))

    def pixel_bounds(self) -> tuple[int, int, int, int]:
        """``(row0, col0, row1, col1)``, half-open: the pixels whose centres lie inside the box (top-left rule: a
        centre on the left or top edge is inside, on the right or bottom edge outside). Not clipped to an image."""
        box = self.ordered()
        return (
            math.ceil(box.y0 - 0.5),
            math.ceil(box.x0 - 0.5),
            math.ceil(box.y1 - 0.5),
            math.ceil(box.x1 - 0.5),
        )

    @classmethod
    def of_pixels(cls, row0: int, col0: int, row1: int, col1: int) -> BoxPrompt:
        """The box along the outer edges of pixels ``[row0, row1) x [col0, col1)`` (it covers exactly them)."""
        return cls(float(col0), float(row0), float(col1), float(row1))


@dataclass(frozen=True, slots=True)
class Scribble:
    """A stroke drawn over the object (``positive``) or over background; its pixels are hard constraints."""

    points: tuple[tuple[float, float], ...]
    positive: bool = True
