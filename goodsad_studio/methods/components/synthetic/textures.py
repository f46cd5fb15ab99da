"""Procedural anomaly-source textures for DRAEM, and DRAEM's random texture augmentation.

DRAEM (Zavrtanik et al., ICCV 2021) pastes textures from the Describable Textures Dataset (DTD) into normal images.
DTD cannot be downloaded in the studio's offline setting, so :func:`procedural_texture` makes textures of the
same spirit from scratch: multi-octave value noise ("fabric", "stone"), oriented stripes, rotated checkers,
blurred blotches and marble (noise-warped sine); each coloured by a random palette and colour-jittered. This is a
deviation from the paper: the texture statistics differ from DTD's photographs, which can change results.
A user with DTD on disk can pass its images as ``texture`` to :func:`~.perlin.draem_anomaly` instead.

:func:`augment_texture` applies 3 operations chosen at random (without repetition) from the reference code's list
of 10 imgaug operations, re-implemented with numpy/OpenCV: gamma contrast, brightness multiply-and-add,
sharpness, hue-and-saturation shift, solarize, posterize, invert, autocontrast, equalize, rotation.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

KINDS = ("noise", "stripes", "checker", "blotches", "marble")


def _value_noise(shape: tuple[int, int], rng: np.random.Generator, octaves: int = 4) -> np.ndarray:
    """Sum of bicubically upsampled random grids, normalised to [0, 1]."""
    height, width = shape
    total = np.zeros(shape, np.float32)
    base = int(rng.integers(2, 9))
    for octave in range(octaves):
        cells = base * 2**octave
        grid = rng.random((cells + 1, cells + 1)).astype(np.float32)
        total += cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC) / 2**octave
    return _normalise(total)


def _normalise(array: np.ndarray) -> np.ndarray:
    lo, hi = float(array.min()), float(array.max())
    return ((array - lo) / (hi - lo)).astype(np.float32) if hi > lo else np.zeros_like(array, np.float32)


def _coords(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Pixel coordinates projected on a random direction."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    theta = rng.uniform(0, np.pi)
    projected: np.ndarray = xx * np.cos(theta) + yy * np.sin(theta)
    return projected


def _pattern(kind: str, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    side = max(shape)
    if kind == "noise":
        return _value_noise(shape, rng, int(rng.integers(2, 6)))
    if kind == "stripes":
        period = rng.uniform(3, max(side / 4, 4))
        wave = np.sin(2 * np.pi * _coords(shape, rng) / period)
        return _normalise(np.tanh(rng.uniform(0.5, 6) * wave))
    if kind == "checker":
        period = rng.uniform(4, max(side / 3, 5))
        a = np.floor(_coords(shape, rng) / period)
        b = np.floor(_coords(shape, rng) / period)
        return ((a + b) % 2).astype(np.float32)
    if kind == "blotches":
        canvas = np.zeros(shape, np.float32)
        for _ in range(int(rng.integers(5, 40))):
            centre = (int(rng.integers(0, shape[1])), int(rng.integers(0, shape[0])))
            axes = (int(rng.integers(2, max(side // 6, 3))), int(rng.integers(2, max(side // 6, 3))))
            cv2.ellipse(canvas, centre, axes, float(rng.uniform(0, 180)), 0, 360, float(rng.uniform(0.3, 1)), -1)
        sigma = rng.uniform(0.5, 3)
        return _normalise(cv2.GaussianBlur(canvas, (0, 0), sigma) + 0.2 * _value_noise(shape, rng))
    if kind == "marble":
        warp = _value_noise(shape, rng, 5) * rng.uniform(5, 20)
        period = rng.uniform(8, max(side / 2, 9))
        return _normalise(np.sin(2 * np.pi * _coords(shape, rng) / period + warp))
    raise ValueError(f"unknown texture kind {kind!r}; known: {', '.join(KINDS)}")


def procedural_texture(shape: tuple[int, int], rng: np.random.Generator, kind: str | None = None) -> np.ndarray:
    """A uint8 RGB texture ``shape + (3,)``: a random (or the given) pattern kind mapped through a random
    two- or three-colour palette, with per-channel colour jitter and a little grain."""
    kind = KINDS[int(rng.integers(len(KINDS)))] if kind is None else kind
    pattern = _pattern(kind, shape, rng)
    colours = rng.integers(0, 256, (int(rng.integers(2, 4)), 3)).astype(np.float32)
    stops = np.linspace(0, 1, len(colours))
    rgb = np.stack([np.interp(pattern, stops, colours[:, c]) for c in range(3)], axis=-1)
    rgb *= rng.uniform(0.8, 1.2, 3)  # colour jitter
    rgb += rng.normal(0, rng.uniform(0, 8), rgb.shape)  # grain
    texture: np.ndarray = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    return texture


# -- DRAEM's texture augmentation (imgaug operations re-implemented) --------------------------------------------
def _lut(image: np.ndarray, table: np.ndarray) -> np.ndarray:
    return cv2.LUT(image, np.clip(np.rint(table), 0, 255).astype(np.uint8))


def _gamma(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _lut(image, 255 * (np.arange(256) / 255) ** rng.uniform(0.5, 2.0))


def _brightness(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _lut(image, np.arange(256) * rng.uniform(0.8, 1.2) + rng.uniform(-30, 30))


def _sharpness(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    blurred = cv2.GaussianBlur(image, (3, 3), 0).astype(np.float32)
    factor = rng.uniform(0.0, 2.0)  # 0 = blurred, 1 = original, 2 = sharpened
    return np.clip(blurred + factor * (image.astype(np.float32) - blurred), 0, 255).astype(np.uint8)


def _hue_saturation(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(np.int16)
    hsv[..., 0] = (hsv[..., 0] + int(rng.integers(-25, 26))) % 180
    hsv[..., 1] = np.clip(hsv[..., 1] + int(rng.integers(-50, 51)), 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def _solarize(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    threshold = int(rng.integers(32, 129))
    return np.where(image >= threshold, 255 - image, image).astype(np.uint8)


def _posterize(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    bits = int(rng.integers(1, 6))
    return (image & np.uint8((0xFF << (8 - bits)) & 0xFF)).astype(np.uint8)


def _invert(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (255 - image).astype(np.uint8)


def _autocontrast(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.empty_like(image)
    for c in range(3):
        lo, hi = int(image[..., c].min()), int(image[..., c].max())
        out[..., c] = image[..., c] if hi <= lo else _lut(image[..., c], (np.arange(256) - lo) * 255 / (hi - lo))
    return out


def _equalize(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.stack([cv2.equalizeHist(np.ascontiguousarray(image[..., c])) for c in range(3)], axis=-1)


def _rotation(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), float(rng.uniform(-45, 45)), 1.0)
    return cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)


AUGMENTATIONS: tuple[Callable[[np.ndarray, np.random.Generator], np.ndarray], ...] = (
    _gamma,
    _brightness,
    _sharpness,
    _hue_saturation,
    _solarize,
    _posterize,
    _invert,
    _autocontrast,
    _equalize,
    _rotation,
)


def augment_texture(image: np.ndarray, rng: np.random.Generator, count: int = 3) -> np.ndarray:
    """Apply ``count`` distinct operations from :data:`AUGMENTATIONS`, chosen at random, in random order."""
    out = np.ascontiguousarray(image)
    for index in rng.choice(len(AUGMENTATIONS), size=count, replace=False):
        out = AUGMENTATIONS[int(index)](out, rng)
    return np.ascontiguousarray(out)
