"""Live wire: click along the defect's edge; between clicks the outline follows the strongest edge.

The first click sets the anchor; moving the pointer shows the edge path from the last anchor to it (dashed), each
further click fixes that path into the outline (solid). Enter or a double click closes the outline back to the
first anchor along the edge and commits the filled region as one undoable edit (Alt subtracts it); Esc drops it.

The wire (:class:`~goodsad_studio.annotation.assist.live_wire.LiveWire`) lives on the worker pool and every call on
it runs there in order: the anchor's shortest-path map takes up to a few hundred milliseconds. Fixing and closing
are never dropped; the hover path is asked for again only when the last one is in, for the newest pointer position.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter

from goodsad_studio.annotation.assist.live_wire import LiveWire
from goodsad_studio.gui.canvas.tools.assist_tool import POSITIVE, AssistTool, paint_line, paint_points
from goodsad_studio.gui.canvas.tools.base import Point, PointerEvent

PATH_COLOUR = QColor(255, 220, 40)


class LiveWireTool(AssistTool):
    name = "live_wire"
    label = "Live wire"
    undo_label = "Live wire region"

    def __init__(self, host) -> None:
        super().__init__(host)
        self.anchors: list[Point] = []
        self.pieces: list[np.ndarray] = []  # the fixed outline, piece by piece (x, y pixel centres)
        self.preview: np.ndarray | None = None  # the path from the last anchor to the pointer
        self._session: dict[str, Any] | None = None  # {"wire": LiveWire} once built, in the worker
        self._generation = 0
        self._calls = 0  # wire calls submitted and not answered yet
        self._path_in_flight = False
        self._hover: Point | None = None  # the newest pointer position still to trace to

    @property
    def has_prompts(self) -> bool:
        return bool(self.anchors)

    @property
    def pending(self) -> bool:
        return super().pending or self._calls > 0

    def clear_prompts(self) -> None:
        self.anchors, self.pieces, self.preview = [], [], None
        self._session, self._hover = None, None
        self._generation += 1

    # ------------------------------------------------------------------------------------ the wire, in the worker
    def _call(self, work: Callable[[LiveWire], Any], done: Callable[[Any], None]) -> None:
        """Run ``work(wire)`` on the pool after every earlier call; ``done(result)`` unless the outline was
        dropped meanwhile."""
        session, generation = self._session, self._generation
        assert session is not None  # a press started the session
        self._calls += 1

        def answered(result: Any, error: BaseException | None) -> None:
            self._calls -= 1
            if generation != self._generation:
                return
            if error is not None:
                self.host.message.emit(f"{self.label}: {error}")
                return
            done(result)

        future = self.host.assist_pool.submit(lambda: work(session["wire"]), answered)
        if future is None:
            self._calls -= 1

    # ------------------------------------------------------------------------------------ pointer
    def press(self, event: PointerEvent) -> None:
        if event.button != Qt.MouseButton.LeftButton:
            return
        if self._session is None:
            image = self.image()
            if image is None:
                return
            self.start_prompt(event)
            self._session = session = {}
            self._generation += 1
            self.anchors = [event.point]
            point = event.point
            self._calls += 1
            generation = self._generation

            def build() -> None:
                session["wire"] = LiveWire(image, point)

            def built(_result: Any, error: BaseException | None) -> None:
                self._calls -= 1
                if error is not None and generation == self._generation:
                    self.host.message.emit(f"{self.label}: {error}")
                    self.cancel()

            if self.host.assist_pool.submit(build, built) is None:
                self._calls -= 1
            self.host.message.emit(f"{self.label}: click along the edge; Enter or a double click closes the outline")
        else:
            self.anchors.append(event.point)
            self._call(lambda wire: wire.fix(event.point), self._fixed)
        self.host.overlay_changed()

    def _fixed(self, path: np.ndarray) -> None:
        self.pieces.append(np.asarray(path))
        self.preview = None
        self.host.overlay_changed()

    def hover(self, event: PointerEvent | None) -> None:
        if event is None or self._session is None:
            return
        self._hover = event.point
        self._trace()

    def move(self, event: PointerEvent) -> None:
        self.hover(event)

    def _trace(self) -> None:
        if self._path_in_flight or self._hover is None or self._session is None:
            return
        point, self._hover = self._hover, None
        self._path_in_flight = True

        def traced(path: np.ndarray) -> None:
            self.preview = np.asarray(path)
            self.host.overlay_changed()

        def done(path: np.ndarray) -> None:
            self._path_in_flight = False
            traced(path)
            self._trace()

        self._call(lambda wire: wire.path_to(point), done)

    def cancel(self) -> None:
        self._path_in_flight = False
        super().cancel()

    # ------------------------------------------------------------------------------------ closing
    def commit(self, erase: bool | None = None) -> bool:
        """Close the outline (in the worker, after the fixes) and commit the region it encloses."""
        if self._session is None:
            return super().commit(erase)
        if len(self.anchors) < 2:
            self.host.message.emit(f"{self.label}: click at least two more points along the edge before closing")
            return True
        session = self._session
        self.request(lambda: session["wire"].close())
        self._session = None  # the outline is closed: further clicks start a new one
        self._generation += 1  # hover paths still on their way are of the closed outline
        self._path_in_flight = False
        return super().commit(erase)

    def double_click(self, event: PointerEvent) -> None:
        if event.button == Qt.MouseButton.LeftButton and self._session is not None:
            self.commit()

    # ------------------------------------------------------------------------------------ drawing
    def paint_prompts(self, painter: QPainter, scale: float) -> None:
        if self.pieces:
            paint_line(painter, np.vstack(self.pieces), POSITIVE)
        if self.preview is not None and self._session is not None:
            paint_line(painter, self.preview, PATH_COLOUR, width=1.5)
        paint_points(painter, scale, [(x, y, True) for x, y in self.anchors])
