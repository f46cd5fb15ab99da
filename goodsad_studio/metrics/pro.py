"""PRO (per-region overlap) and its area up to a false-positive-rate limit (AUPRO@0.3).

Definition (Bergmann et al., "The MVTec Anomaly Detection Dataset", IJCV 2021, and MVTec's evaluation code):

* Ground-truth regions are the connected components of each mask, with **8-connectivity** (MVTec's code calls
  ``scipy.ndimage.label`` with a 3x3 structure of ones; scipy's default would be 4-connectivity, so we state
  it). Two defects that touch diagonally are one region.
* At a threshold ``t`` the overlap of a region is the fraction of its pixels with ``score >= t``;
  ``PRO(t)`` is the mean over all regions of all images (each region counts once, whatever its size).
* ``FPR(t)`` is the fraction of normal pixels (outside every region, over all images, good images included)
  with ``score >= t``.
* The curve runs through (0, 0) and one point per distinct score (ties merged, as in MVTec's code), ending at
  (1, 1). AUPRO is its trapezoidal area over ``FPR in [0, limit]``, with the curve linearly interpolated exactly
  at ``limit`` (MVTec's ``trapezoid(x_max=...)``), divided by ``limit``. Since PRO <= 1 and the integration
  interval is exactly ``limit`` wide, AUPRO lies in [0, 1] — the bound anomalib broke (issues #1651, #2442)
  by integrating past the limit or normalising by the last FPR reached.

PRO is ``nan`` when there is no region or no normal pixel.
"""

from __future__ import annotations

import cv2
import numpy as np

from goodsad_studio.metrics.curves import RankCounts, rank_counts_from_groups

CONNECTIVITY = 8
PRO_FPR_LIMIT = 0.3


def label_regions(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Connected ground-truth regions of a bool mask: ``(labels int32 HxW, 0 = normal, 1..n; n)``."""
    n_labels, labels = cv2.connectedComponents(
        np.ascontiguousarray(mask, dtype=np.uint8), connectivity=CONNECTIVITY, ltype=cv2.CV_32S
    )
    return labels, int(n_labels) - 1


def region_weights(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """For each mask pixel (row-major order of ``mask[mask]``) ``1 / size of its region``; and the region count.

    Summing these weights over the pixels with ``score >= t`` gives the sum of region overlaps at ``t``.
    Only the bounding box of the mask is labelled (a 3000x3000 mask with small defects costs a few ms).
    """
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return np.zeros(0, dtype=np.float64), 0
    cols = np.flatnonzero(mask.any(axis=0))
    box = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    n_labels, labels, stats, _ = cv2.connectedComponentsWithStats(
        np.ascontiguousarray(box, dtype=np.uint8), connectivity=CONNECTIVITY, ltype=cv2.CV_32S
    )
    inverse_sizes = 1.0 / np.maximum(stats[:, cv2.CC_STAT_AREA], 1).astype(np.float64)
    return inverse_sizes[labels[box]], int(n_labels) - 1


def pro_curve_from_counts(counts: RankCounts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fpr, pro, thresholds)`` from (0, 0) at threshold ``+inf`` to (1, 1); empty when PRO is undefined."""
    if counts.pro is None or counts.n_regions == 0 or counts.n_neg == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    fpr = np.clip(np.concatenate([[0.0], counts.fp / counts.n_neg]), 0.0, 1.0)
    pro = np.clip(np.concatenate([[0.0], counts.pro / counts.n_regions]), 0.0, 1.0)
    fpr[-1] = pro[-1] = 1.0  # the lowest threshold takes every pixel: remove the rounding of the sums
    return fpr, pro, np.concatenate([[np.inf], counts.thresholds])


def integrate_pro(fpr: np.ndarray, pro: np.ndarray, limit: float = PRO_FPR_LIMIT) -> float:
    """Trapezoidal area of a (non-decreasing ``fpr``) curve over ``[0, limit]``, interpolated at ``limit``,
    divided by ``limit``; ``nan`` for an empty curve. The curve must start at ``fpr = 0``."""
    if not 0.0 < limit <= 1.0:
        raise ValueError(f"the FPR limit must be in (0, 1], got {limit}")
    fpr = np.asarray(fpr, dtype=np.float64)
    pro = np.asarray(pro, dtype=np.float64)
    if fpr.size == 0:
        return float("nan")
    inside = int(np.searchsorted(fpr, limit, side="right"))  # points with fpr <= limit
    x, y = fpr[:inside], pro[:inside]
    area = float(np.sum(np.diff(x) * (y[1:] + y[:-1]) * 0.5))
    if inside < fpr.size and x[-1] < limit:
        x0, y0, x1, y1 = x[-1], y[-1], fpr[inside], pro[inside]
        y_limit = y0 + (y1 - y0) * (limit - x0) / (x1 - x0)
        area += 0.5 * (y0 + y_limit) * (limit - x0)
    return float(np.clip(area / limit, 0.0, 1.0))


def aupro_from_counts(counts: RankCounts, limit: float = PRO_FPR_LIMIT) -> float:
    """AUPRO up to ``limit``, normalised to [0, 1] (``nan`` without regions or normal pixels)."""
    fpr, pro, _ = pro_curve_from_counts(counts)
    return integrate_pro(fpr, pro, limit)


def pro_counts(anomaly_maps: list[np.ndarray], masks: list[np.ndarray]) -> RankCounts:
    """Exact :class:`RankCounts` with PRO weights for maps and bool masks of equal shapes (small data only;
    for a whole category use :class:`goodsad_studio.metrics.accumulator.PixelAccumulator`)."""
    pos, neg, weights, n_regions = [], [], [], 0
    for anomaly_map, mask in zip(anomaly_maps, masks, strict=True):
        anomaly_map = np.asarray(anomaly_map, dtype=np.float64)
        mask = np.asarray(mask, dtype=bool)
        if anomaly_map.shape != mask.shape:
            raise ValueError(f"anomaly map {anomaly_map.shape} and mask {mask.shape} differ in shape")
        w, n = region_weights(mask)
        pos.append(anomaly_map[mask])
        neg.append(anomaly_map[~mask])
        weights.append(w)
        n_regions += n
    return rank_counts_from_groups(
        np.concatenate(pos or [np.zeros(0)]),
        np.concatenate(neg or [np.zeros(0)]),
        np.concatenate(weights or [np.zeros(0)]),
        n_regions,
    )


def aupro(anomaly_maps: list[np.ndarray], masks: list[np.ndarray], limit: float = PRO_FPR_LIMIT) -> float:
    """AUPRO@``limit`` of maps against bool masks of the same shapes (exact; normalised to [0, 1])."""
    return aupro_from_counts(pro_counts(anomaly_maps, masks), limit)
