"""Metrics of one image, for the GUI's inspector: threshold-free ranking metrics and thresholded overlap.

:func:`per_image_metrics` returns, for one anomaly map against its mask at a chosen threshold:

* ``pixel_auroc``, ``pixel_ap`` and ``pro`` (AUPRO@0.3) of this image alone. They do not depend on the threshold,
  and are ``nan`` when they are undefined: AUROC and AP when the mask is empty (a good image) or covers the
  whole image (no normal pixel; AP is still defined then but meaningless, so it is ``nan`` too), PRO likewise.
* ``iou`` and ``dice`` of the prediction ``score >= threshold`` against the mask (``nan`` when both are empty:
  0/0, nothing to overlap; a good image with no false positive shows ``fp == 0``), and the four pixel counts.
* ``label_map``: ``uint8`` at the comparison resolution, :data:`LABEL_TN` (0) for correct normal pixels,
  :data:`LABEL_TP` (1), :data:`LABEL_FP` (2), :data:`LABEL_FN` (3), for the GUI to colour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from goodsad_studio.errors import StudioError
from goodsad_studio.metrics.accumulator import PixelAccumulator
from goodsad_studio.metrics.curves import auroc_from_counts, average_precision_from_counts
from goodsad_studio.metrics.pro import PRO_FPR_LIMIT, aupro_from_counts
from goodsad_studio.metrics.resolution import Name, align

LABEL_TN, LABEL_TP, LABEL_FP, LABEL_FN = 0, 1, 2, 3
PER_IMAGE_EXACT_LIMIT = 1_000_000  # above this, binned counts: 0.3 s instead of 3 s for a 3000x3000 image


@dataclass(frozen=True)
class ImageMetrics:
    """Metrics of one image (see the module docstring); ``label_map`` is left out of :meth:`to_dict`."""

    protocol: str
    threshold: float
    pixel_auroc: float
    pixel_ap: float
    pro: float
    iou: float
    dice: float
    tp: int
    fp: int
    fn: int
    tn: int
    n_regions: int
    label_map: np.ndarray = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name in (
            "protocol",
            "threshold",
            "pixel_auroc",
            "pixel_ap",
            "pro",
            "iou",
            "dice",
            "tp",
            "fp",
            "fn",
            "tn",
            "n_regions",
        ):
            value = getattr(self, name)
            data[name] = None if isinstance(value, float) and not math.isfinite(value) else value
        return data


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else float("nan")


def label_map(prediction: np.ndarray, gt_mask: np.ndarray) -> np.ndarray:
    """``uint8`` map of :data:`LABEL_TN`/``TP``/``FP``/``FN` from two bool arrays of one shape."""
    lookup = np.array([LABEL_TN, LABEL_FN, LABEL_FP, LABEL_TP], dtype=np.uint8)  # index = 2*pred + gt
    code = prediction.view(np.uint8) * np.uint8(2)
    code += gt_mask.view(np.uint8)
    labels: np.ndarray = lookup[code]
    return labels


def per_image_metrics(
    anomaly_map: np.ndarray,
    gt_mask: np.ndarray | None,
    threshold: float,
    *,
    protocol: str = "native",
    image_shape: tuple[int, int] | None = None,
    pro_limit: float = PRO_FPR_LIMIT,
    exact_limit: int = PER_IMAGE_EXACT_LIMIT,
    name: Name = None,
) -> ImageMetrics:
    """Metrics of one map against its mask (``None``: a good image of ``image_shape``) at ``threshold``.

    The map is resized to the protocol's resolution (native: the mask's); images above ``exact_limit`` pixels
    use binned counts for AUROC/AP/PRO (with a computed error bound, typically under 1e-5; see
    :mod:`goodsad_studio.metrics.binning`).
    """
    threshold = float(threshold)
    if math.isnan(threshold):
        raise StudioError("threshold is nan", name)
    scores, mask = align(anomaly_map, gt_mask, protocol, image_shape=image_shape, name=name)
    accumulator = PixelAccumulator(protocol=protocol, exact_limit=exact_limit)
    accumulator.update_aligned(scores, mask)
    counts = accumulator.counts()
    defined = 0 < counts.n_pos < mask.size
    prediction = scores >= threshold
    labels = label_map(prediction, mask)
    per_label = np.bincount(labels.ravel(), minlength=4)
    tp, fp, fn, tn = (int(per_label[k]) for k in (LABEL_TP, LABEL_FP, LABEL_FN, LABEL_TN))
    return ImageMetrics(
        protocol=protocol,
        threshold=threshold,
        pixel_auroc=auroc_from_counts(counts) if defined else float("nan"),
        pixel_ap=average_precision_from_counts(counts) if defined else float("nan"),
        pro=aupro_from_counts(counts, pro_limit) if defined else float("nan"),
        iou=_ratio(tp, tp + fp + fn),
        dice=_ratio(2 * tp, 2 * tp + fp + fn),
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        n_regions=accumulator.n_regions,
        label_map=labels,
    )
