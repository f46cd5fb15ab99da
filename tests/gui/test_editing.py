"""Editing masks with the real widgets: tools chosen by their keys, shapes drawn and changed with simulated mouse
events at image coordinates, undo/redo by shortcut, Ctrl+S; every test checks the exact pixels of the mask file."""

from __future__ import annotations

import numpy as np
import pytest

from goodsad_studio.dataset.imageio import read_mask
from gui.helpers import R, click, double_click, drag, key, zoom_on

KEY = "drink_can/test/scratch/001003"


@pytest.fixture
def window(make_window, goods_root):
    window = make_window(goods_root, KEY)
    zoom_on(window, 16.0, 20, 15)  # the whole 40x30 image at 16 screen pixels per image pixel
    return window


def mask_path(goods_root):
    return goods_root / "drink_can" / "ground_truth" / "scratch" / "001003_mask.png"


def original():
    mask = np.zeros((30, 40), bool)
    mask[4:10, 4:12] = True
    return mask


def saved(qtbot, window, goods_root) -> np.ndarray:
    key(qtbot, window, "Ctrl+S")
    return read_mask(mask_path(goods_root))


def draw_rectangle(qtbot, window) -> None:
    """Polygon tool: corners (16,4) (28,4) (28,20) (16,20), closed by clicking the first vertex again. The clicks
    land a little off the corners: vertices snap to the nearest pixel corner."""
    key(qtbot, window, "P")
    for x, y in ((16.2, 3.9), (27.8, 4.1), (28.1, 20.2), (15.9, 19.8), (16.1, 4.0)):
        click(window, x, y)


def test_drawn_polygon_is_saved_to_the_pixel(qtbot, window, goods_root):
    draw_rectangle(qtbot, window)
    expected = original()
    expected[4:20, 16:28] = True
    assert np.array_equal(window.canvas.document.mask, expected)
    drawn = window.canvas.shapes[window.canvas.selected]
    assert sorted(drawn.exterior.coords[:-1]) == [(16, 4), (16, 20), (28, 4), (28, 20)]  # snapped to corners
    assert window.status.state.text().strip() == "unsaved"
    assert np.array_equal(saved(qtbot, window, goods_root), expected)
    assert window.status.state.text().strip() == "saved"


def polygon_pixels(*vertices):
    from shapely.geometry import Polygon

    from goodsad_studio.geometry import rasterize

    return rasterize(Polygon(vertices), (30, 40))


def test_polygon_closes_on_double_click_and_enter(qtbot, window, goods_root):
    key(qtbot, window, "P")
    for x, y in ((20, 22), (30, 22)):
        click(window, x, y)
    double_click(window, 30, 26)  # the first click of the double-click places the third vertex
    key(qtbot, window, "P")
    for x, y in ((32, 2), (38, 2), (38, 6), (32, 6)):
        click(window, x, y)
    key(qtbot, window, "Return")
    expected = original() | polygon_pixels((20, 22), (30, 22), (30, 26))
    expected[2:6, 32:38] = True
    assert np.array_equal(saved(qtbot, window, goods_root), expected)
    assert expected[22, 28] and not expected[25, 21]  # the triangle is a triangle, not a box


def test_vertex_drags_are_undone_and_redone_one_by_one(qtbot, window, goods_root):
    draw_rectangle(qtbot, window)
    key(qtbot, window, "V")
    click(window, 22, 12)  # select the rectangle
    drag(window, [(28, 20), (28.4, 21.0), (28.2, 22.1)])
    drag(window, [(16, 20), (16.1, 22.0)])
    expected = original()
    expected[4:22, 16:28] = True
    assert np.array_equal(window.canvas.document.mask, expected)
    key(qtbot, window, "Ctrl+Z")
    one_back = original() | polygon_pixels((16, 4), (28, 4), (28, 22), (16, 20))
    assert np.array_equal(window.canvas.document.mask, one_back)
    key(qtbot, window, "Ctrl+Z")
    back = original()
    back[4:20, 16:28] = True
    assert np.array_equal(window.canvas.document.mask, back)
    key(qtbot, window, "Ctrl+Shift+Z")
    key(qtbot, window, "Ctrl+Y")
    assert np.array_equal(saved(qtbot, window, goods_root), expected)


def test_insert_a_vertex_on_an_edge_then_drag_it(qtbot, window, goods_root):
    draw_rectangle(qtbot, window)
    key(qtbot, window, "V")
    click(window, 22, 12)
    double_click(window, 22, 4)  # on the top edge: a new vertex at (22, 4)
    assert len(window.canvas.shapes[window.canvas.selected].exterior.coords) == 6  # 5 vertices + closing
    drag(window, [(22, 4), (22, 2)])
    expected = original() | polygon_pixels((16, 4), (22, 2), (28, 4), (28, 20), (16, 20))
    assert np.array_equal(saved(qtbot, window, goods_root), expected)
    assert not expected[2, 16] and expected[3, 21] and expected[3, 22]


def test_delete_a_vertex_then_the_shape(qtbot, window, goods_root):
    draw_rectangle(qtbot, window)
    key(qtbot, window, "V")
    click(window, 22, 12)
    click(window, 28, 20)  # choose the bottom-right vertex
    key(qtbot, window, "Delete")  # -> the triangle (16,4) (28,4) (16,20)
    assert np.array_equal(window.canvas.document.mask, original() | polygon_pixels((16, 4), (28, 4), (16, 20)))
    click(window, 18, 6)  # select the triangle (no vertex chosen)
    key(qtbot, window, "Delete")
    assert np.array_equal(saved(qtbot, window, goods_root), original())


def test_cut_a_hole(qtbot, window, goods_root):
    draw_rectangle(qtbot, window)
    key(qtbot, window, "H")
    for x, y in ((20, 8), (24, 8), (24, 12), (20, 12), (20, 8)):
        click(window, x, y)
    expected = original()
    expected[4:20, 16:28] = True
    expected[8:12, 20:24] = False
    assert np.array_equal(saved(qtbot, window, goods_root), expected)
    assert len(window.canvas.shapes[window.canvas.selected].interiors) == 1


def disk(shape, points, radius):
    """Pixels whose centre lies within ``radius`` of the polyline through pixel centres ``points``."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]] + 0.5
    out = np.zeros(shape, bool)
    pairs = list(zip(points[:-1], points[1:], strict=True)) or [(points[0], points[0])]
    for (ax, ay), (bx, by) in pairs:
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = np.clip(((cols - ax) * dx + (rows - ay) * dy) / length2, 0, 1) if length2 else 0
        out |= (cols - ax - t * dx) ** 2 + (rows - ay - t * dy) ** 2 <= radius * radius
    return out


def test_brush_eraser_and_right_button(qtbot, window, goods_root):
    key(qtbot, window, "B")
    window.canvas.set_brush_radius(1.5)
    drag(window, [(5.3, 18.6), (7.7, 18.4), (10.2, 18.5)])  # dabs on the centres of pixels x 5..10, row 18
    painted = disk((30, 40), [(5.5, 18.5), (7.5, 18.5), (10.5, 18.5)], 1.5)
    assert np.array_equal(window.canvas.document.mask, original() | painted)
    assert painted[17:20, 4:12].all() and painted.sum() == 24
    key(qtbot, window, "E")
    window.canvas.set_brush_radius(0)
    click(window, 6.5, 18.5)  # exactly one pixel
    expected = original() | painted
    expected[18, 6] = False
    assert np.array_equal(window.canvas.document.mask, expected)
    key(qtbot, window, "B")
    window.canvas.set_brush_radius(1)
    drag(window, [(5.5, 5.5), (8.5, 5.5)], button=R)  # right button: the brush erases
    expected &= ~disk((30, 40), [(5.5, 5.5), (8.5, 5.5)], 1)
    assert np.array_equal(saved(qtbot, window, goods_root), expected)


def test_radius_keys_and_shift_wheel(qtbot, window):
    from PySide6.QtCore import Qt

    from gui.helpers import wheel

    key(qtbot, window, "B")
    window.canvas.set_brush_radius(4)
    key(qtbot, window, "]")
    assert window.canvas.brush_radius == 5
    key(qtbot, window, "[")
    key(qtbot, window, "[")
    assert window.canvas.brush_radius == 3
    scale = window.canvas.scale
    wheel(window, 20, 15, 1, Qt.KeyboardModifier.ShiftModifier)
    assert window.canvas.brush_radius == 4 and window.canvas.scale == scale
    assert "r 4 px" in window.status.tool.text()
    assert window.controls.radius.value() == 4


def test_every_edit_is_undone_back_to_the_file(qtbot, window, goods_root):
    draw_rectangle(qtbot, window)
    key(qtbot, window, "B")
    drag(window, [(30.5, 25.5), (35.5, 25.5)])
    key(qtbot, window, "V")
    click(window, 22, 12)
    key(qtbot, window, "Delete")
    for _ in range(3):
        key(qtbot, window, "Ctrl+Z")
    assert np.array_equal(window.canvas.document.mask, original())
    assert not window.canvas.document.modified
    assert window.status.state.text().strip() == "saved"
    before = mask_path(goods_root).stat().st_mtime_ns
    key(qtbot, window, "Ctrl+S")  # nothing to write: the file stays as it was
    assert mask_path(goods_root).stat().st_mtime_ns == before
