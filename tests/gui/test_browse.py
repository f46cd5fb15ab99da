"""Browsing a dataset: the tree with counts and badges, the filters, next/previous with prefetch, the thumbnail
strip, and errors that leave the window usable."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from goodsad_studio.gui.badges import BADGES_ROLE
from goodsad_studio.gui.tree_filter import MISSING_MASK
from gui.helpers import SUBPROCESS_S, UI_WAIT_MS, key, loaded


def isolated_env(tmp_path) -> dict:
    """The studio in a subprocess: offscreen, its settings in a temporary folder (not the user's)."""
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config")}


def badge_texts(window, key_):
    return [badge.text for badge in window.tree.item_for(key_).data(1, BADGES_ROLE)]


def test_tree_counts_and_badges(make_window, goods_root):
    window = make_window(goods_root)
    category = window.tree.group_item("drink_can")
    assert category.text(0) == "drink_can"
    assert category.text(1) == "7 images · 3 defective · 1 missing mask"
    assert window.tree.group_item("drink_can", "001").text(1) == "5 images · 2 defective · 1 missing mask"
    assert window.tree.group_item("drink_can", "002").text(1) == "2 images · 1 defective"
    assert badge_texts(window, "drink_can/train/good/001000") == ["train", "good"]
    assert badge_texts(window, "drink_can/test/scratch/001003") == ["test", "scratch", "mask"]
    # the validation pass (in the background) flags the defective image without a mask
    assert badge_texts(window, "drink_can/test/dent/001004") == ["test", "dent", "no mask", "⚠ 1"]
    assert "defective test image without a ground-truth mask" in window.tree.item_for(
        "drink_can/test/dent/001004"
    ).toolTip(1)


def test_filters_and_search(make_window, goods_root):
    window = make_window(goods_root)
    bar = window.panel.filters
    bar.split.setCurrentIndex(bar.split.findData("test"))
    assert len(window.tree.visible_keys()) == 4
    assert window.tree.group_item("drink_can").text(1).startswith("4 of 7 images")
    bar.mask.setCurrentIndex(bar.mask.findData(MISSING_MASK))
    assert window.tree.visible_keys() == ["drink_can/test/dent/001004"]
    bar.mask.setCurrentIndex(0)
    bar.defect.setCurrentIndex(bar.defect.findData("scratch"))
    assert window.tree.visible_keys() == ["drink_can/test/scratch/001003", "drink_can/test/scratch/002001"]
    bar.defect.setCurrentIndex(0)
    bar.split.setCurrentIndex(0)
    bar.search.setText("0020")
    bar._typing.timeout.emit()  # the search waits for a pause in typing
    assert window.tree.visible_keys() == ["drink_can/train/good/002000", "drink_can/test/scratch/002001"]
    assert window.tree.group_item("drink_can", "001") is None
    bar.search.clear()
    bar.problems.setChecked(True)
    assert window.tree.visible_keys() == ["drink_can/test/dent/001004"]


def test_edited_filter_follows_unsaved_and_saved_edits(make_window, goods_root):
    window = make_window(goods_root, "drink_can/test/scratch/002001")
    window.canvas.set_tool("brush")
    document = window.canvas.document
    document.paint([(30.5, 20.5)], 2)
    window.canvas.edit_done(document.paint([(31.5, 20.5)], 0))
    assert "● unsaved" in badge_texts(window, "drink_can/test/scratch/002001")
    window.panel.filters.edited.setChecked(True)
    assert window.tree.visible_keys() == ["drink_can/test/scratch/002001"]
    assert window.save_current()
    assert "edited" in badge_texts(window, "drink_can/test/scratch/002001")
    assert window.tree.visible_keys() == ["drink_can/test/scratch/002001"]


def test_next_and_previous_use_prefetched_images(qtbot, make_window, goods_root):
    window = make_window(goods_root, "drink_can/train/good/001000")
    order = window.tree.visible_keys()
    assert order[:3] == ["drink_can/train/good/001000", "drink_can/train/good/001001", "drink_can/test/good/001002"]
    path = window.index.get(order[1]).image_path
    assert window.loader.cached(path) is not None  # the neighbour was decoded in the background
    key(qtbot, window, "D")
    assert window.current.key == order[1]
    assert window.canvas.display is window.loader.cached(path)  # shown at once, full resolution
    assert window.canvas.document is not None  # its mask document was prefetched too
    key(qtbot, window, "PgDown")
    key(qtbot, window, "A")
    assert window.current.key == order[1]
    assert window.tree.current_key() == order[1]


def test_thumbnail_strip_shows_the_goods_and_selects(qtbot, make_window, goods_root):
    window = make_window(goods_root, "drink_can/test/scratch/002001")
    strip = window.thumbnails
    assert [strip.item(i).data(0x0100) for i in range(strip.count())] == [
        "drink_can/train/good/002000",
        "drink_can/test/scratch/002001",
    ]
    qtbot.waitUntil(lambda: strip.loaded_count() == 2, timeout=UI_WAIT_MS)
    strip.itemClicked.emit(strip.item(0))
    assert window.current.key == "drink_can/train/good/002000"
    assert window.tree.current_key() == "drink_can/train/good/002000"


def test_unreadable_image_and_bad_mask_are_reported(make_window, goods_root):
    cat = goods_root / "drink_can"
    (cat / "test" / "good" / "001002.png").write_bytes(b"broken")
    (cat / "ground_truth" / "scratch" / "002001_mask.png").write_bytes(
        (cat / "train" / "good" / "001000.png").read_bytes()
    )  # an RGB photo where a mask should be
    window = make_window(goods_root, "drink_can/test/good/001002")
    assert "001002.png" in window.statusBar().currentMessage()
    assert window.canvas.display is None
    window.select_image("drink_can/test/scratch/002001")
    loaded(window)
    assert any("002001_mask.png" in text for text in window.prompts.warnings)
    assert window.canvas.display is not None and window.canvas.document is None  # shown, not editable
    assert window.select_image("drink_can/train/good/001000")
    loaded(window)
    assert window.canvas.document is not None and window.canvas.image_layer.is_full_resolution


def test_missing_dataset_is_reported(make_window, tmp_path):
    window = make_window()
    assert not window.open_dataset(tmp_path / "nowhere")
    assert "dataset folder not found" in window.statusBar().currentMessage()


def test_opens_the_demo_dataset(make_window, tmp_path):
    from goodsad_studio.dataset.demo import generate_demo

    root = generate_demo(
        tmp_path / "demo",
        size=96,
        categories=["food_box"],
        goods_per_category=2,
        train_per_goods=1,
        test_good_per_goods=1,
        defective_per_goods=1,
    )
    window = make_window(root)
    assert window.current is not None and window.current.mask_path is not None
    assert window.canvas.document.mask.sum() > 0
    assert window.canvas.shapes  # the mask traced into editable polygons


def test_screenshot_command_renders_a_png(tmp_path, goods_root):
    shot = tmp_path / "shot.png"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "goodsad_studio",
            "gui",
            str(goods_root),
            "--select",
            "drink_can/test/scratch/001003",
            "--screenshot",
            str(shot),
        ],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_S,
        env=isolated_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    from goodsad_studio.dataset.imageio import read_image

    image = read_image(shot)
    assert image.shape[0] > 400 and image.std() > 10
    # the mask fill's cyan is on the picture
    cyan = (image[..., 0] < 90) & (image[..., 1] > 150) & (image[..., 2] > 170)
    assert cyan.sum() > 100
    # a one-off render leaves File > Open recent as it was
    settings = "".join(path.read_text(errors="replace") for path in tmp_path.rglob("*.conf"))
    assert str(goods_root) not in settings


@pytest.mark.slow
def test_screenshot_of_real_data(tmp_path, shared_data):
    root = shared_data / "mpdd_metal_plate_512"
    shot = tmp_path / "shot.png"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "goodsad_studio",
            "gui",
            str(root),
            "--select",
            "metal_plate/test/defective/003",
            "--screenshot",
            str(shot),
        ],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_S,
        env=isolated_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    from goodsad_studio.dataset.imageio import read_image

    assert np.asarray(read_image(shot)).std() > 10
