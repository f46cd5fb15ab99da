"""Work crops and prompts: bounds, the 1024 cap, cut/paste round trips and the pixel convention of prompts."""

from __future__ import annotations

import numpy as np
import pytest

from goodsad_studio.annotation.assist.crop import WorkCrop
from goodsad_studio.annotation.assist.prompts import BoxPrompt, Point


def test_crop_is_the_box_plus_margin_clipped_to_the_image():
    crop = WorkCrop.around((100.2, 50.0, 140.0, 80.5), (300, 400), margin=64)
    assert crop == (36, 0, 204, 145)
    assert (crop.width, crop.height) == (168, 145)


def test_crop_never_exceeds_max_side_and_stays_inside_the_image():
    crop = WorkCrop.around((0, 0, 2999, 2999), (3000, 3000), margin=64, max_side=1024)
    assert crop.width == crop.height == 1024
    near_edge = WorkCrop.around((2900, 10, 2990, 1500), (3000, 3000), max_side=1024)
    assert near_edge.x1 <= 3000 and near_edge.height == 1024 and near_edge.width <= 1024
    assert 0 <= near_edge.x0 < near_edge.x1 and 0 <= near_edge.y0


def test_a_box_outside_the_image_gives_its_nearest_pixel():
    crop = WorkCrop.around((5000, 5000, 6000, 6000), (100, 100), margin=0)
    assert crop == (99, 99, 100, 100)


def test_cut_and_paste_round_trip():
    rng = np.random.default_rng(0)
    mask = rng.random((120, 90)) > 0.5
    crop = WorkCrop.around((20, 30, 40, 50), mask.shape, margin=5)
    pasted = crop.paste(crop.cut(mask), mask.shape)
    assert np.array_equal(pasted[crop.y0 : crop.y1, crop.x0 : crop.x1], mask[crop.y0 : crop.y1, crop.x0 : crop.x1])
    outside = pasted.copy()
    outside[crop.y0 : crop.y1, crop.x0 : crop.x1] = False
    assert not outside.any()
    with pytest.raises(ValueError, match="does not fit"):
        crop.paste(np.zeros((3, 3), bool), mask.shape)


def test_crop_coordinates_round_trip():
    crop = WorkCrop(10, 20, 50, 60)
    x, y = crop.to_crop(12.5, 33.25)
    assert np.allclose(crop.to_image(np.array([[x, y]])), [[12.5, 33.25]])


def test_bad_crop_arguments_are_refused():
    with pytest.raises(ValueError, match="empty image"):
        WorkCrop.around((0, 0, 1, 1), (0, 10))
    with pytest.raises(ValueError, match="not finite"):
        WorkCrop.around((0, float("nan"), 1, 1), (10, 10))


def test_box_prompt_covers_the_pixels_whose_centres_are_inside():
    # edges on pixel edges: exactly those pixels
    assert BoxPrompt.of_pixels(3, 4, 7, 9).pixel_bounds() == (3, 4, 7, 9)
    # edges through pixel centres: top-left rule, the left/top pixel is in, the right/bottom one out
    assert BoxPrompt(4.5, 3.5, 8.5, 6.5).pixel_bounds() == (3, 4, 6, 8)
    # corners in either order
    assert BoxPrompt(9, 7, 4, 3).pixel_bounds() == (3, 4, 7, 9)


def test_a_click_is_on_the_pixel_under_it():
    assert Point(4.5, 3.5).pixel() == (3, 4)
    assert Point(4.99, 3.0).pixel() == (3, 4)
    assert Point(0.0, 0.0, positive=False).pixel() == (0, 0)
