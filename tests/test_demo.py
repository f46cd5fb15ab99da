"""The embedded demo dataset: deterministic, laid out as GoodsAD/MVTec, exact masks, safe with the user's folders."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from goodsad_studio.dataset.demo import DEMO_CATEGORIES, DEMO_DEFECTS, generate_demo, render_sample
from goodsad_studio.dataset.imageio import probe_image, read_image, read_mask
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.errors import DatasetError

SMALL = dict(size=128, goods_per_category=2, train_per_goods=1, test_good_per_goods=1, defective_per_goods=2)
"""A tiny set: every category, two goods each, four photos per goods."""


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory) -> Path:
    return generate_demo(tmp_path_factory.mktemp("demo") / "set", **SMALL)


def _digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_same_seed_gives_byte_identical_files_and_another_seed_other_pictures(small_demo, tmp_path):
    again = generate_demo(tmp_path / "again", **SMALL)
    first, second = _digests(small_demo), _digests(again)
    assert len(first) > 50
    assert first == second
    other = generate_demo(tmp_path / "other", seed=1, categories=["drink_can"], **{**SMALL, "goods_per_category": 1})
    for name, digest in _digests(other).items():
        if name.endswith(".jpg"):
            assert first[name] != digest, f"seed 1 drew the same picture as seed 0: {name}"


def test_layout_names_and_goods_ids_follow_goodsad(small_demo):
    index = scan_dataset(small_demo)
    assert index.categories == sorted(DEMO_CATEGORIES)
    assert len(DEMO_CATEGORIES) == 6
    assert not index.orphan_masks and not index.duplicates
    for category in DEMO_CATEGORIES:
        records = index.filter(category=category)
        assert len(records) == 2 * 4
        assert index.goods_ids(category) == ["001", "002"]
        assert {r.split for r in records} == {"train", "test"}
        assert all(r.defect == "good" for r in index.filter(category=category, split="train"))
        for record in records:
            assert re.fullmatch(r"\d{6}", record.stem) and record.name_style == "goodsad"
            assert record.image_path.suffix == ".jpg"
            if record.is_anomalous:
                assert record.defect in DEMO_DEFECTS[category]
                assert (
                    record.mask_path
                    == small_demo / category / "ground_truth" / record.defect / f"{record.stem}_mask.png"
                )
            else:
                assert record.mask_path is None
    marker = json.loads((small_demo / "DEMO.json").read_text())
    assert (marker["seed"], marker["size"], marker["version"], marker["complete"]) == (0, 128, 1, True)


def test_defects_are_physically_sensible_per_category():
    assert "cap_open" in DEMO_DEFECTS["drink_bottle"] and "cap_half_open" in DEMO_DEFECTS["food_bottle"]
    for category in ("drink_can", "food_box", "food_package", "cigarette_box"):
        assert "cap_open" not in DEMO_DEFECTS[category]
    for category in ("drink_bottle", "drink_can", "food_bottle"):
        assert "opened" not in DEMO_DEFECTS[category]
    assert "opened" in DEMO_DEFECTS["food_box"] and "opened" in DEMO_DEFECTS["food_package"]
    all_types = {d for defects in DEMO_DEFECTS.values() for d in defects}
    assert all_types == {"surface_damage", "cap_open", "cap_half_open", "surface_anomaly", "deformation", "opened"}


def test_masks_are_binary_image_sized_and_not_empty(small_demo):
    index = scan_dataset(small_demo)
    defective = index.filter(anomalous=True)
    assert len(defective) == 6 * 2 * 2
    for record in defective:
        info = probe_image(record.image_path)
        mask = read_mask(record.mask_path, shape=(info.height, info.width))  # refuses values other than 0/255
        assert (info.width, info.height) == (128, 128)
        assert 0 < mask.sum() < mask.size * 0.3, record.key


@pytest.mark.parametrize("category", DEMO_CATEGORIES)
def test_mask_is_exactly_the_pixels_the_defect_changed(category):
    for number, defect in enumerate(DEMO_DEFECTS[category]):
        sample = render_sample(category, 1 + number % 2, 20 + number, defect, size=128, seed=3)
        clean = render_sample(category, 1 + number % 2, 20 + number, None, size=128, seed=3).image
        assert np.array_equal(sample.clean, clean)
        changed = np.any(sample.image != clean, axis=2)
        assert sample.mask.dtype == bool and sample.mask.shape == (128, 128)
        assert sample.mask.any(), f"{category}/{defect}: empty mask"
        assert np.array_equal(changed, sample.mask), f"{category}/{defect}: mask and changed pixels differ"


def test_saved_defective_photo_differs_from_the_clean_one_inside_the_mask_only(small_demo):
    record = scan_dataset(small_demo).filter(category="drink_bottle", anomalous=True)[0]
    clean = render_sample("drink_bottle", int(record.goods_id), int(record.serial), None, size=128).image
    saved = read_image(record.image_path).astype(int)
    mask = read_mask(record.mask_path)
    difference = np.abs(saved - clean).max(axis=2)
    # JPEG spreads a change over its 8x8 block, so outside the mask only compression noise remains
    assert difference[mask].mean() > 3 * difference[~mask].mean()


def test_some_defects_are_small_as_in_goodsad():
    fractions = [
        render_sample(category, 1 + serial % 2, serial, defect, size=128).mask.mean()
        for category in ("drink_can", "food_box")
        for serial, defect in enumerate(DEMO_DEFECTS[category] * 2, start=40)
    ]
    assert min(fractions) < 0.01
    assert max(fractions) < 0.25


def test_goods_of_a_category_look_different():
    first = render_sample("food_box", 1, 0, size=128).image.astype(np.float32)
    second = render_sample("food_box", 2, 0, size=128).image.astype(np.float32)
    histograms = [cv2.calcHist([image], [0, 1, 2], None, [8, 8, 8], [0, 256] * 3).ravel() for image in (first, second)]
    assert np.abs(histograms[0] - histograms[1]).sum() > 0.2 * 128 * 128


def test_photos_of_one_goods_are_not_aligned():
    a = render_sample("drink_bottle", 1, 0, size=128).image
    b = render_sample("drink_bottle", 1, 1, size=128).image
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 8


def test_refuses_a_non_empty_folder_that_is_not_a_demo_set(tmp_path):
    folder = tmp_path / "my photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"precious")
    with pytest.raises(DatasetError, match="not empty") as caught:
        generate_demo(folder, **SMALL)
    assert str(folder) in str(caught.value)
    assert [p.name for p in folder.iterdir()] == ["holiday.jpg"]
    assert (folder / "holiday.jpg").read_bytes() == b"precious"


def test_second_call_is_a_no_op_and_other_settings_are_refused(small_demo):
    before = {path: path.stat().st_mtime_ns for path in small_demo.rglob("*") if path.is_file()}
    calls = []
    assert generate_demo(small_demo, **SMALL, progress=lambda done, total: calls.append((done, total))) == small_demo
    assert {path: path.stat().st_mtime_ns for path in small_demo.rglob("*") if path.is_file()} == before
    assert calls[-1] == (48, 48)
    with pytest.raises(DatasetError, match="seed") as caught:
        generate_demo(small_demo, **SMALL, seed=7)
    assert str(small_demo) in str(caught.value)


def test_progress_is_reported_and_an_interrupted_run_is_finished_by_the_next(tmp_path):
    calls: list[tuple[int, int]] = []

    def stop_half_way(done: int, total: int) -> None:
        calls.append((done, total))
        if done == 5:
            raise KeyboardInterrupt

    options = dict(
        size=96,
        categories=["drink_can", "cigarette_box"],
        goods_per_category=2,
        train_per_goods=2,
        test_good_per_goods=1,
        defective_per_goods=1,
    )
    with pytest.raises(KeyboardInterrupt):
        generate_demo(tmp_path / "demo", progress=stop_half_way, **options)
    assert calls == [(i, 16) for i in range(6)]
    assert json.loads((tmp_path / "demo" / "DEMO.json").read_text())["complete"] is False
    calls.clear()
    generate_demo(tmp_path / "demo", progress=lambda done, total: calls.append((done, total)), **options)
    assert calls == [(i, 16) for i in range(17)]
    assert _digests(tmp_path / "demo") == _digests(generate_demo(tmp_path / "fresh", **options))


def test_bad_arguments_are_refused_with_the_destination_named(tmp_path):
    for bad in (dict(categories=["drink_cans"]), dict(size=10), dict(goods_per_category=0), dict(seed=-1)):
        with pytest.raises(DatasetError) as caught:
            generate_demo(tmp_path / "x", **bad)
        assert str(tmp_path / "x") in str(caught.value)
    assert not (tmp_path / "x").exists()


def test_drawing_scales_with_the_image_size():
    small = render_sample("cigarette_box", 1, 2, "opened", size=128)
    large = render_sample("cigarette_box", 1, 2, "opened", size=256)
    shrunk = cv2.resize(large.image, (128, 128), interpolation=cv2.INTER_AREA)
    assert np.abs(shrunk.astype(int) - small.image.astype(int)).mean() < 12
    assert small.mask.mean() == pytest.approx(large.mask.mean(), rel=0.2)
