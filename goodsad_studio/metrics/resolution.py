"""At which resolution maps and masks are compared (the evaluation *protocol*), and input checks.

* ``"native"`` (default): the mask's own resolution. The anomaly map (usually the model's 224 or 256 px) is
  resized to the mask size with bilinear interpolation (``cv2.INTER_LINEAR``, half-pixel centres like
  ``torch``'s ``align_corners=False``; ``cv2.INTER_AREA`` when it is larger than the mask). Masks are never
  resized, so thin defects are scored as annotated — anomalib scored masks resized to the model size
  (issue #1686), which erodes or thickens small defects and changes pixel metrics.
* ``"224"``: the GoodsAD paper's setting, both at 224x224 (the whole image squashed, no centre crop). The map is
  resized as above; the mask is resized with ``cv2.INTER_AREA`` (the fraction of each 224-grid cell the defect
  covers) and a cell is anomalous when that fraction is ``>= 0.5``. Majority coverage neither erodes nor dilates
  on average, unlike nearest-neighbour sampling (which keeps or drops thin defects depending on where the sample
  grid falls) or "any overlap". The original evaluation code resized masks with bilinear PIL interpolation and
  its own threshold; numbers in this protocol are therefore close to, not bit-identical with, the paper's.

Every result carries the protocol name so a report can say which one it used.

Masks must be binary: ``bool``, or numbers taking only the values {0, 1} or {0, 255}. Anything else is refused
(anomalib silently thresholded soft masks, issue #1006); binarise explicitly when reading
(:func:`goodsad_studio.dataset.imageio.read_mask` with ``binarize=True``).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from goodsad_studio.errors import MaskError, StudioError

PROTOCOLS = ("native", "224")
PAPER_SIZE = 224

Name = str | Path | None


def check_protocol(protocol: str) -> str:
    """Return ``protocol`` if known, else raise ``ValueError`` naming the choices."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown evaluation protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    return protocol


def as_score_map(anomaly_map: np.ndarray, name: Name = None) -> np.ndarray:
    """``anomaly_map`` as a 2-D ``float32``/``float64`` array (not copied when it already is one; a ``(1, H, W)`` or
    ``(H, W, 1)`` array is squeezed); raises :class:`StudioError` naming ``name`` for other shapes or non-finite
    values."""
    scores = np.asarray(anomaly_map)
    if scores.ndim == 3 and 1 in (scores.shape[0], scores.shape[-1]):
        scores = scores.reshape(scores.shape[1:] if scores.shape[0] == 1 else scores.shape[:2])
    if scores.ndim != 2 or scores.size == 0:
        raise StudioError(f"an anomaly map must be a non-empty 2-D array, got shape {scores.shape}", name)
    if scores.dtype not in (np.float32, np.float64):
        if not (np.issubdtype(scores.dtype, np.number) or scores.dtype == bool):
            raise StudioError(f"an anomaly map must hold numbers, got dtype {scores.dtype}", name)
        scores = scores.astype(np.float64 if scores.dtype.itemsize > 2 else np.float32)
    bad = int(np.count_nonzero(~np.isfinite(scores)))
    if bad:
        raise StudioError(f"anomaly map holds {bad} non-finite values (nan or inf)", name)
    return scores


def as_binary_mask(gt_mask: np.ndarray, name: Name = None) -> np.ndarray:
    """A 2-D ``bool`` mask from bool or {0, 1} / {0, 255} numbers; :class:`MaskError` naming ``name`` otherwise."""
    mask = np.asarray(gt_mask)
    if mask.ndim == 3 and mask.shape[-1] == 1:
        mask = mask[:, :, 0]
    if mask.ndim != 2 or mask.size == 0:
        raise MaskError(f"a ground-truth mask must be a non-empty 2-D array, got shape {mask.shape}", name)
    if mask.dtype == bool:
        return mask
    if not np.issubdtype(mask.dtype, np.number):
        raise MaskError(f"a ground-truth mask must hold numbers, got dtype {mask.dtype}", name)
    if mask.dtype == np.uint8:  # the usual case; bincount avoids sorting 9 Mpx
        values = np.flatnonzero(np.bincount(mask.ravel(), minlength=256))
    else:
        values = np.unique(mask)
    if set(values.tolist()) <= {0, 1} or set(values.tolist()) <= {0, 255}:
        binary: np.ndarray = mask != 0
        return binary
    shown = ", ".join(f"{v:g}" for v in values[:8].astype(np.float64)) + (", ..." if values.size > 8 else "")
    raise MaskError(
        f"ground-truth mask is not binary (values: {shown}); expected bool, 0/1 or 0/255 — binarise it explicitly "
        "(goodsad-studio repair-masks ROOT --binarise 127, with --dry-run to preview)",
        name,
    )


def resize_map(scores: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``scores`` resized to ``shape`` (height, width): bilinear when enlarging, area-averaging when shrinking."""
    if scores.shape == tuple(shape):
        return scores
    shrinking = shape[0] <= scores.shape[0] and shape[1] <= scores.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(scores, (int(shape[1]), int(shape[0])), interpolation=interpolation)


def resize_mask_majority(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A bool mask resized to ``shape``: a target pixel is anomalous when the defect covers >= half its area."""
    if mask.shape == tuple(shape):
        return mask
    coverage = cv2.resize(mask.astype(np.float32), (int(shape[1]), int(shape[0])), interpolation=cv2.INTER_AREA)
    return coverage >= 0.5


def align(
    anomaly_map: np.ndarray,
    gt_mask: np.ndarray | None,
    protocol: str = "native",
    *,
    image_shape: tuple[int, int] | None = None,
    name: Name = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Map and mask at the comparison resolution of ``protocol``: ``(scores float 2-D, mask bool, same shape)``.

    ``gt_mask`` ``None`` means "no anomalous pixel" (a good image); then ``image_shape`` (height, width) gives the
    native size, which the ``"native"`` protocol needs so that good images weigh as many pixels as they have.
    A mask whose aspect ratio differs from the map's is accepted (the map is taken to cover the whole image).
    """
    check_protocol(protocol)
    scores = as_score_map(anomaly_map, name)
    if gt_mask is not None:
        mask = as_binary_mask(gt_mask, name)
        if image_shape is not None and tuple(image_shape[:2]) != mask.shape:
            raise MaskError(
                f"mask is {mask.shape[1]}x{mask.shape[0]} but the image is "
                f"{image_shape[1]}x{image_shape[0]} (width x height)",
                name,
            )
        native = mask.shape
    elif image_shape is not None:
        native = (int(image_shape[0]), int(image_shape[1]))
        mask = None
    elif protocol == "native":
        raise StudioError(
            "no ground-truth mask and no image size: the native protocol needs the image size "
            "of a good image (pass image_shape)",
            name,
        )
    else:
        native, mask = scores.shape, None
    target = native if protocol == "native" else (PAPER_SIZE, PAPER_SIZE)
    scores = resize_map(scores, target)
    if mask is None:
        return scores, np.zeros(target, dtype=bool)
    return scores, (mask if protocol == "native" else resize_mask_majority(mask, target))
