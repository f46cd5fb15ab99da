"""Outline an object with a box, clicks and scribbles: GrabCut (or the chosen ONNX segmenter) finds the region.

Drag a box around the object; then click on it (green) or, with Shift or the right button, on the background to
leave out (red), or drag scribbles over either (Ctrl+drag scribbles before any box). Every prompt computes the
draft again from all of them, on the worker pool. Backspace takes back the last prompt, Enter or a double click
commits the draft as one undoable edit (Alt subtracts it), Esc drops it.

The segmenter is the canvas's :attr:`segmenter` (Edit > Settings > Segmenter): none means the built-in GrabCut,
which takes the scribbles as hard constraints; a SAM-style ONNX model takes clicks and a box, so a scribble reaches
it as clicks along its path.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from goodsad_studio.annotation.assist.grabcut import grabcut
from goodsad_studio.annotation.assist.prompts import BoxPrompt, Scribble
from goodsad_studio.annotation.assist.prompts import Point as Click
from goodsad_studio.gui.canvas.tools.assist_tool import NEGATIVE, POSITIVE, AssistTool, paint_line, paint_points
from goodsad_studio.gui.canvas.tools.base import Point, PointerEvent

DRAG_DISTANCE = 4.0  # screen pixels a press must move to be a box or a scribble rather than a click
SCRIBBLE_STEP = 8  # every n-th point of a scribble becomes a click for a segmenter that takes no scribbles
BOX_COLOUR = QColor(255, 220, 40)


class GrabCutTool(AssistTool):
    name = "grabcut"
    label = "GrabCut box"
    undo_label = "GrabCut region"

    def __init__(self, host) -> None:
        super().__init__(host)
        self.box: BoxPrompt | None = None
        self.points: list[Click] = []
        self.scribbles: list[Scribble] = []
        self._order: list[str] = []  # "point" / "scribble" / "box", for Backspace
        self._drag: list[Point] = []
        self._drag_mode = ""  # "box" or "scribble" while a button is held
        self._drag_positive = True
        self._dragged = False

    @property
    def has_prompts(self) -> bool:
        return self.box is not None or bool(self.points or self.scribbles or self._drag)

    def clear_prompts(self) -> None:
        self.box, self.points, self.scribbles, self._order = None, [], [], []
        self._drag, self._drag_mode, self._dragged = [], "", False

    # ------------------------------------------------------------------------------------ pointer
    def press(self, event: PointerEvent) -> None:
        if event.button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton) or self._drag_mode:
            return
        self.start_prompt(event)
        scribble = self.box is not None or bool(event.modifiers & Qt.KeyboardModifier.ControlModifier)
        self._drag_mode = "scribble" if scribble or event.button == Qt.MouseButton.RightButton else "box"
        self._drag_positive = not self.negative(event)
        self._drag = [event.point]
        self._dragged = False

    def move(self, event: PointerEvent) -> None:
        if not self._drag_mode:
            return
        if not self._dragged and self.screen_distance(self._drag[0], event.point) < DRAG_DISTANCE:
            return
        self._dragged = True
        if self._drag_mode == "box":
            self._drag = [self._drag[0], event.point]
        else:
            self._drag.append(event.point)
        self.host.overlay_changed()

    def release(self, event: PointerEvent) -> None:
        if not self._drag_mode:
            return
        mode, stroke, dragged = self._drag_mode, self._drag, self._dragged
        self._drag, self._drag_mode, self._dragged = [], "", False
        if not dragged:
            self.points.append(Click(event.x, event.y, self._drag_positive))
            self._order.append("point")
        elif mode == "box":
            (x0, y0), (x1, y1) = stroke[0], stroke[-1]
            self.box = BoxPrompt(x0, y0, x1, y1).ordered()
            self._order.append("box")
        else:
            self.scribbles.append(Scribble(tuple(stroke), self._drag_positive))
            self._order.append("scribble")
        self.segment()

    def key(self, key: int, modifiers: Qt.KeyboardModifier) -> bool:
        if key == Qt.Key.Key_Backspace and self._order:
            taken = self._order.pop()
            if taken == "point":
                self.points.pop()
            elif taken == "scribble":
                self.scribbles.pop()
            else:
                self.box = None
            if self._order:
                self.segment()
            else:
                self.cancel()
            self.host.overlay_changed()
            return True
        return super().key(key, modifiers)

    # ------------------------------------------------------------------------------------ computing
    def segment(self) -> None:
        """Compute the draft from every prompt (in the worker)."""
        image = self.image()
        if image is None:
            return
        box, points, scribbles = self.box, tuple(self.points), tuple(self.scribbles)
        segmenter = self.host.segmenter
        if segmenter is None:
            self.request(lambda: grabcut(image, box=box, points=points, scribbles=scribbles))
            return
        clicks = points + tuple(
            Click(x, y, scribble.positive) for scribble in scribbles for x, y in scribble.points[::SCRIBBLE_STEP]
        )
        self.request(lambda: segmenter.segment(image, clicks, box))

    # ------------------------------------------------------------------------------------ drawing
    def paint_prompts(self, painter: QPainter, scale: float) -> None:
        boxes = [self.box] if self.box is not None else []
        if self._drag_mode == "box" and len(self._drag) == 2:
            (x0, y0), (x1, y1) = self._drag
            boxes.append(BoxPrompt(x0, y0, x1, y1).ordered())
        for box in boxes:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for colour, width, style in (
                (QColor(0, 0, 0, 200), 3.0, Qt.PenStyle.SolidLine),
                (BOX_COLOUR, 1.5, Qt.PenStyle.DashLine),
            ):
                pen = QPen(colour, width, style)
                pen.setCosmetic(True)
                painter.setPen(pen)
                painter.drawRect(QRectF(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0))
        for scribble in self.scribbles:
            paint_line(painter, scribble.points, POSITIVE if scribble.positive else NEGATIVE)
        if self._drag_mode == "scribble" and len(self._drag) >= 2:
            paint_line(painter, self._drag, POSITIVE if self._drag_positive else NEGATIVE)
        paint_points(painter, scale, [(p.x, p.y, p.positive) for p in self.points])
