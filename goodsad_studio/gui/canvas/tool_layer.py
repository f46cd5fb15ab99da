"""The topmost layer: whatever the active tool is drawing (the polygon being drawn, the brush circle, the hovered
vertex), plus a pixel grid once a pixel is large enough on screen to be worth outlining."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

GRID_FROM_SCALE = 12.0  # screen pixels per image pixel from which the pixel grid is drawn
GRID_VALUE = np.uint32((72 << 24) | (36 << 16) | (36 << 8) | 36)  # grey 128 at alpha 72, premultiplied


class ToolLayer(QGraphicsItem):
    """Calls ``painter_fn(painter, view_scale)`` of the active tool on every paint."""

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.setZValue(3)
        self._rect = QRectF()
        self._size = (0, 0)
        self.painter_fn: Callable[[QPainter, float], None] | None = None
        self.grid_visible = True

    def set_image_size(self, width: int, height: int) -> None:
        self.prepareGeometryChange()
        self._size = (width, height)
        margin = max(width, height)
        self._rect = QRectF(-margin, -margin, width + 2 * margin, height + 2 * margin)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        scale = painter.worldTransform().m11()
        if self.grid_visible and scale >= GRID_FROM_SCALE:
            self._paint_grid(painter, option.exposedRect)
        if self.painter_fn is not None:
            self.painter_fn(painter, scale)

    def _paint_grid(self, painter: QPainter, exposed: QRectF) -> None:
        """Translucent lines on pixel edges. Qt blends a translucent vertical line one 1-pixel span per scanline
        (tens of milliseconds for a screenful), so the grid is drawn into a numpy image in screen pixels and
        blitted in one go (about a millisecond)."""
        width, height = self._size
        x0, x1 = max(0, math.floor(exposed.left())), min(width, math.ceil(exposed.right()))
        y0, y1 = max(0, math.floor(exposed.top())), min(height, math.ceil(exposed.bottom()))
        if x0 >= x1 or y0 >= y1:
            return
        transform = painter.worldTransform()
        scale, dx, dy = transform.m11(), transform.dx(), transform.dy()
        left, top = math.floor(x0 * scale + dx), math.floor(y0 * scale + dy)
        right, bottom = math.ceil(x1 * scale + dx) + 1, math.ceil(y1 * scale + dy) + 1
        tile = np.zeros((bottom - top, right - left), np.uint32)
        columns = np.round(np.arange(x0, x1 + 1) * scale + dx).astype(int) - left
        rows = np.round(np.arange(y0, y1 + 1) * scale + dy).astype(int) - top
        tile[:, columns[(columns >= 0) & (columns < tile.shape[1])]] = GRID_VALUE
        tile[rows[(rows >= 0) & (rows < tile.shape[0])], :] = GRID_VALUE
        image = QImage(
            tile.data, tile.shape[1], tile.shape[0], tile.strides[0], QImage.Format.Format_ARGB32_Premultiplied
        )
        painter.save()
        painter.resetTransform()
        painter.drawImage(left, top, image)
        painter.restore()
