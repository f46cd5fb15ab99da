"""The canvas: one image with its mask, zoom and pan, and the active editing tool.

A ``QGraphicsView`` whose scene units are native image pixels (see docs/adr/0005-gui-canvas.md). Layers, bottom
to top: the photo (:class:`ImageLayer`), the mask fill (:class:`MaskLayer`), the polygon outlines
(:class:`ShapeLayer`) and the tool's feedback (:class:`ToolLayer`). The canvas owns no annotation logic: tools
call the :class:`MaskDocument`, then the canvas redraws what changed and emits :attr:`document_changed`.

Mask editing can be locked (:meth:`Canvas.set_locked`: a good image has no mask that could be saved): then no tool,
undo, redo or delete reaches the document, a banner across the top says why, and where marking the image
defective is the way out it offers that with one click (:attr:`Canvas.mark_defective_requested`).

Navigation: the wheel zooms around the cursor (Shift/Ctrl+wheel changes the brush radius); the middle button, or
the left button with Space held, pans; :meth:`fit` and :meth:`actual_size` reset the zoom.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QTransform
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView, QWidget
from shapely.geometry import Polygon

from goodsad_studio.annotation.document import EditReport, MaskDocument
from goodsad_studio.errors import StudioError
from goodsad_studio.gui.canvas.image_layer import ImageLayer
from goodsad_studio.gui.canvas.lock_banner import LockBanner
from goodsad_studio.gui.canvas.mask_layer import Box, MaskLayer
from goodsad_studio.gui.canvas.shape_layer import ShapeLayer
from goodsad_studio.gui.canvas.tool_layer import ToolLayer
from goodsad_studio.gui.canvas.tools import TOOLS, PointerEvent, Tool
from goodsad_studio.gui.display_image import DisplayImage
from goodsad_studio.gui.workers import Relay, WorkerPool

if TYPE_CHECKING:
    from goodsad_studio.annotation.assist.segmenter import Segmenter
    from goodsad_studio.engine.cache import CachedResult

MIN_SCALE = 0.01
MAX_SCALE = 128.0  # 12800 %: one image pixel as a 128-pixel square
WHEEL_STEP = 1.25
MAX_RADIUS = 500.0
BACKGROUND = QColor(32, 33, 36)


@dataclass(frozen=True, slots=True)
class PixelInfo:
    """What is under the pointer: native pixel (x, y), its RGB value, whether it is mask, and the zoom."""

    x: int
    y: int
    rgb: tuple[int, int, int] | None
    mask: bool | None
    scale: float


def step_radius(radius: float, up: bool) -> float:
    """The next brush radius: steps of a quarter (at least 1 pixel) up or down, between 0 and MAX_RADIUS."""
    step = max(1.0, round(radius * 0.25))
    return float(min(MAX_RADIUS, radius + step) if up else max(0.0, radius - step))


class Canvas(QGraphicsView):
    """Shows a :class:`DisplayImage` and edits a :class:`MaskDocument` (see the module docstring)."""

    hovered = Signal(object)  # PixelInfo or None
    zoom_changed = Signal(float)
    document_changed = Signal()  # after every completed edit, undo and redo
    message = Signal(str)
    tool_changed = Signal(str)
    radius_changed = Signal(float)
    content_changed = Signal()  # another image or another document (the mask read, or a recovery)
    editable_changed = Signal(bool)  # mask editing was locked (False) or unlocked (True): see set_locked
    mark_defective_requested = Signal()  # the lock banner's "Mark as defective..." was clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundBrush(BACKGROUND)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.image_layer, self.mask_layer = ImageLayer(), MaskLayer()
        self.shape_layer, self.tool_layer = ShapeLayer(), ToolLayer()
        for layer in (self.image_layer, self.mask_layer, self.shape_layer, self.tool_layer):
            self.scene().addItem(layer)
        self.document: MaskDocument | None = None
        self.snap_vertices = True
        self.brush_radius = 4.0
        self.placeholder = "Open a dataset and choose an image"
        self._size: tuple[int, int] | None = None
        self._fit_mode = True
        self._pan_from: QPointF | None = None
        self._space = False
        self.tools: dict[str, Tool] = {name: cls(self) for name, cls in TOOLS.items()}
        self.tool: Tool = self.tools["select"]
        self.tool_layer.painter_fn = self.tool.paint
        self.viewport().setCursor(self.tool.cursor)
        self.locked: str | None = None  # why the mask cannot be edited now; None: it can
        # the assisted outlining tools (tools/assist_tool.py): their worker, segmenter, and the heatmap shown
        self.assist_pool = WorkerPool("outline", Relay(self))
        self.segmenter: Segmenter | None = None  # None: the built-in GrabCut (Edit > Settings > Segmenter)
        self.heatmap_source: Callable[[], tuple[CachedResult, float] | None] | None = None
        self._rgb: tuple[DisplayImage, np.ndarray] | None = None
        self.lock_banner = LockBanner(self)
        self.lock_banner.mark_defective.connect(self.mark_defective_requested.emit)

    # ------------------------------------------------------------------------------------ locking
    @property
    def editable(self) -> bool:
        """True when the tools may edit the document shown (there is one, and editing is not locked)."""
        return self.document is not None and self.locked is None

    def set_locked(self, reason: str | None, offer_mark_defective: bool = False) -> None:
        """Lock mask editing for the image shown (``reason``, one line, shown in the banner) or unlock it (None).

        While locked, pointer and key events reach no tool (zoom, pan and the pixel readout still work) and undo,
        redo and delete refuse with the reason, so no edit can be made that could not be saved."""
        was = self.locked
        self.tool.cancel()
        self.locked = reason
        self.lock_banner.show_lock(reason, offer_mark_defective)
        self._run(self.tool.hover, None)  # no brush circle left behind
        self.viewport().setCursor(self._rest_cursor())
        self.tool_layer.update()
        if (was is None) != (reason is None):
            self.editable_changed.emit(reason is None)

    def _rest_cursor(self) -> Qt.CursorShape:
        return self.tool.cursor if self.locked is None else Qt.CursorShape.ArrowCursor

    def _refuse_locked(self) -> bool:
        """True (with the reason as a message) when editing is locked."""
        if self.locked is None:
            return False
        self.message.emit(self.locked)
        return True

    # ------------------------------------------------------------------------------------ content
    def set_content(self, display: DisplayImage, document: MaskDocument | None) -> None:
        """Show another image (and its mask document, or None until it is read); the view fits the image."""
        self.tool.cancel()
        size = display.size
        if size != self._size:
            self._size = size
            width, height = size
            margin = max(width, height)
            self.setSceneRect(QRectF(-margin, -margin, width + 2 * margin, height + 2 * margin))
            self.shape_layer.set_image_size(width, height)
            self.tool_layer.set_image_size(width, height)
        self.image_layer.set_display(display)
        self.fit()
        self.set_document(document)

    def set_document(self, document: MaskDocument | None) -> None:
        """Edit ``document`` (the mask of the image shown; None: no editing, e.g. while it is being read)."""
        self.tool.cancel()
        self.document = document
        self.shape_layer.set_selection(None)
        self.mask_layer.set_mask(document.mask if document is not None else None)
        self.shape_layer.set_shapes([])
        if document is not None:  # tracing a big mask into polygons waits until the first paint is out

            def trace() -> None:
                if document is self.document:  # still the document shown
                    self.shapes_changed()

            QTimer.singleShot(0, trace)
        self.content_changed.emit()

    def set_display(self, display: DisplayImage) -> None:
        """Swap the picture of the same image (the full decode replacing the preview); zoom and pan stay."""
        if display.size == self._size:
            self.image_layer.set_display(display)

    def clear(self, message: str = "") -> None:
        self.set_locked(None)
        self.tool.cancel()
        self.document = None
        self._size = None
        self.image_layer.set_display(None)
        self.mask_layer.set_mask(None)
        self.shape_layer.set_shapes([])
        self.placeholder = message
        self.viewport().update()
        self.content_changed.emit()

    @property
    def display(self) -> DisplayImage | None:
        return self.image_layer.display

    def image_rgb(self) -> np.ndarray | None:
        """The shown image's RGB pixels at native size (kept until another picture is shown), for the outlining
        tools; None while only the reduced preview is in."""
        display = self.display
        if display is None or not display.full or display.levels[0].scale != 1.0:
            return None
        if self._rgb is None or self._rgb[0] is not display:
            self._rgb = (display, cv2.cvtColor(display.levels[0].pixels, cv2.COLOR_BGRA2RGB))
        return self._rgb[1]

    def shutdown(self) -> None:
        """The window is closing: no outlining work starts any more."""
        self.assist_pool.shutdown()

    # ------------------------------------------------------------------------------------ zoom and pan
    @property
    def scale(self) -> float:  # type: ignore[override]  # the zoom, read by tools and tests; shadows scale(sx, sy)
        return self.transform().m11()

    def scene_at(self, view_pos: QPointF) -> QPointF:
        return self.viewportTransform().inverted()[0].map(QPointF(view_pos))

    def view_at(self, scene_pos: QPointF) -> QPointF:
        return self.viewportTransform().map(QPointF(scene_pos))

    def set_scale(self, scale: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``scale`` keeping the image point under ``anchor`` (view coordinates; default: the centre)."""
        scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        anchor = QPointF(anchor) if anchor is not None else QPointF(self.viewport().rect().center())
        fixed = self.scene_at(anchor)
        self.setTransform(QTransform.fromScale(scale, scale))
        drift = self.view_at(fixed) - anchor
        self._scroll_by(drift.x(), drift.y())
        self._fit_mode = False
        self.zoom_changed.emit(scale)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.set_scale(self.scale * factor, anchor)

    def fit(self) -> None:
        """Show the whole image (the zoom then follows window resizes until the user zooms)."""
        if self._size is None:
            return
        width, height = self._size
        view = self.viewport().rect()
        scale = min((view.width() - 8) / width, (view.height() - 8) / height)
        self.setTransform(QTransform.fromScale(max(MIN_SCALE, scale), max(MIN_SCALE, scale)))
        self.centerOn(width / 2, height / 2)
        self._fit_mode = True
        self.zoom_changed.emit(self.scale)

    def actual_size(self) -> None:
        """One image pixel per screen pixel, around the centre of the view."""
        self.set_scale(1.0)

    def center_on_pixel(self, x: float, y: float) -> None:
        self.centerOn(x, y)

    def _scroll_by(self, dx: float, dy: float) -> None:
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(dx))
        v.setValue(v.value() + round(dy))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.lock_banner.place()
        if self._fit_mode:
            self.fit()

    # ------------------------------------------------------------------------------------ tools
    def set_tool(self, name: str) -> None:
        if name not in self.tools or self.tools[name] is self.tool:
            return
        self.tool.deactivate()
        self.tool = self.tools[name]
        self.tool_layer.painter_fn = self.tool.paint
        self.tool.activate()
        self.viewport().setCursor(self._rest_cursor())
        self.tool_layer.update()
        self.tool_changed.emit(name)

    def set_brush_radius(self, radius: float) -> None:
        self.brush_radius = float(min(MAX_RADIUS, max(0.0, radius)))
        self.tool_layer.update()
        self.radius_changed.emit(self.brush_radius)

    def _pointer(self, event: QMouseEvent) -> PointerEvent:
        position = event.position()
        at = self.scene_at(position)
        return PointerEvent(at.x(), at.y(), position, event.button(), event.buttons(), event.modifiers())

    def _run(self, action, *args) -> None:
        """Call a tool hook; a refused edit (a bad vertex index, a polygon too small) becomes a message."""
        try:
            action(*args)
        except (ValueError, StudioError) as exc:
            self.message.emit(str(exc))

    # ------------------------------------------------------------------------------------ the tool's host API
    @property
    def shapes(self) -> list[Polygon]:
        return self.shape_layer.shapes

    @property
    def selected(self) -> int | None:
        return self.shape_layer.selected

    @property
    def selected_vertex(self) -> tuple[int, int] | None:
        return self.shape_layer.selected_vertex

    def select(self, index: int | None, vertex: tuple[int, int] | None = None) -> None:
        self.shape_layer.set_selection(index, vertex)

    def mask_changed(self, box: Box | None = None) -> None:
        if self.document is not None:
            self.mask_layer.sync(self.document.mask, box)

    def shapes_changed(self) -> None:
        self.shape_layer.set_shapes(self.document.polygons if self.document is not None else [])

    def edit_done(
        self,
        report: EditReport,
        select: int | None = None,
        vertex: tuple[int, int] | None = None,
        box: Box | None = None,
    ) -> None:
        """After a completed edit: redraw the mask (within ``box`` when the tool knows where it changed it),
        trace the outlines again, select the shape made, show the document's notes, tell the window."""
        self.mask_changed(box)
        self.shapes_changed()
        self.select(select, vertex)
        if report.notes:
            self.message.emit("; ".join(report.notes))
        self.document_changed.emit()

    def overlay_changed(self, rect: QRectF | None = None) -> None:
        if rect is None:
            self.tool_layer.update()
        else:
            self.tool_layer.update(rect)

    # ------------------------------------------------------------------------------------ commands
    def undo(self) -> str | None:
        return self._history_step(redo=False)

    def redo(self) -> str | None:
        return self._history_step(redo=True)

    def _history_step(self, redo: bool) -> str | None:
        if self.document is None or self._refuse_locked():
            return None
        self.tool.cancel()
        label = self.document.redo() if redo else self.document.undo()
        if label is None:
            self.message.emit("Nothing to redo" if redo else "Nothing to undo")
            return None
        self.mask_changed()
        self.shapes_changed()
        self.select(None)
        self.message.emit(f"{'Redo' if redo else 'Undo'}: {label}")
        self.document_changed.emit()
        return label

    def delete_selection(self) -> None:
        """Delete the chosen vertex (select tool) or the selected shape."""
        document = self.document
        if document is None or self._refuse_locked():
            return

        def delete() -> None:
            if not self.tool.delete() and self.selected is not None:
                self.edit_done(document.delete_polygon(self.selected))

        self._run(delete)

    # ------------------------------------------------------------------------------------ Qt events
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space
        ):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if self.editable:
            self._run(self.tool.press, self._pointer(event))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self._scroll_by(-delta.x(), -delta.y())
            self._fit_mode = False
            return
        pointer = self._pointer(event)
        self._emit_hover(pointer)
        if not self.editable:
            return
        if event.buttons() & (Qt.MouseButton.LeftButton | Qt.MouseButton.RightButton):
            self._run(self.tool.move, pointer)
        else:
            self._run(self.tool.hover, pointer)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space else self._rest_cursor())
            return
        if self.editable:
            self._run(self.tool.release, self._pointer(event))

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self.editable and self._pan_from is None:
            self._run(self.tool.double_click, self._pointer(event))

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.hovered.emit(None)
        self._run(self.tool.hover, None)
        super().leaveEvent(event)

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt override
        delta = event.angleDelta().y() or event.angleDelta().x()
        if not delta:
            return
        steps = delta / 120.0
        if event.modifiers() & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier):
            radius = self.brush_radius
            for _ in range(max(1, round(abs(steps)))):
                radius = step_radius(radius, steps > 0)
            self.set_brush_radius(radius)
        else:
            self.zoom_by(WHEEL_STEP**steps, event.position())
        event.accept()

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space = True
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if self.editable and self.tool.key(event.key(), event.modifiers()):
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._pan_from = None
            self.viewport().setCursor(self._rest_cursor())
            return
        super().keyReleaseEvent(event)

    def _emit_hover(self, pointer: PointerEvent) -> None:
        display = self.display
        if display is None:
            return
        x, y = int(pointer.x // 1), int(pointer.y // 1)
        rgb = display.pixel(x, y)
        if rgb is None:
            self.hovered.emit(None)
            return
        self.hovered.emit(PixelInfo(x, y, rgb, self.mask_layer.pixel_value(x, y), self.scale))

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:  # noqa: N802 - Qt override
        if self.display is None and self.placeholder:
            painter.save()
            painter.resetTransform()
            painter.setPen(QColor(200, 200, 200))
            painter.drawText(
                self.viewport().rect().adjusted(40, 40, -40, -40),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.placeholder,
            )
            painter.restore()
