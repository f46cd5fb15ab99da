"""The shared pre-processing step, on numpy arrays, and its inverse for anomaly maps (no torch here).

Forward (image -> network input), as in the PatchCore/GoodsAD papers' protocol:

* ``resize`` (default): the whole image is resized to ``image_size`` x ``image_size`` (aspect ratio not kept, as
  in the papers' 224x224 protocol) — nothing is cut off, so a defect at the border is still seen;
* ``resize_crop``: resized to ``round(image_size * 256 / 224)`` square, then the centre ``image_size`` square is
  cut (the reference implementation's "resize 256, crop 224"). Borders are not seen; their map values are the
  map's minimum.

Then ImageNet normalisation with the backbone's mean/std. Downscaling uses area interpolation (antialiased),
upscaling bilinear. Grayscale input (``HxW`` or ``HxWx1``) is expanded to 3 channels.

Inverse (model map -> image map): the grid of patch scores is upsampled bilinearly to the network input, smoothed
with a Gaussian (sigma 4 px at that size, as in the papers), placed back into the full frame for ``resize_crop``,
and resized bilinearly to the image's own height and width.

Two input paths exist and are kept bit for bit (they may differ in the last bit): :meth:`Preprocess.prepare`
scales in numpy (``* (1/255)``, the feature methods), :meth:`Preprocess.resize` gives the uint8 geometry that the
trained methods cache and normalise in torch (``div_(255)``, :meth:`~.features.FeatureExtractor.to_input`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from goodsad_studio.errors import ImageInputError
from goodsad_studio.methods.api import Prediction
from goodsad_studio.params import ParamSpec

RESIZE = "resize"
RESIZE_CROP = "resize_crop"
CROP_RATIO = 224 / 256

PREPROCESS_PARAMS = [
    ParamSpec(
        "image_size",
        "int",
        224,
        min=32,
        max=2048,
        help="side of the square network input in pixels (the papers use 224)",
    ),
    ParamSpec(
        "resize_mode",
        "choice",
        RESIZE,
        choices=(RESIZE, RESIZE_CROP),
        help="resize: whole image squashed to the input size (default, nothing cut off); "
        "resize_crop: resize to size*256/224 and keep the centre (reference protocol; borders unseen)",
    ),
]


def as_rgb_uint8(image: np.ndarray, index: int | None = None) -> np.ndarray:
    """Check an input image and return it as contiguous uint8 ``HxWx3`` (grayscale expanded)."""
    where = f"image {index}: " if index is not None else ""
    if not isinstance(image, np.ndarray):
        raise ImageInputError(f"{where}expected a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ImageInputError(f"{where}expected dtype uint8, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ImageInputError(f"{where}expected an HxWx3 RGB (or HxW grayscale) array, got shape {image.shape}")
    if image.shape[0] < 2 or image.shape[1] < 2:
        raise ImageInputError(f"{where}image of {image.shape[1]}x{image.shape[0]} px is too small")
    return np.ascontiguousarray(image)


def _resize(array: np.ndarray, width: int, height: int) -> np.ndarray:
    shrinking = width < array.shape[1] or height < array.shape[0]
    return cv2.resize(array, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def gaussian_blur(array: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing with a kernel of radius 4 sigma and mirrored borders (as scipy's default)."""
    if sigma <= 0:
        return array
    ksize = 2 * int(4.0 * sigma + 0.5) + 1
    return cv2.GaussianBlur(array, (ksize, ksize), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)


@dataclass(frozen=True)
class Preprocess:
    """Resize (+ optional centre crop) and normalise; map model outputs back to the image frame."""

    image_size: int = 224
    mode: str = RESIZE
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)

    def __post_init__(self) -> None:
        if self.mode not in (RESIZE, RESIZE_CROP):
            raise ValueError(f"unknown resize mode {self.mode!r}")

    @property
    def resize_size(self) -> int:
        """Side of the resized square before cropping (equals ``image_size`` without crop)."""
        return self.image_size if self.mode == RESIZE else int(round(self.image_size / CROP_RATIO))

    @property
    def crop_offset(self) -> int:
        return (self.resize_size - self.image_size) // 2

    def to_config(self) -> dict[str, object]:
        return {
            "image_size": self.image_size,
            "resize_mode": self.mode,
            "resize_size": self.resize_size,
            "mean": list(self.mean),
            "std": list(self.std),
            "interpolation": "area-down/bilinear-up",
        }

    def resize(self, image: np.ndarray, index: int | None = None) -> np.ndarray:
        """A checked uint8 RGB image -> uint8 ``S x S x 3`` network-input geometry (resize, or resize + crop): the
        trained methods' input path, normalised later in torch."""
        image = as_rgb_uint8(image, index)
        side = self.resize_size
        shrinking = side < image.shape[0] or side < image.shape[1]
        out = cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
        if self.mode == RESIZE_CROP:
            o, s = self.crop_offset, self.image_size
            out = out[o : o + s, o : o + s]
        return np.ascontiguousarray(out)

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """One checked uint8 RGB image -> float32 ``3 x S x S`` normalised network input."""
        side = self.resize_size
        resized = _resize(image, side, side)
        if self.mode == RESIZE_CROP:
            o = self.crop_offset
            resized = resized[o : o + self.image_size, o : o + self.image_size]
        scaled = resized.astype(np.float32) * (1.0 / 255.0)
        scaled -= np.asarray(self.mean, np.float32)
        scaled /= np.asarray(self.std, np.float32)
        return np.ascontiguousarray(scaled.transpose(2, 0, 1))

    def batch(self, images: Sequence[np.ndarray], first_index: int = 0) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Check and prepare images; returns the ``B x 3 x S x S`` batch and each image's (height, width)."""
        checked = [as_rgb_uint8(img, first_index + i) for i, img in enumerate(images)]
        shapes = [(img.shape[0], img.shape[1]) for img in checked]
        return np.stack([self.prepare(img) for img in checked]), shapes

    def smooth(self, grid: np.ndarray, sigma: float = 4.0) -> np.ndarray:
        """A map on the model's feature grid -> float32 ``S x S`` map at the network input, upsampled bilinearly
        and smoothed with a Gaussian of ``sigma`` input pixels (the papers' sigma 4 at 224)."""
        grid = np.ascontiguousarray(grid, dtype=np.float32)
        at_input = cv2.resize(grid, (self.image_size, self.image_size), interpolation=cv2.INTER_LINEAR)
        return gaussian_blur(at_input, sigma)

    def to_image(self, at_input: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """An ``S x S`` map at the network input -> float32 map at the image's ``(height, width)``; in crop mode
        the crop is put back into the full frame and the rest gets the map's minimum."""
        if self.mode == RESIZE_CROP:
            frame = np.full((self.resize_size, self.resize_size), at_input.min(), np.float32)
            o = self.crop_offset
            frame[o : o + self.image_size, o : o + self.image_size] = at_input
            at_input = frame
        height, width = shape
        if (height, width) == at_input.shape:
            return at_input
        return cv2.resize(at_input, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32, copy=False)

    def assemble(
        self, maps: np.ndarray, images: np.ndarray | None, shapes: Sequence[tuple[int, int]], sigma: float
    ) -> list[Prediction]:
        """Maps on any grid (``B x h x w``) -> one :class:`Prediction` per image: each map smoothed at the network
        input (:meth:`smooth`) and brought to its image's ``(height, width)`` (:meth:`to_image`); the image score is
        ``images[i]``, or the maximum of the smoothed map where ``images`` is None."""
        out: list[Prediction] = []
        for i, shape in enumerate(shapes):
            smoothed = self.smooth(np.asarray(maps[i], np.float32), sigma)
            score = float(smoothed.max()) if images is None else float(images[i])
            out.append(Prediction(score=score, anomaly_map=self.to_image(smoothed, shape)))
        return out


__all__ = [
    "CROP_RATIO",
    "PREPROCESS_PARAMS",
    "RESIZE",
    "RESIZE_CROP",
    "Preprocess",
    "as_rgb_uint8",
    "gaussian_blur",
]
