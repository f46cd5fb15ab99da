"""Mask repairs in the core: binarising at a threshold, scaling to the image by nearest neighbour, writing over the
file atomically with the original in the trash, and surveying a dataset for masks that need either."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import build_category

from goodsad_studio.dataset import mask_repair
from goodsad_studio.dataset.imageio import read_mask
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.dataset.mask_repair import (
    NOT_BINARY,
    WRONG_SIZE,
    apply_repair,
    apply_survey,
    binarise,
    diagnose,
    plan_repair,
    resize_to_image,
    survey_masks,
)
from goodsad_studio.errors import MaskChangedError, MaskError, ReadOnlyError

SOFT = np.array([[0, 10, 127, 128], [200, 255, 255, 0]], np.uint8)


# ------------------------------------------------------------------------------------------------ arrays
def test_binarise_makes_values_above_the_threshold_foreground_and_counts_what_changes():
    result = binarise(SOFT, 127)
    assert result.mask.tolist() == [[False, False, False, True], [True, True, True, False]]
    assert (result.to_foreground, result.to_background, result.changed_pixels) == (2, 2, 4)  # 128, 200 / 10, 127
    assert result.values == (0, 10, 127, 128, 200, 255)
    assert "4 pixels change (2 to 255, 2 to 0)" in result.summary and "above 127" in result.summary
    low = binarise(SOFT, 0)  # every non-zero pixel
    assert low.mask.tolist() == (SOFT > 0).tolist() and (low.to_foreground, low.to_background) == (4, 0)
    high = binarise(SOFT, 254)
    assert high.mask.tolist() == (SOFT == 255).tolist() and (high.to_foreground, high.to_background) == (0, 4)


def test_binarise_leaves_a_binary_mask_as_it_is_and_refuses_a_bad_threshold():
    binary = np.array([[0, 255], [255, 0]], np.uint8)
    result = binarise(binary, 127)
    assert result.changed_pixels == 0 and result.mask.tolist() == (binary == 255).tolist()
    assert "already binary" in result.summary
    for bad in (-1, 255, 1000, 12.5, True):
        with pytest.raises(ValueError, match="threshold"):
            binarise(binary, bad)
    with pytest.raises(ValueError, match="2-D uint8"):
        binarise(binary.astype(np.float32), 127)


def test_resize_to_image_copies_the_pixel_under_each_centre_so_values_stay():
    mask = np.array([[0, 255], [255, 0]], np.uint8)
    doubled = resize_to_image(mask, (4, 4))
    assert doubled.values.tolist() == np.kron(mask, np.ones((2, 2), np.uint8)).tolist()
    assert (doubled.scale_x, doubled.scale_y, doubled.stretched) == (2.0, 2.0, False)
    assert "x2 across (4/2) and x2 down (4/2)" in doubled.summary and "nearest neighbour" in doubled.summary
    wide = resize_to_image(mask, (2, 6))  # 2 high, 6 wide: stretched across only
    assert wide.values.tolist() == [[0, 0, 0, 255, 255, 255], [255, 255, 255, 0, 0, 0]]
    assert wide.stretched and "aspect ratios differ" in wide.summary
    shrunk = resize_to_image(np.kron(mask, np.ones((3, 3), np.uint8)), (2, 2))
    assert shrunk.values.tolist() == mask.tolist()
    assert set(np.unique(resize_to_image(SOFT, (7, 9)).values)) <= set(np.unique(SOFT))


# ------------------------------------------------------------------------------------------------ files
@pytest.fixture
def dataset(tmp_path):
    root = build_category(tmp_path / "data" / "drink_can", names=("000", "001", "002")).parent
    return root, scan_dataset(root)


def _mask(index, name):
    return index.get(f"drink_can/test/scratch/{name}")


def _soft(path):
    soft = np.zeros((24, 32), np.uint8)
    soft[2:8, 2:8] = 200  # 36 pixels: foreground at 127
    soft[10:12, 10:20] = 60  # 20 pixels: background at 127, foreground at 50
    soft[20:22, 0:5] = 255
    cv2.imwrite(str(path), soft)
    return soft


def _small(path):
    small = np.zeros((12, 16), np.uint8)
    small[2:5, 2:6] = 255
    cv2.imwrite(str(path), small)
    return small


def test_diagnose_names_the_problem_of_each_mask(dataset):
    root, index = dataset
    soft, small = _mask(index, "000"), _mask(index, "001")
    _soft(soft.mask_path)
    _small(small.mask_path)
    not_binary, wrong_size = diagnose(soft), diagnose(small)
    assert not_binary.kind == NOT_BINARY and "56 pixels are neither 0 nor 255 (values: 0, 60, 200, 255)" in (
        not_binary.message
    )
    assert wrong_size.kind == WRONG_SIZE and wrong_size.image_shape == (24, 32)
    assert wrong_size.message == "mask is 16x12 but its image 001.png is 32x24"
    assert diagnose(_mask(index, "002")) is None
    assert diagnose(index.get("drink_can/test/good/000")) is None  # no mask at all


def test_apply_binarises_the_file_and_keeps_the_original_in_the_trash(dataset):
    root, index = dataset
    record = _mask(index, "000")
    soft = _soft(record.mask_path)
    before = record.mask_path.read_bytes()
    repair = plan_repair(record.mask_path, image_shape=(24, 32), threshold=127)
    assert record.mask_path.read_bytes() == before  # a plan writes nothing
    assert repair.changes and repair.changed_pixels == 56 and repair.values == (0, 60, 200, 255)
    kept = apply_repair(index, repair)
    written = cv2.imread(str(record.mask_path), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(written, np.where(soft > 127, 255, 0))
    assert int(np.count_nonzero(written != soft)) == 56  # exactly the pixels that were neither 0 nor 255
    assert kept.read_bytes() == before and kept.is_relative_to(root / ".goodsad-studio" / "trash")
    assert kept.relative_to(root / ".goodsad-studio" / "trash").parts[1:] == record.mask_path.relative_to(root).parts
    assert read_mask(record.mask_path, shape=(24, 32)).sum() == 36 + 10


def test_apply_resizes_a_small_mask_to_its_image(dataset):
    root, index = dataset
    record = _mask(index, "001")
    small = _small(record.mask_path)
    repair = plan_repair(record.mask_path, image_shape=(24, 32))
    assert repair.binarised is None and repair.resized.scale_x == repair.resized.scale_y == 2.0
    apply_repair(index, repair)
    assert np.array_equal(read_mask(record.mask_path, shape=(24, 32)), np.kron(small == 255, np.ones((2, 2), bool)))


def test_a_non_binary_mask_is_not_binarised_without_a_threshold(dataset):
    root, index = dataset
    record = _mask(index, "000")
    _soft(record.mask_path)
    with pytest.raises(MaskError, match=r"not binary.*repair-masks ROOT --binarise 127") as caught:
        plan_repair(record.mask_path, image_shape=(24, 32))
    assert caught.value.path == record.mask_path


def test_apply_refuses_a_file_changed_since_the_preview_and_a_read_only_folder(dataset, monkeypatch):
    root, index = dataset
    record = _mask(index, "000")
    _soft(record.mask_path)
    repair = plan_repair(record.mask_path, threshold=127)
    changed = _soft(record.mask_path)
    changed[0, 0] = 3
    cv2.imwrite(str(record.mask_path), changed)
    now = record.mask_path.read_bytes()
    with pytest.raises(MaskChangedError, match="changed on disk since it was read for the preview"):
        apply_repair(index, repair)
    assert record.mask_path.read_bytes() == now and not (root / ".goodsad-studio").exists()
    folder = record.mask_path.parent
    real = mask_repair.is_writable_dir
    monkeypatch.setattr(mask_repair, "is_writable_dir", lambda path: path != folder and real(path))
    with pytest.raises(ReadOnlyError, match="nothing was changed") as caught:
        apply_repair(index, plan_repair(record.mask_path, threshold=127))
    assert caught.value.path == folder and record.mask_path.read_bytes() == now


def test_survey_plans_only_what_was_asked_and_apply_repairs_it(dataset):
    root, index = dataset
    _soft(_mask(index, "000").mask_path)
    _small(_mask(index, "001").mask_path)
    binarise_only = survey_masks(index, threshold=127)
    assert [p.path.name for p in binarise_only.planned] == ["000_mask.png"]
    assert [p.kind for p in binarise_only.left_alone] == [WRONG_SIZE] and binarise_only.fine == 1
    assert "56 pixels change (36 to 255, 20 to 0)" in binarise_only.planned[0].summary
    resize_only = survey_masks(index, resize=True)
    assert [p.path.name for p in resize_only.planned] == ["001_mask.png"]
    assert [p.kind for p in resize_only.left_alone] == [NOT_BINARY]
    both = survey_masks(index, threshold=50, resize=True)
    assert [p.path.name for p in both.planned] == ["000_mask.png", "001_mask.png"] and both.fine == 1
    done = apply_survey(index, both, stamp="run")
    assert [a.kept.parent.parent.parent.parent.name for a in done] == ["run", "run"]
    assert survey_masks(index, threshold=50, resize=True).planned == []
    assert read_mask(_mask(index, "000").mask_path).sum() == 36 + 20 + 10  # 60 > 50: the band is foreground now
    with pytest.raises(ValueError, match="nothing to repair"):
        survey_masks(index)


def test_a_bmp_mask_is_written_back_as_a_bmp(tmp_path):
    root = build_category(tmp_path / "data" / "cat", names=("000",)).parent
    mask_path = root / "cat" / "ground_truth" / "scratch" / "000_mask.png"
    bmp = mask_path.with_suffix(".bmp")
    mask_path.unlink()
    _soft(bmp)
    index = scan_dataset(root)
    record = index.get("cat/test/scratch/000")
    assert record.mask_path == bmp
    apply_repair(index, plan_repair(bmp, threshold=127))
    assert bmp.read_bytes()[:2] == b"BM" and read_mask(bmp).sum() == 36 + 10
