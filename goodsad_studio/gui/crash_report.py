"""Errors nobody caught in the studio's process: one line for the user, the traceback in a log, never on screen.

Under PySide6 an exception raised in a slot (any Qt callback: a timer, a button, a queued signal) that nobody
catches goes to ``sys.excepthook``; Python's default prints the traceback to a terminal a desktop user does not see,
and the studio carries on as if nothing happened. While the studio runs, :class:`CrashReporter` takes that hook
(and ``threading.excepthook``): a :class:`~goodsad_studio.errors.StudioError` goes to ``window.report`` (its
message already names the file); anything else gets a crash log (:func:`goodsad_studio.crash_log.write_crash_log`:
the traceback, the command and versions, in the open dataset's state folder or the user's) and one line naming it
-- the exception's type and message, then where the details are -- in a dialog (the window's prompts) and in the
status bar. An error raised on another thread is logged there and shown on the GUI thread.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from goodsad_studio.crash_log import write_crash_log
from goodsad_studio.errors import StudioError, WorkerError

if TYPE_CHECKING:
    from goodsad_studio.gui.main_window import MainWindow

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]
MESSAGE_CHARS = 300


def one_line(text: object, limit: int = MESSAGE_CHARS) -> str:
    """``text`` on one line (runs of white space, newlines included, become one space), cut at ``limit``."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def error_line(error: BaseException) -> str:
    """What the user reads of an error: a studio error's own message (it names the file; a worker's traceback stays
    in its ``details``), else the exception's type and message; always one line, never a traceback."""
    if isinstance(error, StudioError):
        return one_line(error)
    message = one_line(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def error_details(error: BaseException) -> str:
    """The traceback behind an error, for an explicit "Details" button: a worker's (``WorkerError.details``), or
    the studio process's own for an unexpected one; empty for a studio error (its message says it all)."""
    if isinstance(error, WorkerError):
        return error.details
    if isinstance(error, StudioError):
        return ""
    return "".join(traceback.format_exception(error))


def log_unexpected(error: BaseException, root: Path | None, argv: Sequence[str] | None = None) -> Path | str:
    """Write a crash log of ``error`` (its traceback); returns the log's path, or a note saying none was written."""
    return write_crash_log(list(sys.argv[1:] if argv is None else argv), root, error)


def unexpected_line(error: BaseException, log: Path | str) -> str:
    """One line for an unexpected error: its type and message, then where the details are."""
    where = f"the details are in {log}" if isinstance(log, Path) else str(log)
    return f"Unexpected error ({error_line(error)}); {where}"


class CrashReporter(QObject):
    """The studio's ``sys.excepthook`` and ``threading.excepthook`` while it runs (see the module docstring).

    :meth:`install` takes the hooks, :meth:`uninstall` puts the previous ones back (only where they are still this
    reporter's). ``lines`` keeps what was shown, newest last."""

    _show = Signal(object)  # a StudioError, or the line of an unexpected error; queued when raised on a thread

    def __init__(self, window: MainWindow, argv: Sequence[str] | None = None) -> None:
        super().__init__(window)  # lives (and shows) on the window's thread, the GUI thread
        self.window = window
        self.argv = list(sys.argv[1:] if argv is None else argv)
        self.lines: list[str] = []
        self._showing = False
        self._previous: ExceptHook = sys.excepthook
        self._previous_thread: Callable[[threading.ExceptHookArgs], object] = threading.excepthook
        self._show.connect(self._present)

    # ------------------------------------------------------------------------------------ hooks
    def install(self) -> CrashReporter:
        self._previous, self._previous_thread = sys.excepthook, threading.excepthook
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook
        return self

    def uninstall(self) -> None:
        if sys.excepthook == self.excepthook:
            sys.excepthook = self._previous
        if threading.excepthook == self.thread_excepthook:
            threading.excepthook = self._previous_thread

    def excepthook(self, kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        if not isinstance(error, Exception):  # KeyboardInterrupt, SystemExit: what Python does with them
            self._previous(kind, error, tb)
            return
        try:
            self.handle(error)
        except Exception:  # noqa: BLE001 - the window is gone (or the log failed badly): Python's own report
            self._previous(kind, error, tb)

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        error = args.exc_value
        if not isinstance(error, Exception):
            self._previous_thread(args)
            return
        try:
            self.handle(error)
        except Exception:  # noqa: BLE001 - as in excepthook
            self._previous_thread(args)

    # ------------------------------------------------------------------------------------ reporting
    def handle(self, error: Exception) -> None:
        """Log (unless it is a studio error) and show ``error``; callable from any thread."""
        if isinstance(error, StudioError):
            self._show.emit(error)
            return
        index = self.window.index
        log = log_unexpected(error, index.root if index is not None else None, self.argv)
        self._show.emit(unexpected_line(error, log))

    def _present(self, what: object) -> None:
        """On the GUI thread: the status bar, then a dialog (one at a time: an error raised while one is open,
        by a timer that keeps firing under the dialog, goes to the status bar and its log only)."""
        line = error_line(what) if isinstance(what, BaseException) else one_line(what, 10 * MESSAGE_CHARS)
        self.lines.append(line)
        if self._showing:
            self.window.status.showMessage(line, 30000)
            return
        self._showing = True
        try:
            if isinstance(what, StudioError):
                self.window.report(what)
            else:
                self.window.status.showMessage(line, 30000)
                self.window.prompts.warn(line)
        finally:
            self._showing = False
