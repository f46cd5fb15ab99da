"""Synthetic scenes shared by the outlining tool tests (test_assist_*.py): a textured disc on a textured background
with its true mask. It holds no tests itself."""

from __future__ import annotations

import cv2
import numpy as np


def textured(shape: tuple[int, int], base: tuple[int, int, int], seed: int, spread: int = 40) -> np.ndarray:
    """Blurred noise of +-``spread`` levels around the colour ``base`` (uint8 RGB)."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, (*shape, 3)).astype(np.float32), (0, 0), 1.5)
    noise /= max(float(np.abs(noise).max()), 1e-6)
    return np.clip(np.array(base, np.float32) + spread * noise, 0, 255).astype(np.uint8)


def disc_scene(
    size: int = 200, centre: tuple[float, float] = (100.0, 100.0), radius: float = 40.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A reddish textured disc on a grey-green textured background: (image, true mask)."""
    height, width = (size, size)
    rows, cols = np.mgrid[:height, :width]
    disc = (cols + 0.5 - centre[0]) ** 2 + (rows + 0.5 - centre[1]) ** 2 < radius**2
    image = textured((height, width), (90, 110, 95), seed)
    object_pixels = textured((height, width), (190, 70, 60), seed + 1)
    image[disc] = object_pixels[disc]
    return image, disc


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 1.0
