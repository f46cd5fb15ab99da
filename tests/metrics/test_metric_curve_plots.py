"""The curves as drawn (metrics.curve_plots): hand-computed ROC / PR steps / PRO cut at the FPR limit, and the area
under each drawn curve against the reported AUROC / AP / AUPRO of a whole evaluation (image and pixel level).

(Named test_metric_curve_plots.py: tests/metrics/test_metric_curves.py already holds the ranking-metric tests.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

from goodsad_studio.metrics import CURVE_PLOTS, CategoryEvaluator, CategoryResult, plotted_curve
from goodsad_studio.metrics.curve_plots import pr_steps, pro_up_to, step_area, trapezoid_area
from goodsad_studio.metrics.curves import pr_curve, roc_curve
from goodsad_studio.metrics.results import MAX_CURVE_POINTS

# Scores 0.9 0.8 0.7 0.6 with labels 1 0 1 0: at each threshold (descending) TP / FP grow as 1/0, 1/1, 2/1, 2/2.
SCORES = np.array([0.9, 0.8, 0.7, 0.6])
LABELS = np.array([1, 0, 1, 0])


def test_roc_of_a_hand_computed_case():
    fpr, tpr, _ = roc_curve(SCORES, LABELS)
    assert fpr.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert tpr.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    # the area: 0.5 (FPR 0 to 0.5 at TPR 0.5, a rectangle 0.5 x 0.5 = 0.25) + 0.5 x 1 = 0.75
    assert trapezoid_area(fpr, tpr) == 0.75


def test_pr_is_drawn_as_steps_whose_area_is_average_precision():
    precision, recall, _ = pr_curve(SCORES, LABELS)
    assert recall.tolist() == [0.5, 0.5, 1.0, 1.0]
    assert precision.tolist() == pytest.approx([1.0, 0.5, 2 / 3, 0.5])
    # AP = 0.5 x 1 + 0 x 0.5 + 0.5 x 2/3 + 0 x 0.5 = 5/6
    assert step_area(recall, precision) == pytest.approx(5 / 6, abs=1e-15)
    x, y = pr_steps(recall, precision)
    assert x.tolist() == [0.0, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0]
    assert y.tolist() == pytest.approx([1.0, 1.0, 0.5, 0.5, 2 / 3, 2 / 3, 0.5, 0.5])
    assert trapezoid_area(x, y) == pytest.approx(5 / 6, abs=1e-15)


def test_pro_is_cut_at_the_fpr_limit_with_an_interpolated_end():
    fpr = np.array([0.0, 0.1, 0.2, 0.4, 1.0])
    pro = np.array([0.0, 0.5, 0.6, 1.0, 1.0])
    x, y = pro_up_to(fpr, pro, 0.3)
    assert x.tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert y.tolist() == pytest.approx([0.0, 0.5, 0.6, 0.8])
    # 0.1 x 0.25 + 0.1 x 0.55 + 0.1 x 0.7 = 0.15, divided by the limit: 0.5
    assert trapezoid_area(x, y) / 0.3 == pytest.approx(0.5, abs=1e-15)
    exactly = pro_up_to(fpr, pro, 0.2)  # a point on the limit: nothing to interpolate
    assert exactly[0].tolist() == [0.0, 0.1, 0.2]
    with pytest.raises(ValueError, match="FPR limit"):
        pro_up_to(fpr, pro, 0.0)


def _evaluate(seed: int, n_images: int, size: int) -> CategoryResult:
    """A category of noisy maps with a blob of higher scores on each defective image."""
    rng = np.random.default_rng(seed)
    evaluator = CategoryEvaluator()
    for i in range(n_images):
        anomalous = i % 3 == 0
        mask = np.zeros((size, size), bool)
        if anomalous:
            y, x = rng.integers(1, size - 5, 2)
            mask[y : y + 4, x : x + 3] = True
        scores = rng.normal(0, 1, (size, size)) + 1.5 * mask
        evaluator.add(float(rng.normal(0.5 * anomalous, 0.5)), anomalous, scores, mask, image_shape=mask.shape)
    return evaluator.result()


def test_the_area_under_each_drawn_curve_is_the_reported_metric():
    result = _evaluate(seed=3, n_images=12, size=9)  # 972 pixels: every curve keeps all its points
    assert all(len(curve.x) < MAX_CURVE_POINTS for curve in result.curves.values())
    for plot in CURVE_PLOTS:
        drawn = plotted_curve(result, plot)
        assert drawn is not None, plot.key
        value = result.metric(plot.metric)
        assert 0.0 < value < 1.0 and drawn.value == value
        assert drawn.area == pytest.approx(value, abs=1e-6), plot.key
        assert drawn.legend.endswith(f"{value:.4f}")
    pro = plotted_curve(result, CURVE_PLOTS[-1])
    assert pro is not None and pro.x[-1] == pytest.approx(0.3) and pro.legend.startswith("AUPRO@0.3 ")


def test_decimated_pixel_curves_stay_close_to_the_metric():
    result = _evaluate(seed=5, n_images=30, size=40)  # 48000 pixels: the pixel curves are decimated
    assert len(result.curves["pixel_roc"].x) <= MAX_CURVE_POINTS
    for plot in CURVE_PLOTS:
        drawn = plotted_curve(result, plot)
        assert drawn is not None
        assert drawn.area == pytest.approx(result.metric(plot.metric), abs=2e-3), plot.key


def test_a_result_without_pixel_curves_has_nothing_to_draw_there():
    evaluator = CategoryEvaluator()
    for score, label in [(0.1, False), (0.7, True), (0.4, False), (0.9, True)]:
        evaluator.add(score, label)
    result = evaluator.result()
    keys = {plot.key: plot for plot in CURVE_PLOTS}
    assert plotted_curve(result, keys["pixel_roc"]) is None and plotted_curve(result, keys["pro"]) is None
    image_roc = plotted_curve(result, keys["image_roc"])
    assert image_roc is not None and image_roc.value == 1.0 and image_roc.area == 1.0
    back = CategoryResult.from_dict(result.to_dict())  # the saved evaluation draws the same curve
    again = plotted_curve(back, keys["image_roc"])
    assert again is not None and np.array_equal(again.x, image_roc.x) and not math.isnan(again.area)
