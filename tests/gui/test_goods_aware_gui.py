"""The goods-aware choices in the methods panel reach the engine, and the image panel names the training photos a
result was compared with."""

from __future__ import annotations

import pytest

from goodsad_studio.engine.cache import CATEGORY_SCALE
from goodsad_studio.engine.inspect import CALIBRATED_THRESHOLD
from goodsad_studio.goods.spec import GoodsSpec
from goodsad_studio.gui.inspector import compared_text, scale_text
from goodsad_studio.gui.jobs import JobState
from gui.helpers import JOB_WAIT_MS, UI_WAIT_MS

DEFECTIVE = "drink_can/test/surface_anomaly/001006"


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    from goodsad_studio.dataset.demo import generate_demo

    dest = tmp_path_factory.mktemp("goods") / "demo"
    generate_demo(dest, size=128, categories=["drink_can"], goods_per_category=2, train_per_goods=3)
    return dest


def test_compared_with_names_the_photos_most_similar_first():
    assert compared_text(()) == "all training photos"
    keys = tuple(f"drink_can/train/good/0010{i:02d}" for i in range(7))
    assert compared_text(keys[:2]) == "001000, 001001"
    assert compared_text(keys) == "001000, 001001, 001002, 001003, 001004, … (+2 more)"
    assert scale_text(None) == "raw (uncalibrated)" and scale_text("042") == "z-score of goods 042's normal photos"
    assert scale_text(CATEGORY_SCALE) == "z-score of the category's normal photos"


def test_a_goods_aware_prediction_shows_the_photos_it_was_compared_with(qtbot, make_window, demo_root):
    window = make_window(demo_root, select=DEFECTIVE)
    ui = window.analysis_ui
    qtbot.waitUntil(lambda: ui.methods.description is not None, timeout=JOB_WAIT_MS)
    methods = ui.methods
    assert methods.compare_with.currentText() == "all" and methods.calibrate.currentText() == "auto"
    assert methods.spec().goods == GoodsSpec()

    methods.compare_with.setEditText("nearest")
    methods.request("predict")
    assert "Goods-aware: compare with" in methods.problem.text()

    methods.compare_with.setEditText("goods:2")
    methods.calibrate.setCurrentText("on")
    assert methods.spec().goods == GoodsSpec(True, 2, True)
    methods.form.set_values({"coreset_ratio": 0.5})
    methods.buttons["predict"].click()
    job = ui.analysis.runner.jobs[-1]
    qtbot.waitUntil(lambda: not job.running, timeout=JOB_WAIT_MS)
    assert job.state == JobState.DONE, job.error
    qtbot.waitUntil(lambda: not ui.busy, timeout=UI_WAIT_MS)

    result = ui.analysis.result(window.current)
    assert result is not None and len(result.neighbours) == 2
    assert all(key.rsplit("/", 1)[-1].startswith("001") for key in result.neighbours)  # its own goods' photos
    shown = ui.overlay.panel.compared.text()
    assert shown == compared_text(result.neighbours) and shown.startswith("001")
    assert result.calibrated == "001" and ui.overlay.panel.scale.text() == scale_text("001")
    assert ui.overlay.controls.threshold() == CALIBRATED_THRESHOLD  # no evaluation yet: the calibrated default
