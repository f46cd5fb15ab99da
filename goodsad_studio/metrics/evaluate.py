"""Evaluate one method on one category: feed images one at a time, get a :class:`CategoryResult`.

Typical use by the engine::

    evaluator = CategoryEvaluator(protocol="native")
    for record, score, anomaly_map in predictions:            # maps may be None for score-only methods
        mask = read_mask(record.mask_path) if record.mask_path else None
        evaluator.add(score, record.defect != "good", anomaly_map, mask,
                      image_shape=(height, width), name=record.key)
    result = evaluator.result()

Image labels come from the caller (the folder: good or a defect), never from the mask, so an anomalous image with
an empty or missing mask cannot silently become "good". Pixel metrics use the masks; an anomalous image without a
mask is refused when maps are given.
"""

from __future__ import annotations

import math

import numpy as np

from goodsad_studio.errors import MaskError, StudioError
from goodsad_studio.metrics.accumulator import DEFAULT_EXACT_LIMIT, PixelAccumulator
from goodsad_studio.metrics.binning import DEFAULT_BINS
from goodsad_studio.metrics.curves import (
    RankCounts,
    auroc_from_counts,
    average_precision_from_counts,
    f1_max_from_counts,
    pr_from_counts,
    rank_counts,
    roc_from_counts,
)
from goodsad_studio.metrics.pro import PRO_FPR_LIMIT, integrate_pro, pro_curve_from_counts
from goodsad_studio.metrics.resolution import Name, check_protocol
from goodsad_studio.metrics.results import CategoryResult, Counts, Curve


def _ranking_metrics(counts: RankCounts, prefix: str) -> tuple[dict[str, float], dict[str, Curve]]:
    f1, threshold = f1_max_from_counts(counts)
    values = {
        f"{prefix}_auroc": auroc_from_counts(counts),
        f"{prefix}_aupr": average_precision_from_counts(counts),
        f"{prefix}_f1max": f1,
        f"{prefix}_f1_threshold": threshold,
    }
    curves = {}
    fpr, tpr, roc_thresholds = roc_from_counts(counts)
    if fpr.size:
        curves[f"{prefix}_roc"] = Curve.build(fpr, tpr, roc_thresholds, "false positive rate", "true positive rate")
    precision, recall, pr_thresholds = pr_from_counts(counts)
    if recall.size:
        curves[f"{prefix}_pr"] = Curve.build(recall, precision, pr_thresholds, "recall", "precision")
    return values, curves


def image_metrics(scores: np.ndarray, labels: np.ndarray, *, protocol: str = "native") -> CategoryResult:
    """Image-level metrics only (AUROC, AP, F1-max with curves) of ``scores`` against bool ``labels``."""
    counts = rank_counts(scores, labels)
    values, curves = _ranking_metrics(counts, "image")
    return CategoryResult(
        protocol=check_protocol(protocol),
        counts=Counts(
            n_images=counts.n_pos + counts.n_neg, n_anomalous_images=counts.n_pos, n_normal_images=counts.n_neg
        ),
        curves=curves,
        image_auroc=values["image_auroc"],
        image_aupr=values["image_aupr"],
        image_f1max=values["image_f1max"],
        image_f1_threshold=values["image_f1_threshold"],
    )


class CategoryEvaluator:
    """Accumulates image scores and (optionally) pixel maps of one category, then computes every metric.

    ``protocol``: ``"native"`` or ``"224"`` (:mod:`goodsad_studio.metrics.resolution`). ``pixel_mode``,
    ``exact_limit``, ``n_bins``, ``score_range``: see :class:`PixelAccumulator`. ``pro_limit``: the FPR up to
    which PRO is integrated (0.3 as in the papers).
    """

    def __init__(
        self,
        *,
        protocol: str = "native",
        pixel_mode: str = "auto",
        exact_limit: int = DEFAULT_EXACT_LIMIT,
        n_bins: int = DEFAULT_BINS,
        score_range: tuple[float, float] | None = None,
        pro_limit: float = PRO_FPR_LIMIT,
    ):
        if not 0.0 < pro_limit <= 1.0:
            raise ValueError(f"pro_limit must be in (0, 1], got {pro_limit}")
        self.protocol = check_protocol(protocol)
        self.pro_limit = float(pro_limit)
        self._pixels = PixelAccumulator(
            protocol=protocol, mode=pixel_mode, exact_limit=exact_limit, n_bins=n_bins, score_range=score_range
        )
        self._scores: list[float] = []
        self._labels: list[bool] = []
        self._with_maps: bool | None = None

    def add(
        self,
        score: float,
        label: bool,
        anomaly_map: np.ndarray | None = None,
        gt_mask: np.ndarray | None = None,
        *,
        image_shape: tuple[int, int] | None = None,
        name: Name = None,
    ) -> None:
        """Add one test image: its image score, whether it is anomalous, and optionally its anomaly map and mask.

        Either every image has a map or none has. ``gt_mask`` ``None`` on a good image means no anomalous pixel
        (give ``image_shape`` for the native protocol); on an anomalous image with a map it is an error.
        """
        score = float(score)
        if not math.isfinite(score):
            raise StudioError(f"image score is not finite ({score})", name)
        with_map = anomaly_map is not None
        if self._with_maps is not None and with_map != self._with_maps:
            raise StudioError("some images have anomaly maps and others do not; pixel metrics need all or none", name)
        if anomaly_map is not None:
            if label and gt_mask is None:
                raise MaskError("anomalous image has no ground-truth mask; pixel metrics need one", name)
            self._pixels.update(anomaly_map, gt_mask, image_shape=image_shape, name=name)
        self._with_maps = with_map
        self._scores.append(score)
        self._labels.append(bool(label))

    def result(self) -> CategoryResult:
        """Every metric over the images added so far (``nan`` where undefined, e.g. pixel metrics without maps)."""
        image_counts = rank_counts(np.asarray(self._scores, dtype=np.float64), np.asarray(self._labels, dtype=bool))
        values, curves = _ranking_metrics(image_counts, "image")
        n_anomalous = int(sum(self._labels))
        counts = Counts(
            n_images=len(self._labels), n_anomalous_images=n_anomalous, n_normal_images=len(self._labels) - n_anomalous
        )
        pixel_mode, bounds = "none", {}
        if self._with_maps:
            pixels = self._pixels
            pixel_counts = pixels.counts()
            pixel_values, pixel_curves = _ranking_metrics(pixel_counts, "pixel")
            values.update(pixel_values)
            curves.update(pixel_curves)
            fpr, pro, thresholds = pro_curve_from_counts(pixel_counts)
            values["pro"] = integrate_pro(fpr, pro, self.pro_limit)
            if fpr.size:
                curves["pro"] = Curve.build(
                    fpr, pro, thresholds, "false positive rate (normal pixels)", "per-region overlap"
                )
            counts = Counts(
                n_images=counts.n_images,
                n_anomalous_images=counts.n_anomalous_images,
                n_normal_images=counts.n_normal_images,
                n_pixels=pixels.n_pixels,
                n_anomalous_pixels=pixels.n_anomalous_pixels,
                n_regions=pixels.n_regions,
            )
            pixel_mode = pixels.mode
            bounds = pixels.error_bounds(pixel_counts, self.pro_limit)
        return CategoryResult(
            protocol=self.protocol,
            pro_limit=self.pro_limit,
            counts=counts,
            pixel_mode=pixel_mode,
            error_bounds=bounds,
            curves=curves,
            **values,
        )
