"""The photo under the mask: draws only the exposed part of the best pyramid level of a :class:`DisplayImage`.

Scene coordinates are native image pixels: pixel (row, col) is the square [col, col+1] x [row, row+1]. Zoomed in
(one image pixel covers a screen pixel or more) the native level is drawn with nearest-neighbour sampling so each
pixel is a sharp square at 1000 % and beyond; zoomed out, a halved level is drawn smoothly (no aliasing shimmer).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from goodsad_studio.gui.display_image import DisplayImage


def pixel_bounds(rect: QRectF, width: int, height: int) -> QRectF | None:
    """``rect`` grown to whole pixels and clipped to the image, or None when nothing of the image is inside."""
    x0, y0 = max(0, math.floor(rect.left())), max(0, math.floor(rect.top()))
    x1, y1 = min(width, math.ceil(rect.right())), min(height, math.ceil(rect.bottom()))
    if x0 >= x1 or y0 >= y1:
        return None
    return QRectF(x0, y0, x1 - x0, y1 - y0)


class ImageLayer(QGraphicsItem):
    """Draws the current :class:`DisplayImage` (preview or full) over the native image rectangle."""

    def __init__(self) -> None:
        super().__init__()
        self.display: DisplayImage | None = None
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.setZValue(0)

    def set_display(self, display: DisplayImage | None) -> None:
        if display is None or self.display is None or display.size != self.display.size:
            self.prepareGeometryChange()
        self.display = display
        self.update()

    @property
    def is_full_resolution(self) -> bool:
        return self.display is not None and self.display.full

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        if self.display is None:
            return QRectF()
        return QRectF(0, 0, self.display.width, self.display.height)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        display = self.display
        if display is None:
            return
        target = pixel_bounds(option.exposedRect, display.width, display.height)
        if target is None:
            return
        view_scale = painter.worldTransform().m11()
        level = display.level_for(view_scale)
        sharp = level.scale == 1.0 and view_scale >= 1.0
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not sharp)
        s = level.scale
        source = QRectF(target.x() * s, target.y() * s, target.width() * s, target.height() * s)
        painter.drawImage(target, level.image, source)
