"""Garbage collection on the GUI thread only.

Python's cyclic garbage collector runs in whichever thread happens to allocate when a threshold is crossed. When
that is one of the studio's worker threads (image decoding, prefetch, validation) and the garbage holds Qt objects
(the wrappers of a closed window or a rebuilt compare pane), their C++ destructors run on that thread while the GUI
thread holds Qt's locks: the two wait on each other for ever. This was seen in the test suite (a prefetch thread's
``read_bytes`` triggered a collection that destroyed a QMenu's actions while the GUI thread deleted the menu).

pyqtgraph's :class:`GarbageCollector` turns automatic collection off and collects on a timer of the GUI thread's
event loop instead; :func:`collect_on_gui_thread` installs one for the application.
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QCoreApplication

_collector: GarbageCollector | None = None


def collect_on_gui_thread() -> None:
    """Collect garbage only on the GUI thread from now on (once per process; needs the QApplication)."""
    global _collector
    if _collector is None and QCoreApplication.instance() is not None:
        _collector = GarbageCollector(interval=1.0)


def restore_automatic_collection() -> None:
    """Back to Python's own collection (for code that goes on without an event loop, such as later tests)."""
    global _collector
    if _collector is not None:
        _collector.timer.stop()
        _collector = None
    gc.enable()
    gc.collect()
