"""Magic wand: the pixels connected to a click whose colour is within a tolerance of the clicked pixel's.

A flood fill (``cv2.floodFill``, 8-connected, fixed range: every pixel is compared with the seed, not with its
neighbour, so the region cannot creep along a gradual shade) on a crop of at most ``max_side`` around the
click. In ``"lab"`` (the default) the tolerance is in CIE L*a*b* units on each of L*, a*, b* (a perceptual
distance: 12 is a visible but modest change); in ``"rgb"`` and ``"gray"`` it is in 0-255 levels.
"""

from __future__ import annotations

import cv2
import numpy as np

from goodsad_studio.annotation.assist.crop import WorkCrop
from goodsad_studio.annotation.assist.image_input import image_shape, rgb_crop
from goodsad_studio.annotation.assist.prompts import Point

COLOUR_SPACES = ("lab", "rgb", "gray")


def magic_wand(
    image: np.ndarray,
    point: Point,
    tolerance: float = 12.0,
    colour_space: str = "lab",
    *,
    max_side: int = 1024,
) -> np.ndarray:
    """The region grown from the pixel under ``point``, as a full-size bool mask (only the crop is read)."""
    shape = image_shape(image)
    if colour_space not in COLOUR_SPACES:
        raise ValueError(f"unknown colour space {colour_space!r}: use one of {', '.join(COLOUR_SPACES)}")
    if not tolerance >= 0:
        raise ValueError(f"the tolerance must be a number >= 0, got {tolerance!r}")
    row, col = point.pixel()
    if not (0 <= row < shape[0] and 0 <= col < shape[1]):
        raise ValueError(f"the click ({point.x}, {point.y}) is outside the {shape[1]}x{shape[0]} image")
    crop = WorkCrop.around((col, row, col + 1, row + 1), shape, margin=max_side // 2, max_side=max_side)
    data = _in_space(image, crop, colour_space)
    fill = np.zeros((crop.height + 2, crop.width + 2), np.uint8)
    flags = 8 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
    reach = (float(tolerance),) * 3
    cv2.floodFill(data, fill, (col - crop.x0, row - crop.y0), 0, reach, reach, flags)
    return crop.paste(fill[1:-1, 1:-1] > 0, shape)


def _in_space(image: np.ndarray, crop: WorkCrop, colour_space: str) -> np.ndarray:
    if colour_space == "gray":
        part = crop.cut(image)
        if part.ndim == 2:
            return np.ascontiguousarray(part)
        return cv2.cvtColor(np.ascontiguousarray(part), cv2.COLOR_RGB2GRAY)
    rgb = rgb_crop(image, crop)
    if colour_space == "rgb":
        return rgb
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
