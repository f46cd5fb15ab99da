"""The dataset index: layouts, names, masks, and what it skips with a note."""

from __future__ import annotations

import pytest
from conftest import build_category, make_image, make_mask, shared_category

from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.errors import DatasetError


def test_goodsad_names_give_goods_id_and_serial(tmp_path):
    build_category(tmp_path / "drink_can", names=("003012", "003013", "117001"))
    index = scan_dataset(tmp_path)
    assert index.categories == ["drink_can"]
    assert index.goods_ids("drink_can") == ["003", "117"]
    record = index.get("drink_can/test/scratch/117001")
    assert (record.goods_id, record.serial, record.name_style) == ("117", "001", "goodsad")
    assert record.mask_path.name == "117001_mask.png"
    assert len(index.filter(category="drink_can", goods_id="003")) == 6


def test_mvtec_names_form_a_single_group(tmp_path):
    build_category(tmp_path / "bottle", names=("000", "001", "002"))
    index = scan_dataset(tmp_path / "bottle")
    assert index.categories == ["bottle"]
    assert index.goods_ids("bottle") == ["all"]
    assert all(record.goods_id is None and record.serial for record in index)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".jpeg", ".bmp", ".tif"])
def test_every_image_format_is_indexed(tmp_path, suffix):
    build_category(tmp_path / "cat", names=("000",), suffix=suffix)
    index = scan_dataset(tmp_path)
    assert {record.image_path.suffix for record in index} == {suffix}
    assert index.get("cat/test/scratch/000").mask_path is not None


def test_masks_named_like_their_images(tmp_path):
    build_category(tmp_path / "cat", names=("000", "001"), mask_style="same")
    index = scan_dataset(tmp_path)
    record = index.get("cat/test/scratch/001")
    assert record.mask_path.name == "001.png"
    assert index.mask_styles["cat"] == "same"
    new = index.get("cat/test/good/000")
    assert index.mask_path_for(new, "scratch").name == "000.png"


def test_mask_path_for_new_masks_follows_mvtec_by_default(tmp_path):
    build_category(tmp_path / "cat", names=("000",))
    index = scan_dataset(tmp_path)
    record = index.get("cat/test/good/000")
    assert index.mask_path_for(record, "dent") == tmp_path / "cat" / "ground_truth" / "dent" / "000_mask.png"


def test_root_with_several_categories(tmp_path):
    for name in ("drink_bottle", "food_box", "cigarette_box"):
        build_category(tmp_path / name, names=("001001",))
    (tmp_path / "README.txt").write_text("not a category")
    index = scan_dataset(tmp_path)
    assert index.categories == ["cigarette_box", "drink_bottle", "food_box"]
    assert len(index) == 9


def test_hidden_stray_and_empty_are_skipped_with_notes(tmp_path):
    cat = build_category(tmp_path / "cat", names=("000",))
    (cat / "test" / "scratch" / ".DS_Store").write_bytes(b"junk")
    (cat / "test" / "scratch" / "notes.txt").write_text("stray")
    (cat / "test" / "stray.jpg").write_bytes(b"")
    (cat / "test" / "crack").mkdir()
    (cat / "ground_truth" / "scratch" / "Thumbs.db").write_bytes(b"x")
    (cat / "license.txt").write_text("x")
    index = scan_dataset(tmp_path)
    assert len(index) == 3
    notes = {note.path.name: note.message for note in index.notes}
    assert "hidden" in notes[".DS_Store"]
    assert "not an image" in notes["notes.txt"]
    assert "stray file" in notes["stray.jpg"]
    assert "empty folder" in notes["crack"]
    assert "not a mask" in notes["Thumbs.db"]
    assert "not part of the MVTec layout" in notes["license.txt"]


def test_odd_names_are_indexed_without_goods_id_and_noted(tmp_path):
    make_image(tmp_path / "cat" / "train" / "good" / "exp1_num_10181.png")
    index = scan_dataset(tmp_path)
    assert index.records[0].goods_id is None and index.records[0].group == "all"
    assert any("neither GoodsAD" in note.message for note in index.notes)


def test_orphan_masks_and_duplicates_are_collected(tmp_path):
    cat = build_category(tmp_path / "cat", names=("000",))
    make_mask(cat / "ground_truth" / "scratch" / "999_mask.png")
    make_image(cat / "test" / "good" / "000.jpg")
    index = scan_dataset(tmp_path)
    assert [orphan.path.name for orphan in index.orphan_masks] == ["999_mask.png"]
    assert [(a.name, b.name) for a, b in index.duplicates] == [("000.jpg", "000.png")]


def test_missing_root_and_non_dataset_are_clear_errors(tmp_path):
    with pytest.raises(DatasetError, match="dataset folder not found") as info:
        scan_dataset(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(info.value)
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.png").write_bytes(b"")
    with pytest.raises(DatasetError, match="no category found"):
        scan_dataset(tmp_path / "photos")
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(DatasetError, match="not a folder"):
        scan_dataset(tmp_path / "file.png")


def test_indexing_reads_no_pixels(tmp_path):
    """Empty files index fine: the scan looks at names only (validation is what reads files)."""
    for split, defect in (("train", "good"), ("test", "good"), ("test", "dent")):
        folder = tmp_path / "food_box" / split / defect
        folder.mkdir(parents=True)
        for serial in range(5):
            (folder / f"004{serial:03d}.jpg").write_bytes(b"")
    assert len(scan_dataset(tmp_path)) == 15


def test_real_magnetic_tile_counts(shared_data):
    root = shared_category(shared_data, "mtd_magnetic_tile/magnetic_tile")
    index = scan_dataset(root)
    assert len(index.filter(split="train", defect="good")) == 761
    assert len(index.filter(split="test", defect="good")) == 191
    defective = index.filter(split="test", anomalous=True)
    assert len(defective) == 392
    assert all(record.mask_path is not None for record in defective)
    assert not index.orphan_masks and not index.notes


def test_real_parent_folder_of_mpdd(shared_data):
    index = scan_dataset(shared_category(shared_data, "mpdd_metal_plate_512"))
    assert index.categories == ["metal_plate"]
    assert (
        len(index.filter(split="train")),
        len(index.filter(split="test", defect="good")),
        len(index.filter(anomalous=True)),
    ) == (54, 26, 71)
