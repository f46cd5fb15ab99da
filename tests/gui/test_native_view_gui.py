"""The native-resolution choices in the methods panel reach the engine, and the studio draws the crop box and the
tiles the method saw, from the cached result, when asked to."""

from __future__ import annotations

import pytest

from goodsad_studio.gui.jobs import JobState
from goodsad_studio.native.spec import TileSpec, ViewRequest
from gui.helpers import JOB_WAIT_MS, UI_WAIT_MS

DEFECTIVE = "drink_can/test/surface_damage/001004"


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    from goodsad_studio.dataset.demo import generate_demo

    dest = tmp_path_factory.mktemp("native") / "demo"
    generate_demo(dest, size=160, categories=["drink_can"], goods_per_category=2, train_per_goods=2)
    return dest


def test_tiles_chosen_in_the_form_are_run_and_drawn(qtbot, make_window, demo_root):
    window = make_window(demo_root, select=DEFECTIVE)
    ui = window.analysis_ui
    qtbot.waitUntil(lambda: ui.methods.description is not None, timeout=JOB_WAIT_MS)
    methods = ui.methods
    assert methods.tiling.currentText() == "auto" and methods.crop.currentText() == "auto"

    methods.tiling.setEditText("tiny")
    methods.request("predict")
    assert "Native resolution: tiling must be" in methods.problem.text()

    methods.tiling.setEditText("64:16")
    methods.crop.setCurrentText("off")
    assert methods.spec().view == ViewRequest(TileSpec(64, 16), "off")
    methods.form.set_values({"coreset_ratio": 0.1})
    methods.buttons["predict"].click()
    job = ui.analysis.runner.jobs[-1]
    qtbot.waitUntil(lambda: not job.running, timeout=JOB_WAIT_MS)
    assert job.state == JobState.DONE, job.error
    qtbot.waitUntil(lambda: not ui.busy, timeout=UI_WAIT_MS)

    result = ui.analysis.result(window.current)
    assert result is not None and len(result.tiles) == 9  # 3 x 3 tiles of 64 over 160 px
    layer = ui.overlay.view_layer
    assert not layer.has_view  # off until asked for
    ui.controls.show_view.setChecked(True)
    qtbot.waitUntil(lambda: layer.has_view, timeout=UI_WAIT_MS)
    assert layer.tiles == result.tiles and layer.crop is None
    ui.controls.show_view.setChecked(False)
    qtbot.waitUntil(lambda: not layer.has_view, timeout=UI_WAIT_MS)
