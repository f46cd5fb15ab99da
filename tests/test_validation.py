"""Validation findings: each problem a user would trip over, naming the file."""

from __future__ import annotations

import numpy as np
from conftest import build_category, make_image, make_mask, shared_category

from goodsad_studio.dataset.imageio import write_image, write_mask
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.dataset.validation import validate


def _codes(report):
    return {(finding.code, finding.path.name) for finding in report.findings}


def test_clean_dataset_has_no_findings(tmp_path):
    build_category(tmp_path / "cat")
    report = validate(scan_dataset(tmp_path))
    assert report.ok and not report.findings


def test_every_problem_is_found_and_names_the_file(tmp_path):
    cat = build_category(tmp_path / "cat", names=("000", "001", "002", "003", "004"))
    gt = cat / "ground_truth" / "scratch"
    (gt / "000_mask.png").unlink()  # defective image without mask
    make_mask(gt / "777_mask.png")  # mask without image
    write_mask(gt / "001_mask.png", np.ones((5, 5), bool))  # wrong size
    soft = np.zeros((24, 32), np.uint8)
    soft[3:6, 3:6] = 255
    soft[10, 10:13] = 77
    write_image(gt / "002_mask.png", soft)  # non-binary: 3 pixels
    write_mask(gt / "003_mask.png", np.zeros((24, 32), bool))  # empty on a defective image
    make_image(cat / "test" / "good" / "004.jpg")  # duplicate stem beside 004.png
    path = cat / "test" / "scratch" / "004.png"
    path.write_bytes(path.read_bytes()[:-30])  # truncated
    make_image(cat / "train" / "bad" / "005.png")  # training image outside train/good
    report = validate(scan_dataset(tmp_path))
    codes = _codes(report)
    assert ("missing-mask", "000.png") in codes
    assert ("mask-without-image", "777_mask.png") in codes
    assert ("mask-size", "001_mask.png") in codes
    assert ("non-binary-mask", "002_mask.png") in codes
    assert ("empty-mask", "003_mask.png") in codes
    assert ("duplicate-name", "004.png") in codes
    assert ("unreadable-image", "004.png") in codes
    assert ("train-not-good", "005.png") in codes
    nonbinary = report.by_code("non-binary-mask")[0]
    assert "3 pixels are neither 0 nor 255" in nonbinary.message and "77" in nonbinary.message
    size = report.by_code("mask-size")[0]
    assert "5x5" in size.message and "32x24" in size.message
    assert all(str(cat) in str(finding) for finding in report.findings)
    assert not report.ok


def test_deep_validation_decodes_images(tmp_path):
    cat = build_category(tmp_path / "cat", names=("000",))
    path = cat / "test" / "good" / "000.png"
    data = bytearray(path.read_bytes())
    data[40:60] = bytes(20)  # corrupt body, intact end marker: only a decode notices
    path.write_bytes(bytes(data))
    assert validate(scan_dataset(tmp_path)).ok
    deep = validate(scan_dataset(tmp_path), deep=True)
    assert [(f.code, f.path.name) for f in deep.findings] == [("unreadable-image", "000.png")]


def test_real_magnetic_tile_has_four_empty_masks(shared_data):
    """A real finding: four 'uneven' images of MTD come with all-black masks."""
    report = validate(scan_dataset(shared_category(shared_data, "mtd_magnetic_tile/magnetic_tile")))
    assert sorted(f.path.name for f in report.findings) == [
        "050_mask.png",
        "053_mask.png",
        "066_mask.png",
        "067_mask.png",
    ]
    assert {f.code for f in report.findings} == {"empty-mask"}


def test_a_category_without_any_masks_is_one_image_level_warning_not_an_error_per_image(tmp_path):
    import shutil

    from goodsad_studio.dataset.demo import generate_demo
    from goodsad_studio.dataset.index import scan_dataset
    from goodsad_studio.dataset.validation import validate

    root = generate_demo(
        tmp_path / "demo", size=64, categories=["drink_can", "food_box"], goods_per_category=1,
        train_per_goods=2, test_good_per_goods=1, defective_per_goods=2,
    )  # fmt: skip
    shutil.rmtree(root / "drink_can" / "ground_truth")  # image-level only
    report = validate(scan_dataset(root))
    (warning,) = report.by_code("image-level-only")
    assert warning.severity == "warning" and warning.path == root / "drink_can"
    assert report.by_code("missing-mask") == [] and report.ok
    next(p for p in (root / "food_box" / "ground_truth").rglob("*.png")).unlink()  # ground truth, one mask missing
    missing = validate(scan_dataset(root)).by_code("missing-mask")
    assert len(missing) == 1 and missing[0].path.parts[-4] == "food_box"
