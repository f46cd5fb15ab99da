"""Evaluation metrics (numpy + OpenCV only): image-level and pixel-level AUROC / AP / F1-max, PRO (AUPRO@0.3),
per-image metrics for the inspector, and the paper-style report.

Entry points:

* :class:`CategoryEvaluator` — feed (score, label, map, mask) per test image, get a :class:`CategoryResult`.
* :func:`per_image_metrics` — one image at a threshold: AUROC/AP/PRO, IoU/Dice and a TP/FP/FN label map.
* :func:`auroc`, :func:`average_precision`, :func:`f1_max`, :func:`aupro` — the plain functions on arrays.
* :mod:`goodsad_studio.metrics.report` — Table IV / Table V as markdown, CSV, JSON.
* :func:`plotted_curve` — a result's ROC / PR / PRO curve as drawn (PR as steps, PRO up to the FPR limit), whose
  area is the reported metric (:mod:`.curve_plots`).

Definitions live in :mod:`.curves` (ranking metrics, scikit-learn-identical), :mod:`.pro` (PRO, 8-connected
regions, integration to FPR 0.3), :mod:`.resolution` (the ``"native"`` / ``"224"`` protocols) and
:mod:`.binning` (bounded-memory counts and their error bounds).
"""

from goodsad_studio.metrics.accumulator import PixelAccumulator
from goodsad_studio.metrics.curve_plots import CURVE_PLOTS, CurvePlot, PlottedCurve, plotted_curve
from goodsad_studio.metrics.curves import RankCounts, auroc, average_precision, f1_max, pr_curve, rank_counts, roc_curve
from goodsad_studio.metrics.evaluate import CategoryEvaluator, image_metrics
from goodsad_studio.metrics.per_image import LABEL_FN, LABEL_FP, LABEL_TN, LABEL_TP, ImageMetrics, per_image_metrics
from goodsad_studio.metrics.pro import CONNECTIVITY, PRO_FPR_LIMIT, aupro, label_regions
from goodsad_studio.metrics.resolution import PROTOCOLS, align
from goodsad_studio.metrics.results import CategoryResult, Counts, Curve

__all__ = [
    "CONNECTIVITY",
    "CURVE_PLOTS",
    "LABEL_FN",
    "LABEL_FP",
    "LABEL_TN",
    "LABEL_TP",
    "PROTOCOLS",
    "PRO_FPR_LIMIT",
    "CategoryEvaluator",
    "CategoryResult",
    "Counts",
    "Curve",
    "CurvePlot",
    "ImageMetrics",
    "PixelAccumulator",
    "PlottedCurve",
    "RankCounts",
    "align",
    "aupro",
    "auroc",
    "average_precision",
    "f1_max",
    "image_metrics",
    "label_regions",
    "per_image_metrics",
    "plotted_curve",
    "pr_curve",
    "rank_counts",
    "roc_curve",
]
