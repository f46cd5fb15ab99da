"""Brush and eraser: paint or clear every pixel whose centre lies within the radius of the stroke.

The dabs sit on pixel centres (the pixel under the pointer), so the circle cursor shows exactly the pixels a click
changes. The right button does the opposite of the tool (erase with the brush, paint with the eraser). A stroke
from press to release is one undo step; while it runs only the touched box of the overlay is redrawn.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from goodsad_studio.annotation.document import Stroke
from goodsad_studio.gui.canvas.tools.base import Point, PointerEvent, Tool, pixel_centre


class BrushTool(Tool):
    name = "brush"
    label = "Brush"
    erase = False
    colour = QColor(255, 255, 255)

    def __init__(self, host) -> None:
        super().__init__(host)
        self._stroke: Stroke | None = None
        self._last: Point | None = None
        self._cursor: Point | None = None
        self._box: tuple[int, int, int, int] | None = None  # union of the stroke's segment boxes

    @property
    def busy(self) -> bool:
        return self._stroke is not None

    def _cursor_rect(self, at: Point | None) -> QRectF | None:
        if at is None:
            return None
        reach = max(self.host.brush_radius, 0.5) + 4.0 / max(self.host.scale, 1e-6)
        return QRectF(at[0] - reach, at[1] - reach, 2 * reach, 2 * reach)

    def _move_cursor(self, at: Point | None) -> None:
        old = self._cursor_rect(self._cursor)
        self._cursor = at
        new = self._cursor_rect(at)
        for rect in (old, new):
            if rect is not None:
                self.host.overlay_changed(rect)

    def press(self, event: PointerEvent) -> None:
        if self.host.document is None or event.button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        if self._stroke is not None:
            return
        erase = self.erase != (event.button == Qt.MouseButton.RightButton)
        self._stroke = self.host.document.begin_stroke(self.host.brush_radius, erase=erase)
        self._last = None
        self._box = None
        self._paint_to(pixel_centre(event.point))

    def move(self, event: PointerEvent) -> None:
        centre = pixel_centre(event.point)
        self._move_cursor(centre)
        if self._stroke is not None and centre != self._last:
            self._paint_to(centre)

    def _paint_to(self, centre: Point) -> None:
        stroke = self._stroke
        assert stroke is not None  # press began the stroke; move paints only while one runs
        start = self._last or centre
        self._last = centre
        stroke.add(centre)
        reach = stroke.radius + 1
        box = (
            math.floor(min(start[1], centre[1]) - reach),
            math.floor(min(start[0], centre[0]) - reach),
            math.ceil(max(start[1], centre[1]) + reach) + 1,
            math.ceil(max(start[0], centre[0]) + reach) + 1,
        )
        self.host.mask_changed(box)
        self._box = (
            box
            if self._box is None
            else (
                min(self._box[0], box[0]),
                min(self._box[1], box[1]),
                max(self._box[2], box[2]),
                max(self._box[3], box[3]),
            )
        )

    def release(self, event: PointerEvent) -> None:
        self._finish()

    def _finish(self) -> None:
        if self._stroke is None:
            return
        stroke, self._stroke = self._stroke, None
        report = stroke.end()
        if report.changed_pixels:
            self.host.edit_done(report, select=None, box=self._box)

    def hover(self, event: PointerEvent | None) -> None:
        self._move_cursor(None if event is None else pixel_centre(event.point))

    def cancel(self) -> None:
        if self._stroke is not None:
            self._finish()  # a stroke cannot be half undone: it is finished

    def radius_changed(self) -> None:
        if self._cursor is not None:
            self.host.overlay_changed()

    def paint(self, painter: QPainter, scale: float) -> None:
        if self._cursor is None:
            return
        x, y = self._cursor
        radius = max(self.host.brush_radius, 0.5)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # opaque and aliased: fast on every move
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = QRectF(x - radius, y - radius, 2 * radius, 2 * radius)
        for colour, width in ((QColor(0, 0, 0), 3.0), (self.colour, 1.0)):
            pen = QPen(colour, width)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawEllipse(rect)


class EraserTool(BrushTool):
    name = "eraser"
    label = "Eraser"
    erase = True
    colour = QColor(255, 90, 90)
