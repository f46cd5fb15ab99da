"""What the network saw of the photo: the object crop's box and the tiles' grid, drawn over the image in its own
pixels (from the result the method left in the cache, so it is exactly what the method was given)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

Box = tuple[int, int, int, int]
CROP = QColor(255, 145, 0)
TILE = QColor(0, 229, 255, 170)


class ViewLayer(QGraphicsItem):
    """The crop box (orange) and the tiles (cyan, thin) of one photo; nothing while hidden or without either."""

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(0.6)  # over the heatmap, under the mask and the outlines
        self._size = (0, 0)
        self.crop: Box | None = None
        self.tiles: tuple[Box, ...] = ()

    def set_view(self, native_size: tuple[int, int], crop: Box | None, tiles: tuple[Box, ...]) -> None:
        if native_size != self._size:
            self.prepareGeometryChange()
            self._size = native_size
        self.crop, self.tiles = crop, tuple(tiles)
        self.update()

    @property
    def has_view(self) -> bool:
        return self.crop is not None or bool(self.tiles)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(0, 0, *self._size)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self.tiles:
            pen = QPen(TILE, 1)
            pen.setCosmetic(True)
            painter.setPen(pen)
            for x0, y0, x1, y1 in self.tiles:
                painter.drawRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        if self.crop is not None:
            pen = QPen(CROP, 3, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            painter.setPen(pen)
            x0, y0, x1, y1 = self.crop
            painter.drawRect(QRectF(x0, y0, x1 - x0, y1 - y0))
