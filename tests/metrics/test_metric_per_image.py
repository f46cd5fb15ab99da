"""Per-image metrics for the inspector: label map, IoU/Dice by hand, undefined cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from goodsad_studio.metrics import LABEL_FN, LABEL_FP, LABEL_TN, LABEL_TP, per_image_metrics


def small_case():
    mask = np.zeros((4, 5), bool)
    mask[1:3, 1:3] = True  # 4 defect pixels
    scores = np.zeros((4, 5))
    scores[1, 1] = scores[1, 2] = scores[2, 1] = 0.9  # 3 found
    scores[0, 4] = 0.8  # a false positive
    scores[2, 2] = 0.2  # missed
    return scores, mask


def test_label_map_and_overlap_by_hand():
    scores, mask = small_case()
    result = per_image_metrics(scores, mask, 0.5)
    assert result.label_map.dtype == np.uint8 and result.label_map.shape == (4, 5)
    assert result.label_map[1, 1] == LABEL_TP and result.label_map[0, 4] == LABEL_FP
    assert result.label_map[2, 2] == LABEL_FN and result.label_map[3, 0] == LABEL_TN
    assert (result.tp, result.fp, result.fn, result.tn) == (3, 1, 1, 15)
    assert result.iou == pytest.approx(3 / 5)
    assert result.dice == pytest.approx(6 / 8)
    assert result.n_regions == 1 and result.protocol == "native"


def test_ranking_metrics_do_not_depend_on_the_threshold():
    scores, mask = small_case()
    low, high = per_image_metrics(scores, mask, 0.1), per_image_metrics(scores, mask, 0.95)
    assert (low.pixel_auroc, low.pixel_ap, low.pro) == (high.pixel_auroc, high.pixel_ap, high.pro)
    assert low.iou != high.iou
    # 3 positives above all 16 negatives (one negative at 0.8 below them), one positive at 0.2 above 15 negatives
    assert low.pixel_auroc == pytest.approx((3 * 16 + 1 * 15) / (4 * 16))


def test_good_image_and_full_mask_give_nan_ranking_metrics_but_usable_counts():
    scores = np.random.default_rng(0).random((6, 6))
    good = per_image_metrics(scores, None, 0.9, image_shape=(6, 6))
    assert math.isnan(good.pixel_auroc) and math.isnan(good.pixel_ap) and math.isnan(good.pro)
    assert good.tp == 0 and good.fp == int((scores >= 0.9).sum()) and good.iou == 0.0
    clean = per_image_metrics(scores, np.zeros((6, 6), bool), 2.0)
    assert clean.fp == 0 and math.isnan(clean.iou) and math.isnan(clean.dice)
    full = per_image_metrics(scores, np.ones((6, 6), bool), 0.5)
    assert math.isnan(full.pixel_auroc) and math.isnan(full.pro)
    assert full.to_dict()["pixel_auroc"] is None and full.to_dict()["tp"] == full.tp


def test_native_label_map_is_at_the_mask_resolution():
    mask = np.zeros((60, 80), bool)
    mask[10:30, 20:50] = True
    coarse = np.zeros((6, 8), np.float32)
    coarse[1:3, 2:5] = 1.0
    result = per_image_metrics(coarse, mask, 0.5)
    assert result.label_map.shape == (60, 80)
    assert result.iou > 0.6
    assert per_image_metrics(coarse, mask, 0.5, protocol="224").label_map.shape == (224, 224)
