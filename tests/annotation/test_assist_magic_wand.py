"""Magic wand: the flood fill's region, its colour spaces and tolerance, and that it stays in its crop."""

from __future__ import annotations

import numpy as np
import pytest

from goodsad_studio.annotation.assist.magic_wand import magic_wand
from goodsad_studio.annotation.assist.prompts import Point

from .test_assist_scenes import disc_scene, iou


def _flat_disc(size=120, radius=30.0):
    rows, cols = np.mgrid[:size, :size]
    disc = (cols + 0.5 - 60) ** 2 + (rows + 0.5 - 60) ** 2 < radius**2
    image = np.full((size, size, 3), (30, 50, 140), np.uint8)
    shade = (cols * 0.4).astype(np.uint8)  # a gentle gradient inside, within the tolerance of the seed
    image[disc] = np.stack([200 + shade, 60 + shade // 2, 50 + shade // 2], axis=-1)[disc] // 1
    return image, disc


@pytest.mark.parametrize(("space", "tolerance"), [("lab", 15.0), ("rgb", 40.0), ("gray", 20.0)])
def test_the_wand_selects_the_disc_in_each_colour_space(space, tolerance):
    image, disc = _flat_disc()
    found = magic_wand(image, Point(60.5, 60.5), tolerance, space)
    assert iou(found, disc) >= 0.95


def test_the_wand_on_a_textured_disc():
    image, disc = disc_scene()
    assert iou(magic_wand(image, Point(100.5, 100.5), 25.0, "lab"), disc) >= 0.95


def test_zero_tolerance_takes_only_the_seed_colour_and_is_8_connected():
    image = np.zeros((10, 10, 3), np.uint8)
    image[2, 2] = image[3, 3] = image[4, 4] = (255, 255, 255)
    found = magic_wand(image, Point(2.5, 2.5), 0.0, "rgb")
    assert {tuple(p) for p in np.argwhere(found)} == {(2, 2), (3, 3), (4, 4)}


def test_the_fill_stops_at_its_crop_on_a_3000px_image():
    image = np.full((3000, 3000, 3), 128, np.uint8)  # one flat colour: the fill would take everything
    found = magic_wand(image, Point(1500.5, 1500.5), 5.0, "lab")
    rows, cols = np.nonzero(found)
    assert rows.min() == 1500 - 512 and rows.max() == 1500 + 511
    assert cols.max() - cols.min() + 1 == 1024


def test_bad_arguments():
    image, _ = _flat_disc()
    with pytest.raises(ValueError, match="unknown colour space 'hsv'"):
        magic_wand(image, Point(5, 5), 10.0, "hsv")
    with pytest.raises(ValueError, match="outside the 120x120 image"):
        magic_wand(image, Point(500, 5))
    with pytest.raises(ValueError, match="tolerance"):
        magic_wand(image, Point(5, 5), -1.0)
