"""Views by goods: the triage list and the compare view restricted to one goods id (the choice kept while images
change, back to all goods in another category), and the metrics view's hardest goods.

The dataset is tiny (40x30 photos), evaluated beforehand with the test plug-in method (distance from the mean
training photo) in this process: drink_can has goods 001 and 002 (a good and a defective test photo each; 002's
defective photo is the training photo and its good one is not, so its image AUROC is 0 and 001's is 1), 003 (one
defective photo only, so no image AUROC) and a photo whose name carries no goods id; food_box has goods 007."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import PLUGIN

from goodsad_studio.dataset.imageio import write_mask
from goodsad_studio.engine.contract import MethodSpec
from goodsad_studio.gui.goods_filter import ALL_GOODS, NO_GOODS_ID
from goodsad_studio.gui.triage_panel import START_NOTE
from goodsad_studio.metrics.hardest import hardest_goods
from goodsad_studio.metrics.report import format_value
from gui.helpers import JOB_WAIT_MS, UI_WAIT_MS, pattern, write_rgb

LIKE_TRAINING = {"drink_can/test/good/001002", "drink_can/test/scratch/002003"}
PHOTOS = {
    "drink_can/train/good/001000": False,
    "drink_can/train/good/001001": False,
    "drink_can/train/good/002000": False,
    "drink_can/train/good/002001": False,
    "drink_can/test/good/001002": False,
    "drink_can/test/good/002002": False,
    "drink_can/test/good/odd": False,
    "drink_can/test/scratch/001003": True,
    "drink_can/test/scratch/002003": True,
    "drink_can/test/dent/003001": True,
    "food_box/train/good/007000": False,
    "food_box/test/good/007001": False,
    "food_box/test/dent/007002": True,
}
DRINK_CAN_TEST = [key for key in PHOTOS if key.startswith("drink_can/test/")]


@pytest.fixture(scope="module")
def evaluated_goods(tmp_path_factory):
    """The dataset of the module docstring, with drink_can evaluated (results and outcome on disk)."""
    from goodsad_studio.dataset.index import scan_dataset
    from goodsad_studio.engine.client import EngineClient
    from goodsad_studio.engine.contract import Evaluate
    from goodsad_studio.engine.records import OpenDataset
    from goodsad_studio.engine.transports.inline import InlineTransport

    root = tmp_path_factory.mktemp("goods") / "data"
    for seed, (key, defective) in enumerate(PHOTOS.items()):
        category, _split, defect, stem = key.split("/")
        plain = _split == "train" or key in LIKE_TRAINING
        write_rgb(root / f"{category}/{_split}/{defect}/{stem}.png", pattern(30, 40, 0 if plain else seed + 1))
        if defective:
            mask = np.zeros((30, 40), bool)
            mask[4 + seed : 12 + seed, 6:16] = True
            write_mask(root / category / "ground_truth" / defect / f"{stem}_mask.png", mask)
    dataset = OpenDataset(scan_dataset(root))
    EngineClient(InlineTransport()).evaluate(Evaluate(dataset.ref(), MethodSpec(PLUGIN), "drink_can"))
    return root


def _entries(combo):
    return [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]


def _choose(combo, text):
    combo.setCurrentIndex(combo.findText(text))


def _show(qtbot, window, key):
    assert window.select_image(key)
    qtbot.waitUntil(lambda: window.current is not None and window.current.key == key, timeout=UI_WAIT_MS)
    assert window.wait_until_loaded(UI_WAIT_MS)


def test_triage_shows_one_goods_and_keeps_the_choice_until_the_category_changes(qtbot, make_window, evaluated_goods):
    window = make_window(evaluated_goods, select="drink_can/test/scratch/001003")
    window.analysis_ui.analysis.set_method(PLUGIN)
    triage = window.analysis_ui.triage
    assert _entries(triage.goods) == [
        ("All goods", ALL_GOODS),
        ("001", "001"),
        ("002", "002"),
        ("003", "003"),
        ("no goods id", NO_GOODS_ID),
    ]
    job = triage.start()
    qtbot.waitUntil(lambda: not job.running, timeout=JOB_WAIT_MS)
    assert sorted(item.key for item in triage.items) == sorted(DRINK_CAN_TEST)

    _choose(triage.goods, "002")  # its defective photo first, then its good one
    assert [item.key for item in triage.items] == ["drink_can/test/scratch/002003", "drink_can/test/good/002002"]
    assert triage.list.count() == 2 and "of goods 002" in triage.note.text()
    _choose(triage.goods, "no goods id")
    assert [triage.list.item(i).data(256) for i in range(triage.list.count())] == ["drink_can/test/good/odd"]

    _choose(triage.goods, "002")
    _show(qtbot, window, "drink_can/test/good/001002")  # another image of the same category: the choice stays
    assert triage.goods.choice == "002" and triage.list.count() == 2

    _show(qtbot, window, "food_box/test/good/007001")  # another category: its goods, all of them, nothing found yet
    assert _entries(triage.goods) == [("All goods", ALL_GOODS), ("007", "007")]
    assert triage.list.count() == 0 and triage.note.text() == START_NOTE

    _show(qtbot, window, "drink_can/test/dent/003001")  # back: all goods again, and what was found shows again
    assert triage.goods.choice is ALL_GOODS and triage.list.count() == len(DRINK_CAN_TEST)
    window.close()


def test_compare_lists_one_goods_photos_and_opens_the_chosen_goods(qtbot, make_window, evaluated_goods):
    window = make_window(evaluated_goods, select="drink_can/test/scratch/001003")
    ui = window.analysis_ui
    ui.show_compare()
    compare = ui.compare
    qtbot.waitUntil(lambda: len(compare.panes) == 2, timeout=UI_WAIT_MS)  # ground truth + the plug-in

    def photos():
        return [compare.photos.item(i).text() for i in range(compare.photos.count())]

    assert len(photos()) == len(DRINK_CAN_TEST) and compare.photos.currentItem().text() == "scratch/001003"
    assert [text for text, _ in _entries(compare.goods)] == ["All goods", "001", "002", "003", "no goods id"]

    _choose(compare.goods, "002")  # the shown photo is of 001: the first photo of 002 opens
    qtbot.waitUntil(lambda: window.current.key == "drink_can/test/good/002002", timeout=UI_WAIT_MS)
    qtbot.waitUntil(lambda: compare.panes[0].title == "ground truth" and len(compare.panes) == 2, timeout=UI_WAIT_MS)
    assert photos() == ["good/002002", "scratch/002003"] and compare.photos.currentRow() == 0
    # the rebuilt panes share the grid equally (a rebuilt grid without stretch left one at its minimum size)
    qtbot.waitUntil(lambda: abs(compare.panes[0].width() - compare.panes[1].width()) <= 2, timeout=UI_WAIT_MS)
    assert compare.photos_note.text() == "2 test photos of goods 002"

    _show(qtbot, window, "drink_can/test/good/001002")  # opened elsewhere: the choice stays, and the note says so
    assert compare.goods.choice == "002" and photos() == ["good/002002", "scratch/002003"]
    assert compare.photos.currentRow() == -1 and "the shown photo is of goods 001" in compare.photos_note.text()
    compare.photos.itemClicked.emit(compare.photos.item(1))
    qtbot.waitUntil(lambda: window.current.key == "drink_can/test/scratch/002003", timeout=UI_WAIT_MS)
    assert compare.photos.currentRow() == 1

    _show(qtbot, window, "food_box/test/dent/007002")
    assert compare.goods.choice is ALL_GOODS and photos() == ["good/007001", "dent/007002"]
    compare.close()
    window.close()


def test_the_metrics_view_lists_the_hardest_goods_and_those_it_cannot_rank(qtbot, make_window, evaluated_goods):
    window = make_window(evaluated_goods, select="drink_can/test/scratch/001003")
    ui = window.analysis_ui
    ui.show_metrics()
    view = ui.metrics_view
    outcome = ui.analysis.outcomes[("drink_can", PLUGIN)]
    by_goods = {row.goods_id: row for row in outcome.rows if row.goods_id is not None}
    assert set(by_goods) == {"001", "002", "003", "all"}

    shown = [view.hardest.item(r, 1).text() for r in range(view.hardest.rowCount())]
    assert shown == ["002", "001"]  # lowest image AUROC first; 003 has one class only, "all" is no goods
    aurocs = [by_goods[goods_id].result.image_auroc for goods_id in shown]
    assert aurocs == [0.0, 1.0]
    assert [view.hardest.item(r, 0).text() for r in range(2)] == ["1", "2"]
    assert view.hardest.item(0, 2).text() == format_value(aurocs[0])
    assert view.hardest.item(0, 5).text() == str(by_goods[shown[0]].result.counts.n_images)
    assert "003: image AUROC undefined: only defective photos (1)" in view.unranked.text()
    assert "all: photos whose names carry no goods id" in view.unranked.text()
    assert f"drink_can / {PLUGIN}" in view.hardest_title.text()
    assert hardest_goods(outcome.rows)[0].ranked == [by_goods[goods_id] for goods_id in shown]

    view.hardest.cellClicked.emit(1, 0)  # shows that goods' row of the table
    selected = view.rows[view.table.currentRow()][2]
    assert selected.goods_id == shown[1] and f"drink_can / {shown[1]} /" in view.note.text()
    view.close()
    window.close()
