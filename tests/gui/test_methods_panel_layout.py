"""The Methods panel's Fit / Predict / Evaluate buttons, their scope and the job list stay where they are, to the
pixel, while a method's description and form arrive, when a method with many or few parameters is set up, when a
request is refused with a message, and as jobs fill the list (issue 21 point 5: a click meant for a button landed
in a parameter field that the arriving form had pushed under the pointer)."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication

from goodsad_studio.engine.client import EngineClient
from goodsad_studio.engine.contract import MethodSpec
from goodsad_studio.engine.transports.inline import InlineTransport
from goodsad_studio.gui import methods_panel
from goodsad_studio.gui.jobs import JobState
from gui.helpers import JOB_WAIT_MS, UI_WAIT_MS

SELECT = "drink_can/test/scratch/001003"
MANY, FEW = "fanogan", "gde"  # the methods with the most (17) and the fewest (4) parameters


@pytest.fixture
def gate():
    """Holds the Methods panel's description back until the test opens it (at the latest when the test ends)."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def described(monkeypatch, gate):
    """Every description the panel asks for comes from the engine in this process, held back by ``gate``;
    PatchCore's with a description many lines long (the form is its real one)."""
    client = EngineClient(InlineTransport())
    found = {name: client.describe(MethodSpec(name)).description for name in ("patchcore", MANY, FEW)}
    found["patchcore"] = dataclasses.replace(
        found["patchcore"], description=" ".join([found["patchcore"].description] * 40)
    )

    def held(_client, request):
        gate.wait(JOB_WAIT_MS / 1000)
        return found[request[0]]

    monkeypatch.setattr(methods_panel, "describe_cached", held)
    return found


def _places(ui) -> dict[str, tuple]:
    """Where each fixed part is, in the window's and in the dock's coordinates, with its size."""
    panel, window, dock = ui.methods, ui.window, ui.methods_dock
    parts = {f"button-{kind}": button for kind, button in panel.buttons.items()}
    parts.update(scope=panel.scope, jobs=panel.jobs_area, section=panel.run_section)
    return {
        name: (widget.mapTo(window, QPoint(0, 0)), widget.mapTo(dock, QPoint(0, 0)), widget.size())
        for name, widget in parts.items()
    }


def _settled(qtbot, ui) -> dict[str, tuple]:
    """The places once two reads an event-loop round apart agree (layouts ripple up one round per level)."""
    seen: list[dict] = []

    def stable() -> bool:
        QApplication.processEvents()
        seen.append(_places(ui))
        return len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]

    qtbot.waitUntil(stable, timeout=UI_WAIT_MS)
    return seen[-1]


def test_buttons_and_jobs_keep_their_place_whatever_the_panel_shows(qtbot, make_window, goods_root, described, gate):
    window = make_window(goods_root, select=SELECT)
    ui = window.analysis_ui
    panel = ui.methods
    assert panel.description is None and panel.method.currentText() == "patchcore"  # its description is held back
    before = _settled(qtbot, ui)
    assert all(size.width() > 0 and size.height() > 0 for _w, _d, size in before.values())

    gate.set()  # the long description and PatchCore's 16-field form arrive
    qtbot.waitUntil(lambda: panel.description is not None and len(panel.form.editors) == 16, timeout=UI_WAIT_MS)
    assert _settled(qtbot, ui) == before
    assert panel.about.text() == described["patchcore"].description
    assert panel.settings_area.verticalScrollBar().maximum() > 0  # the set-up is taller than its room: it scrolls

    for name, fields in ((MANY, 17), (FEW, 4)):
        panel.method.setCurrentText(name)
        qtbot.waitUntil(
            lambda n=name, f=fields: panel.description.name == n and len(panel.form.editors) == f, timeout=UI_WAIT_MS
        )
        assert _settled(qtbot, ui) == before, name

    # a refused request's message has room under the buttons (a long one takes it from the job list, never from
    # above the buttons)
    panel.tiling.setEditText("not a tiling")
    panel.request("predict")
    assert panel.problem.text().startswith("Native resolution:") and panel.problem.isVisible()
    refused = _settled(qtbot, ui)
    assert {name: place for name, place in refused.items() if name != "jobs"} == {
        name: place for name, place in before.items() if name != "jobs"
    }
    panel.tiling.setEditText("auto")

    # jobs fill the list: it scrolls, the section keeps its height
    runner = ui.analysis.runner
    jobs = [runner.start(f"job {n}", lambda progress, cancel: None, lambda _job: None) for n in range(6)]
    qtbot.waitUntil(lambda: all(job.state == JobState.DONE for job in jobs), timeout=JOB_WAIT_MS)
    assert len(panel.jobs.rows) == 6
    assert _settled(qtbot, ui) == refused
    window.close()
