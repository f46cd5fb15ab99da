"""A category evaluation end to end: every metric, protocol, counts, curves and JSON round trip."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from goodsad_studio.errors import MaskError, StudioError
from goodsad_studio.metrics import CategoryEvaluator, CategoryResult, aupro, auroc, average_precision, image_metrics
from goodsad_studio.metrics.results import MAX_CURVE_POINTS


def category(seed: int = 0, n: int = 10, size: int = 48):
    """(score, label, low-resolution map, native mask) per image; anomalous images have blobs."""
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n):
        anomalous = i % 3 == 0
        mask = np.zeros((size, size), bool)
        if anomalous:
            y, x = rng.integers(4, size - 12, 2)
            mask[y : y + 8, x : x + 6] = True
        native = rng.normal(0, 1, (size, size)) + 2.0 * mask
        small = native.reshape(size // 4, 4, size // 4, 4).mean(axis=(1, 3)).astype(np.float32)
        items.append((float(small.max()), anomalous, small, mask))
    return items


def evaluate(items, **options) -> CategoryResult:
    evaluator = CategoryEvaluator(**options)
    for k, (score, label, small, mask) in enumerate(items):
        evaluator.add(score, label, small, mask if label else None, image_shape=mask.shape, name=f"img{k}")
    return evaluator.result()


def test_every_metric_matches_the_plain_functions_at_native_resolution():
    items = category()
    result = evaluate(items)
    scores = [s for s, _, _, _ in items]
    labels = [y for _, y, _, _ in items]
    assert result.image_auroc == auroc(scores, labels)
    assert result.image_aupr == average_precision(scores, labels)
    import cv2

    upsampled = [cv2.resize(m, (k.shape[1], k.shape[0]), interpolation=cv2.INTER_LINEAR) for _, _, m, k in items]
    pixels = np.concatenate([u.ravel() for u in upsampled])
    truth = np.concatenate([k.ravel() for _, _, _, k in items])
    assert result.pixel_auroc == pytest.approx(auroc(pixels, truth), abs=1e-12)
    assert result.pixel_aupr == pytest.approx(average_precision(pixels, truth), abs=1e-12)
    assert result.pro == pytest.approx(aupro(upsampled, [k for _, _, _, k in items]), abs=1e-12)
    assert result.protocol == "native" and result.pixel_mode == "exact"
    assert result.counts.n_images == 10 and result.counts.n_anomalous_images == 4
    assert result.counts.n_pixels == 10 * 48 * 48 and result.counts.n_regions == 4
    assert 0.0 < result.pixel_f1max <= 1.0 and math.isfinite(result.pixel_f1_threshold)


def test_binned_evaluation_agrees_with_exact_and_says_so():
    items = category(seed=1)
    exact, binned = evaluate(items), evaluate(items, pixel_mode="binned")
    assert binned.pixel_mode == "binned"
    for name in ("pixel_auroc", "pixel_aupr", "pro"):
        assert getattr(binned, name) == pytest.approx(getattr(exact, name), abs=1e-3)
        assert 0.0 <= binned.error_bounds[name] < 1e-3
    assert binned.image_auroc == exact.image_auroc


def test_protocol_is_carried_and_changes_the_pixel_count():
    result = evaluate(category(), protocol="224")
    assert result.protocol == "224"
    assert result.counts.n_pixels == 10 * 224 * 224
    assert result.to_dict()["protocol"] == "224"


def test_curves_are_decimated_and_the_result_survives_json():
    items = category(seed=2, n=6, size=96)
    result = evaluate(items)
    assert set(result.curves) == {"image_roc", "image_pr", "pixel_roc", "pixel_pr", "pro"}
    roc = result.curves["pixel_roc"]
    assert len(roc.x) <= MAX_CURVE_POINTS
    assert (roc.x[0], roc.y[0], roc.x[-1], roc.y[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(roc.x) >= 0)
    text = json.dumps(result.to_dict())  # nan/inf would make this invalid strict JSON
    assert "NaN" not in text and "Infinity" not in text
    back = CategoryResult.from_dict(json.loads(text))
    assert back.pro == result.pro and back.counts == result.counts
    assert np.array_equal(back.curves["pro"].y, result.curves["pro"].y)
    assert back.curves["pixel_roc"].thresholds[0] == math.inf


def test_score_only_methods_get_image_metrics_and_nan_pixel_metrics():
    evaluator = CategoryEvaluator()
    for score, label in [(0.1, False), (0.7, True), (0.4, False), (0.9, True)]:
        evaluator.add(score, label)
    result = evaluator.result()
    assert result.image_auroc == 1.0 and result.image_f1max == 1.0 and result.image_f1_threshold == 0.7
    assert math.isnan(result.pixel_auroc) and math.isnan(result.pro) and result.pixel_mode == "none"
    assert result.to_dict()["pro"] is None
    assert image_metrics([0.1, 0.7, 0.4, 0.9], [False, True, False, True]).image_auroc == 1.0


def test_inconsistent_input_is_refused():
    evaluator = CategoryEvaluator()
    evaluator.add(0.2, False, np.zeros((4, 4)), None, image_shape=(4, 4))
    with pytest.raises(StudioError, match="all or none"):
        evaluator.add(0.3, False)
    with pytest.raises(MaskError, match="no ground-truth mask") as error:
        evaluator.add(0.9, True, np.zeros((4, 4)), None, image_shape=(4, 4), name="test/cap_open/001002.jpg")
    assert "001002.jpg" in str(error.value)
    with pytest.raises(StudioError, match="not finite"):
        evaluator.add(float("nan"), False, np.zeros((4, 4)), None, image_shape=(4, 4))
    with pytest.raises(ValueError, match="pro_limit"):
        CategoryEvaluator(pro_limit=0.0)
