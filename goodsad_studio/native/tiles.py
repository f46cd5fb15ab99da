"""Tiles of a native-resolution image and the stitching of their maps into one map.

:func:`tile_boxes` covers a region with overlapping square tiles: the last row and column end at the region's end,
so every pixel is covered and no tile leaves the region; the starts are evenly spaced, so neighbours share at least
the overlap asked for; a region smaller than a tile is one tile of its own size. :class:`Stitcher` blends the
tiles' maps with a window that falls from 1 in a tile's middle to :data:`EDGE_WEIGHT` at its edges, so a seam's
values come mostly from the tile that saw the pixel away from its border, where the network had context.
"""

from __future__ import annotations

import cv2
import numpy as np

from goodsad_studio.native.crop import Box

EDGE_WEIGHT = 0.05
"""The blending weight at a tile's edge (relative to 1 in its middle); above 0 so that a pixel on the region's
border, seen only at a tile's edge, still gets a value."""


def _starts(length: int, size: int, stride: int) -> list[int]:
    """As few evenly spaced tile starts as cover ``length`` with steps of at most ``stride``."""
    if length <= size:
        return [0]
    steps = -(-(length - size) // stride)  # ceiling division
    return [round(i * (length - size) / steps) for i in range(steps + 1)]


def tile_boxes(box: Box, size: int, overlap: int) -> list[Box]:
    """Square tiles of ``size`` overlapping by at least ``overlap`` that cover ``box``, row by row."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    stride = max(1, size - overlap)
    tile_w, tile_h = min(size, width), min(size, height)
    return [
        (x0 + left, y0 + top, x0 + left + tile_w, y0 + top + tile_h)
        for top in _starts(height, size, stride)
        for left in _starts(width, size, stride)
    ]


def window(height: int, width: int) -> np.ndarray:
    """The blending weights of a ``height x width`` tile (float32)."""

    def ramp(n: int) -> np.ndarray:
        t = (np.arange(n, dtype=np.float32) + 0.5) / n
        return np.asarray(EDGE_WEIGHT + (1.0 - EDGE_WEIGHT) * np.sin(np.pi * t) ** 2, np.float32)

    return np.outer(ramp(height), ramp(width))


class Stitcher:
    """Accumulates tiles' maps over ``box`` (in image pixels) and gives their blended mean."""

    def __init__(self, box: Box):
        self.box = box
        x0, y0, x1, y1 = box
        self.total = np.zeros((y1 - y0, x1 - x0), np.float32)
        self.weight = np.zeros_like(self.total)
        self._windows: dict[tuple[int, int], np.ndarray] = {}

    def add(self, tile: Box, values: np.ndarray) -> None:
        """Add one tile's map (any size: it is resized to the tile's)."""
        tx0, ty0, tx1, ty1 = tile
        height, width = ty1 - ty0, tx1 - tx0
        if values.shape != (height, width):
            values = cv2.resize(np.asarray(values, np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
        weights = self._windows.get((height, width))
        if weights is None:
            weights = self._windows[(height, width)] = window(height, width)
        x0, y0 = self.box[0], self.box[1]
        rows = slice(ty0 - y0, ty1 - y0)
        cols = slice(tx0 - x0, tx1 - x0)
        self.total[rows, cols] += values * weights
        self.weight[rows, cols] += weights

    def result(self) -> np.ndarray:
        """The blended map over the box (float32); pixels no tile covered are 0."""
        out = np.zeros_like(self.total)
        np.divide(self.total, self.weight, out=out, where=self.weight > 0)
        return out


def paste(region_map: np.ndarray, box: Box, shape: tuple[int, int]) -> np.ndarray:
    """A map of the whole image of ``shape`` with ``region_map`` at ``box`` and, outside it, the region's lowest
    value (nothing outside the goods is called anomalous)."""
    floor = float(region_map.min()) if region_map.size else 0.0
    out = np.full(shape, floor, np.float32)
    x0, y0, x1, y1 = box
    out[y0:y1, x0:x1] = region_map
    return out
