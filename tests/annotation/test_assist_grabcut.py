"""GrabCut from boxes, clicks, scribbles and seeds: accuracy on a known object, and that only the crop is read."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from goodsad_studio.annotation.assist.crop import WorkCrop
from goodsad_studio.annotation.assist.grabcut import context_margin, grabcut, trimap
from goodsad_studio.annotation.assist.prompts import BoxPrompt, Point, Scribble
from goodsad_studio.errors import ImageInputError

from .test_assist_scenes import disc_scene, iou, textured


def test_a_box_finds_the_textured_disc():
    image, disc = disc_scene()
    found = grabcut(image, box=BoxPrompt(55, 55, 145, 145))
    assert found.shape == disc.shape and found.dtype == bool
    assert iou(found, disc) >= 0.95


def test_scribbles_alone_find_the_disc():
    image, disc = disc_scene()
    inside = Scribble(((85.0, 100.0), (115.0, 100.0)))
    outside = Scribble(((10.0, 10.0), (190.0, 10.0), (190.0, 190.0), (10.0, 190.0), (10.0, 10.0)), positive=False)
    found = grabcut(image, scribbles=[inside, outside])
    assert iou(found, disc) >= 0.95


def test_a_seed_and_clicks_refine_a_previous_answer():
    image, disc = disc_scene()
    rough = np.zeros_like(disc)
    rough[80:120, 80:120] = True  # a square inside the disc, as a heatmap blob might be
    found = grabcut(image, box=BoxPrompt(50, 50, 150, 150), seed=rough)
    refined = grabcut(image, box=BoxPrompt(50, 50, 150, 150), points=[Point(100.5, 62.5)], previous=found)
    assert iou(found, disc) >= 0.95 and iou(refined, disc) >= 0.95
    assert refined[62, 100]


def test_clicks_are_hard_constraints():
    image, disc = disc_scene()
    found = grabcut(image, box=BoxPrompt(55, 55, 145, 145), points=[Point(100.5, 100.5, positive=False)])
    assert not found[100, 100]
    assert iou(found, disc) >= 0.9


def test_a_large_crop_is_still_pixel_precise():
    image, disc = disc_scene(size=900, centre=(450.0, 450.0), radius=330.0)
    found = grabcut(image, box=BoxPrompt(110, 110, 790, 790))
    assert iou(found, disc) >= 0.97
    edge = disc ^ np.roll(disc, 1, axis=1)
    assert np.count_nonzero((found ^ disc) & edge) < 0.1 * np.count_nonzero(edge)


def test_only_the_work_crop_is_read_or_written_on_a_3000px_image():
    small, disc = disc_scene(size=200)
    image = textured((3000, 3000), (90, 110, 95), 5)
    image[1400:1600, 1400:1600] = small
    box = BoxPrompt(1455, 1455, 1545, 1545)
    crop = WorkCrop.around((box.x0, box.y0, box.x1, box.y1), image.shape, context_margin((1455, 1455, 1545, 1545), 64))
    found = grabcut(image, box=box)
    other = image.copy()
    outside = np.ones(image.shape[:2], bool)
    outside[crop.y0 : crop.y1, crop.x0 : crop.x1] = False
    other[outside] = 255 - other[outside]  # a sentinel: anything read outside the crop would change the answer
    assert np.array_equal(grabcut(other, box=box), found)
    assert not found[outside].any()
    truth = np.zeros(image.shape[:2], bool)
    truth[1400:1600, 1400:1600] = disc
    assert iou(found, truth) >= 0.95


def test_bad_inputs_say_what_is_wrong():
    image, _ = disc_scene()
    with pytest.raises(ValueError, match="needs a box, a click"):
        grabcut(image)
    with pytest.raises(ImageInputError, match="uint8 RGB"):
        grabcut(image.astype(np.float32), box=BoxPrompt(0, 0, 5, 5))
    with pytest.raises(ValueError, match="seed mask is 10x10"):
        grabcut(image, box=BoxPrompt(0, 0, 5, 5), seed=np.ones((10, 10), bool))


def test_a_gray_image_works():
    image, disc = disc_scene()
    gray = image[..., 0].copy()
    assert iou(grabcut(gray, box=BoxPrompt(55, 55, 145, 145)), disc) >= 0.95


def test_a_correction_click_marks_a_disc_scaled_to_the_wrong_area():
    previous = np.zeros((100, 100), bool)
    previous[20:80, 20:80] = True
    crop = WorkCrop(0, 0, 100, 100)
    box = BoxPrompt(10, 10, 90, 90)
    labels = trimap(crop, box, [Point(50.5, 50.5, positive=False)], (), None, previous)
    sure = np.argwhere(labels == cv2.GC_BGD)
    inside = sure[(sure[:, 0] >= 20) & (sure[:, 0] < 80) & (sure[:, 1] >= 20) & (sure[:, 1] < 80)]
    # the click is about 30 px from the previous answer's edge: a sure disc of radius about 15 around it
    assert 13 <= np.abs(inside - 50).max() <= 16
    first = trimap(crop, box, [Point(50.5, 50.5, positive=False)], (), None, None)
    assert np.count_nonzero((first == cv2.GC_BGD)[20:80, 20:80]) == 13  # without a previous answer: radius 2
