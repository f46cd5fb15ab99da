"""The dataset subcommands end to end on a tiny dataset: export, import, mark, new defect type."""

from __future__ import annotations

import json

import numpy as np
from conftest import build_category

from goodsad_studio.cli import main
from goodsad_studio.dataset.imageio import read_mask, write_mask
from goodsad_studio.dataset.index import scan_dataset


def test_export_coco_then_import_restores_masks(tmp_path, capsys):
    root = build_category(tmp_path / "data" / "drink_can", names=("001001", "002001")).parent
    mask_path = root / "drink_can" / "ground_truth" / "scratch" / "001001_mask.png"
    original = read_mask(mask_path)
    assert main(["export-coco", str(root), str(tmp_path / "coco.json")]) == 0
    assert json.loads((tmp_path / "coco.json").read_text())["annotations"]
    write_mask(mask_path, np.zeros_like(original))
    assert main(["import-coco", str(root), str(tmp_path / "coco.json")]) == 0
    assert np.array_equal(read_mask(mask_path), original)
    assert "masks planned" in capsys.readouterr().out


def test_export_mvtec_resized_subset(tmp_path, capsys):
    root = build_category(tmp_path / "data" / "cat", names=("001001", "002001")).parent
    assert main(["export-mvtec", str(root), str(tmp_path / "out"), "--goods", "002", "--size", "16"]) == 0
    index = scan_dataset(tmp_path / "out")
    assert {record.goods_id for record in index} == {"002"} and len(index) == 3
    assert read_mask(index.get("cat/test/scratch/002001").mask_path).shape == (16, 16)


def test_mark_and_new_defect(tmp_path, capsys):
    root = build_category(tmp_path / "data" / "cat", names=("000",)).parent
    assert main(["new-defect", str(root), "cat", "dent"]) == 0
    assert main(["mark", str(root), "cat/test/good/000", "--defect", "dent"]) == 0
    index = scan_dataset(root)
    assert index.get("cat/test/dent/000") is not None and index.get("cat/test/good/000") is None
    assert main(["mark", str(root), "cat/test/scratch/000", "--good"]) == 0
    assert main(["mark", str(root), "cat/test/dent/000", "--good"]) == 2
    assert "already in good/" in capsys.readouterr().err
    assert main(["mark", str(root), "cat/test/missing/000", "--good"]) == 2
    assert "no image with key" in capsys.readouterr().err
    assert main(["new-defect", str(root), "cat", "Bad Name"]) == 2
