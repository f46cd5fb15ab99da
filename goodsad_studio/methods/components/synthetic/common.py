"""Helpers shared by the pseudo-anomaly generators: input checks and the "changed pixels" mask contract."""

from __future__ import annotations

import numpy as np

from goodsad_studio.errors import SyntheticAnomalyError

MAX_TRIES = 20
"""A generator retries with fresh random draws this many times when a draw changes no pixel (e.g. a patch pasted
onto an identical, uniform area) before giving up."""


def check_image(image: np.ndarray, what: str, min_side: int = 8) -> np.ndarray:
    """``image`` as contiguous uint8 ``HxWx3`` (grayscale expanded); raise :class:`SyntheticAnomalyError`."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise SyntheticAnomalyError(
            f"{what}: expected a uint8 numpy image, got {getattr(image, 'dtype', type(image).__name__)}"
        )
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise SyntheticAnomalyError(f"{what}: expected an HxWx3 RGB image, got shape {image.shape}")
    if min(image.shape[:2]) < min_side:
        raise SyntheticAnomalyError(
            f"{what}: image of {image.shape[1]}x{image.shape[0]} px is too small (at least {min_side} px a side)"
        )
    return np.ascontiguousarray(image)


def changed_pixels(original: np.ndarray, augmented: np.ndarray) -> np.ndarray:
    """Bool ``HxW``: pixels where any channel differs."""
    changed: np.ndarray = np.any(original != augmented, axis=2)
    return changed


def restrict_to_changes(
    original: np.ndarray, augmented: np.ndarray, region: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the augmentation only inside ``region``; the mask is the region's pixels that actually changed."""
    out = original.copy()
    out[region] = augmented[region]
    return out, changed_pixels(original, out)
