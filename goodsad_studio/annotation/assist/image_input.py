"""The images the outlining tools accept, checked once with a clear message: uint8 RGB ``HxWx3`` or gray ``HxW``.

Only the work crop is ever converted (a gray crop to RGB for GrabCut), never the whole image.
"""

from __future__ import annotations

import cv2
import numpy as np

from goodsad_studio.annotation.assist.crop import WorkCrop
from goodsad_studio.errors import ImageInputError


def image_shape(image: np.ndarray) -> tuple[int, int]:
    """``(height, width)`` of an image the tools can work on; ImageInputError for anything else."""
    if not isinstance(image, np.ndarray):
        raise ImageInputError(f"the image must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ImageInputError(f"the image must be uint8 RGB HxWx3 or gray HxW, got {image.dtype} {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ImageInputError(f"the image is empty ({image.shape[1]}x{image.shape[0]})")
    return int(image.shape[0]), int(image.shape[1])


def rgb_crop(image: np.ndarray, crop: WorkCrop) -> np.ndarray:
    """The crop of ``image`` as a contiguous uint8 RGB array (gray repeated on three channels)."""
    part = crop.cut(image)
    if part.ndim == 2:
        return cv2.cvtColor(np.ascontiguousarray(part), cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(part)


def check_mask(mask: np.ndarray | None, shape: tuple[int, int], what: str) -> np.ndarray | None:
    """``mask`` as a bool array of the image's size (None stays None); ValueError naming ``what`` otherwise."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise ValueError(
            f"the {what} is {mask.shape[1] if mask.ndim > 1 else '?'}x{mask.shape[0]} but the image is "
            f"{shape[1]}x{shape[0]} (width x height)"
        )
    return mask.astype(bool, copy=False)
