"""Pixel-level counts over a whole category, fed one (anomaly map, mask) pair at a time with bounded memory.

A GoodsAD category at native resolution is about 1000 images of 3000x3000, 9e9 pixels: far too many to keep.
:class:`PixelAccumulator` keeps every pixel score while the total stays under ``exact_limit`` (then the metrics
are exact, sorted like scikit-learn) and otherwise switches to :class:`~goodsad_studio.metrics.binning.
AdaptiveHistogram` (2^16 equal-width bins by default, 1.5 MiB whatever the number of images) whose metrics
come with a computed error bound (:meth:`PixelAccumulator.error_bounds`). PRO needs no per-region state: each
anomalous pixel adds ``1 / size of its region`` to a weighted histogram, and the number of regions is counted.
"""

from __future__ import annotations

import numpy as np

from goodsad_studio.metrics.binning import (
    DEFAULT_BINS,
    AdaptiveHistogram,
    aupro_error_bound,
    auroc_error_bound,
    average_precision_error_bound,
)
from goodsad_studio.metrics.curves import RankCounts, rank_counts_from_groups
from goodsad_studio.metrics.pro import PRO_FPR_LIMIT, region_weights
from goodsad_studio.metrics.resolution import Name, align, check_protocol

DEFAULT_EXACT_LIMIT = 10_000_000
MODES = ("auto", "exact", "binned")


class PixelAccumulator:
    """Collects pixel scores against ground truth for pixel AUROC / AP / F1 and PRO.

    ``mode``: ``"auto"`` (exact until ``exact_limit`` pixels, then binned), ``"exact"`` (always; memory grows
    with the data, ~8 bytes per normal and 16 per anomalous pixel) or ``"binned"`` (from the first pixel).
    ``n_bins`` and ``score_range`` (an expected score range; values outside it are still handled) tune the bins.
    """

    def __init__(
        self,
        *,
        protocol: str = "native",
        mode: str = "auto",
        exact_limit: int = DEFAULT_EXACT_LIMIT,
        n_bins: int = DEFAULT_BINS,
        score_range: tuple[float, float] | None = None,
    ):
        if mode not in MODES:
            raise ValueError(f"unknown accumulator mode {mode!r}; choose one of {', '.join(MODES)}")
        self.protocol = check_protocol(protocol)
        self._requested_mode = mode
        self._exact_limit = int(exact_limit)
        self._n_bins = n_bins
        self._score_range = score_range
        self._neg: list[np.ndarray] = []
        self._pos: list[np.ndarray] = []
        self._weights: list[np.ndarray] = []
        self._histogram: AdaptiveHistogram | None = None
        self.n_images = 0
        self.n_pixels = 0
        self.n_anomalous_pixels = 0
        self.n_regions = 0
        if mode == "binned":
            self._histogram = AdaptiveHistogram(n_bins, score_range)

    @property
    def mode(self) -> str:
        """``"exact"`` or ``"binned"``: how the counts are held now."""
        return "exact" if self._histogram is None else "binned"

    def update(
        self,
        anomaly_map: np.ndarray,
        gt_mask: np.ndarray | None = None,
        *,
        image_shape: tuple[int, int] | None = None,
        name: Name = None,
    ) -> None:
        """Add one image: its anomaly map (any resolution) and its mask (``None`` for a good image, then
        ``image_shape`` is needed for the native protocol); both are brought to the protocol's resolution
        (:func:`goodsad_studio.metrics.resolution.align`). ``name`` (a path or key) goes into error messages."""
        scores, mask = align(anomaly_map, gt_mask, self.protocol, image_shape=image_shape, name=name)
        self.update_aligned(scores, mask)

    def update_aligned(self, scores: np.ndarray, mask: np.ndarray) -> None:
        """Add a map and a bool mask already at the comparison resolution (same shape, finite scores)."""
        if scores.shape != mask.shape:
            raise ValueError(f"scores {scores.shape} and mask {mask.shape} differ in shape")
        weights, n_regions = region_weights(mask)
        n_anomalous = int(weights.size)
        self.n_images += 1
        self.n_pixels += int(mask.size)
        self.n_anomalous_pixels += n_anomalous
        self.n_regions += n_regions
        if self._histogram is None and self._requested_mode == "auto" and self.n_pixels > self._exact_limit:
            self._switch_to_bins()
        if self._histogram is not None:
            self._histogram.add(scores, mask if n_anomalous else None, weights)
            return
        if n_anomalous:
            self._pos.append(scores[mask])
            self._weights.append(weights)
            self._neg.append(scores[~mask])
        else:
            self._neg.append(scores.ravel().copy())

    def _switch_to_bins(self) -> None:
        histogram = AdaptiveHistogram(self._n_bins, self._score_range)
        for chunk in self._neg:
            histogram.add(chunk)
        for chunk, weights in zip(self._pos, self._weights, strict=True):
            histogram.add(chunk, np.ones(chunk.shape, dtype=bool), weights)
        self._neg, self._pos, self._weights = [], [], []
        self._histogram = histogram

    def counts(self) -> RankCounts:
        """The ranking counts (exact or binned) with PRO weights and region count."""
        if self._histogram is not None:
            return self._histogram.counts(self.n_regions)
        empty = np.zeros(0, dtype=np.float64)
        return rank_counts_from_groups(
            np.concatenate(self._pos) if self._pos else empty,
            np.concatenate(self._neg) if self._neg else empty,
            np.concatenate(self._weights) if self._weights else empty,
            self.n_regions,
        )

    def error_bounds(self, counts: RankCounts | None = None, pro_limit: float = PRO_FPR_LIMIT) -> dict[str, float]:
        """Upper bounds on the absolute error of ``pixel_auroc``, ``pixel_aupr`` and ``pro`` (0 when exact,
        ``nan`` where the metric is undefined). Pass ``counts`` to avoid recomputing them."""
        counts = self.counts() if counts is None else counts
        return {
            "pixel_auroc": auroc_error_bound(counts),
            "pixel_aupr": average_precision_error_bound(counts),
            "pro": aupro_error_bound(counts, pro_limit),
        }
