"""The work crop of one interaction: the prompt's box plus a margin, at most ``max_side`` on a side.

Every tool cuts the image to this crop, computes there, and pastes the result back into a full-size mask, so a
step's cost depends on the crop, not on the image (a 3000x3000 image answers as fast as a 1024x1024 one). A box
larger than ``max_side`` keeps its centre and is cut to ``max_side``: the tool then sees only that part.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np


class WorkCrop(NamedTuple):
    """A crop ``[x0, x1) x [y0, y1)`` of whole pixels inside the image (columns x, rows y)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @classmethod
    def around(
        cls,
        box: tuple[float, float, float, float],
        image_shape: tuple[int, ...],
        margin: int = 64,
        max_side: int = 1024,
    ) -> WorkCrop:
        """The crop holding the box ``(x0, y0, x1, y1)`` (image coordinates, any order) grown by ``margin``
        pixels each side, clipped to the image and cut to at most ``max_side`` pixels a side around the box's
        centre. Never empty: a box outside the image gives the nearest pixel of it."""
        height, width = int(image_shape[0]), int(image_shape[1])
        if height <= 0 or width <= 0:
            raise ValueError(f"cannot crop an empty image of shape {tuple(image_shape)}")
        if max_side < 1 or margin < 0:
            raise ValueError(f"a work crop needs max_side >= 1 and margin >= 0, got {max_side} and {margin}")
        bx0, bx1 = sorted((float(box[0]), float(box[2])))
        by0, by1 = sorted((float(box[1]), float(box[3])))
        if not all(math.isfinite(v) for v in (bx0, by0, bx1, by1)):
            raise ValueError(f"the crop box {box} has coordinates that are not finite numbers")
        x0, x1 = _span(bx0, bx1, width, margin, max_side)
        y0, y1 = _span(by0, by1, height, margin, max_side)
        return cls(x0, y0, x1, y1)

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    def contains(self, x: float, y: float, inset: float = 0.0) -> bool:
        """Whether the point ``(x, y)`` lies inside the crop, at least ``inset`` pixels from its edges."""
        return self.x0 + inset <= x < self.x1 - inset and self.y0 + inset <= y < self.y1 - inset

    def cut(self, array: np.ndarray) -> np.ndarray:
        """The crop's part of an image or mask (a view: rows y0:y1, columns x0:x1)."""
        return array[self.y0 : self.y1, self.x0 : self.x1]

    def paste(self, crop_mask: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
        """A full-size bool mask, false outside the crop and ``crop_mask`` inside it."""
        crop_mask = np.asarray(crop_mask)
        if crop_mask.shape[:2] != self.shape:
            raise ValueError(f"a crop mask of shape {crop_mask.shape} does not fit the {self.width}x{self.height} crop")
        out = np.zeros((int(image_shape[0]), int(image_shape[1])), bool)
        out[self.y0 : self.y1, self.x0 : self.x1] = crop_mask.astype(bool, copy=False)
        return out

    def to_crop(self, x: float, y: float) -> tuple[float, float]:
        """Image coordinates to the crop's own (same pixel convention, origin at the crop's corner)."""
        return x - self.x0, y - self.y0

    def to_image(self, xy: np.ndarray) -> np.ndarray:
        """Crop coordinates ``(N, 2)`` (x, y) back to image coordinates."""
        return np.asarray(xy, dtype=np.float64) + np.array([self.x0, self.y0], dtype=np.float64)


def _span(lo: float, hi: float, size: int, margin: int, max_side: int) -> tuple[int, int]:
    """Whole pixels covering ``[lo, hi]`` grown by ``margin``, inside ``[0, size)``, at most ``max_side`` long."""
    start = math.floor(lo) - margin
    stop = math.ceil(hi) + margin
    if stop - start > max_side:
        centre = (lo + hi) / 2.0
        start = math.floor(centre - max_side / 2.0)
        start = max(0, min(start, size - max_side))  # a capped crop slides inside the image rather than shrink
        stop = start + max_side
    start, stop = max(0, start), min(size, stop)
    if stop <= start:  # the box lies outside the image: the nearest edge pixel
        start = min(max(0, start), size - 1)
        stop = start + 1
    return start, stop
