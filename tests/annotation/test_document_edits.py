"""Editing a mask document: polygons vertex by vertex, brush and eraser, undo/redo, and the polygons always
showing exactly the pixels that will be saved."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from goodsad_studio.annotation.document import MaskDocument
from goodsad_studio.annotation.shapes import ShapeEditError
from goodsad_studio.geometry import rasterize


def assert_consistent(doc: MaskDocument) -> None:
    """The polygons are valid, pixel-disjoint, and together exactly the mask."""
    count = np.zeros(doc.shape, np.int32)
    for polygon in doc.polygons:
        assert polygon.is_valid and polygon.geom_type == "Polygon"
        count += rasterize(polygon, doc.shape)
    assert count.max(initial=0) <= 1, "two polygons claim the same pixel"
    assert np.array_equal(count > 0, doc.mask), "polygons and mask disagree"


def test_brush_paints_pixels_whose_centres_are_within_the_radius_and_eraser_removes_them():
    doc = MaskDocument.blank((30, 30))
    report = doc.paint([(10.5, 10.5)], 3)
    dy, dx = np.mgrid[-3:4, -3:4]
    assert report.changed_pixels == int((dx * dx + dy * dy <= 9).sum()) == doc.mask.sum()
    assert doc.mask[10, 13] and not doc.mask[10, 14] and not doc.mask[12, 13]
    doc.paint([(10.5, 10.5)], 1, erase=True)
    assert not doc.mask[10, 10] and not doc.mask[9, 10] and doc.mask[8, 10]
    assert_consistent(doc)


def test_smallest_brush_paints_the_pixel_clicked():
    doc = MaskDocument.blank((5, 5))
    doc.paint([(2.99, 1.01)], 0)
    assert np.argwhere(doc.mask).tolist() == [[1, 2]]


def test_a_stroke_is_one_undo_step_stored_as_a_small_diff():
    doc = MaskDocument.blank((3000, 3000))
    stroke = doc.begin_stroke(6)
    for x in range(100, 400, 7):
        stroke.add((x, 200 + x // 3))
    stroke.end()
    painted = doc.mask.copy()
    assert len(doc.history) == 1 and doc.history.undo_label == "Brush"
    assert doc.history.nbytes < 20_000  # the stroke's box, bit-packed, not a 9 MB mask
    assert doc.undo() == "Brush" and not doc.mask.any()
    assert doc.redo() == "Brush" and np.array_equal(doc.mask, painted)
    assert_consistent(doc)


def test_drawn_polygon_keeps_its_vertices_until_a_stroke_touches_it():
    doc = MaskDocument.blank((60, 60))
    doc.add_polygon([(5.2, 5.1), (30.7, 8.3), (12.4, 28.9)])
    assert len(doc.polygons[0].exterior.coords) == 4
    doc.paint([(50, 50)], 3)  # far away
    triangle = [p for p in doc.polygons if p.bounds[0] < 40]
    assert len(triangle) == 1 and len(triangle[0].exterior.coords) == 4
    doc.paint([(12, 12)], 4)  # on it: the pixels are traced again
    assert_consistent(doc)


def test_vertex_edits_on_a_traced_mask():
    mask = np.zeros((20, 20), bool)
    mask[4:10, 4:12] = True
    doc = MaskDocument.from_mask(mask)
    assert [tuple(map(int, c)) for c in doc.polygons[0].exterior.coords[:-1]] == [(4, 4), (12, 4), (12, 10), (4, 10)]
    doc.move_vertex(0, 0, 2, (16, 14))
    assert doc.mask[12, 12] and doc.mask.sum() > 48
    doc.insert_vertex(0, 0, 3, (1, 7))  # on the left edge, from (4, 10) back to (4, 4)
    assert doc.mask[7, 2]
    doc.delete_vertex(0, 0, 4)
    assert not doc.mask[7, 2]
    assert_consistent(doc)
    with pytest.raises(ShapeEditError, match="vertex 9"):
        doc.move_vertex(0, 0, 9, (1, 1))
    with pytest.raises(ShapeEditError, match="polygon 3 does not exist"):
        doc.delete_polygon(3)
    assert len(doc.history) == 3
    for _ in range(3):
        doc.undo()
    assert np.array_equal(doc.mask, mask)


def test_cut_hole_delete_polygon_and_subtract():
    doc = MaskDocument.blank((30, 30))
    doc.add_polygon([(2, 2), (20, 2), (20, 20), (2, 20)])
    doc.add_polygon([(24, 24), (28, 24), (28, 28)])
    doc.cut_hole(0, [(6, 6), (10, 6), (10, 10), (6, 10)])
    assert len(doc.polygons[0].interiors) == 1 and not doc.mask[7, 7]
    assert doc.mask.sum() == 18 * 18 - 16 + 10  # the triangle's diagonal is a left edge: 10 pixels
    doc.subtract(box(15, 0, 30, 30))
    assert not doc.mask[:, 15:].any() and len(doc.polygons) == 1
    doc.delete_polygon(0)
    assert not doc.mask.any() and doc.polygons == []
    assert_consistent(doc)
    while doc.undo():
        assert_consistent(doc)
    assert not doc.mask.any()


def test_overlapping_polygons_are_united():
    doc = MaskDocument.blank((20, 20))
    doc.add_polygon([(2, 2), (10, 2), (10, 10), (2, 10)])
    report = doc.add_polygon([(8, 8), (15, 8), (15, 15), (8, 15)])
    assert len(doc.polygons) == 1 and report.shapes == (0,)
    assert doc.mask.sum() == 64 + 49 - 4
    assert_consistent(doc)


def test_self_intersecting_polygon_is_repaired_and_reported():
    doc = MaskDocument.blank((20, 20))
    report = doc.add_polygon([(2, 2), (12, 12), (12, 2), (2, 12)])  # a bow-tie
    assert any("make_valid" in note and "2 parts" in note for note in report.notes)
    assert len(doc.polygons) == 2
    assert_consistent(doc)


def test_polygon_outside_the_image_is_clipped_and_reported():
    doc = MaskDocument.blank((10, 10))
    report = doc.add_polygon([(5, 5), (15, 5), (15, 15), (5, 15)])
    assert any("75.0%" in note and "clipped" in note for note in report.notes)
    assert doc.mask.sum() == 25 and doc.polygons[0].bounds == (5, 5, 10, 10)
    report = doc.add_polygon([(20, 20), (30, 20), (30, 30)])
    assert report.changed_pixels == 0 and any("entirely outside" in note for note in report.notes)
    report = doc.add_polygon([(1.1, 1.1), (1.4, 1.1), (1.4, 1.4)])  # too small to cover a pixel centre
    assert report.changed_pixels == 0 and any("no pixel centre" in note for note in report.notes)
    with pytest.raises(ShapeEditError):
        doc.add_polygon([(1, 1), (2, 2)])


def test_vertex_drag_is_one_step_and_leaves_a_passed_neighbour_whole():
    doc = MaskDocument.blank((30, 40))
    doc.add_polygon([(2, 2), (10, 2), (10, 10), (2, 10)])
    doc.add_polygon([(20, 2), (30, 2), (30, 10), (20, 10)])
    before = doc.mask.copy()
    drag = doc.drag_vertex(0, 0, 1)
    drag.move((25, 4))  # over the neighbour: the shapes merge while it lasts
    assert len(doc.polygons) == 1
    drag.move((12, 3))
    drag.finish()
    assert len(doc.history) == 3 and len(doc.polygons) == 2
    assert doc.mask[2:10, 20:30].all()  # the neighbour is whole again
    assert_consistent(doc)
    doc.undo()
    assert np.array_equal(doc.mask, before)
    drag = doc.drag_vertex(0, 0, 1)
    drag.move((5, 25))
    drag.cancel()
    assert np.array_equal(doc.mask, before) and len(doc.history) == 2


def test_whole_mask_replacement_is_checked_and_undoable():
    doc = MaskDocument.blank((8, 9))
    with pytest.raises(Exception, match="9x8"):
        doc.replace_mask(np.zeros((9, 8), bool))
    doc.replace_mask(np.eye(8, 9, dtype=bool))
    assert doc.mask.sum() == 8 and doc.modified
    doc.undo()
    assert not doc.mask.any() and not doc.modified


def test_a_polygon_added_over_a_brush_stroke_whose_pixels_reach_past_its_bounds_merges():
    """Found by the property test below (brush seed 201, then polygon seed 9117): the added pixels' box reached
    past the union of the shapes' bounds, and the merge failed on mismatched array shapes."""
    doc = MaskDocument.blank((24, 28))
    rng = np.random.default_rng(201)
    points = [tuple(p) for p in rng.uniform(-2, 30, (rng.integers(1, 5), 2))]
    doc.paint(points, float(rng.uniform(0, 4)))
    rng = np.random.default_rng(9117)
    rng.uniform(-2, 30, (rng.integers(1, 5), 2))  # the property test draws the brush points first
    doc.add_polygon([tuple(p) for p in rng.uniform(-2, 30, (rng.integers(3, 7), 2))])
    assert_consistent(doc)
    doc.undo()
    doc.undo()
    assert not doc.mask.any()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["brush", "erase", "polygon", "vertex", "delete", "subtract", "undo", "redo"]),
            st.integers(0, 10_000),
        ),
        min_size=1,
        max_size=14,
    )
)
def test_random_mixed_edits_keep_polygons_and_pixels_in_step_and_undo_all_the_way(actions):
    doc = MaskDocument.blank((24, 28))
    for action, seed in actions:
        rng = np.random.default_rng(seed)
        points = [tuple(p) for p in rng.uniform(-2, 30, (rng.integers(1, 5), 2))]
        if action in ("brush", "erase"):
            doc.paint(points, float(rng.uniform(0, 4)), erase=action == "erase")
        elif action in ("polygon", "subtract"):
            shape = [tuple(p) for p in rng.uniform(-2, 30, (rng.integers(3, 7), 2))]
            if Polygon(shape).area == 0:
                continue
            (doc.add_polygon if action == "polygon" else doc.subtract)(shape)
        elif action in ("vertex", "delete") and doc.polygons:
            index = int(rng.integers(len(doc.polygons)))
            if action == "delete":
                doc.delete_polygon(index)
            else:
                n = len(doc.polygons[index].exterior.coords) - 1
                doc.move_vertex(index, 0, int(rng.integers(n)), tuple(rng.uniform(0, 28, 2)))
        elif action == "undo":
            doc.undo()
        elif action == "redo":
            doc.redo()
        assert_consistent(doc)
    final = doc.mask.copy()
    steps = len(doc.history)
    while doc.undo():
        assert_consistent(doc)
    assert not doc.mask.any()
    for _ in range(steps):
        doc.redo()
    assert np.array_equal(doc.mask, final)
    assert_consistent(doc)
