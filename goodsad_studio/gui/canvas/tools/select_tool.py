"""Select a shape and edit its vertices: drag a vertex, double-click an edge to insert one, Delete removes the
chosen vertex (or the shape when no vertex is chosen). Every change is one undo step of the document."""

from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from goodsad_studio.annotation.document import VertexDrag
from goodsad_studio.gui.canvas.shape_layer import rings_of
from goodsad_studio.gui.canvas.tools.base import PointerEvent, Tool

HIT = 8.0  # screen pixels within which a vertex or an edge is hit


def nearest_vertex(rings: list[list[tuple[float, float]]], point: tuple[float, float]) -> tuple[float, int, int]:
    """(distance, ring, vertex) of the vertex nearest to ``point`` (image units)."""
    best = (float("inf"), -1, -1)
    for ring_index, ring in enumerate(rings):
        coords = np.asarray(ring, dtype=np.float64)
        if len(coords) == 0:
            continue
        distances = np.hypot(coords[:, 0] - point[0], coords[:, 1] - point[1])
        vertex = int(np.argmin(distances))
        if distances[vertex] < best[0]:
            best = (float(distances[vertex]), ring_index, vertex)
    return best


def nearest_edge(rings: list[list[tuple[float, float]]], point: tuple[float, float]) -> tuple[float, int, int]:
    """(distance, ring, edge) of the edge nearest to ``point``; edge i runs from vertex i to vertex i+1."""
    best = (float("inf"), -1, -1)
    p = np.asarray(point, dtype=np.float64)
    for ring_index, ring in enumerate(rings):
        a = np.asarray(ring, dtype=np.float64)
        if len(a) < 2:
            continue
        b = np.roll(a, -1, axis=0)
        d = b - a
        length2 = np.maximum((d * d).sum(axis=1), 1e-12)
        t = np.clip(((p - a) * d).sum(axis=1) / length2, 0.0, 1.0)
        closest = a + t[:, None] * d
        distances = np.hypot(*(closest - p).T)
        edge = int(np.argmin(distances))
        if distances[edge] < best[0]:
            best = (float(distances[edge]), ring_index, edge)
    return best


class SelectTool(Tool):
    name = "select"
    label = "Select / edit vertices"
    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, host) -> None:
        super().__init__(host)
        self._drag: VertexDrag | None = None
        self._drag_box: tuple[float, float, float, float] | None = None
        self._hover: tuple[float, float] | None = None

    @property
    def busy(self) -> bool:
        return self._drag is not None

    # ------------------------------------------------------------------------------------ hit tests
    def _vertex_at(self, index: int, event: PointerEvent) -> tuple[int, int] | None:
        distance, ring, vertex = nearest_vertex(rings_of(self.host.shapes[index]), event.point)
        return (ring, vertex) if distance * self.host.scale <= HIT else None

    def _edge_at(self, index: int, event: PointerEvent) -> tuple[int, int] | None:
        distance, ring, edge = nearest_edge(rings_of(self.host.shapes[index]), event.point)
        return (ring, edge) if distance * self.host.scale <= HIT else None

    def shape_at(self, event: PointerEvent) -> int | None:
        """The shape under the pointer, or whose outline passes within reach of it."""
        shapes = self.host.shapes
        for index in range(len(shapes) - 1, -1, -1):
            if shapely.contains_xy(shapes[index], event.x, event.y):
                return index
        reach = HIT / self.host.scale
        point = shapely.Point(event.x, event.y)
        near = [(shape.boundary.distance(point), i) for i, shape in enumerate(shapes)]
        near = [item for item in near if item[0] <= reach]
        return min(near)[1] if near else None

    # ------------------------------------------------------------------------------------ events
    def press(self, event: PointerEvent) -> None:
        if event.button != Qt.MouseButton.LeftButton or self.host.document is None:
            return
        selected = self.host.selected
        if selected is not None:
            hit = self._vertex_at(selected, event)
            if hit is not None:
                self._drag = self.host.document.drag_vertex(selected, *hit)
                minx, miny, maxx, maxy = self.host.shapes[selected].bounds
                self._drag_box = (minx, miny, maxx, maxy)
                self.host.select(selected, hit)
                return
        self.host.select(self.shape_at(event))

    def move(self, event: PointerEvent) -> None:
        if self._drag is None or self._drag_box is None:  # press sets both together
            return
        to = self.vertex_point(event)
        report = self._drag.move(to)
        minx, miny, maxx, maxy = self._drag_box
        box = (
            int(min(miny, to[1])) - 1,
            int(min(minx, to[0])) - 1,
            int(max(maxy, to[1])) + 2,
            int(max(maxx, to[0])) + 2,
        )
        self.host.mask_changed(box)
        self.host.shapes_changed()
        vertex = (self._drag.ring, self._drag.vertex)
        self.host.select(report.shapes[0] if len(report.shapes) == 1 else None, vertex)

    def release(self, event: PointerEvent) -> None:
        if self._drag is None:
            return
        drag, self._drag = self._drag, None
        report = drag.finish()
        if report.changed_pixels or report.shapes:
            one = report.shapes[0] if len(report.shapes) == 1 else None
            self.host.edit_done(report, select=one, vertex=(drag.ring, drag.vertex) if one is not None else None)

    def double_click(self, event: PointerEvent) -> None:
        selected = self.host.selected
        if event.button != Qt.MouseButton.LeftButton or selected is None or self.host.document is None:
            return
        if self._vertex_at(selected, event) is not None:
            return
        hit = self._edge_at(selected, event)
        if hit is None:
            return
        ring, edge = hit
        report = self.host.document.insert_vertex(selected, ring, edge, self.vertex_point(event))
        one = report.shapes[0] if len(report.shapes) == 1 else None
        self.host.edit_done(report, select=one, vertex=(ring, edge + 1) if one is not None else None)

    def hover(self, event: PointerEvent | None) -> None:
        old = self._hover
        self._hover = None
        selected = self.host.selected
        if event is not None and selected is not None:
            hit = self._vertex_at(selected, event)
            if hit is not None:
                self._hover = rings_of(self.host.shapes[selected])[hit[0]][hit[1]]
        if old != self._hover:
            self.host.overlay_changed()

    def key(self, key: int, modifiers: Qt.KeyboardModifier) -> bool:
        if key == Qt.Key.Key_Escape and self.host.selected is not None:
            self.host.select(None)
            return True
        return False

    def delete(self) -> bool:
        """Delete the chosen vertex, or the selected shape."""
        document, selected = self.host.document, self.host.selected
        if document is None or selected is None:
            return False
        vertex = self.host.selected_vertex
        if vertex is not None:
            report = document.delete_vertex(selected, *vertex)
            one = report.shapes[0] if len(report.shapes) == 1 else None
            self.host.edit_done(report, select=one)
        else:
            self.host.edit_done(document.delete_polygon(selected), select=None)
        return True

    def cancel(self) -> None:
        if self._drag is not None:
            drag, self._drag = self._drag, None
            drag.cancel()
            self.host.mask_changed()
            self.host.shapes_changed()

    def paint(self, painter: QPainter, scale: float) -> None:
        if self._hover is None:
            return
        pen = QPen(QColor(255, 60, 60), 2.0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        half = 7.0 / scale
        x, y = self._hover
        painter.drawEllipse(QRectF(x - half, y - half, 2 * half, 2 * half))
