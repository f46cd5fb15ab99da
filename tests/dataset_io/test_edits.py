"""Image-level edits: marking test images good/defective moves files atomically and keeps the index in step."""

from __future__ import annotations

import os

import numpy as np
import pytest

from goodsad_studio.dataset import edits
from goodsad_studio.dataset.edits import create_defect_type, mark_defective, mark_good
from goodsad_studio.dataset.imageio import read_mask, write_image
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.errors import DatasetError, ReadOnlyError


def fail_mask_moves(monkeypatch) -> None:
    """Make every move of a mask file fail (linking and renaming), as on a disk error."""
    real_link = os.link

    def failing_link(source, target, *args, **kwargs):
        if str(target).endswith("_mask.png"):
            raise OSError(5, "Input/output error")
        return real_link(source, target, *args, **kwargs)

    monkeypatch.setattr(edits.os, "link", failing_link)
    monkeypatch.setattr(edits.os, "rename", lambda *a: (_ for _ in ()).throw(OSError(5, "Input/output error")))


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _same_records(index, root):
    """The edited index says what a fresh scan of the disk says."""
    fresh = scan_dataset(root)
    return {r.key: (r.image_path, r.mask_path) for r in index.records} == {
        r.key: (r.image_path, r.mask_path) for r in fresh.records
    }


def test_mark_defective_moves_image_and_mask_and_updates_the_index(dataset):
    root, masks = dataset
    index = scan_dataset(root)
    record = index.get("drink_can/test/dent/001003")
    new = mark_defective(index, record, "scratch")
    assert new.key == "drink_can/test/scratch/001003" and index.get(record.key) is None
    assert new.image_path == root / "drink_can" / "test" / "scratch" / "001003.png" and new.image_path.is_file()
    assert not record.image_path.exists() and not record.mask_path.exists()
    assert new.mask_path == root / "drink_can" / "ground_truth" / "scratch" / "001003_mask.png"
    assert np.array_equal(read_mask(new.mask_path), masks[str(record.image_path)])
    assert _same_records(index, root)


def test_mark_good_moves_the_mask_to_the_trash_not_away(dataset):
    root, masks = dataset
    index = scan_dataset(root)
    record = index.get("food_box/test/opened/010002")
    new = mark_good(index, record)
    assert new.key == "food_box/test/good/010002" and new.mask_path is None and new.image_path.is_file()
    trashed = list((root / ".goodsad-studio" / "trash").rglob("010002.png"))
    assert len(trashed) == 1 and trashed[0].parts[-4:] == ("food_box", "ground_truth", "opened", "010002.png")
    assert np.array_equal(read_mask(trashed[0]), masks[str(record.image_path)])
    assert _same_records(index, root)
    again = mark_defective(index, new, "opened")  # and back: no mask now, to be drawn
    assert again.mask_path is None and again.image_path == record.image_path
    assert _same_records(index, root)


def test_name_clash_in_the_target_folder_changes_nothing(dataset):
    root, _ = dataset
    index = scan_dataset(root)
    write_image(root / "drink_can" / "test" / "good" / "001003.jpg", np.zeros((4, 4, 3), np.uint8))
    before = _files(root)
    with pytest.raises(DatasetError, match="already in good/") as caught:
        mark_good(index, index.get("drink_can/test/dent/001003"))
    assert caught.value.path == root / "drink_can" / "test" / "good" / "001003.jpg"
    assert _files(root) == before and index.get("drink_can/test/dent/001003") is not None


def test_mask_clash_in_the_target_ground_truth_changes_nothing(dataset):
    root, _ = dataset
    index = scan_dataset(root)
    stray = root / "drink_can" / "ground_truth" / "scratch" / "001003.png"
    stray.write_bytes((root / "drink_can" / "ground_truth" / "dent" / "001003_mask.png").read_bytes())
    before = _files(root)
    with pytest.raises(DatasetError, match="a mask for 001003 is already in ground_truth/scratch/"):
        mark_defective(index, index.get("drink_can/test/dent/001003"), "scratch")
    assert _files(root) == before


def test_an_orphan_mask_waiting_in_the_target_folder_is_a_clash_too(dataset):
    root, _ = dataset
    index = scan_dataset(root)
    orphan = root / "drink_can" / "ground_truth" / "dent" / "001002_mask.png"
    orphan.write_bytes((root / "drink_can" / "ground_truth" / "dent" / "001003_mask.png").read_bytes())
    with pytest.raises(DatasetError, match="a mask for 001002 is already") as caught:
        mark_defective(index, index.get("drink_can/test/good/001002"), "dent")
    assert caught.value.path == orphan and (root / "drink_can" / "test" / "good" / "001002.png").is_file()


def test_a_failure_half_way_rolls_the_image_back(dataset, monkeypatch):
    root, _ = dataset
    index = scan_dataset(root)
    record = index.get("drink_can/test/dent/001003")
    before = _files(root)
    fail_mask_moves(monkeypatch)
    with pytest.raises(Exception, match="001003_mask.png"):
        mark_defective(index, record, "scratch")
    monkeypatch.undo()
    assert _files(root) == before and index.get(record.key) == record


def test_an_unknown_defect_or_good_is_refused(dataset):
    root, _ = dataset
    index = scan_dataset(root)
    with pytest.raises(DatasetError, match="no defect type 'crack'.*create it first"):
        mark_defective(index, index.get("drink_can/test/good/001002"), "crack")
    with pytest.raises(DatasetError, match="'good' is reserved by the MVTec layout"):
        mark_defective(index, index.get("drink_can/train/good/001000"), "good")


def test_a_training_image_marked_defective_leaves_the_training_set(dataset):
    root, _ = dataset
    index = scan_dataset(root)
    record = index.get("drink_can/train/good/001000")
    new = mark_defective(index, record, "dent")
    assert new.key == "drink_can/test/dent/001000" and new.split == "test" and new.mask_path is None
    assert not record.image_path.exists() and new.image_path == root / "drink_can" / "test" / "dent" / "001000.png"
    assert new.image_path.is_file() and scan_dataset(root).get(new.key) is not None
    assert index.get(record.key) is None and index.get(new.key) == new


def test_create_defect_type_makes_both_folders_and_validates_the_name(dataset):
    root, _ = dataset
    index = scan_dataset(root)
    folder = create_defect_type(index, "food_box", "cap_half_open2")
    assert folder.is_dir() and (root / "food_box" / "ground_truth" / "cap_half_open2").is_dir()
    assert "cap_half_open2" in index.defects("food_box")
    new = mark_defective(index, index.get("food_box/test/good/010001"), "cap_half_open2")
    assert new.image_path.parent == folder
    for bad in ("Cap", "cap open", "cap-open", "", "good", "../x"):
        with pytest.raises(DatasetError, match="not allowed|reserved"):
            create_defect_type(index, "food_box", bad)
    with pytest.raises(DatasetError, match="already exists"):
        create_defect_type(index, "drink_can", "dent")


@pytest.mark.skipif(
    os.geteuid() == 0,
    reason="permissions do not bind root; a read-only folder needs a non-root "
    "user (checked by hand on a read-only tmpfs mount)",
)
def test_read_only_dataset_raises_read_only_error_naming_the_folder(dataset):
    root, _ = dataset
    index = scan_dataset(root)
    good = root / "drink_can" / "test" / "good"
    before = _files(root)
    good.chmod(0o555)
    try:
        with pytest.raises(ReadOnlyError) as caught:
            mark_good(index, index.get("drink_can/test/dent/001003"))
        assert caught.value.path == good
    finally:
        good.chmod(0o755)
    assert _files(root) == before
