"""The evaluation's curves as they are drawn, and the area under what is drawn.

A :class:`~goodsad_studio.metrics.results.CategoryResult` keeps five curves (``image_roc``, ``image_pr``,
``pixel_roc``, ``pixel_pr``, ``pro``) as operating points. Drawing them so that the area under the drawn line is
the reported metric needs each metric's own definition (:mod:`.curves`, :mod:`.pro`):

* ROC: the points joined by straight lines; AUROC is their trapezoidal area (:func:`trapezoid_area`).
* PR: average precision is a step sum, ``sum_k (R_k - R_{k-1}) * P_k`` with ``R_0 = 0``, not the area under the
  straight line through the points (that one over-estimates it). So the drawn curve is the step
  (:func:`pr_steps`): precision ``P_k`` held over the recall interval ``(R_{k-1}, R_k]``; its area is the AP.
* PRO: drawn for ``FPR in [0, limit]`` (0.3, as in the papers), ending at a point interpolated exactly at the
  limit (:func:`pro_up_to`); AUPRO is its trapezoidal area divided by ``limit``.

Where a curve holds every operating point (up to :data:`~goodsad_studio.metrics.results.MAX_CURVE_POINTS`, e.g.
the image curves of a category of up to a thousand images) the drawn area equals the metric to rounding. Pixel
curves are decimated for storage, so the area under them differs slightly from the metric (which is computed from
every pixel): plots therefore show the reported metric, and :attr:`PlottedCurve.area` says what the drawn line
encloses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from goodsad_studio.metrics.results import CategoryResult, Curve


@dataclass(frozen=True)
class CurvePlot:
    """How one of the result's curves is drawn: its key in ``CategoryResult.curves``, title, axis labels, the
    metric that is its area (an attribute of :class:`CategoryResult`) and how a legend names that metric."""

    key: str
    title: str
    x_label: str
    y_label: str
    metric: str
    metric_label: str


CURVE_PLOTS = (
    CurvePlot("image_roc", "Image ROC", "false positive rate", "true positive rate", "image_auroc", "AUROC"),
    CurvePlot("image_pr", "Image PR", "recall", "precision", "image_aupr", "AP"),
    CurvePlot("pixel_roc", "Pixel ROC", "false positive rate", "true positive rate", "pixel_auroc", "AUROC"),
    CurvePlot("pixel_pr", "Pixel PR", "recall", "precision", "pixel_aupr", "AP"),
    CurvePlot("pro", "PRO", "false positive rate (normal pixels)", "per-region overlap", "pro", "AUPRO"),
)


@dataclass(frozen=True)
class PlottedCurve:
    """A curve ready to draw: the polyline ``x``, ``y``, the reported ``value`` of its metric (``nan`` when
    undefined), a legend text for it, and ``area``: the area under the polyline, in the metric's units."""

    x: np.ndarray
    y: np.ndarray
    value: float
    legend: str
    area: float


def trapezoid_area(x: np.ndarray, y: np.ndarray) -> float:
    """Area under the straight-line polyline through ``(x, y)`` (``x`` non-decreasing); 0 for fewer than two
    points."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.size < 2:
        return 0.0
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1])) * 0.5)


def step_area(recall: np.ndarray, precision: np.ndarray) -> float:
    """``sum_k (R_k - R_{k-1}) * P_k`` with ``R_0 = 0``: average precision of a (recall ascending) PR curve."""
    recall = np.asarray(recall, dtype=np.float64)
    precision = np.asarray(precision, dtype=np.float64)
    if recall.size == 0:
        return 0.0
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def pr_steps(recall: np.ndarray, precision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The step polyline of a PR curve: from ``(0, P_1)`` each precision held over its recall interval
    ``(R_{k-1}, R_k]``, then a vertical drop to the next. Its trapezoidal area is :func:`step_area`."""
    recall = np.asarray(recall, dtype=np.float64)
    precision = np.asarray(precision, dtype=np.float64)
    if recall.size == 0:
        return recall, precision
    starts = np.concatenate([[0.0], recall[:-1]])
    x = np.column_stack([starts, recall]).ravel()
    y = np.repeat(precision, 2)
    return x, y


def pro_up_to(fpr: np.ndarray, pro: np.ndarray, limit: float) -> tuple[np.ndarray, np.ndarray]:
    """The part of a PRO curve (``fpr`` non-decreasing, from 0) with ``FPR <= limit``, ending exactly at
    ``limit`` by linear interpolation (as :func:`goodsad_studio.metrics.pro.integrate_pro` integrates it)."""
    if not 0.0 < limit <= 1.0:
        raise ValueError(f"the FPR limit must be in (0, 1], got {limit}")
    fpr = np.asarray(fpr, dtype=np.float64)
    pro = np.asarray(pro, dtype=np.float64)
    inside = int(np.searchsorted(fpr, limit, side="right"))
    x, y = fpr[:inside], pro[:inside]
    if 0 < inside < fpr.size and x[-1] < limit:
        x0, y0, x1, y1 = x[-1], y[-1], fpr[inside], pro[inside]
        x = np.append(x, limit)
        y = np.append(y, y0 + (y1 - y0) * (limit - x0) / (x1 - x0))
    return x, y


def drawn(curve: Curve, key: str, limit: float) -> tuple[np.ndarray, np.ndarray, float]:
    """The polyline that draws ``curve`` (stored under ``key``) and the area under it in its metric's units."""
    if key.endswith("_pr"):
        x, y = pr_steps(curve.x, curve.y)
        return x, y, step_area(curve.x, curve.y)
    if key == "pro":
        x, y = pro_up_to(curve.x, curve.y, limit)
        return x, y, trapezoid_area(x, y) / limit
    return curve.x, curve.y, trapezoid_area(curve.x, curve.y)


def plotted_curve(result: CategoryResult, plot: CurvePlot) -> PlottedCurve | None:
    """``plot``'s curve of ``result`` ready to draw, or None when the result has no such curve (no masks, a
    class absent)."""
    curve = result.curves.get(plot.key)
    if curve is None or curve.x.size == 0:
        return None
    x, y, area = drawn(curve, plot.key, result.pro_limit)
    value = float(getattr(result, plot.metric))
    label = plot.metric_label + (f"@{result.pro_limit:g}" if plot.key == "pro" else "")
    shown = f"{value:.4f}" if math.isfinite(value) else "n/a"
    return PlottedCurve(x, y, value, f"{label} {shown}", area)
