"""What every canvas tool is: a small object that turns pointer and key events into calls on the mask document.

A tool never changes pixels or polygons itself: it calls :class:`~goodsad_studio.annotation.document.MaskDocument`
(add_polygon, drag_vertex, begin_stroke, ...) and then tells the canvas what to redraw through its
:class:`ToolHost` methods. Events arrive in image coordinates (x right, y down, native pixels; pixel (row, col) is
the unit square at (col, row)) with the screen position beside them for hit tests measured in screen pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QPointF, QRectF, Qt, SignalInstance
from PySide6.QtGui import QPainter

if TYPE_CHECKING:
    from shapely.geometry import Polygon

    from goodsad_studio.annotation.document import EditReport, MaskDocument

Point = tuple[float, float]
Box = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class PointerEvent:
    """A mouse event in image coordinates (``x``, ``y``) and screen coordinates (``view``)."""

    x: float
    y: float
    view: QPointF
    button: Qt.MouseButton
    buttons: Qt.MouseButton
    modifiers: Qt.KeyboardModifier

    @property
    def point(self) -> Point:
        return self.x, self.y


class ToolHost(Protocol):
    """The canvas as a tool sees it."""

    document: MaskDocument | None
    snap_vertices: bool
    brush_radius: float

    @property
    def scale(self) -> float: ...  # screen pixels per image pixel

    @property
    def shapes(self) -> list[Polygon]: ...

    @property
    def selected(self) -> int | None: ...

    @property
    def selected_vertex(self) -> tuple[int, int] | None: ...

    def select(self, index: int | None, vertex: tuple[int, int] | None = None) -> None: ...

    def mask_changed(self, box: Box | None = None) -> None: ...

    def shapes_changed(self) -> None: ...

    def edit_done(
        self,
        report: EditReport,
        select: int | None = None,
        vertex: tuple[int, int] | None = None,
        box: Box | None = None,
    ) -> None: ...

    def overlay_changed(self, rect: QRectF | None = None) -> None: ...

    @property
    def message(self) -> SignalInstance: ...  # emit(text): a note for the status bar


def pixel_centre(point: Point) -> Point:
    """The centre of the pixel under ``point``: brush dabs sit on pixel centres, so a stroke is symmetric and a
    click paints what it shows."""
    return math.floor(point[0]) + 0.5, math.floor(point[1]) + 0.5


def pixel_corner(point: Point) -> Point:
    """The pixel corner nearest to ``point``: a polygon with corner vertices covers whole pixels exactly."""
    return float(round(point[0])), float(round(point[1]))


class Tool:
    """Base class: every hook does nothing; subclasses override what they use."""

    name = ""
    label = ""
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, host: ToolHost) -> None:
        self.host = host

    @property
    def busy(self) -> bool:
        """True while an interaction (a polygon being drawn, a drag, a stroke) is under way."""
        return False

    def vertex_point(self, event: PointerEvent) -> Point:
        """Where a vertex placed at ``event`` goes: the nearest pixel corner when snapping is on."""
        return pixel_corner(event.point) if self.host.snap_vertices else event.point

    def screen_distance(self, a: Point, b: Point) -> float:
        return math.hypot(a[0] - b[0], a[1] - b[1]) * self.host.scale

    def activate(self) -> None:
        """Called when the tool becomes the active one."""

    def deactivate(self) -> None:
        self.cancel()

    def cancel(self) -> None:
        """Abandon the interaction under way (nothing half-done is left in the document)."""

    def press(self, event: PointerEvent) -> None: ...

    def move(self, event: PointerEvent) -> None: ...

    def release(self, event: PointerEvent) -> None: ...

    def double_click(self, event: PointerEvent) -> None: ...

    def hover(self, event: PointerEvent | None) -> None:
        """The pointer moved with no button held (None: it left the canvas)."""

    def key(self, key: int, modifiers: Qt.KeyboardModifier) -> bool:
        """A key pressed on the canvas; return True when the tool used it."""
        return False

    def delete(self) -> bool:
        """The Delete command; return True when the tool deleted something."""
        return False

    def paint(self, painter: QPainter, scale: float) -> None:
        """Draw the tool's own feedback (in image coordinates) over the mask."""
