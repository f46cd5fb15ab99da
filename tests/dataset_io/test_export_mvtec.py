"""MVTec-layout export: a selection copied (or resized) into a folder that scans back to the same selection."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from goodsad_studio.dataset.export_mvtec import MANIFEST_NAME, export_mvtec, resize_mask
from goodsad_studio.dataset.imageio import probe_image, read_mask, write_mask
from goodsad_studio.dataset.index import count_by, scan_dataset
from goodsad_studio.dataset.selection import Selection
from goodsad_studio.errors import DatasetError
from goodsad_studio.progress import Monitor


def _counts(records):
    return count_by(records, "category", "split", "defect", "stem")


def test_copy_export_scans_back_to_the_same_selection_with_identical_files(dataset, tmp_path):
    root, _ = dataset
    index = scan_dataset(root)
    selection = Selection.of(categories=["drink_can"], goods_ids=["001"], splits=["test"])
    result = export_mvtec(index, tmp_path / "out", selection)

    chosen = selection.apply(index)
    exported = scan_dataset(tmp_path / "out")
    assert _counts(exported.records) == _counts(chosen)
    assert {r.stem for r in exported.records} == {"001002", "001003", "001004"}
    for record in chosen:
        copy = exported.get(record.key)
        assert copy.image_path.read_bytes() == record.image_path.read_bytes()
        if record.mask_path is not None:
            assert copy.mask_path.name == record.mask_path.name
            assert copy.mask_path.read_bytes() == record.mask_path.read_bytes()
    assert result.image_count == 3 and result.mask_count == 2 and not result.cancelled


def test_manifest_names_source_selection_and_every_file(dataset, tmp_path):
    root, _ = dataset
    index = scan_dataset(root)
    selection = Selection.of(defects=["opened", "good"])
    result = export_mvtec(index, tmp_path / "out", selection)
    manifest = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text())
    assert manifest["source_root"] == str(root.resolve())
    assert manifest["selection"]["defects"] == ["good", "opened"]
    assert manifest["resize"] is None and manifest["complete"] is True
    assert manifest["tool_version"]
    dests = {entry["dest"] for entry in manifest["files"]}
    assert "food_box/ground_truth/opened/010002.png" in dests
    assert "drink_can/test/good/001002.png" in dests
    assert len(manifest["files"]) == len(result.files)
    entry = next(e for e in manifest["files"] if e["dest"] == "food_box/test/opened/011001.jpg")
    assert entry["source"] == str(root / "food_box" / "test" / "opened" / "011001.jpg")
    assert (entry["width"], entry["height"]) == (28, 20)


def test_resized_export_has_the_size_asked_and_binary_masks_by_majority(dataset, tmp_path):
    root, masks = dataset
    index = scan_dataset(root)
    export_mvtec(index, tmp_path / "out", Selection.of(categories=["drink_can"]), size=(14, 10))
    exported = scan_dataset(tmp_path / "out")
    assert len(exported.records) == len(index.filter(category="drink_can"))
    for record in exported.records:
        info = probe_image(record.image_path)
        assert (info.width, info.height) == (14, 10)
        if record.mask_path is not None:
            mask = read_mask(record.mask_path)  # refuses non-binary masks
            source = masks[str(root / "drink_can" / "test" / record.defect / record.image_path.name)]
            # each output pixel covers a 2x2 block: foreground when at least 2 of its 4 source pixels are
            blocks = source.reshape(10, 2, 14, 2).sum(axis=(1, 3))
            assert np.array_equal(mask, blocks >= 2)
    manifest = json.loads((tmp_path / "out" / MANIFEST_NAME).read_text())
    assert manifest["resize"]["width"] == 14 and "0.5" in manifest["resize"]["masks"]


def test_resize_that_erases_a_defect_is_reported(tmp_path, dataset):
    root, _ = dataset
    tiny = np.zeros((20, 28), bool)
    tiny[3, 3] = True
    write_mask(root / "drink_can" / "ground_truth" / "dent" / "001003_mask.png", tiny)
    result = export_mvtec(scan_dataset(root), tmp_path / "out", Selection.of(defects=["dent"]), size=7)
    assert any("001003_mask.png" in note and "vanished" in note for note in result.notes)
    assert not resize_mask(tiny, (7, 7)).any()


def test_non_empty_destination_is_refused_unless_overwrite(dataset, tmp_path):
    root, _ = dataset
    index = scan_dataset(root)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(DatasetError, match="not empty") as caught:
        export_mvtec(index, out, Selection.of(categories=["food_box"]))
    assert caught.value.path == out
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    export_mvtec(index, out, Selection.of(categories=["food_box"]), overwrite=True)
    assert (out / "keep.txt").read_text() == "mine"
    assert len(scan_dataset(out).records) == len(index.filter(category="food_box"))


def test_destination_inside_the_dataset_is_refused(dataset):
    root, _ = dataset
    with pytest.raises(DatasetError, match="overlaps"):
        export_mvtec(scan_dataset(root), root / "drink_can" / "export")
    assert not (root / "drink_can" / "export").exists()


def test_unknown_selection_names_are_refused_with_what_exists(dataset, tmp_path):
    root, _ = dataset
    index = scan_dataset(root)
    with pytest.raises(DatasetError, match="no defect type crack.*dent"):
        export_mvtec(index, tmp_path / "out", Selection.of(defects=["crack"]))
    with pytest.raises(DatasetError, match="no goods id"):
        export_mvtec(index, tmp_path / "out", Selection.of(categories=["food_box"], goods_ids=["001"]))
    assert not (tmp_path / "out").exists()


def test_qualified_goods_id_selects_one_category_only(dataset):
    root, _ = dataset
    index = scan_dataset(root)
    records = Selection.of(goods_ids=["food_box/010"]).apply(index)
    assert {r.category for r in records} == {"food_box"} and {r.group for r in records} == {"010"}


def test_progress_is_reported_and_cancel_stops_between_files(dataset, tmp_path):
    root, _ = dataset
    index = scan_dataset(root)
    cancel = threading.Event()
    seen = []

    def progress(event):
        seen.append((event.done, event.total))
        if event.done == 3:
            cancel.set()

    result = export_mvtec(index, tmp_path / "out", monitor=Monitor(progress, cancel))
    assert result.cancelled
    assert seen[-1][0] == len(result.files) >= 3
    total = len(index.records) + sum(1 for r in index.records if r.mask_path is not None)
    assert seen[:2] == [(0, total), (1, total)] and len(result.files) < total
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["complete"] is False and len(manifest["files"]) == len(result.files)
