"""NSA's natural synthetic anomalies (Schlüter et al., "Natural Synthetic Anomalies for Self-Supervised Anomaly
Detection and Localization", ECCV 2022, Sec. 3).

Up to ``max_patches`` patches (the first always, each further one with probability 1/2, as the reference
code's ``patch_ex``): a rectangle is cut from a *source* image (another normal image of the training set; the image
itself when none is given); its half-width and half-height are drawn as fractions of the image side from
``0.03 + Gamma(shape=2, scale=0.05)`` clipped to ``[0.03, 0.4]`` (the reference's ``gamma_params=(2, 0.05, 0.03)``
and ``width_bounds_pct``), it is rescaled by ``clip(N(1, 0.5), 0.7, 1.3)`` (each rescaled side again within
``[0.03, 0.4]`` of the target's side, as the reference clips it), and placed at a random location of the
target where it is blended in with Poisson image editing — OpenCV's :func:`cv2.seamlessClone` (``NORMAL_CLONE``,
the paper's "NSA" setting; ``MIXED_CLONE`` on request).

Poisson blending alters the whole pasted rectangle a little; NSA's labels follow the *visible* change: the mask is
the pixels whose mean absolute channel difference exceeds ``tol`` (1 grey level, as the reference), median-filtered
(5x5); the training target is a logistic function of that difference (:func:`nsa_logistic_label`, ``k = 1/12``,
``x0 = 24`` — the reference's setting for bottles and cables). Changes the mask leaves out (at most ``tol`` grey
levels) are reverted so that, as for every generator here, all pixels outside the mask equal the input.
Deviations: the reference restricts patches to the object in some categories ("skip_background" with a per-class
background colour); this generator places them anywhere. The label's median filter is a square of radius 5 px at 256 px
(11x11), scaled with the image side, instead of a disk of radius 5 px at every size.
"""

from __future__ import annotations

import cv2
import numpy as np

from goodsad_studio.errors import SyntheticAnomalyError
from goodsad_studio.methods.components.synthetic.common import MAX_TRIES, check_image, restrict_to_changes

HALF_WIDTH_BOUNDS = (0.03, 0.4)
GAMMA_PARAMS = (2.0, 0.05, 0.03)  # shape, scale, loc
RESIZE_BOUNDS = (0.7, 1.3)
LOGISTIC_K = 1 / 12
LOGISTIC_X0 = 24.0
TOL = 1
MEDIAN_RADIUS = 5
MEDIAN_REFERENCE_SIDE = 256


def _side(length: int, rng: np.random.Generator) -> int:
    shape, scale, loc = GAMMA_PARAMS
    half = float(np.clip(loc + rng.gamma(shape, scale), *HALF_WIDTH_BOUNDS))
    return min(max(2 * int(round(half * length)), 3), length)


def _blend_one(
    target: np.ndarray, source: np.ndarray, rng: np.random.Generator, clone_mode: int
) -> tuple[np.ndarray, np.ndarray]:
    """Blend one resized source patch into ``target``; returns the blended image and the patch rectangle."""
    height, width = target.shape[:2]
    patch_h, patch_w = _side(source.shape[0], rng), _side(source.shape[1], rng)
    sy = int(rng.integers(0, source.shape[0] - patch_h + 1))
    sx = int(rng.integers(0, source.shape[1] - patch_w + 1))
    patch = source[sy : sy + patch_h, sx : sx + patch_w]
    factor = float(np.clip(rng.normal(1.0, 0.5), *RESIZE_BOUNDS))
    # the rescaled side stays within the same share of the target's side as the cut one (the reference clips it to
    # width_bounds_pct too), and seamlessClone needs the rectangle one pixel inside the image on every side
    low, high = HALF_WIDTH_BOUNDS
    new_h = int(np.clip(round(patch_h * factor), max(3, round(low * height)), min(height - 2, round(high * height))))
    new_w = int(np.clip(round(patch_w * factor), max(3, round(low * width)), min(width - 2, round(high * width))))
    patch = cv2.resize(patch, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    y, x = int(rng.integers(1, height - new_h)), int(rng.integers(1, width - new_w))
    canvas = target.copy()
    canvas[y : y + new_h, x : x + new_w] = patch
    rect = np.zeros((height, width), np.uint8)
    rect[y : y + new_h, x : x + new_w] = 255
    centre = (x + new_w // 2, y + new_h // 2)
    blended = cv2.seamlessClone(canvas, target, rect, centre, clone_mode)
    return blended, rect > 0


def nsa_patch_blend(
    image: np.ndarray,
    rng: np.random.Generator,
    source: np.ndarray | None = None,
    *,
    max_patches: int = 3,
    tol: float = TOL,
    mixed: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """NSA anomaly: ``(augmented uint8, bool mask of the changed pixels)``; ``source`` defaults to ``image``."""
    image = check_image(image, "NSA anomaly", 16)
    source = image if source is None else check_image(source, "NSA source image", 16)
    if max_patches < 1 or not 0 <= tol < 255:
        raise SyntheticAnomalyError(f"NSA: max_patches must be >= 1 and tol in [0, 255), got {max_patches} and {tol}")
    clone_mode = cv2.MIXED_CLONE if mixed else cv2.NORMAL_CLONE
    for _ in range(MAX_TRIES):
        out = image
        region = np.zeros(image.shape[:2], bool)
        for i in range(max_patches):
            if i == 0 or rng.random() < 0.5:
                out, rect = _blend_one(out, source, rng, clone_mode)
                region |= rect
        visible: np.ndarray = (_mean_difference(image, out) > tol).astype(np.uint8)
        visible = cv2.medianBlur(visible, 5).astype(bool) & region
        out, mask = restrict_to_changes(image, out, visible)
        if mask.any():
            return out, mask
    raise SyntheticAnomalyError(
        f"NSA blending changed no pixel by more than {tol} grey levels in {MAX_TRIES} draws "
        f"(source and target too alike?)"
    )


def _mean_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    difference: np.ndarray = np.abs(a.astype(np.float32) - b.astype(np.float32)).mean(axis=2)
    return difference


def nsa_logistic_label(
    original: np.ndarray, augmented: np.ndarray, mask: np.ndarray, k: float = LOGISTIC_K, x0: float = LOGISTIC_X0
) -> np.ndarray:
    """NSA's "logistic-intensity" pixel label: ``1 / (1 + exp(-k (d - x0)))`` of the median-filtered mean absolute
    channel difference ``d`` (grey levels), zero outside ``mask``; float32 ``HxW`` in [0, 1]."""
    diff = np.where(mask, _mean_difference(original, augmented), 0)
    ksize = 2 * int(round(MEDIAN_RADIUS * min(mask.shape) / MEDIAN_REFERENCE_SIDE)) + 1
    diff = np.clip(np.rint(diff), 0, 255).astype(np.uint8)
    diff = (cv2.medianBlur(diff, ksize) if ksize > 1 else diff).astype(np.float32)
    label = 1.0 / (1.0 + np.exp(-k * (diff - x0)))
    return np.where(mask, label, 0.0).astype(np.float32)
