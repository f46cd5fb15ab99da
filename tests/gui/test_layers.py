"""The canvas's building blocks on their own: outline paths, the overlay's change detection, display levels."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QPainterPath
from shapely.geometry import Polygon

from goodsad_studio.gui.canvas.mask_layer import MaskLayer, changed_box
from goodsad_studio.gui.canvas.shape_layer import polygon_path
from goodsad_studio.gui.display_image import DisplayImage


def subpaths(path: QPainterPath) -> list[list[tuple[float, float]]]:
    parts: list[list[tuple[float, float]]] = []
    for i in range(path.elementCount()):
        element = path.elementAt(i)
        if element.type == QPainterPath.ElementType.MoveToElement:
            parts.append([])
        parts[-1].append((element.x, element.y))
    return parts


def test_outline_path_keeps_rings_apart():
    shape = Polygon(
        [(0, 0), (10, 0), (10, 10), (0, 10)], [[(2, 2), (4, 2), (4, 4), (2, 4)], [(6, 6), (8, 6), (8, 8), (6, 8)]]
    )
    parts = subpaths(polygon_path(shape))
    assert len(parts) == 3  # no line joins the exterior to a hole, or one hole to the next
    assert [sorted(set(p)) for p in parts] == [
        sorted(set(map(tuple, np.asarray(r.coords)[:, :2].tolist()))) for r in (shape.exterior, *shape.interiors)
    ]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.sampled_from([16, 13]), st.integers(0, 2**32 - 1))
def test_changed_box_finds_every_difference(height_blocks, width, seed):
    rng = np.random.default_rng(seed)
    a = rng.random((height_blocks * 3, width)) < 0.3
    b = a.copy()
    flips = rng.integers(0, 3)
    for _ in range(flips):
        b[rng.integers(0, b.shape[0]), rng.integers(0, b.shape[1])] ^= True
    diff = np.argwhere(a != b)
    expected = (
        None if len(diff) == 0 else (diff[:, 0].min(), diff[:, 1].min(), diff[:, 0].max() + 1, diff[:, 1].max() + 1)
    )
    assert changed_box(a, b) == expected


def test_overlay_follows_the_mask_by_box_or_by_search():
    layer = MaskLayer()
    mask = np.zeros((20, 24), bool)
    layer.set_mask(mask)
    mask[3:5, 6:9] = True
    assert layer.sync(mask, (2, 5, 6, 10)) == (3, 6, 5, 9)
    mask[15, 20] = True
    assert layer.sync(mask) == (15, 20, 16, 21)
    assert layer.sync(mask) is None
    assert layer.pixel_value(20, 15) is True and layer.pixel_value(0, 0) is False
    layer.set_fill(opacity=1.0)
    assert layer._pixels[15, 20] == 0xFF00E5FF and layer._pixels[0, 0] == 0


def test_display_levels_and_pixel_readout(tmp_path):
    rgb = np.random.default_rng(3).integers(0, 256, (1100, 1300, 3), dtype=np.uint8)
    display = DisplayImage.from_rgb(tmp_path / "x.png", rgb)
    assert [level.image.width() for level in display.levels] == [1300, 650]
    assert display.full and display.pixel(1299, 1099) == tuple(int(v) for v in rgb[1099, 1299])
    assert display.level_for(2.0) is display.levels[0] and display.level_for(0.4) is display.levels[1]
    preview = DisplayImage.from_rgb(tmp_path / "x.png", rgb[::4, ::4], (1300, 1100))
    assert not preview.full and preview.size == (1300, 1100)
    assert preview.pixel(8, 4) == tuple(int(v) for v in rgb[4, 8])
