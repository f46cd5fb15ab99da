"""The hands of docs/take_screenshots.py: a real :class:`MainWindow` driven as a user drives it, waited on through
its own state, and captured from the X server.

Menus and buttons are triggered, mouse events go to the canvas at image coordinates, background jobs are waited for
through the :class:`JobRunner`'s jobs (their state, not sleeps). Each window is captured with ImageMagick's
``import``, so what is saved is what a screen shows. A step that cannot reach the state its caption promises raises
:class:`StepFailed` instead of saving a misleading picture.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, QSettings, Qt, QThread, QTimer
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QScrollArea, QWidget

from goodsad_studio.dataset.imageio import read_mask
from goodsad_studio.gui.jobs import JobState
from goodsad_studio.gui.main_window import MainWindow
from goodsad_studio.gui.settings import StudioSettings

DONE = JobState.DONE

JOB_TIMEOUT_S = 600


class StepFailed(RuntimeError):
    """The studio did not reach the state a screenshot is meant to show."""


class Shooter:
    """The application, the window, and the screenshots taken so far."""

    def __init__(self, root: Path, out: Path, config: Path) -> None:
        self.app = QApplication.instance() or QApplication(sys.argv[:1])
        self.root, self.out = root, out
        settings = StudioSettings(QSettings(str(config / "settings.ini"), QSettings.Format.IniFormat))
        self.window = MainWindow(settings, interactive=False)
        self.ui = self.window.analysis_ui
        self.saved: list[str] = []

    # ------------------------------------------------------------------------------------ waiting
    def wait(self, ready: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
        """Run the event loop until ``ready()``; :class:`StepFailed` naming ``what`` after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not ready():
            if time.monotonic() > deadline:
                raise StepFailed(f"timed out after {timeout_s:.0f} s waiting for {what}")
            self.app.processEvents()
            QThread.msleep(10)
        self.app.processEvents()

    def settle(self, ms: int = 300) -> None:
        """Let queued paints and timers run (the picture on the X server catches up with the widgets)."""
        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            self.app.processEvents()
            QThread.msleep(10)

    def idle(self) -> None:
        """Images, masks, validation, jobs, heatmaps and per-image metrics all in."""
        self.wait(lambda: self.window.wait_until_loaded(100) and not self.ui.busy, "the window to be idle", 120)

    def wait_job(self, job, state: str = DONE) -> None:
        self.wait(lambda: not job.running, f"the job '{job.title}'", JOB_TIMEOUT_S)
        if job.state != state:
            raise StepFailed(f"the job '{job.title}' ended {job.state}, expected {state}: {job.error}")

    # ------------------------------------------------------------------------------------ capturing
    def shot(self, name: str, widget: QWidget | None = None) -> Path:
        """Capture ``widget``'s top-level window (default: the main window) from the X server."""
        widget = (widget or self.window).window()
        widget.repaint()
        self.settle()
        path = self.out / f"{name}.png"
        subprocess.run(["import", "-window", str(int(widget.winId())), str(path)], check=True)
        self.saved.append(path.name)
        print(f"  {path}", flush=True)
        return path

    def shot_modal(self, name: str, open_it: Callable[[], object], prepare: Callable[[QWidget], None]) -> None:
        """Open a modal dialog the way the user does (``open_it`` blocks in ``exec``, or the dialog opens later from
        the event loop), fill it, capture it and close it with Cancel, so nothing it would start runs."""
        taken: list[Path] = []

        def capture() -> None:
            dialog = QApplication.activeModalWidget()
            if dialog is None:
                QTimer.singleShot(50, capture)
                return
            prepare(dialog)
            dialog.move(0, 0)  # wholly on the screen, whatever its size
            self.settle(200)
            taken.append(self.shot(name, dialog))
            dialog.reject()

        QTimer.singleShot(100, capture)
        open_it()
        self.wait(lambda: bool(taken), f"the dialog for {name}", 60)

    # ------------------------------------------------------------------------------------ the canvas
    def canvas_event(
        self, kind: QEvent.Type, x: float, y: float, button=Qt.MouseButton.LeftButton, buttons=None
    ) -> None:
        """A mouse event on the canvas at image point (x, y), delivered like a real one."""
        canvas = self.window.canvas
        local = canvas.view_at(QPointF(x, y))
        local = QPointF(round(local.x()), round(local.y()))
        if kind == QEvent.Type.MouseMove:
            button = Qt.MouseButton.NoButton
        if buttons is None:
            buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
        event = QMouseEvent(
            kind,
            local,
            QPointF(canvas.viewport().mapToGlobal(local.toPoint())),
            button,
            buttons,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(canvas.viewport(), event)

    def click(self, x: float, y: float) -> None:
        self.canvas_event(QEvent.Type.MouseButtonPress, x, y)
        self.canvas_event(QEvent.Type.MouseButtonRelease, x, y)

    def drag(self, points: list[tuple[float, float]]) -> None:
        (x0, y0), (x1, y1) = points[0], points[-1]
        self.canvas_event(QEvent.Type.MouseButtonPress, x0, y0)
        for x, y in points[1:]:
            self.canvas_event(QEvent.Type.MouseMove, x, y, buttons=Qt.MouseButton.LeftButton)
        self.canvas_event(QEvent.Type.MouseButtonRelease, x1, y1)

    def hover(self, x: float, y: float) -> None:
        self.canvas_event(QEvent.Type.MouseMove, x, y, buttons=Qt.MouseButton.NoButton)

    def command(self, command_id: str) -> None:
        """Trigger a menu command (the same QAction as its shortcut and toolbar button)."""
        self.window.actions_by_id[command_id].trigger()

    def select(self, key: str) -> None:
        if not self.window.select_image(key):
            raise StepFailed(f"cannot select {key}")
        self.idle()

    # ------------------------------------------------------------------------------------ the methods panel
    def choose_method(self, name: str, params: dict | None = None) -> None:
        """Pick ``name`` in the methods panel, wait for its form, and type ``params`` into it."""
        panel = self.ui.methods
        panel.method.setCurrentText(name)
        self.wait(
            lambda: panel.description is not None and panel.description.name == name,
            f"the methods panel to describe {name}",
            180,
        )
        panel.form.set_values(params or {})

    def start(self, kind: str):
        """Press Fit / Predict / Evaluate in the methods panel; returns the job it started."""
        runner = self.ui.analysis.runner
        before = len(runner.jobs)
        self.ui.methods.buttons[kind].click()
        if len(runner.jobs) != before + 1:
            raise StepFailed(f"pressing {kind} started no job: {self.ui.methods.problem.text()}")
        return runner.jobs[-1]

    def dock(self, name: str) -> QDockWidget:
        dock = self.window.findChild(QDockWidget, name)
        if dock is None:
            raise StepFailed(f"the window has no dock named {name!r}")
        return dock

    def share_right_column(self, methods: int, inspect: int) -> None:
        """Split the right column between the Methods and the Heatmap docks (a user drags the splitter)."""
        self.window.resizeDocks(
            [self.dock("methods-dock"), self.dock("inspect-dock")], [methods, inspect], Qt.Orientation.Vertical
        )

    def scroll_dock(self, name: str, to_end: bool) -> None:
        """Scroll a dock's panel to its end (or back to its top), as a user does with its scroll bar."""
        area = self.dock(name).widget()
        if not isinstance(area, QScrollArea):
            raise StepFailed(f"the dock {name!r} does not scroll")
        self.settle(100)
        bar = area.verticalScrollBar()
        bar.setValue(bar.maximum() if to_end else 0)


def box_of(mask: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of a mask's foreground, in image pixels."""
    ys, xs = np.nonzero(mask)
    if not len(xs):
        raise StepFailed("the mask is empty")
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def mask_box(path: Path) -> tuple[float, float, float, float]:
    """:func:`box_of` the mask file at ``path``."""
    return box_of(read_mask(path))


def zoom_to(shooter: Shooter, box: tuple[float, float, float, float], fill: float = 0.45) -> None:
    """Zoom the canvas so ``box`` covers about ``fill`` of the view, centred."""
    canvas = shooter.window.canvas
    x0, y0, x1, y1 = box
    view = canvas.viewport().rect()
    canvas.set_scale(fill * min(view.width() / (x1 - x0), view.height() / (y1 - y0)))
    canvas.center_on_pixel((x0 + x1) / 2, (y0 + y1) / 2)


def wheel_on(widget: QWidget, at: QPointF, steps: int) -> None:
    """A mouse-wheel turn of ``steps`` notches over ``widget`` at ``at`` (its own coordinates)."""
    event = QWheelEvent(
        at,
        QPointF(widget.mapToGlobal(at.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)
