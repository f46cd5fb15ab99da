"""Tiny synthetic images for the method tests."""

from __future__ import annotations

import numpy as np

FAST = {"image_size": 64}
"""Parameters that keep fits fast: a 64 px network input."""


def texture(seed: int, shape: tuple[int, int] = (64, 64)) -> np.ndarray:
    """A normal image: smooth diagonal stripes with mild noise, like a uniform surface."""
    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    phase = rng.uniform(0, 2 * np.pi)
    base = 128 + 50 * np.sin((xx + yy) * 0.35 + phase)
    noisy = base[..., None] + rng.normal(0, 6, (h, w, 3))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def with_defect(image: np.ndarray, center: tuple[int, int] = (20, 40), radius: int = 7) -> np.ndarray:
    """The image with a green round blot (a stain) at ``center`` (row, col)."""
    out = image.copy()
    yy, xx = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    blot = (yy - center[0]) ** 2 + (xx - center[1]) ** 2 <= radius**2
    out[blot] = (20, 200, 30)
    return out
