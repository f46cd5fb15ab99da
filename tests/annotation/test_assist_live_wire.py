"""Live wire: tracing a disc along its edge, the pixel-centre fill, and the crop that follows the pointer."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import Polygon

from goodsad_studio.annotation.assist.live_wire import LiveWire
from goodsad_studio.geometry import rasterize

from .test_assist_scenes import disc_scene, iou, textured


def _trace(image, centre, radius, anchors=8):
    cx, cy = centre
    wire = LiveWire(image, (cx + radius, cy))
    for k in range(1, anchors):
        angle = 2 * math.pi * k / anchors
        wire.fix((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return wire


def test_eight_clicks_along_the_edge_outline_the_disc():
    image, disc = disc_scene()
    wire = _trace(image, (100.0, 100.0), 40.0)
    mask = wire.close()
    assert mask.shape == disc.shape and mask.dtype == bool
    assert iou(mask, disc) >= 0.95


def test_a_path_runs_from_the_anchor_to_the_point_through_neighbouring_pixel_centres():
    image, _ = disc_scene()
    wire = LiveWire(image, (140.2, 100.7))
    path = wire.path_to((100.9, 60.1))
    assert np.array_equal(path[0], [140.5, 100.5]) and np.array_equal(path[-1], [100.5, 60.5])
    steps = np.abs(np.diff(path, axis=0))
    assert steps.max() <= 1.0 and np.all((path % 1) == 0.5)
    radius = np.hypot(path[:, 0] - 100, path[:, 1] - 100)
    assert np.all(np.abs(radius - 40) <= 2.5)  # it follows the disc's edge, not the straight chord


def test_close_fills_the_outline_by_the_pixel_centre_rule():
    image, _ = disc_scene()
    wire = _trace(image, (100.0, 100.0), 40.0)
    mask = wire.close()
    outline = wire.outline()
    assert np.array_equal(mask, rasterize(Polygon(outline), mask.shape))
    assert np.array_equal(outline[0], outline[-1])  # closed back at the first anchor


def test_fix_extends_the_outline_and_moves_the_anchor():
    image, _ = disc_scene()
    wire = LiveWire(image, (140.5, 100.5))
    path = wire.fix((100.5, 140.5))
    assert wire.anchor == (100.5, 140.5)
    assert len(wire.outline()) == len(path)


def test_the_map_is_built_on_a_bounded_crop_that_follows_the_pointer():
    image = textured((3000, 3000), (100, 100, 100), 3)
    wire = LiveWire(image, (1500.5, 1500.5), max_side=1024)
    first = wire.crop
    assert first.width <= 1024 and first.height <= 1024 and first.contains(1500.5, 1500.5)
    builds = wire.builds
    wire.path_to((1520.5, 1510.5))  # inside: the map is reused
    assert wire.builds == builds
    far = (2400.5, 1500.5)
    path = wire.path_to(far)
    assert wire.builds == builds + 1 and wire.crop.width <= 1024
    assert wire.crop.contains(*far) and wire.crop.contains(1500.5, 1500.5)
    assert np.array_equal(path[-1], far)


def test_an_outline_without_area_is_refused():
    image, _ = disc_scene()
    wire = LiveWire(image, (50.5, 50.5))
    with pytest.raises(ValueError, match="three distinct points"):
        wire.close()
    with pytest.raises(ValueError, match="not finite"):
        wire.path_to((float("nan"), 3.0))
