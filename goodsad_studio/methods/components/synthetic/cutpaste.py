"""CutPaste and CutPaste-scar (Li et al., "CutPaste: Self-Supervised Learning for Anomaly Detection and
Localization", CVPR 2021, Sec. 3.1).

CutPaste: cut a rectangle covering 2-15% of the image area with an aspect ratio drawn log-uniformly from
``[0.3, 1/0.3]``, colour-jitter it (brightness, contrast, saturation, hue, each 0.1 as in the paper), and paste it
back at a random location. CutPaste-scar: a thin rectangle (width 2-16 px, length 10-25 px at 256 px, scaled
here with the image side), colour-jittered, rotated by -45..45 degrees, and pasted at a random location.

The returned mask is the pasted pixels that differ from the original (pasting a patch onto an identical area
changes nothing, so is not an anomaly); a draw that changes no pixel is redrawn.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from goodsad_studio.errors import SyntheticAnomalyError
from goodsad_studio.methods.components.synthetic.common import MAX_TRIES, check_image, restrict_to_changes

AREA_RATIO = (0.02, 0.15)
ASPECT_RATIO = 0.3
JITTER = 0.1
SCAR_WIDTH = (2, 16)
SCAR_LENGTH = (10, 25)
SCAR_ROTATION = 45.0
SCAR_REFERENCE_SIDE = 256


def color_jitter(patch: np.ndarray, rng: np.random.Generator, amount: float = JITTER) -> np.ndarray:
    """torchvision-style ColorJitter(amount, amount, amount, amount) on a uint8 RGB patch, in random order."""
    out = patch.astype(np.float32)
    for op in rng.permutation(4):
        if op == 0:  # brightness
            out = out * rng.uniform(1 - amount, 1 + amount)
        elif op == 1:  # contrast: blend with the mean grey level
            grey = float(cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY).mean())
            out = grey + (out - grey) * rng.uniform(1 - amount, 1 + amount)
        elif op == 2:  # saturation: blend with the grey image
            grey_image = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
            out = grey_image[..., None] + (out - grey_image[..., None]) * rng.uniform(1 - amount, 1 + amount)
        else:  # hue: rotate the OpenCV hue channel (0..180) by up to amount of a turn
            hsv = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.int16)
            hsv[..., 0] = (hsv[..., 0] + int(round(rng.uniform(-amount, amount) * 180))) % 180
            out = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _cut_box(height: int, width: int, rng: np.random.Generator) -> tuple[int, int]:
    area = rng.uniform(*AREA_RATIO) * height * width
    aspect = math.exp(rng.uniform(math.log(ASPECT_RATIO), math.log(1 / ASPECT_RATIO)))
    cut_w = int(np.clip(round(math.sqrt(area * aspect)), 1, width - 1))
    cut_h = int(np.clip(round(math.sqrt(area / aspect)), 1, height - 1))
    return cut_h, cut_w


def cutpaste(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """CutPaste (normal): ``(augmented uint8, bool mask of the changed pixels)``."""
    image = check_image(image, "CutPaste")
    height, width = image.shape[:2]
    for _ in range(MAX_TRIES):
        cut_h, cut_w = _cut_box(height, width, rng)
        y0, x0 = int(rng.integers(0, height - cut_h + 1)), int(rng.integers(0, width - cut_w + 1))
        patch = color_jitter(image[y0 : y0 + cut_h, x0 : x0 + cut_w], rng)
        y1, x1 = int(rng.integers(0, height - cut_h + 1)), int(rng.integers(0, width - cut_w + 1))
        pasted = image.copy()
        pasted[y1 : y1 + cut_h, x1 : x1 + cut_w] = patch
        region = np.zeros((height, width), bool)
        region[y1 : y1 + cut_h, x1 : x1 + cut_w] = True
        out, mask = restrict_to_changes(image, pasted, region)
        if mask.any():
            return out, mask
    raise SyntheticAnomalyError(f"CutPaste changed no pixel in {MAX_TRIES} draws (a constant image?)")


def cutpaste_scar(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """CutPaste-scar: a thin, rotated, colour-jittered strip pasted at a random place."""
    image = check_image(image, "CutPaste-scar")
    height, width = image.shape[:2]
    scale = min(height, width) / SCAR_REFERENCE_SIDE
    for _ in range(MAX_TRIES):
        scar_w = int(np.clip(round(rng.uniform(*SCAR_WIDTH) * scale), 1, width // 2))
        scar_h = int(np.clip(round(rng.uniform(*SCAR_LENGTH) * scale), 2, height // 2))
        y0, x0 = int(rng.integers(0, height - scar_h + 1)), int(rng.integers(0, width - scar_w + 1))
        patch = color_jitter(image[y0 : y0 + scar_h, x0 : x0 + scar_w], rng)
        # rotate the strip inside a square canvas large enough to hold it at any angle
        side = int(math.ceil(math.hypot(scar_h, scar_w))) + 2
        canvas: np.ndarray = np.zeros((side, side, 3), np.uint8)
        inside: np.ndarray = np.zeros((side, side), np.uint8)
        oy, ox = (side - scar_h) // 2, (side - scar_w) // 2
        canvas[oy : oy + scar_h, ox : ox + scar_w] = patch
        inside[oy : oy + scar_h, ox : ox + scar_w] = 255
        matrix = cv2.getRotationMatrix2D((side / 2, side / 2), float(rng.uniform(-SCAR_ROTATION, SCAR_ROTATION)), 1)
        canvas = cv2.warpAffine(canvas, matrix, (side, side), flags=cv2.INTER_NEAREST)
        inside = cv2.warpAffine(inside, matrix, (side, side), flags=cv2.INTER_NEAREST) > 127
        if side > height or side > width:
            canvas, inside = canvas[:height, :width], inside[:height, :width]
        ch, cw = inside.shape
        y1, x1 = int(rng.integers(0, height - ch + 1)), int(rng.integers(0, width - cw + 1))
        pasted = image.copy()
        region = np.zeros((height, width), bool)
        window = pasted[y1 : y1 + ch, x1 : x1 + cw]
        window[inside] = canvas[inside]
        region[y1 : y1 + ch, x1 : x1 + cw] = inside
        out, mask = restrict_to_changes(image, pasted, region)
        if mask.any():
            return out, mask
    raise SyntheticAnomalyError(f"CutPaste-scar changed no pixel in {MAX_TRIES} draws (a constant image?)")
