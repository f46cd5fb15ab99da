"""COCO export (checked with pycocotools' own reader) and COCO import, including the exact round trip."""

from __future__ import annotations

import json
import threading

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from shapely.geometry import GeometryCollection, Polygon

from goodsad_studio.dataset.export_coco import encode_region, export_coco, mask_regions
from goodsad_studio.dataset.imageio import read_mask, write_mask
from goodsad_studio.dataset.import_coco import AnnotationFileError, import_coco
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.dataset.selection import Selection
from goodsad_studio.errors import DatasetError
from goodsad_studio.geometry import rasterize
from goodsad_studio.progress import Monitor

# pycocotools 2.0.x calls numpy's __array__ in a way numpy 2 deprecates; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _coco(path):
    return COCO(str(path))


def test_export_opens_in_pycocotools_with_one_annotation_per_8_connected_region(dataset, tmp_path):
    root, masks = dataset
    index = scan_dataset(root)
    result = export_coco(index, tmp_path / "coco.json")
    coco = _coco(tmp_path / "coco.json")
    assert len(coco.getImgIds()) == len(index.records) == result.image_count
    assert sorted(c["name"] for c in coco.loadCats(coco.getCatIds())) == ["dent", "opened", "scratch"]
    for image in coco.loadImgs(coco.getImgIds()):
        path = root / image["file_name"]
        assert path.is_file() and (image["width"], image["height"]) == (28, 20)
        annotations = coco.loadAnns(coco.getAnnIds(imgIds=image["id"]))
        if image["defect"] == "good":
            assert annotations == []
            continue
        expected = masks[str(path)]
        regions = cv2.connectedComponents(expected.astype(np.uint8), connectivity=8)[0] - 1
        assert len(annotations) == regions
        union = np.zeros_like(expected)
        for annotation in annotations:
            region = coco.annToMask(annotation).astype(bool)
            assert not (union & region).any()  # regions do not overlap
            union |= region
            assert annotation["area"] == region.sum()
            assert coco.loadCats(annotation["category_id"])[0]["name"] == image["defect"]
        assert np.array_equal(union, expected)
        assert image["goods_category"] == path.relative_to(root).parts[0]


def test_polygons_are_exact_where_regions_have_no_holes_and_flagged_where_they_do(dataset, tmp_path):
    root, _ = dataset
    export_coco(scan_dataset(root), tmp_path / "coco.json", Selection.of(defects=["dent"]), polygons=True)
    data = json.loads((tmp_path / "coco.json").read_text())
    assert any("holes" in note for note in data["info"]["notes"])
    with_holes = 0
    for annotation in data["annotations"]:
        exact = mask_utils.decode(annotation["segmentation"]).astype(bool)
        rings = [Polygon(np.reshape(ring, (-1, 2))) for ring in annotation["polygons"]]
        filled = rasterize(GeometryCollection(rings), exact.shape)
        if annotation["polygon_has_holes"]:
            with_holes += 1
            assert (filled >= exact).all() and filled.sum() > exact.sum()  # outer rings cover the hole too
        else:
            assert np.array_equal(filled, exact)
    assert with_holes >= 1  # the fixture's rectangles have a hole


def test_export_then_import_gives_exactly_the_same_masks(dataset, tmp_path):
    root, masks = dataset
    index = scan_dataset(root)
    export_coco(index, tmp_path / "coco.json")
    for record in index.filter(anomalous=True):
        write_mask(record.mask_path, np.zeros((20, 28), bool))  # blank every mask; the import must redraw them
    fresh = scan_dataset(root)
    report = import_coco(fresh, tmp_path / "coco.json")
    assert len(report.written) == len(masks) and not report.skipped and len(report.backups) == len(masks)
    again = scan_dataset(root)
    for record in again.filter(anomalous=True):
        assert record.mask_path is not None
        assert np.array_equal(read_mask(record.mask_path), masks[str(record.image_path)])
    # dataset naming kept: drink_can uses <stem>_mask.png, food_box <stem>.png
    assert {r.mask_path.name for r in again.filter(category="food_box", anomalous=True)} == {"010002.png", "011001.png"}
    assert fresh.get("drink_can/test/dent/001003").mask_path.name == "001003_mask.png"
    # and no second mask file appeared beside any of them
    assert len(
        [p for p in root.rglob("*.png") if "ground_truth" in p.parts and ".goodsad-studio" not in p.parts]
    ) == len(masks)


def test_dry_run_plans_the_masks_and_writes_nothing(dataset, tmp_path):
    root, masks = dataset
    index = scan_dataset(root)
    export_coco(index, tmp_path / "coco.json")
    record = index.get("drink_can/test/dent/001003")
    record.mask_path.unlink()
    before = sorted(p for p in root.rglob("*"))
    report = import_coco(scan_dataset(root), tmp_path / "coco.json", dry_run=True)
    assert sorted(p for p in root.rglob("*")) == before and not report.written
    planned = {item.record.key: item for item in report.planned}
    assert np.array_equal(planned[record.key].render(), masks[str(record.image_path)])
    assert not planned[record.key].replaces and planned["food_box/test/opened/010002"].replaces
    # the dry run says what the import would really do: the deleted mask comes back, the others are unchanged
    assert report.would_write == [record.mask_path] and not report.would_replace
    assert sorted(report.unchanged) == sorted(item.mask_path for item in report.planned if item.replaces)
    real = import_coco(scan_dataset(root), tmp_path / "coco.json")
    assert real.written == report.would_write and sorted(real.unchanged) == sorted(report.unchanged)


def test_polygon_coco_is_rasterised_at_pixel_centres_clipped_and_repaired(dataset, tmp_path):
    root, _ = dataset
    index = scan_dataset(root)
    data = {
        "images": [{"id": 7, "file_name": "drink_can/test/dent/001003.png", "width": 28, "height": 20}],
        "categories": [{"id": 1, "name": "dent"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 7,
                "category_id": 1,
                "iscrowd": 0,
                "segmentation": [[2, 2, 6, 2, 6, 5, 2, 5]],
            },  # 4x3 pixels
            {
                "id": 2,
                "image_id": 7,
                "category_id": 1,
                "iscrowd": 0,
                "segmentation": [[25, 17, 40, 17, 40, 40, 25, 40]],
            },  # reaches outside
            {
                "id": 3,
                "image_id": 7,
                "category_id": 1,
                "iscrowd": 0,
                "segmentation": [[10, 10, 14, 14, 14, 10, 10, 14]],
            },
        ],
    }  # a bow tie
    (tmp_path / "p.json").write_text(json.dumps(data))
    report = import_coco(index, tmp_path / "p.json")
    mask = read_mask(root / "drink_can" / "ground_truth" / "dent" / "001003_mask.png")
    expected = np.zeros((20, 28), bool)
    expected[2:5, 2:6] = True
    expected[17:20, 25:28] = True
    expected |= rasterize(Polygon([(10, 10), (12, 12), (10, 14)]), (20, 28))
    expected |= rasterize(Polygon([(14, 10), (12, 12), (14, 14)]), (20, 28))
    assert np.array_equal(mask, expected)
    assert any("annotation 2" in n and "clipped" in n and "p.json" in n for n in report.notes)
    assert any("annotation 3" in n and "repaired" in n for n in report.notes)
    assert len(report.backups) == 1 and report.backups[0].is_file()  # the old mask is kept in the trash


def test_uncompressed_crowd_rle_and_basename_matching(dataset, tmp_path):
    root, _ = dataset
    index = scan_dataset(root)
    target = np.zeros((20, 28), bool)
    target[5:9, 3:11] = True
    counts = []
    flat = target.ravel(order="F").astype(np.uint8)
    run_value, run = 0, 0
    for value in flat:
        if value != run_value:
            counts.append(run)
            run_value, run = value, 0
        run += 1
    counts.append(run)
    assert np.array_equal(
        mask_utils.decode(mask_utils.frPyObjects({"size": [20, 28], "counts": counts}, 20, 28)), target
    )
    data = {
        "images": [{"id": 1, "file_name": "011001.jpg", "width": 28, "height": 20}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "iscrowd": 1,
                "segmentation": {"size": [20, 28], "counts": counts},
            }
        ],
    }
    (tmp_path / "c.json").write_text(json.dumps(data))
    import_coco(index, tmp_path / "c.json")
    assert np.array_equal(read_mask(root / "food_box" / "ground_truth" / "opened" / "011001.png"), target)


def _snapshot(root):
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "invalid JSON"),
        ('{"annotations": []}', "no 'images' list"),
    ],
)
def test_malformed_files_are_refused_naming_the_file(dataset, tmp_path, content, message):
    root, _ = dataset
    path = tmp_path / "bad.json"
    path.write_text(content)
    before = _snapshot(root)
    with pytest.raises(AnnotationFileError, match=message) as caught:
        import_coco(scan_dataset(root), path)
    assert caught.value.path == path and "bad.json" in str(caught.value)
    assert _snapshot(root) == before


def test_a_file_for_other_images_is_refused_listing_names(dataset, tmp_path):
    root, _ = dataset
    data = {
        "images": [{"id": i, "file_name": f"cable/test/cut/{i:03d}.png", "width": 28, "height": 20} for i in range(8)],
        "annotations": [],
    }
    (tmp_path / "other.json").write_text(json.dumps(data))
    before = _snapshot(root)
    with pytest.raises(AnnotationFileError, match=r"other\.json.*cable/test/cut/000\.png.*8 in all"):
        import_coco(scan_dataset(root), tmp_path / "other.json")
    assert _snapshot(root) == before


def test_partial_match_reports_skipped_images(dataset, tmp_path):
    root, masks = dataset
    index = scan_dataset(root)
    export_coco(index, tmp_path / "coco.json", Selection.of(defects=["dent"]))
    data = json.loads((tmp_path / "coco.json").read_text())
    data["images"].append({"id": 999, "file_name": "drink_can/test/dent/777777.png", "width": 28, "height": 20})
    data["images"].append({"id": 998, "file_name": "000.png", "width": 28, "height": 20})
    (tmp_path / "coco.json").write_text(json.dumps(data))
    report = import_coco(index, tmp_path / "coco.json", dry_run=True)
    assert any("777777.png" in line and "no such image" in line for line in report.skipped)
    assert len(report.planned) == 2


def test_ambiguous_basename_is_skipped_not_guessed(dataset, tmp_path):
    root, _ = dataset
    (root / "drink_can" / "test" / "dent" / "002002.png").rename(root / "drink_can" / "test" / "dent" / "x.png")
    (root / "drink_can" / "test" / "scratch" / "002003.png").rename(root / "drink_can" / "test" / "scratch" / "x.png")
    index = scan_dataset(root)
    data = {
        "images": [
            {"id": 1, "file_name": "x.png", "width": 28, "height": 20},
            {"id": 2, "file_name": "scratch/x.png", "width": 28, "height": 20},
        ],
        "annotations": [{"id": 1, "image_id": i, "segmentation": [[0, 0, 3, 0, 3, 3]]} for i in (1, 2)],
    }
    (tmp_path / "a.json").write_text(json.dumps(data))
    report = import_coco(index, tmp_path / "a.json", dry_run=True)
    assert any("'x.png'" in line and "ambiguous" in line for line in report.skipped)
    assert [item.record.key for item in report.planned] == ["drink_can/test/scratch/x"]


def test_size_mismatch_is_refused_naming_the_image_file(dataset, tmp_path):
    root, _ = dataset
    data = {
        "images": [{"id": 1, "file_name": "drink_can/test/dent/001003.png", "width": 56, "height": 40}],
        "annotations": [{"id": 1, "image_id": 1, "segmentation": [[0, 0, 3, 0, 3, 3]]}],
    }
    (tmp_path / "s.json").write_text(json.dumps(data))
    before = _snapshot(root)
    with pytest.raises(AnnotationFileError, match=r"001003\.png is 56x40 but the file is 28x20") as caught:
        import_coco(scan_dataset(root), tmp_path / "s.json")
    assert caught.value.path == tmp_path / "s.json"
    assert _snapshot(root) == before


def test_annotations_on_good_images_are_skipped_with_a_reason(dataset, tmp_path):
    root, _ = dataset
    data = {
        "images": [{"id": 1, "file_name": "drink_can/test/good/001002.png", "width": 28, "height": 20}],
        "annotations": [{"id": 1, "image_id": 1, "segmentation": [[0, 0, 3, 0, 3, 3]]}],
    }
    (tmp_path / "g.json").write_text(json.dumps(data))
    report = import_coco(scan_dataset(root), tmp_path / "g.json")
    assert not report.written and any("mark it defective first" in line for line in report.skipped)
    assert not (root / "drink_can" / "ground_truth" / "good").exists()


def test_region_rle_matches_pycocotools_encoding_of_the_full_mask():
    for seed in range(40):
        rng = np.random.default_rng(seed)
        height, width = (int(v) for v in rng.integers(1, 12, 2))
        mask = rng.random((height, width)) > rng.random()
        regions = mask_regions(mask)
        union = np.zeros_like(mask)
        for region in regions:
            full = region.full(mask.shape)
            expected = mask_utils.encode(np.asfortranarray(full.astype(np.uint8)))
            assert encode_region(region, mask.shape)["counts"] == expected["counts"].decode("ascii")
            union |= full
        assert np.array_equal(union, mask)


def test_existing_coco_file_is_kept_unless_overwrite_and_cancel_writes_nothing(dataset, tmp_path):
    root, _ = dataset
    index = scan_dataset(root)
    target = tmp_path / "coco.json"
    target.write_text("mine")
    with pytest.raises(DatasetError, match="already exists") as caught:
        export_coco(index, target)
    assert caught.value.path == target and target.read_text() == "mine"
    cancel = threading.Event()
    result = export_coco(
        index, target, overwrite=True, monitor=Monitor(lambda event: cancel.set() if event.done == 2 else None, cancel)
    )
    assert result.cancelled and result.image_count == 2 and target.read_text() == "mine"
    export_coco(index, target, overwrite=True)
    assert len(_coco(target).getImgIds()) == len(index.records)


def test_merge_existing_unites_the_import_with_the_mask_on_disk(dataset, tmp_path):
    root, masks = dataset
    path = root / "drink_can" / "test" / "dent" / "001003.png"
    data = {
        "images": [{"id": 1, "file_name": "drink_can/test/dent/001003.png", "width": 28, "height": 20}],
        "annotations": [{"id": 1, "image_id": 1, "segmentation": [[0, 0, 28, 0, 28, 1, 0, 1]]}],
    }
    (tmp_path / "m.json").write_text(json.dumps(data))
    import_coco(scan_dataset(root), tmp_path / "m.json", merge_existing=True)
    merged = read_mask(root / "drink_can" / "ground_truth" / "dent" / "001003_mask.png")
    expected = masks[str(path)].copy()
    expected[0, :] = True
    assert np.array_equal(merged, expected)


@pytest.mark.parametrize(
    "segmentation, message",
    [
        ({"size": [40, 56], "counts": "PPYo1"}, r"annotation 5: RLE size 56x40 differs from .*001003\.png"),
        ({"size": [20, 28], "counts": [3, "x"]}, "annotation 5: corrupt RLE counts"),
        ([[1, 2, 3]], "annotation 5: polygon 0 is not a flat list of x, y numbers"),
        ("box", "annotation 5: segmentation is neither RLE nor a list of polygons"),
    ],
)
def test_bad_segmentations_are_refused_naming_file_and_annotation(dataset, tmp_path, segmentation, message):
    root, _ = dataset
    data = {
        "images": [{"id": 1, "file_name": "drink_can/test/dent/001003.png", "width": 28, "height": 20}],
        "annotations": [{"id": 5, "image_id": 1, "segmentation": segmentation}],
    }
    (tmp_path / "r.json").write_text(json.dumps(data))
    before = _snapshot(root)
    with pytest.raises(AnnotationFileError, match=message) as caught:
        import_coco(scan_dataset(root), tmp_path / "r.json")
    assert caught.value.path == tmp_path / "r.json"
    assert _snapshot(root) == before
