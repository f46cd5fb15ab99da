"""mask -> polygons -> mask gives back the identical mask, and the polygons are valid shapely geometry.

Property tests over random masks (several thousand examples in all, 1..40 px so the suite stays fast) and hand-made
masks for the cases tracers get wrong: specks, one-pixel lines, diagonal touching, holes in holes, the border.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from goodsad_studio.geometry import rasterize, trace, trace_polygons


def assert_round_trip(mask: np.ndarray) -> None:
    geometry = trace(mask)
    assert geometry.geom_type == "MultiPolygon"
    assert geometry.is_valid, shapely.is_valid_reason(geometry)
    assert np.array_equal(rasterize(geometry, mask.shape), mask)
    coords = shapely.get_coordinates(geometry)
    assert np.array_equal(coords, np.round(coords)), "corners must be integer pixel corners"
    # one polygon per 4-connected region, each outer ring counter-clockwise and each hole clockwise
    regions = cv2.connectedComponents(mask.astype(np.uint8), connectivity=4)[0] - 1
    assert len(geometry.geoms) == regions
    for polygon in geometry.geoms:
        assert polygon.exterior.is_ccw
        assert all(not ring.is_ccw for ring in polygon.interiors)


@settings(max_examples=1000, deadline=None)
@given(hnp.arrays(bool, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12)))
def test_round_trip_small_masks_shrinkable(mask):
    assert_round_trip(mask)


@settings(max_examples=1500, deadline=None)
@given(
    st.integers(1, 40),
    st.integers(1, 40),
    st.floats(0.0, 1.0),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["noise", "blobs", "checker"]),
)
def test_round_trip_random_masks_up_to_40px(height, width, density, seed, kind):
    rng = np.random.default_rng(seed)
    if kind == "noise":
        mask = rng.random((height, width)) < density
    elif kind == "blobs":  # smoothed noise: regions with holes, holes in holes, thin necks
        noise = cv2.GaussianBlur(rng.random((height, width)).astype(np.float32), (0, 0), 1.2)
        mask = noise > np.quantile(noise, 1 - density) if density > 0 else np.zeros((height, width), bool)
    else:  # many diagonal pinch points
        mask = ((np.indices((height, width)).sum(axis=0) % 2) == 0) & (rng.random((height, width)) < 0.5 + density / 2)
    assert_round_trip(mask)


def _grid(text: str) -> np.ndarray:
    return np.array([[c == "#" for c in line.strip()] for line in text.strip().splitlines()])


CASES = {
    "speck": "...\n.#.\n...",
    "single pixel image": "#",
    "full image": "##\n##",
    "one pixel wide lines": "#.....\n######\n#.....\n#..#..\n#..#..",
    "diagonal pair": "#.\n.#",
    "anti-diagonal pair": ".#\n#.",
    "diagonal chain": "#...\n.#..\n..#.\n...#",
    "diagonal ring (no region encloses the centre)": ".#.\n#.#\n.#.",
    "ring closed by a diagonal": "####.\n#..#.\n#...#\n#####",
    "hole touching the outer ring at a point": "#####\n#.###\n##.##\n#####",
    "two holes touching at a point": "#####\n#.###\n##.##\n###.#\n#####",
    "island in a hole touching it at a point": "#######\n#.....#\n#.#...#\n#..#..#\n#.....#\n#######",
    "holes inside holes": "#########\n#.......#\n#.#####.#\n#.#...#.#\n#.#.#.#.#\n#.#...#.#\n#.#####.#\n"
    "#.......#\n#########",
    "checkerboard": "#.#.#\n.#.#.\n#.#.#\n.#.#.",
    "touching every border": "#..#\n....\n#..#",
    "hole open to the border": "####\n#..#\n#...",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hand_made_masks(name):
    assert_round_trip(_grid(CASES[name]))


def test_holes_and_islands_are_structured_as_the_eye_sees_them():
    geometry = trace(_grid(CASES["holes inside holes"]))
    outer, middle, centre = sorted(geometry.geoms, key=lambda p: -p.area)
    assert len(outer.interiors) == 1 and len(middle.interiors) == 1 and len(centre.interiors) == 0
    assert centre.area == 1 and middle.within(outer.interiors[0].convex_hull)


def test_diagonal_pixels_of_one_region_stay_one_polygon():
    # the ring closed by a diagonal: one region whose hole touches the outside only at a pinch point
    geometry = trace(_grid(CASES["ring closed by a diagonal"]))
    assert len(geometry.geoms) == 1 and len(geometry.geoms[0].interiors) == 1
    # two separate pixels touching at a corner: two polygons meeting at one point
    pair = trace(_grid(CASES["diagonal pair"]))
    assert len(pair.geoms) == 2 and pair.geoms[0].touches(pair.geoms[1])


def test_empty_mask_gives_empty_geometry():
    assert trace(np.zeros((5, 7), bool)).is_empty
    assert trace(np.zeros((0, 0), bool)).is_empty


def test_offsets_place_a_region_in_the_full_image():
    mask = _grid(CASES["holes inside holes"])
    big = np.zeros((40, 50), bool)
    big[20:29, 30:39] = mask
    shifted = trace_polygons(mask, x_offset=30, y_offset=20)
    assert np.array_equal(rasterize(shapely.multipolygons(shifted), big.shape), big)


def test_native_resolution_3000px_mask_round_trips():
    mask = np.zeros((3000, 3000), np.uint8)
    cv2.circle(mask, (500, 600), 120, 1, -1)
    cv2.circle(mask, (500, 600), 40, 0, -1)
    cv2.ellipse(mask, (2200, 2400), (300, 80), 30, 0, 360, 1, -1)
    cv2.line(mask, (0, 2999), (2999, 0), 1, 1)  # one-pixel diagonal line across the whole image
    mask[0, :] = 1  # touching the border
    assert_round_trip(mask.astype(bool))


def test_real_mvtec_masks_round_trip(shared_data):
    from conftest import shared_category

    from goodsad_studio.dataset.imageio import read_mask

    folder = shared_category(shared_data, "mtd_magnetic_tile/magnetic_tile") / "ground_truth"
    paths = sorted(folder.glob("*/*.png"))[::25]
    assert paths
    for path in paths:
        assert_round_trip(read_mask(path))
