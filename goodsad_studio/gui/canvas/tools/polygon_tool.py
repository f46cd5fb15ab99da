"""Draw a polygon vertex by vertex, to add it to the mask or to cut it out as a hole.

Click to place vertices (on pixel corners while snapping is on); close with a click on the first vertex, a
double-click or Enter; Backspace takes back the last vertex, Escape abandons the polygon. In hole mode the drawn
ring is cut out of the shape that holds it (the selected one, else the one under its centre); when no shape holds
it, it is subtracted from whatever it overlaps.
"""

from __future__ import annotations

import shapely
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from goodsad_studio.gui.canvas.tools.base import Point, PointerEvent, Tool

CLOSE_DISTANCE = 9.0  # screen pixels from the first vertex at which a click closes the polygon


class PolygonTool(Tool):
    name = "polygon"
    label = "Draw polygon"
    colour = QColor(80, 255, 120)

    def __init__(self, host) -> None:
        super().__init__(host)
        self.points: list[Point] = []
        self._cursor: Point | None = None

    @property
    def busy(self) -> bool:
        return bool(self.points)

    def _near_first(self, point: Point) -> bool:
        return len(self.points) >= 3 and self.screen_distance(point, self.points[0]) <= CLOSE_DISTANCE

    def press(self, event: PointerEvent) -> None:
        if event.button != Qt.MouseButton.LeftButton or self.host.document is None:
            return
        point = self.vertex_point(event)
        if self._near_first(point) or self._near_first(event.point):
            self.finish()
            return
        if not self.points or point != self.points[-1]:
            self.points.append(point)
        self._cursor = point
        self.host.overlay_changed()

    def double_click(self, event: PointerEvent) -> None:
        if event.button == Qt.MouseButton.LeftButton and len(self.points) >= 3:
            self.finish()

    def hover(self, event: PointerEvent | None) -> None:
        self._cursor = None if event is None else self.vertex_point(event)
        if self.points or event is not None:
            self.host.overlay_changed()

    def move(self, event: PointerEvent) -> None:
        self.hover(event)

    def key(self, key: int, modifiers: Qt.KeyboardModifier) -> bool:
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and len(self.points) >= 3:
            self.finish()
            return True
        if key == Qt.Key.Key_Escape and self.points:
            self.cancel()
            return True
        if key == Qt.Key.Key_Backspace and self.points:
            self.points.pop()
            self.host.overlay_changed()
            return True
        return False

    def cancel(self) -> None:
        if self.points:
            self.points = []
            self.host.overlay_changed()

    def finish(self) -> None:
        """Close the polygon and hand it to the document."""
        points, self.points = self.points, []
        self.host.overlay_changed()
        if len(points) < 3 or self.host.document is None:
            return
        report = self.host.document.add_polygon(points)
        self.host.edit_done(report, select=report.shapes[0] if len(report.shapes) == 1 else None)

    def paint(self, painter: QPainter, scale: float) -> None:
        if not self.points:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        chain = [QPointF(x, y) for x, y in self.points]
        if self._cursor is not None:
            chain.append(QPointF(*self._cursor))
        for colour, width in ((QColor(0, 0, 0, 200), 3.5), (self.colour, 1.5)):
            pen = QPen(colour, width)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPolyline(QPolygonF(chain))
        radius = 3.5 / scale
        painter.setPen(QPen(QColor(0, 0, 0), 0))
        painter.setBrush(self.colour)
        for x, y in self.points:
            painter.drawEllipse(QRectF(x - radius, y - radius, 2 * radius, 2 * radius))
        if self._cursor is not None and self._near_first(self._cursor):
            ring = QPen(QColor(255, 255, 255), 2.0)
            ring.setCosmetic(True)
            painter.setPen(ring)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            x, y = self.points[0]
            painter.drawEllipse(QRectF(x - 3 * radius, y - 3 * radius, 6 * radius, 6 * radius))


class HoleTool(PolygonTool):
    name = "hole"
    label = "Cut hole"
    colour = QColor(255, 120, 60)

    def finish(self) -> None:
        points, self.points = self.points, []
        self.host.overlay_changed()
        document = self.host.document
        if len(points) < 3 or document is None:
            return
        target = self._holder(points)
        if target is None:
            report = document.subtract(points)
            self.host.edit_done(report, select=None)
        else:
            report = document.cut_hole(target, points)
            self.host.edit_done(report, select=report.shapes[0] if len(report.shapes) == 1 else None)

    def _holder(self, points: list[Point]) -> int | None:
        """The shape to cut: the selected one when it contains the hole's centre, else the one that does."""
        centre = shapely.Polygon(points).representative_point()
        shapes = self.host.shapes
        selected = self.host.selected
        if selected is not None and shapely.contains_xy(shapes[selected], centre.x, centre.y):
            return selected
        for index, shape in enumerate(shapes):
            if shapely.contains_xy(shape, centre.x, centre.y):
                return index
        return None
