"""Helpers of the GUI tests: scripted answers to every question the window asks, small pictures, and mouse and
key helpers that act at image coordinates through real Qt events."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from goodsad_studio.gui.main_window import MainWindow
from goodsad_studio.gui.prompts import CANCEL, DISCARD, Prompts

# How long a test waits for the condition it checks (qtbot.waitUntil, never a fixed time). A wait ends as soon as its
# condition holds, so a long limit costs nothing on a quick machine; on a loaded one a worker process takes 5-15 s
# to start and a fit 10-30 s.
UI_WAIT_MS = 60_000  # a background decode, summary, autosave, relayout or garbage collection
JOB_WAIT_MS = 180_000  # a background job: the worker's start, a fit and a predict
SUBPROCESS_S = 300  # a studio started in a subprocess (Python, Qt and torch imports, then settling)

L, R, M = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton
NONE = Qt.MouseButton.NoButton


class ScriptedPrompts(Prompts):
    """Answers the window's questions from attributes; records every warning."""

    def __init__(self) -> None:
        super().__init__(None)
        self.warnings: list[str] = []
        self.recovery: bool | None = True
        self.recovery_asked = 0
        self.unsaved = DISCARD
        self.defect: str | None = None
        self.goods_id: str | None = None
        self.lookups: list = []  # the GoodsLookup of each rename asked about
        self.confirmed = True
        self.conflict = CANCEL  # the answer to a save over a mask that changed on disk
        self.conflicts: list[Path] = []  # the mask file of each such question
        self.mask_problem = CANCEL  # the answer when the shown image's mask is refused (not binary, wrong size)
        self.mask_problems: list = []  # the MaskProblem of each such question
        self.repair = False  # whether a repair preview is applied

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def ask_recovery(self, record, entry):
        self.recovery_asked += 1
        return self.recovery

    def ask_unsaved(self, keys):
        return self.unsaved

    def ask_conflict(self, path, trash=None):
        self.conflicts.append(Path(path))
        return self.conflict

    def ask_defect(self, record, defects):
        return self.defect

    def ask_goods_id(self, record, lookup, stem_for):
        self.lookups.append(lookup)
        return self.goods_id

    def ask_mask_problem(self, problem):
        self.mask_problems.append(problem)
        return self.mask_problem

    def ask_repair(self, dialog):
        return self.repair

    def confirm(self, text: str) -> bool:
        return self.confirmed


def write_rgb(path: Path, image: np.ndarray) -> np.ndarray:
    from goodsad_studio.dataset.imageio import write_image

    write_image(path, image)
    return image


def pattern(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A random RGB picture (lossless in PNG) whose neighbouring pixels differ."""
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def loaded(window: MainWindow) -> None:
    """Wait until the window has the full image, its thumbnails and the validation pass (fails if they never come)."""
    assert window.wait_until_loaded(UI_WAIT_MS)


# ------------------------------------------------------------------------------------------------ mouse and keys
def view_point(window: MainWindow, x: float, y: float) -> QPointF:
    """The screen position (viewport coordinates, whole pixels) of image point (x, y)."""
    at = window.canvas.view_at(QPointF(x, y))
    return QPointF(round(at.x()), round(at.y()))


def mouse(
    window: MainWindow,
    kind: QEvent.Type,
    x: float,
    y: float,
    button=L,
    buttons=None,
    modifiers=Qt.KeyboardModifier.NoModifier,
) -> None:
    viewport = window.canvas.viewport()
    local = view_point(window, x, y)
    if buttons is None:
        buttons = NONE if kind == QEvent.Type.MouseButtonRelease else button
    if kind == QEvent.Type.MouseMove:
        button = NONE
    event = QMouseEvent(kind, local, QPointF(viewport.mapToGlobal(local.toPoint())), button, buttons, modifiers)
    QApplication.sendEvent(viewport, event)


def click(window, x, y, button=L, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    mouse(window, QEvent.Type.MouseButtonPress, x, y, button, modifiers=modifiers)
    mouse(window, QEvent.Type.MouseButtonRelease, x, y, button, modifiers=modifiers)


def double_click(window, x, y) -> None:
    """What Qt delivers for a double click: press, release, double-click, release."""
    click(window, x, y)
    mouse(window, QEvent.Type.MouseButtonDblClick, x, y)
    mouse(window, QEvent.Type.MouseButtonRelease, x, y)


def drag(window, points, button=L, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Press at the first point, move through the others, release at the last."""
    (x0, y0), rest = points[0], points[1:]
    mouse(window, QEvent.Type.MouseButtonPress, x0, y0, button, modifiers=modifiers)
    for x, y in rest:
        mouse(window, QEvent.Type.MouseMove, x, y, button, buttons=button, modifiers=modifiers)
    x1, y1 = points[-1]
    mouse(window, QEvent.Type.MouseButtonRelease, x1, y1, button, modifiers=modifiers)


def hover(window, x, y) -> None:
    mouse(window, QEvent.Type.MouseMove, x, y, NONE, buttons=NONE)


def wheel(window, x, y, steps: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    viewport = window.canvas.viewport()
    local = view_point(window, x, y)
    event = QWheelEvent(
        local,
        QPointF(viewport.mapToGlobal(local.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        NONE,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, event)


def key(qtbot, window, sequence: str) -> None:
    """Type a shortcut on the canvas, as a user would (window shortcuts fire from there)."""
    from PySide6.QtGui import QKeySequence

    combo = QKeySequence(sequence)[0]
    qtbot.keyClick(window.canvas, combo.key(), combo.keyboardModifiers())


def zoom_on(window, scale: float, x: float, y: float) -> None:
    """Zoom to ``scale`` with image point (x, y) at the centre of the canvas."""
    window.canvas.set_scale(scale)
    window.canvas.center_on_pixel(x, y)


def tiny_demo(root: Path) -> Path:
    """One demo category (drink_can) of 128 px photos, two goods ids of three training, one good and two defective
    test photos each: what the analysis views' tests fit and predict on."""
    from goodsad_studio.dataset.demo import generate_demo

    return generate_demo(
        root,
        size=128,
        categories=["drink_can"],
        goods_per_category=2,
        train_per_goods=3,
        test_good_per_goods=1,
        defective_per_goods=2,
    )
