"""Garbage is collected on the GUI thread only, never on a worker thread (where destroying Qt objects deadlocked)."""

from __future__ import annotations

import gc
import threading

from gui.helpers import UI_WAIT_MS


def test_cyclic_garbage_is_collected_on_the_gui_thread_not_on_workers(qtbot, make_window):
    make_window()
    assert not gc.isenabled()
    collected_on: list[bool] = []

    class Cyclic:
        def __del__(self):
            collected_on.append(threading.current_thread() is threading.main_thread())

    def make_garbage():
        item = Cyclic()
        item.me = item

    make_garbage()

    def cycles():  # plenty of cyclic garbage: with automatic collection on, this thread would collect
        for _ in range(20_000):
            item: dict = {}
            item["me"] = item

    worker = threading.Thread(target=cycles)
    worker.start()
    worker.join()
    assert collected_on == []
    qtbot.waitUntil(lambda: collected_on == [True], timeout=UI_WAIT_MS)  # the GUI thread's timer collects it
