"""What the assisted outlining tools share: a draft region computed off the UI thread, drawn tinted, committed whole.

An assisted tool (GrabCut, live wire, magic wand, heatmap-seeded) collects prompts (clicks, a box, scribbles) and
asks the core (:mod:`goodsad_studio.annotation.assist`) for the region they mean. That takes from a few to a few
hundred milliseconds, so it runs on the canvas's worker pool: while one answer is being computed, newer prompts wait
as one queued request (the newest), and an answer to prompts that changed since is dropped, so the draft always
shows the latest prompts and the event loop never waits.

The draft is a full-size bool mask drawn over the image as a translucent tint with an opaque rim (pixel-exact: the
pixels the edit will change). Enter (or a double click) commits it as one undoable edit through
:meth:`MaskDocument.add_region`; holding Alt at the first prompt or at Enter subtracts it instead; Esc drops the
draft and its prompts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF

from goodsad_studio.errors import StudioError
from goodsad_studio.gui.canvas.tools.base import PointerEvent, Tool, ToolHost

if TYPE_CHECKING:
    from goodsad_studio.annotation.assist.segmenter import Segmenter
    from goodsad_studio.engine.cache import CachedResult
    from goodsad_studio.gui.workers import WorkerPool

ADD_COLOUR = (0, 200, 255)  # the tint of a draft that adds to the mask
ERASE_COLOUR = (255, 70, 200)  # ... and of one that subtracts
POSITIVE = QColor(60, 230, 90)
NEGATIVE = QColor(240, 60, 60)
FILL_ALPHA = 90
POINT_RADIUS = 4.5  # screen pixels


class AssistHost(ToolHost, Protocol):
    """The canvas as an assisted tool sees it: the host of every tool, plus the image's pixels, the worker pool,
    the chosen segmenter and the heatmap shown."""

    assist_pool: WorkerPool
    segmenter: Segmenter | None  # None: the built-in GrabCut
    heatmap_source: Callable[[], tuple[CachedResult, float] | None] | None  # the shown result and threshold

    def image_rgb(self) -> np.ndarray | None: ...


@dataclass(frozen=True, slots=True)
class Draft:
    """A proposed region: the full-size mask, its bounding box (y0, x0, y1, x1) and the tint drawn there."""

    mask: np.ndarray
    box: tuple[int, int, int, int]
    tile: np.ndarray  # (y1 - y0, x1 - x0) uint32, premultiplied ARGB

    @property
    def pixels(self) -> int:
        return int(np.count_nonzero(self.mask[self.box[0] : self.box[2], self.box[1] : self.box[3]]))

    def image(self) -> QImage:
        """The tint as a ``QImage`` over the tile's memory (valid while this draft lives)."""
        height, width = self.tile.shape
        return QImage(self.tile.data, width, height, self.tile.strides[0], QImage.Format.Format_ARGB32_Premultiplied)


def make_draft(mask: np.ndarray, colour: tuple[int, int, int]) -> Draft | None:
    """The draft of ``mask`` tinted in ``colour`` (None when the mask is empty); runs in the worker."""
    mask = np.asarray(mask, dtype=bool)
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    part = mask[y0:y1, x0:x1]
    inner = cv2.erode(part.view(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    alpha = np.where(part, FILL_ALPHA, 0).astype(np.uint32)
    alpha[part & (inner == 0)] = 255  # the rim: the outermost pixels of the region
    red, green, blue = (np.uint32(c) for c in colour)
    tile = (alpha << 24) | ((red * alpha // 255) << 16) | ((green * alpha // 255) << 8) | (blue * alpha // 255)
    return Draft(mask, (y0, x0, y1, x1), np.ascontiguousarray(tile, dtype=np.uint32))


class AssistTool(Tool):
    """Base class of the assisted tools (see the module docstring). Subclasses gather prompts, call
    :meth:`request` with a function of the RGB image that returns the region, and paint their prompts in
    :meth:`paint_prompts`."""

    undo_label = "Outline"
    host: AssistHost

    def __init__(self, host: AssistHost) -> None:
        super().__init__(host)
        self.draft: Draft | None = None
        self.erase = False  # the draft subtracts from the mask (Alt at the first prompt)
        self._ticket = 0  # grows with every request and every cancel: an answer to an older one is stale
        self._in_flight = False
        self._queued: tuple[int, Callable[[], Draft | None]] | None = None
        self._commit_pending: bool | None = None  # commit (erase?) as soon as the answer in flight arrives

    # ------------------------------------------------------------------------------------ state
    @property
    def busy(self) -> bool:
        return self.draft is not None or self.has_prompts or self.pending

    @property
    def pending(self) -> bool:
        """True while an answer is being computed (or waits to be)."""
        return self._in_flight or self._queued is not None

    @property
    def has_prompts(self) -> bool:
        """Whether the tool holds prompts that Esc would drop (subclasses say)."""
        return False

    def clear_prompts(self) -> None:
        """Forget the prompts (subclasses)."""

    def cancel(self) -> None:
        """Esc: drop the draft, the prompts and any answer on its way."""
        had = self.busy
        self._ticket += 1
        self._queued = None
        self._commit_pending = None
        self.draft = None
        self.erase = False
        self.clear_prompts()
        if had:
            self.host.overlay_changed()

    def start_prompt(self, event: PointerEvent) -> None:
        """Called by subclasses at a prompt: the first one of a draft decides whether it subtracts (Alt)."""
        if not self.has_prompts and self.draft is None:
            self.erase = bool(event.modifiers & Qt.KeyboardModifier.AltModifier)

    @staticmethod
    def negative(event: PointerEvent) -> bool:
        """A prompt on the background: the right button, or Shift with the left."""
        return event.button == Qt.MouseButton.RightButton or bool(event.modifiers & Qt.KeyboardModifier.ShiftModifier)

    # ------------------------------------------------------------------------------------ computing
    def image(self) -> np.ndarray | None:
        """The RGB image at native size, or None (with a message) while only its preview is loaded."""
        image = self.host.image_rgb()
        if image is None:
            self.host.message.emit(f"{self.label}: the full-resolution image is still loading; try again in a moment")
        return image

    def request(self, region: Callable[[], np.ndarray]) -> None:
        """Compute the draft as ``region()`` (a bool mask of the image's size) on the worker pool."""
        self._ticket += 1
        colour = ERASE_COLOUR if self.erase else ADD_COLOUR
        shape = self.host.document.shape if self.host.document is not None else None

        def work() -> Draft | None:
            mask = np.asarray(region())
            if shape is not None and mask.shape != shape:
                raise ValueError(f"the outlining tool gave a {mask.shape} region for a {shape} mask")
            return make_draft(mask, colour)

        if self._in_flight:
            self._queued = (self._ticket, work)
        else:
            self._submit(self._ticket, work)

    def _submit(self, ticket: int, work: Callable[[], Draft | None]) -> None:
        self._in_flight = True
        future = self.host.assist_pool.submit(work, lambda draft, error: self._answered(ticket, draft, error))
        if future is None:  # the window is closing
            self._in_flight = False

    def _answered(self, ticket: int, draft: Draft | None, error: BaseException | None) -> None:
        self._in_flight = False
        if self._queued is not None:  # newer prompts wait: this answer is stale
            queued, self._queued = self._queued, None
            self._submit(*queued)
            return
        if ticket != self._ticket:
            return
        commit, self._commit_pending = self._commit_pending, None
        if error is not None:
            self.host.message.emit(f"{self.label}: {error}")
            return
        self.draft = draft
        self.host.overlay_changed()
        if draft is None:
            self.no_region()
        elif commit is not None:
            try:
                self.commit(commit)
            except (ValueError, StudioError) as exc:  # the document refused it (the canvas's _run does this for keys)
                self.host.message.emit(f"{self.label}: {exc}")
        else:
            self.drafted()

    def no_region(self) -> None:
        """The prompts gave an empty region."""
        self.host.message.emit(f"{self.label}: no region found there; try other prompts")

    def drafted(self) -> None:
        """A new draft is shown: say what Enter does."""
        what = "subtract it" if self.erase else "add it"
        self.host.message.emit(
            f"{self.label}: {self.draft.pixels if self.draft else 0} pixels; Enter to {what}, Esc to drop"
        )

    # ------------------------------------------------------------------------------------ committing
    def commit(self, erase: bool | None = None) -> bool:
        """Hand the draft to the document as one undoable edit (once the answer in flight is in, if one is)."""
        erase = self.erase if erase is None else erase
        if self.pending:
            self._commit_pending = erase
            return True
        draft, document = self.draft, self.host.document
        if draft is None or document is None:
            return False
        report = document.add_region(draft.mask, self.undo_label, erase=erase)
        self.cancel()
        y0, x0, y1, x1 = draft.box
        self.host.edit_done(report, select=None, box=(y0 - 1, x0 - 1, y1 + 1, x1 + 1))
        return True

    def double_click(self, event: PointerEvent) -> None:
        if event.button == Qt.MouseButton.LeftButton:
            self.commit()

    def key(self, key: int, modifiers: Qt.KeyboardModifier) -> bool:
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (self.draft is not None or self.pending):
            return self.commit(self.erase or bool(modifiers & Qt.KeyboardModifier.AltModifier))
        if key == Qt.Key.Key_Escape and self.busy:
            self.cancel()
            return True
        return False

    # ------------------------------------------------------------------------------------ drawing
    def paint(self, painter: QPainter, scale: float) -> None:
        draft = self.draft
        if draft is not None:
            y0, x0, y1, x1 = draft.box
            painter.drawImage(QRectF(x0, y0, x1 - x0, y1 - y0), draft.image())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.paint_prompts(painter, scale)

    def paint_prompts(self, painter: QPainter, scale: float) -> None:
        """Draw the tool's prompts (subclasses)."""


def paint_points(painter: QPainter, scale: float, points) -> None:
    """Clicks as dots: green on the object, red on the background (``points`` of ``(x, y, positive)``)."""
    radius = POINT_RADIUS / scale
    painter.setPen(QPen(QColor(0, 0, 0), 0))
    for x, y, positive in points:
        painter.setBrush(POSITIVE if positive else NEGATIVE)
        painter.drawEllipse(QPointF(x, y), radius, radius)


def paint_line(painter: QPainter, points, colour: QColor, width: float = 2.0, closed: bool = False) -> None:
    """A polyline (cosmetic width, with a dark casing so it shows on any image)."""
    if len(points) < 2:
        return
    line = QPolygonF([QPointF(float(x), float(y)) for x, y in points])
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for pen_colour, pen_width in ((QColor(0, 0, 0, 200), width + 2.0), (colour, width)):
        pen = QPen(pen_colour, pen_width)
        pen.setCosmetic(True)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        if closed:
            painter.drawPolygon(line)
        else:
            painter.drawPolyline(line)
