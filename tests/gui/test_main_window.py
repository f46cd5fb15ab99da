"""The minimal studio window: it opens a dataset, shows the tree with counts, shows an image with its mask, and
reports bad input without dying."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import build_category, shared_category

pytest.importorskip("pytestqt")

from goodsad_studio.gui.main_window import MainWindow  # noqa: E402


@pytest.fixture
def window(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    return window


def test_tree_shows_categories_goods_and_images(window, tmp_path):
    build_category(tmp_path / "drink_can", names=("001001", "001002", "002001"))
    assert window.open_dataset(tmp_path)
    top = window.tree.topLevelItem(0)
    assert top.text(0).startswith("drink_can") and "9 images" in top.text(0)
    assert [top.child(i).text(0).split()[:2] for i in range(top.childCount())] == [["goods", "001"],
                                                                                   ["goods", "002"]]
    assert window.select_image("drink_can/test/scratch/002001")
    assert window.image_view.mask_item.isVisible()
    assert window.image_view.image_item.image.shape == (24, 32, 3)


def test_unreadable_image_is_reported_and_window_stays_usable(window, tmp_path):
    cat = build_category(tmp_path / "cat", names=("000", "001"))
    (cat / "test" / "good" / "001.png").write_bytes(b"broken")
    window.open_dataset(tmp_path)
    window.select_image("cat/test/good/001")
    assert "001.png" in window.statusBar().currentMessage()
    assert window.select_image("cat/test/good/000")
    assert "cat/test/good/000" in window.statusBar().currentMessage()


def test_missing_dataset_is_reported(window, tmp_path):
    assert not window.open_dataset(tmp_path / "nowhere")
    assert "dataset folder not found" in window.statusBar().currentMessage()


def test_screenshot_command_renders_a_png(tmp_path, shared_data):
    root = shared_category(shared_data, "mpdd_metal_plate_512")
    shot = tmp_path / "shot.png"
    result = subprocess.run([sys.executable, "-m", "goodsad_studio", "gui", str(root), "--select",
                             "metal_plate/test/defective/003", "--screenshot", str(shot)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    from goodsad_studio.dataset.imageio import read_image

    image = read_image(shot)
    assert image.shape[0] > 400 and image.std() > 10
