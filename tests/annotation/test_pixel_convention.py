"""The pixel-centre rule of rasterize on hand-made cases, and agreement with shapely on arbitrary polygons."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import GeometryCollection, LineString, MultiPolygon, Polygon, box

from goodsad_studio.geometry import rasterize, rasterize_region


def test_triangle_keeps_centres_inside_and_drops_those_on_its_right_edge():
    # hypotenuse x + y = 4 passes through the centres of pixels with col + row = 3: a right edge, so outside
    got = rasterize(Polygon([(0, 0), (4, 0), (0, 4)]), (5, 5))
    rows, cols = np.indices((5, 5))
    assert np.array_equal(got, rows + cols < 3)
    assert got.sum() == 6


def test_polygon_with_a_hole():
    square = Polygon([(0, 0), (6, 0), (6, 6), (0, 6)], [[(2, 2), (4, 2), (4, 4), (2, 4)]])
    got = rasterize(square, (7, 7))
    expected = np.zeros((7, 7), bool)
    expected[:6, :6] = True
    expected[2:4, 2:4] = False
    assert np.array_equal(got, expected)


def test_edges_through_pixel_centres_follow_the_top_left_rule():
    # left edge x=0.5 and top edge y=0.5 run through centres: included; right x=3.5 and bottom y=2.5: excluded
    got = rasterize(box(0.5, 0.5, 3.5, 2.5), (4, 5))
    expected = np.zeros((4, 5), bool)
    expected[0:2, 0:3] = True
    assert np.array_equal(got, expected)


def test_two_polygons_sharing_an_edge_through_centres_claim_each_pixel_once():
    left = Polygon([(0.5, 0.5), (3.5, 0.5), (2.5, 6.5), (0.5, 6.5)])
    right = Polygon([(3.5, 0.5), (7.5, 0.5), (7.5, 6.5), (2.5, 6.5)])
    a, b = rasterize(left, (8, 9)), rasterize(right, (8, 9))
    assert not (a & b).any()
    assert np.array_equal(a | b, rasterize(box(0.5, 0.5, 7.5, 6.5), (8, 9)))


def test_diagonal_edge_through_centres():
    got = rasterize(Polygon([(0.5, 0.5), (4.5, 0.5), (0.5, 4.5)]), (6, 6))
    rows, cols = np.indices((6, 6))
    assert np.array_equal(got, (rows + cols <= 3) & (rows < 4) & (cols < 4))


def test_ring_direction_does_not_matter_and_overlaps_unite():
    cw = Polygon([(1, 1), (1, 5), (5, 5), (5, 1)])
    ccw = Polygon([(1, 1), (5, 1), (5, 5), (1, 5)])
    assert np.array_equal(rasterize(cw, (8, 8)), rasterize(ccw, (8, 8)))
    overlapping = GeometryCollection([box(0, 0, 4, 4), box(2, 2, 6, 6), LineString([(0, 7), (7, 7)])])
    expected = rasterize(box(0, 0, 4, 4), (8, 8)) | rasterize(box(2, 2, 6, 6), (8, 8))
    assert np.array_equal(rasterize(overlapping, (8, 8)), expected)


def test_parts_outside_the_image_are_clipped_and_empty_geometry_gives_nothing():
    got = rasterize(box(-10, -10, 2, 3), (5, 5))
    assert got.sum() == 6 and got[:3, :2].all()
    assert not rasterize(box(10, 10, 20, 20), (5, 5)).any()
    assert not rasterize(MultiPolygon(), (5, 5)).any()
    assert rasterize_region(box(10, 10, 20, 20), (5, 5)) is None


def test_rasterize_region_matches_full_rasterize():
    shape = Polygon([(3.2, 4.7), (20.1, 2.2), (15.5, 17.9)])
    (y0, x0, y1, x1), region = rasterize_region(shape, (30, 40))
    full = rasterize(shape, (30, 40))
    assert np.array_equal(full[y0:y1, x0:x1], region)
    assert full.sum() == region.sum()


@st.composite
def star_polygons(draw):
    """Random simple polygons: vertices at sorted angles around a centre (star-shaped, so valid)."""
    n = draw(st.integers(3, 12))
    cx = draw(st.floats(-5, 35))
    cy = draw(st.floats(-5, 35))
    angles = sorted(draw(st.lists(st.floats(0, 2 * np.pi - 1e-3), min_size=n, max_size=n, unique=True)))
    radii = draw(st.lists(st.floats(0.3, 20), min_size=n, max_size=n))
    points = [(cx + r * np.cos(a), cy + r * np.sin(a)) for a, r in zip(angles, radii, strict=True)]
    return Polygon(points)


@settings(max_examples=400, deadline=None)
@given(star_polygons(), st.booleans())
def test_rasterize_agrees_with_shapely_on_every_centre_off_the_boundary(polygon, grid_centres):
    if not polygon.is_valid or polygon.area < 1e-6:
        return
    if grid_centres:  # snap vertices to pixel centres so that many centres lie exactly on edges
        polygon = Polygon(np.floor(np.asarray(polygon.exterior.coords)) + 0.5)
        if not polygon.is_valid or polygon.area == 0:
            return
    height, width = 30, 32
    got = rasterize(polygon, (height, width))
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    inside = shapely.contains_xy(polygon, xs, ys)
    on_edge = shapely.intersects_xy(polygon.boundary, xs, ys)
    assert np.array_equal(got[~on_edge], inside[~on_edge])


def test_native_resolution_polygon_is_filled_in_its_box_only():
    shape = Polygon([(10.3, 5.2), (2990.7, 40.1), (2900.2, 2995.5), (50.5, 2800.1)])
    got = rasterize(shape, (3000, 3000))
    assert got[1500, 1500] and not got[0, 0] and not got[2999, 2999]
    assert got.sum() == pytest.approx(shape.area, rel=1e-3)
