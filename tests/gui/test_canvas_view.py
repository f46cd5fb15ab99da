"""The canvas as a viewer: preview first then full resolution, zoom around the cursor, fit and 1:1, sharp pixels
far past 1000 %, panning with the middle button or Space, and the pixel readout in the status bar."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt

from gui.helpers import UI_WAIT_MS, M, drag, hover, key, mouse, pattern, wheel, write_rgb, zoom_on

KEY = "drink_can/test/scratch/001003"


@pytest.fixture
def window(make_window, goods_root):
    return make_window(goods_root, KEY)


def image_of(window):
    from goodsad_studio.dataset.imageio import read_image

    return read_image(window.current.image_path)


def scene_under(window, view: QPointF) -> QPointF:
    return window.canvas.scene_at(view)


def test_big_image_shows_a_preview_then_full_resolution(qtbot, make_window, goods_root):
    big = pattern(1200, 1600, seed=9)
    write_rgb(goods_root / "drink_can" / "train" / "good" / "003000.jpg", big)
    window = make_window(goods_root)
    window.loader.forget(goods_root / "drink_can" / "train" / "good" / "003000.jpg")
    window.select_image("drink_can/train/good/003000")
    display = window.canvas.display
    assert not display.full and display.levels[0].image.width() <= 750  # a reduced decode, shown at once
    assert display.size == (1600, 1200)  # ... over the native image rectangle
    qtbot.waitUntil(lambda: window.canvas.image_layer.is_full_resolution, timeout=UI_WAIT_MS)
    full = window.canvas.display
    assert full.levels[0].image.width() == 1600 and [lv.image.width() for lv in full.levels] == [1600, 800]
    assert full.pixel(1599, 1199) is not None and full.pixel(1600, 0) is None


def test_wheel_zooms_around_the_cursor(window):
    canvas = window.canvas
    zoom_on(window, 4.0, 20, 15)
    before = canvas.scale
    cursor = canvas.view_at(QPointF(10, 8))
    cursor = QPointF(round(cursor.x()), round(cursor.y()))
    wheel(window, 10, 8, 3)
    assert canvas.scale == pytest.approx(before * 1.25**3)
    spot = scene_under(window, cursor)  # the image point under the cursor stayed there
    assert abs(spot.x() - 10) <= 1 / canvas.scale and abs(spot.y() - 8) <= 1 / canvas.scale
    wheel(window, 10, 8, -2)
    assert canvas.scale == pytest.approx(before * 1.25)
    assert window.status.zoom.text() == f"{before * 1.25 * 100:.0f} %"


def test_fit_and_one_to_one(qtbot, window):
    canvas = window.canvas
    key(qtbot, window, "1")
    assert canvas.scale == 1.0 and window.status.zoom.text() == "100 %"
    key(qtbot, window, "F")
    viewport = canvas.viewport().rect()
    top_left, bottom_right = canvas.view_at(QPointF(0, 0)), canvas.view_at(QPointF(40, 30))
    assert 0 <= top_left.x() and 0 <= top_left.y()
    assert bottom_right.x() <= viewport.width() and bottom_right.y() <= viewport.height()
    shown = max(
        (bottom_right.x() - top_left.x()) / viewport.width(), (bottom_right.y() - top_left.y()) / viewport.height()
    )
    assert shown > 0.95  # the whole image, as large as the view allows
    key(qtbot, window, "+")
    assert canvas.scale > 1.0


def test_pixels_stay_sharp_far_past_1000_percent(window):
    canvas = window.canvas
    window.actions_by_id["overlay"].setChecked(False)
    window.actions_by_id["outline"].setChecked(False)
    zoom_on(window, 40.0, 30.5, 20.5)  # 4000 %
    canvas.viewport().repaint()
    shot = canvas.viewport().grab().toImage()
    image = image_of(window)
    for x, y in ((30, 20), (31, 20), (30, 21), (29, 19)):
        corner = canvas.view_at(QPointF(x, y))
        for dx, dy in ((3, 3), (36, 3), (3, 36), (36, 36), (20, 20)):  # inside the 40x40 square, away from the grid
            colour = shot.pixelColor(round(corner.x()) + dx, round(corner.y()) + dy)
            assert (colour.red(), colour.green(), colour.blue()) == tuple(image[y, x]), (x, y, dx, dy)


def test_status_bar_reads_the_pixel_under_the_cursor(window):
    zoom_on(window, 10.0, 20, 15)
    hover(window, 6.5, 5.5)
    r, g, b = image_of(window)[5, 6]
    assert window.status.pixel.text() == f"x 6, y 5   RGB {r:3d} {g:3d} {b:3d}   mask 1"
    hover(window, 30.5, 25.5)
    assert window.status.pixel.text().startswith("x 30, y 25") and window.status.pixel.text().endswith("mask 0")


def test_pan_with_the_middle_button_and_with_space(qtbot, window):
    canvas = window.canvas
    zoom_on(window, 8.0, 20, 15)
    centre = QPointF(canvas.viewport().rect().center())
    before = scene_under(window, centre)
    drag(window, [(20, 15), (15, 12)], button=M)  # the image follows the pointer: 5 px left, 3 px up
    after = scene_under(window, centre)
    assert after.x() == pytest.approx(before.x() + 5, abs=0.2) and after.y() == pytest.approx(before.y() + 3, abs=0.2)
    assert window.canvas.document.mask.sum() == 48  # panning did not edit
    qtbot.keyPress(canvas, Qt.Key.Key_Space)
    mouse(window, QEvent.Type.MouseButtonPress, 20, 15)
    mouse(window, QEvent.Type.MouseMove, 22, 15, buttons=Qt.MouseButton.LeftButton)
    mouse(window, QEvent.Type.MouseButtonRelease, 22, 15)
    qtbot.keyRelease(canvas, Qt.Key.Key_Space)
    assert scene_under(window, centre).x() == pytest.approx(after.x() - 2, abs=0.2)
    assert window.canvas.document.mask.sum() == 48


def test_overlay_opacity_and_toggles_change_what_is_drawn(window):
    canvas = window.canvas
    zoom_on(window, 10.0, 20, 15)

    def colour_at(x, y):
        canvas.viewport().repaint()
        at = canvas.view_at(QPointF(x + 0.5, y + 0.5))
        c = canvas.viewport().grab().toImage().pixelColor(round(at.x()), round(at.y()))
        return np.array([c.red(), c.green(), c.blue()])

    plain = image_of(window)[6, 8]
    window.controls.opacity.setValue(100)
    assert np.array_equal(colour_at(8, 6), [0, 229, 255])  # fully opaque cyan fill on a mask pixel
    window.controls.opacity.setValue(50)
    half = colour_at(8, 6)
    assert np.all(np.abs(half - (plain * 0.5 + np.array([0, 229, 255]) * 0.5)) <= 2)
    window.actions_by_id["overlay"].trigger()  # O: hide the fill
    assert np.array_equal(colour_at(8, 6), plain)
    assert window.settings.overlay_visible is False and window.settings.overlay_opacity == 0.5
