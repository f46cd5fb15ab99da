"""Opening masks as editable polygons and saving them as MVTec PNGs: exact, atomic, and refusing bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import make_image

from goodsad_studio.annotation.document import MaskDocument
from goodsad_studio.annotation.storage import open_mask, open_record, save_mask, save_record
from goodsad_studio.dataset.imageio import read_mask
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.errors import MaskError, ReadOnlyError


def _record(index, stem="000", defect="scratch"):
    return index.get(f"{index.categories[0]}/test/{defect}/{stem}")


def test_opening_a_mask_gives_polygons_and_saving_unchanged_keeps_the_file(dataset):
    root, index = dataset
    record = _record(index)
    before = record.mask_path.read_bytes()
    stat = record.mask_path.stat()
    doc = open_record(index, record)
    assert [p.bounds for p in doc.polygons] == [(4.0, 4.0, 12.0, 10.0)]
    assert not doc.modified
    assert save_record(doc, index, record) == record
    assert record.mask_path.read_bytes() == before and record.mask_path.stat().st_mtime_ns == stat.st_mtime_ns
    # edited and undone back: still the file on disk, still nothing written
    doc.paint([(20, 20)], 2)
    doc.undo()
    assert not save_mask(doc) and record.mask_path.read_bytes() == before


def test_saving_an_edit_writes_an_8bit_0_255_png_at_native_size(dataset):
    root, index = dataset
    record = _record(index, "001")
    doc = open_record(index, record)
    doc.paint([(20.5, 15.5), (28, 20)], 2.5)
    doc.delete_polygon(0)
    assert doc.modified
    assert save_mask(doc)
    raw = cv2.imread(str(record.mask_path), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint8 and raw.shape == (24, 32) and set(np.unique(raw)) == {0, 255}
    assert np.array_equal(read_mask(record.mask_path), doc.mask)
    assert not doc.modified
    doc.undo()
    assert doc.modified


@pytest.mark.parametrize("style, name", [("suffix", "002_mask.png"), ("same", "002.png")])
def test_a_new_mask_is_written_in_the_naming_the_dataset_uses(tmp_path, style, name):
    from conftest import build_category

    root = build_category(tmp_path / "cat", mask_style=style)
    make_image(root / "test" / "scratch" / "002.png")
    index = scan_dataset(root)
    record = _record(index, "002")
    assert record.mask_path is None
    doc = open_record(index, record)
    assert doc.shape == (24, 32) and not doc.mask.any()
    doc.add_polygon([(1, 1), (9, 1), (9, 7)])
    saved = save_record(doc, index, record)
    assert saved.mask_path == root / "ground_truth" / "scratch" / name
    assert index.get(record.key).mask_path == saved.mask_path
    assert np.array_equal(read_mask(saved.mask_path), doc.mask)


def test_a_mask_of_the_wrong_size_is_refused_naming_the_file(dataset):
    root, index = dataset
    record = _record(index)
    cv2.imwrite(str(record.mask_path), np.zeros((10, 10), np.uint8))
    before = record.mask_path.read_bytes()
    with pytest.raises(MaskError, match="10x10 but its image is 32x24") as caught:
        open_record(index, record)
    assert caught.value.path == record.mask_path
    assert record.mask_path.read_bytes() == before


def test_a_non_binary_mask_is_refused_unless_binarised_explicitly(dataset):
    root, index = dataset
    record = _record(index)
    soft = np.zeros((24, 32), np.uint8)
    soft[2:8, 2:8] = 200
    soft[10:12, 10:20] = 60
    soft[20:22, 0:5] = 255
    cv2.imwrite(str(record.mask_path), soft)
    before = record.mask_path.read_bytes()
    with pytest.raises(MaskError, match="not binary"):
        open_record(index, record)
    doc = open_record(index, record, binarize=True)
    assert any("binarised 56 pixels" in note for note in doc.notes)
    assert np.array_equal(doc.mask, soft > 127)
    assert doc.modified and record.mask_path.read_bytes() == before  # nothing written until saved
    save_mask(doc)
    assert set(np.unique(cv2.imread(str(record.mask_path), cv2.IMREAD_UNCHANGED))) == {0, 255}


def test_a_read_only_dataset_is_reported_and_left_untouched(dataset, make_read_only):
    root, index = dataset
    record = _record(index)
    before = record.mask_path.read_bytes()
    doc = open_record(index, record)
    doc.paint([(5, 5)], 3)
    make_read_only(root)
    with pytest.raises(ReadOnlyError) as caught:
        save_record(doc, index, record)
    assert caught.value.path == record.mask_path
    assert "cannot save the mask" in str(caught.value) and str(record.mask_path) in str(caught.value)
    assert record.mask_path.read_bytes() == before
    assert doc.modified  # the edit is still there to be saved elsewhere
    assert not [p for p in record.mask_path.parent.iterdir() if p.name.startswith(".")]


def test_a_good_image_gets_no_mask_file(dataset):
    root, index = dataset
    record = _record(index, defect="good")
    doc = open_record(index, record)
    doc.paint([(5, 5)], 2)
    with pytest.raises(MaskError, match="good image has no ground-truth mask"):
        save_record(doc, index, record)
    assert not (root / "ground_truth" / "good").exists()


def test_save_as_another_path_and_documents_without_a_path(tmp_path):
    doc = MaskDocument.blank((6, 7))
    with pytest.raises(ValueError, match="no mask path"):
        save_mask(doc)
    doc.paint([(3, 3)], 1)
    assert save_mask(doc, tmp_path / "out" / "a_mask.png")
    assert doc.path == tmp_path / "out" / "a_mask.png" and not doc.modified
    assert np.array_equal(open_mask(doc.path, (6, 7)).mask, doc.mask)


def test_real_masks_open_as_polygons_and_save_back_identical(shared_data, tmp_path):
    from conftest import shared_category

    folder = shared_category(shared_data, "mpdd_metal_plate_512/metal_plate") / "ground_truth"
    for path in sorted(folder.glob("*/*.png"))[::15]:
        doc = open_mask(path)
        assert doc.polygons and not doc.modified
        assert not save_mask(doc)  # unchanged: not even rewritten
        copy = tmp_path / path.name
        save_mask(doc, copy, force=True)
        assert np.array_equal(read_mask(copy), read_mask(path))
