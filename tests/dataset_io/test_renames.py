"""Renaming a photo into GoodsAD's scheme: the next free serial of the goods, the mask along, every refusal before
anything moves, and the exact way back."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from goodsad_studio.dataset import edits
from goodsad_studio.dataset.edits import (
    mark_good,
    next_serial,
    rename_record,
    rename_to_goods,
    validate_defect_name,
)
from goodsad_studio.dataset.imageio import read_mask
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.errors import DatasetError, ReadOnlyError

from .test_edits import _files, _same_records, fail_mask_moves

SHELF = "drink_can/test/dent/shelf_7"


@pytest.fixture
def unnamed(dataset):
    """The tiny dataset plus a photo with no goods id in its name: drink_can/test/dent/shelf_7.png with a mask."""
    root, masks = dataset
    can = root / "drink_can"
    shutil.copy2(can / "test" / "dent" / "001003.png", can / "test" / "dent" / "shelf_7.png")
    shutil.copy2(can / "ground_truth" / "dent" / "001003_mask.png", can / "ground_truth" / "dent" / "shelf_7_mask.png")
    return root, masks[str(can / "test" / "dent" / "001003.png")]


def test_a_photo_without_a_goods_id_takes_the_next_serial_of_the_goods_and_its_mask_follows(unnamed):
    root, mask = unnamed
    index = scan_dataset(root)
    record = index.get(SHELF)
    assert record.goods_id is None
    new = rename_to_goods(index, record, "002")  # goods 002 has 000-003 over train, test/good, dent and scratch
    assert new.key == "drink_can/test/dent/002004" and index.get(SHELF) is None and index.get(new.key) == new
    assert (new.goods_id, new.serial, new.name_style) == ("002", "004", "goodsad")
    assert new.image_path == root / "drink_can" / "test" / "dent" / "002004.png" and new.image_path.is_file()
    assert new.mask_path == root / "drink_can" / "ground_truth" / "dent" / "002004_mask.png"
    assert np.array_equal(read_mask(new.mask_path), mask)
    assert not record.image_path.exists() and not record.mask_path.exists()
    assert _same_records(index, root)
    assert next_serial(index, "drink_can", "002") == "005" and next_serial(index, "drink_can", "042") == "000"


def test_a_photo_may_change_goods_and_keeps_its_extension_and_mask_naming(dataset):
    root, masks = dataset
    index = scan_dataset(root)
    record = index.get("food_box/test/opened/011001")  # JPEG, masks named like their images
    new = rename_to_goods(index, record, "010")  # 010 has 000, 001, 002
    assert new.image_path.name == "010003.jpg" and new.mask_path.name == "010003.png"
    assert np.array_equal(read_mask(new.mask_path), masks[str(record.image_path)])
    train = rename_to_goods(index, index.get("drink_can/train/good/001000"), "007")  # train photos too
    assert train.key == "drink_can/train/good/007000"
    assert _same_records(index, root)
    assert rename_to_goods(index, new, "010") is new  # a photo of that goods already: unchanged


def test_renaming_back_to_the_old_stem_undoes_it_exactly(unnamed):
    root, mask = unnamed
    index = scan_dataset(root)
    before, record = _files(root), index.get(SHELF)
    new = rename_to_goods(index, record, "001")
    back = rename_record(index, new, "shelf_7")
    assert back == record and index.get(SHELF) == record and _files(root) == before
    assert np.array_equal(read_mask(back.mask_path), mask)
    again = rename_record(index, back, new.stem)  # and redo
    assert again == new and _same_records(index, root)


def test_serials_skip_masks_waiting_without_an_image_and_fill_gaps_after_999(unnamed):
    root, _ = unnamed
    index = scan_dataset(root)
    orphan = root / "drink_can" / "ground_truth" / "dent" / "002004_mask.png"
    shutil.copy2(root / "drink_can" / "ground_truth" / "dent" / "001003_mask.png", orphan)
    index = scan_dataset(root)
    assert next_serial(index, "drink_can", "002") == "005"
    train = root / "drink_can" / "train" / "good"
    for serial in range(990, 1000):
        (train / f"003{serial:03d}.png").write_bytes(b"")  # the scan reads names only
    (train / "003500.png").write_bytes(b"")
    index = scan_dataset(root)
    assert next_serial(index, "drink_can", "003") == "000"  # 999 is taken: the lowest free serial
    for serial in range(1000):
        (train / f"003{serial:03d}.png").write_bytes(b"")
    index = scan_dataset(root)
    before = _files(root)
    with pytest.raises(DatasetError, match="goods 003 of category drink_can already has all 1000 serials"):
        rename_to_goods(index, index.get(SHELF), "003")
    assert _files(root) == before and index.get(SHELF) is not None


@pytest.mark.parametrize("bad", ["42", "0042", "abc", "04a", "", " 042", "042\n", "\u0660\u0664\u0662"])
def test_a_goods_id_is_exactly_three_digits(unnamed, bad):
    root, _ = unnamed
    index = scan_dataset(root)
    before = _files(root)
    with pytest.raises(DatasetError, match="a goods id is exactly three digits"):
        rename_to_goods(index, index.get(SHELF), bad)
    assert _files(root) == before


@pytest.mark.parametrize("bad", ["", "   ", ".hidden", "a/b", "a\\b"])
def test_a_stem_with_folders_or_hidden_is_refused(unnamed, bad):
    root, _ = unnamed
    index = scan_dataset(root)
    with pytest.raises(DatasetError, match="cannot name an image"):
        rename_record(index, index.get(SHELF), bad)


def test_a_defect_name_with_a_trailing_newline_is_refused():
    with pytest.raises(DatasetError, match="not allowed"):
        validate_defect_name("dent\n")


def test_name_clashes_are_refused_and_change_nothing(unnamed):
    root, _ = unnamed
    index = scan_dataset(root)
    record, before = index.get(SHELF), _files(root)
    with pytest.raises(DatasetError, match="002000 already names drink_can/train/good/002000") as caught:
        rename_record(index, record, "002000")  # a GoodsAD name is unique in its category
    assert caught.value.path == root / "drink_can" / "train" / "good" / "002000.png"
    shutil.copy2(record.image_path, record.image_path.with_name("spare.jpg"))
    index = scan_dataset(root)
    before = _files(root)
    with pytest.raises(DatasetError, match=r"an image named spare.jpg is already in test/dent/"):
        rename_record(index, index.get(SHELF), "spare")
    waiting = root / "drink_can" / "ground_truth" / "dent" / "spare2_mask.png"
    shutil.copy2(record.mask_path, waiting)
    index = scan_dataset(root)
    before = _files(root)
    with pytest.raises(DatasetError, match="a mask for spare2 is already in ground_truth/dent/") as caught:
        rename_record(index, index.get(SHELF), "spare2")
    assert caught.value.path == waiting
    assert _files(root) == before and index.get(SHELF) is not None and _same_records(index, root)


def test_a_record_the_index_no_longer_holds_is_refused(unnamed):
    root, _ = unnamed
    index = scan_dataset(root)
    old = index.get("drink_can/test/dent/001003")
    mark_good(index, old)
    with pytest.raises(DatasetError, match="not in the index as given"):
        rename_to_goods(index, old, "005")


def test_a_read_only_folder_is_refused_naming_it(unnamed, monkeypatch):
    root, _ = unnamed
    index = scan_dataset(root)
    before = _files(root)
    folder = root / "drink_can" / "ground_truth" / "dent"
    real = edits.is_writable_dir
    monkeypatch.setattr(edits, "is_writable_dir", lambda path: path != folder and real(path))
    with pytest.raises(
        ReadOnlyError, match=r"cannot write here \(read-only or no permission\); nothing was changed"
    ) as caught:
        rename_to_goods(index, index.get(SHELF), "002")
    assert caught.value.path == folder
    assert _files(root) == before and index.get(SHELF) is not None


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not bind root (the test above fakes the check)")
def test_a_read_only_image_folder_refuses_the_rename(unnamed):
    root, _ = unnamed
    index = scan_dataset(root)
    folder = root / "drink_can" / "test" / "dent"
    before = _files(root)
    folder.chmod(0o555)
    try:
        with pytest.raises(ReadOnlyError) as caught:
            rename_to_goods(index, index.get(SHELF), "002")
        assert caught.value.path == folder
    finally:
        folder.chmod(0o755)
    assert _files(root) == before


def test_a_failure_renaming_the_mask_renames_the_image_back(unnamed, monkeypatch):
    root, _ = unnamed
    index = scan_dataset(root)
    record, before = index.get(SHELF), _files(root)
    fail_mask_moves(monkeypatch)
    with pytest.raises(Exception, match="shelf_7_mask.png"):
        rename_to_goods(index, record, "002")
    monkeypatch.undo()
    assert _files(root) == before and index.get(SHELF) == record
