"""Outlines of the document's polygons, the selected one highlighted with its vertex handles.

Outlines are cosmetic (a fixed width in screen pixels at any zoom) and drawn twice, a black halo under a bright
line, so they stay visible on white labels, dark glass and saturated packaging alike. Opaque pens without
antialiasing: Qt strokes them about ten times faster than translucent antialiased ones (a pan repaint at 3000px
must stay within a frame), and pixel-edge outlines of traced shapes stay crisp. Paths are cached per shapely
polygon object (immutable), so after an edit only the shapes that changed are converted again.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget
from shapely.geometry import Polygon

OUTLINE = QColor(0, 229, 255)
SELECTED = QColor(255, 214, 0)
HALO = QColor(0, 0, 0)
HANDLE_SIZE = 7.0  # screen pixels
VertexRef = tuple[int, int]  # (ring, vertex): ring 0 is the exterior, ring k the hole k-1


def rings_of(polygon: Polygon) -> list[list[tuple[float, float]]]:
    """Vertices of every ring (exterior first), without the closing repeat."""
    rings = [polygon.exterior, *polygon.interiors]
    return [[(float(x), float(y)) for x, y, *_ in ring.coords[:-1]] for ring in rings]


def polygon_path(polygon: Polygon) -> QPainterPath:
    """The outline of every ring as one path, built from numpy arrays by pyqtgraph's ``arrayToQPath`` (a binary
    stream instead of one Python ``QPointF`` per vertex: traced shapes have thousands of vertices)."""
    rings = [np.asarray(ring.coords, dtype=np.float64)[:, :2] for ring in (polygon.exterior, *polygon.interiors)]
    rings = [ring for ring in rings if len(ring) >= 2]
    if not rings:
        return QPainterPath()
    coords = np.concatenate(rings)
    connect = np.ones(len(coords), dtype=np.int32)  # connect[i] == 0: no line from point i to point i + 1
    connect[np.cumsum([len(ring) for ring in rings]) - 1] = 0
    return pg.arrayToQPath(coords[:, 0], coords[:, 1], connect=connect, finiteCheck=False)


class ShapeLayer(QGraphicsItem):
    """Draws the outlines and the selected shape's handles (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.setZValue(2)
        self._rect = QRectF()
        self._shapes: list[Polygon] = []
        self._paths: dict[int, tuple[Polygon, QPainterPath]] = {}
        self.selected: int | None = None
        self.selected_vertex: VertexRef | None = None
        self.outline_visible = True

    def set_image_size(self, width: int, height: int) -> None:
        self.prepareGeometryChange()
        self._rect = QRectF(-2, -2, width + 4, height + 4)

    def set_shapes(self, shapes: list[Polygon]) -> None:
        cache = {}
        for shape in shapes:
            cached = self._paths.get(id(shape))
            cache[id(shape)] = cached if cached is not None and cached[0] is shape else (shape, polygon_path(shape))
        self._paths = cache
        self._shapes = list(shapes)
        if self.selected is not None and self.selected >= len(shapes):
            self.selected = self.selected_vertex = None
        self.update()

    @property
    def shapes(self) -> list[Polygon]:
        return self._shapes

    def set_selection(self, index: int | None, vertex: VertexRef | None = None) -> None:
        self.selected = index if index is not None and 0 <= index < len(self._shapes) else None
        self.selected_vertex = vertex if self.selected is not None else None
        self.update()

    def set_outline_visible(self, visible: bool) -> None:
        self.outline_visible = visible
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        exposed = option.exposedRect
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        halo = QPen(HALO, 3.0)
        halo.setCosmetic(True)
        line = QPen(OUTLINE, 1.0)
        line.setCosmetic(True)
        if self.outline_visible:
            visible = [
                self._paths[id(s)][1]
                for s in self._shapes
                if self._paths[id(s)][1].controlPointRect().intersects(exposed)
            ]
            for pen in (halo, line):
                painter.setPen(pen)
                for path in visible:
                    painter.drawPath(path)
        if self.selected is not None:
            self._paint_selected(painter, exposed, halo)

    def _paint_selected(self, painter: QPainter, exposed: QRectF, halo: QPen) -> None:
        assert self.selected is not None  # paint() calls this only with a shape selected
        shape = self._shapes[self.selected]
        pen = QPen(SELECTED, 2.0)
        pen.setCosmetic(True)
        for p in (halo, pen):
            painter.setPen(p)
            painter.drawPath(self._paths[id(shape)][1])
        transform = painter.worldTransform()
        painter.save()
        painter.resetTransform()
        painter.setPen(QPen(QColor(0, 0, 0), 1.0))
        half = HANDLE_SIZE / 2
        for ring_index, ring in enumerate(rings_of(shape)):
            for vertex_index, (x, y) in enumerate(ring):
                if not exposed.adjusted(-1, -1, 1, 1).contains(QPointF(x, y)):
                    continue
                at = transform.map(QPointF(x, y))
                chosen = self.selected_vertex == (ring_index, vertex_index)
                painter.setBrush(QBrush(QColor(255, 60, 60) if chosen else QColor(255, 255, 255)))
                painter.drawRect(QRectF(at.x() - half, at.y() - half, HANDLE_SIZE, HANDLE_SIZE))
        painter.restore()
