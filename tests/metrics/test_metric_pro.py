"""PRO / AUPRO@0.3: bounds, perfect maps, hand-computed cases and a slow brute-force reference (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from goodsad_studio.metrics import aupro, label_regions
from goodsad_studio.metrics.pro import integrate_pro


def flood_regions(mask: np.ndarray) -> list[list[tuple[int, int]]]:
    """8-connected regions of a bool mask by breadth-first search (independent of OpenCV)."""
    seen = np.zeros_like(mask, dtype=bool)
    regions = []
    height, width = mask.shape
    for r in range(height):
        for c in range(width):
            if not mask[r, c] or seen[r, c]:
                continue
            queue, region = [(r, c)], []
            seen[r, c] = True
            while queue:
                y, x = queue.pop()
                region.append((y, x))
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        ny, nx = y + dy, x + dx
                        if 0 <= ny < height and 0 <= nx < width and mask[ny, nx] and not seen[ny, nx]:
                            seen[ny, nx] = True
                            queue.append((ny, nx))
            regions.append(region)
    return regions


def reference_aupro(maps, masks, limit=0.3) -> float:
    """Threshold by threshold: PRO = mean region overlap, FPR over normal pixels; exact piecewise-linear area."""
    regions = [(i, region) for i, mask in enumerate(masks) for region in flood_regions(mask)]
    normal = np.concatenate([m[~k] for m, k in zip(maps, masks, strict=False)])
    points = [(0.0, 0.0)]
    for t in sorted({float(v) for m in maps for v in m.ravel()}, reverse=True):
        fpr = float(np.mean(normal >= t))
        pro = float(np.mean([np.mean([maps[i][y, x] >= t for y, x in region]) for i, region in regions]))
        points.append((fpr, pro))
    area = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if x0 >= limit:
            break
        if x1 <= limit:
            area += (x1 - x0) * (y0 + y1) / 2
        else:
            y_limit = y0 + (y1 - y0) * (limit - x0) / (x1 - x0)
            area += (limit - x0) * (y0 + y_limit) / 2
    return area / limit


@st.composite
def maps_and_masks(draw, max_images=3):
    n = draw(st.integers(1, max_images))
    height, width = draw(st.integers(2, 7)), draw(st.integers(2, 7))
    maps, masks = [], []
    for _ in range(n):
        masks.append(
            np.array(draw(st.lists(st.booleans(), min_size=height * width, max_size=height * width))).reshape(
                height, width
            )
        )
        maps.append(
            np.array(
                draw(st.lists(st.integers(0, 6), min_size=height * width, max_size=height * width)), dtype=np.float64
            ).reshape(height, width)
        )
    assume(any(k.any() for k in masks) and any((~k).any() for k in masks))
    return maps, masks


@settings(max_examples=50, deadline=None)
@given(maps_and_masks())
def test_aupro_agrees_with_brute_force_and_stays_in_unit_interval(data):
    maps, masks = data
    value = aupro(maps, masks)
    assert 0.0 <= value <= 1.0
    assert value == pytest.approx(reference_aupro(maps, masks), abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(maps_and_masks(), st.floats(0.01, 100.0))
def test_a_map_ranking_every_defect_pixel_above_every_normal_pixel_scores_one(data, gap):
    maps, masks = data
    perfect = [m + np.where(k, 7.0 + gap, 0.0) for m, k in zip(maps, masks, strict=False)]
    assert aupro(perfect, masks) == pytest.approx(1.0, abs=1e-12)
    assert aupro([k.astype(float) for k in masks], masks) == pytest.approx(1.0, abs=1e-12)


def test_regions_are_8_connected_like_mvtec():
    mask = np.zeros((4, 4), bool)
    mask[0, 0] = mask[1, 1] = mask[1, 2] = True  # (0,0) touches (1,1) only diagonally
    _, n = label_regions(mask)
    assert n == 1
    scores = np.zeros((4, 4))
    scores[0, 0], scores[1, 1], scores[1, 2] = 2.0, 1.0, 1.0
    scores[3, 2] = scores[3, 3] = 1.5  # 2 of 13 normal pixels outrank part of the defect
    # Curve (0,0) (0,1/3) (2/13,1/3) (2/13,1) (1,1); with 4-connectivity PRO would be 1/2 on the first step.
    expected = ((2 / 13) * (1 / 3) + (0.3 - 2 / 13) * 1.0) / 0.3
    assert aupro([scores], [mask]) == pytest.approx(expected)


def test_curve_is_interpolated_exactly_at_the_fpr_limit():
    mask = np.zeros((1, 12), bool)
    mask[0, :2] = True  # one region of two pixels, ten normal pixels
    scores = np.array([[3, 1, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0]], dtype=float)
    # Curve (0,0) (0,.5) (.2,.5) (.5,1) (1,1): the segment crossing FPR 0.3 is cut there, at PRO 2/3.
    expected = (0.2 * 0.5 + 0.1 * (0.5 + 2 / 3) / 2) / 0.3
    assert aupro([scores], [mask]) == pytest.approx(expected)
    assert aupro([scores], [mask]) == pytest.approx(0.527777777)


def test_integrate_pro_never_exceeds_one_even_with_a_jump_past_the_limit():
    # FPR jumps from 0 straight to 0.9 at PRO 1 (many ties): integrating the whole jump would give > 1.
    fpr = np.array([0.0, 0.0, 0.9, 1.0])
    pro = np.array([0.0, 1.0, 1.0, 1.0])
    assert integrate_pro(fpr, pro) == pytest.approx(1.0)
    assert integrate_pro(np.array([0.0, 0.9, 1.0]), np.array([0.0, 1.0, 1.0])) == pytest.approx(1 / 6)


def test_pro_is_nan_without_regions_or_without_normal_pixels():
    scores = np.arange(6, dtype=float).reshape(2, 3)
    assert math.isnan(aupro([scores], [np.zeros((2, 3), bool)]))
    assert math.isnan(aupro([scores], [np.ones((2, 3), bool)]))


def test_each_region_counts_once_whatever_its_size():
    mask = np.zeros((6, 10), bool)
    mask[0:4, 0:4] = True  # big region, found
    mask[5, 9] = True  # one-pixel region, missed
    scores = np.where(mask, 1.0, 0.0)
    scores[5, 9] = 0.0
    # Curve (0,0) (0,.5) (1,1): the small region, tied with the normal pixels, is found only at FPR 1, so PRO
    # is 0.65 at FPR 0.3 and the area is 0.3 * (0.5 + 0.65) / 2, whatever the regions' sizes (16 px vs 1 px).
    assert aupro([scores], [mask]) == pytest.approx((0.5 + 0.65) / 2)
