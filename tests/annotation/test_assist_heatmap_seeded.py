"""Heatmap-seeded outlining: a coarse heatmap blob becomes the object's exact region."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from goodsad_studio.annotation.assist.heatmap_seeded import NoHeatmapRegion, heatmap_seeded
from goodsad_studio.annotation.assist.prompts import Point

from .test_assist_scenes import disc_scene, iou


def _coarse_heatmap(mask, side):
    """A blurred low-resolution heatmap of ``mask`` (as a method's anomaly map would be)."""
    small = cv2.resize(mask.astype(np.float32), (side, side), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(small, (0, 0), 1.0)


def test_a_low_resolution_heatmap_blob_seeds_the_exact_disc():
    image, disc = disc_scene()
    heat = _coarse_heatmap(disc, 32)
    found = heatmap_seeded(image, heat, 0.5, Point(100.5, 100.5))
    assert found.shape == disc.shape
    assert iou(found, disc) >= 0.95


def test_a_heatmap_at_image_size_works_too():
    image, disc = disc_scene()
    heat = cv2.GaussianBlur(disc.astype(np.float32), (0, 0), 6.0)
    assert iou(heatmap_seeded(image, heat, 0.5, Point(100.5, 100.5)), disc) >= 0.95


def test_the_region_nearest_the_cursor_is_taken():
    left, left_disc = disc_scene(size=200, centre=(50.0, 100.0), radius=25.0, seed=1)
    right, right_disc = disc_scene(size=200, centre=(150.0, 100.0), radius=25.0, seed=2)
    image = np.where(left_disc[..., None], left, right)
    both = left_disc | right_disc
    heat = _coarse_heatmap(both, 50)
    found = heatmap_seeded(image, heat, 0.5, Point(190.5, 100.5))  # off both blobs, nearer the right one
    assert iou(found, right_disc) >= 0.95
    assert not (found & left_disc).any()


def test_no_region_above_the_threshold_says_so():
    image, disc = disc_scene()
    with pytest.raises(NoHeatmapRegion, match="no heatmap pixel reaches the threshold 2"):
        heatmap_seeded(image, _coarse_heatmap(disc, 32), 2.0, Point(5, 5))
    with pytest.raises(ValueError, match="larger than the 200x200 image"):
        heatmap_seeded(image, np.zeros((300, 300)), 0.5, Point(5, 5))
