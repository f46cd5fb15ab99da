"""An export told to write over the dataset it exports: a COCO file over an image or a mask of the dataset (even
with --overwrite), an MVTec copy into the dataset or around it. Refused, exit 2, the dataset untouched."""

from __future__ import annotations

import pytest

from .helpers import DEFECT_IMAGE, DEFECT_MASK, assert_one_error_line, checksums, run_cli

DATASET_FILES = [
    DEFECT_IMAGE,
    DEFECT_MASK,
    "drink_can/train/good/001000.png",
    "food_box/test/opened/010002.jpg",
    "food_box/ground_truth/opened/010002.png",
]


@pytest.mark.parametrize("relative", DATASET_FILES)
def test_export_coco_over_a_file_of_the_dataset_is_refused_even_with_overwrite(dataset, capsys, relative):
    target = dataset / relative
    before = checksums(dataset)
    status, out, err = run_cli(["export-coco", dataset, target, "--overwrite"], capsys)
    assert status == 2, out + err
    assert_one_error_line(err, target, only_line=False)
    assert checksums(dataset) == before


@pytest.mark.parametrize("relative", [DEFECT_IMAGE, DEFECT_MASK])
def test_export_coco_over_a_dataset_file_reached_by_another_path_is_refused(dataset, capsys, relative):
    target = dataset / "food_box" / ".." / relative  # the same file, spelt with ..
    before = checksums(dataset)
    status, out, err = run_cli(["export-coco", dataset, target, "--overwrite"], capsys)
    assert status == 2, out + err
    assert_one_error_line(err, only_line=False)
    assert checksums(dataset) == before


@pytest.mark.parametrize(
    "where", [lambda root: root / "drink_can" / "test" / "copy", lambda root: root, lambda root: root.parent]
)
def test_export_mvtec_into_or_around_the_dataset_is_refused(dataset, capsys, where):
    dest = where(dataset)
    before = checksums(dataset)
    status, out, err = run_cli(["export-mvtec", dataset, dest, "--overwrite"], capsys)
    assert status == 2, out + err
    assert_one_error_line(err, dest, only_line=False)
    assert checksums(dataset) == before
