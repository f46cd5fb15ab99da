"""Evaluation protocols: native resolution keeps masks as annotated; "224" follows the paper; inputs are checked."""

from __future__ import annotations

import numpy as np
import pytest

from goodsad_studio.errors import MaskError, StudioError
from goodsad_studio.metrics import align
from goodsad_studio.metrics.resolution import as_binary_mask, resize_mask_majority


def test_native_protocol_upsamples_the_map_to_the_mask_and_never_touches_the_mask():
    mask = np.zeros((90, 120), bool)
    mask[40, 10:110] = True  # a one-pixel-thin scratch: resizing the mask to 224 would change it
    small_map = np.linspace(0, 1, 28 * 28, dtype=np.float32).reshape(28, 28)
    scores, aligned = align(small_map, mask, "native")
    assert scores.shape == (90, 120) and scores.dtype == np.float32
    assert aligned is mask or np.array_equal(aligned, mask)
    # bilinear: smooth, within the input range, corners close to the input corners
    assert scores.min() >= 0.0 and scores.max() <= 1.0
    assert abs(float(scores[0, 0]) - float(small_map[0, 0])) < 0.01


def test_paper_protocol_brings_both_to_224_and_keeps_defects_covering_half_a_cell():
    mask = np.zeros((448, 448), bool)
    mask[100:140, 200:260] = True  # 20x30 cells at 224
    mask[300, 300] = True  # a quarter of one cell: dropped by the majority rule
    scores, aligned = align(np.random.default_rng(0).random((64, 64)), mask, "224")
    assert scores.shape == aligned.shape == (224, 224)
    assert aligned.sum() == 20 * 30
    assert aligned[50:70, 100:130].all()


def test_majority_rule_at_exactly_half_coverage_keeps_the_cell():
    mask = np.zeros((2, 4), bool)
    mask[0, 0:2] = True  # left 2x2 cell half covered
    assert resize_mask_majority(mask, (1, 2)).tolist() == [[True, False]]


def test_masks_of_0_255_and_0_1_and_bool_are_accepted_others_refused():
    base = np.zeros((4, 4), np.uint8)
    base[1, 1] = 255
    assert as_binary_mask(base).sum() == 1
    assert as_binary_mask((base > 0).astype(np.float32)).sum() == 1
    assert as_binary_mask(base > 0).sum() == 1
    soft = base.copy()
    soft[2, 2] = 1  # mixes 0, 1 and 255: neither convention
    with pytest.raises(MaskError, match="not binary"):
        as_binary_mask(soft, "ground_truth/dent/007_mask.png")
    with pytest.raises(MaskError, match="not binary"):
        as_binary_mask(np.full((2, 2), 0.5), "a.png")


def test_bad_maps_and_mismatched_sizes_are_named():
    with pytest.raises(StudioError, match="non-finite") as error:
        align(np.array([[0.0, np.nan]]), np.zeros((1, 2), bool), name="test/crack/003.png")
    assert "003.png" in str(error.value)
    with pytest.raises(StudioError, match="2-D"):
        align(np.zeros((2, 3, 4)), np.zeros((3, 4), bool))
    with pytest.raises(MaskError, match="mask is 4x3 but the image is 5x6"):
        align(np.zeros((3, 4)), np.zeros((3, 4), bool), image_shape=(6, 5))
    with pytest.raises(ValueError, match="protocol"):
        align(np.zeros((3, 4)), np.zeros((3, 4), bool), "256")


def test_model_shaped_maps_are_squeezed_and_integer_maps_accepted():
    scores, mask = align(np.ones((1, 8, 8), np.float16), np.zeros((16, 16), np.uint8))
    assert scores.shape == (16, 16) and scores.dtype == np.float32 and not mask.any()
    scores, _ = align(np.arange(16, dtype=np.int64).reshape(4, 4), None, "native", image_shape=(4, 4))
    assert scores.dtype == np.float64
