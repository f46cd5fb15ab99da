"""labelme JSON import: shapes become exactly the pixels whose centres they contain; bad files are refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
from shapely.geometry import Polygon

from goodsad_studio.dataset.imageio import read_mask
from goodsad_studio.dataset.import_labelme import AnnotationFileError, import_labelme
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.geometry import rasterize


def _write(path, shapes, image_path="../goods/drink_can/test/dent/001003.png", width=28, height=20):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "version": "5.4.1",
        "flags": {},
        "shapes": shapes,
        "imagePath": image_path,
        "imageData": None,
        "imageHeight": height,
        "imageWidth": width,
    }
    path.write_text(json.dumps(data))
    return path


def _shape(points, shape_type="polygon", label="dent"):
    return {"label": label, "points": points, "group_id": None, "shape_type": shape_type, "flags": {}}


def _snapshot(root):
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_polygon_with_known_pixels_imports_to_exactly_those_pixels(dataset, tmp_path):
    root, _ = dataset
    # A right triangle with legs along pixel edges and hypotenuse x + y = 18. Pixel (r, c) has its centre inside
    # when (c + 0.5) + (r + 0.5) < 18; centres exactly on the hypotenuse (c + r = 17) lie on a right/bottom edge,
    # which the top-left rule leaves out. So row 4 holds columns 4..12, row 12 only column 4, row 13 nothing.
    path = _write(tmp_path / "ann" / "001003.json", [_shape([[4, 4], [14, 4], [4, 14]])])
    report = import_labelme(scan_dataset(root), path)
    mask = read_mask(root / "drink_can" / "ground_truth" / "dent" / "001003_mask.png")
    expected = np.zeros((20, 28), bool)
    for row in range(4, 13):
        expected[row, 4 : 17 - row] = True
    assert mask.sum() == 9 + 8 + 7 + 6 + 5 + 4 + 3 + 2 + 1
    assert np.array_equal(mask, expected)
    assert report.written == [root / "drink_can" / "ground_truth" / "dent" / "001003_mask.png"]


def test_rectangles_and_circles_unite_and_other_shapes_are_reported(dataset, tmp_path):
    root, _ = dataset
    shapes = [
        _shape([[10, 8], [2, 3]], "rectangle"),  # corners in any order
        _shape([[20.5, 10.5], [20.5, 13.7]], "circle"),  # radius 3.2 about a pixel centre
        _shape([[0, 0], [5, 5]], "line"),
    ]
    path = _write(tmp_path / "ann" / "001003.json", shapes)
    report = import_labelme(scan_dataset(root), path)
    mask = read_mask(root / "drink_can" / "ground_truth" / "dent" / "001003_mask.png")
    rows, cols = np.mgrid[0:20, 0:28]
    expected = (rows >= 3) & (rows < 8) & (cols >= 2) & (cols < 10)
    expected |= (rows - 10) ** 2 + (cols - 20) ** 2 <= 10  # centres within 3.2 px: squared distance 10 < 10.24
    assert np.array_equal(mask, expected)
    assert any("is a line" in note and "001003.json" in note for note in report.notes)


def test_image_found_beside_the_json_and_by_name_when_image_path_is_stale(dataset, tmp_path):
    root, _ = dataset
    beside = _write(
        root / "food_box" / "test" / "opened" / "010002.json",
        [_shape([[0, 0], [4, 0], [4, 4]])],
        image_path="C:\\\\old\\\\place\\\\nowhere.jpg",
    )
    by_name = _write(
        tmp_path / "ann" / "b.json",
        [_shape([[0, 0], [4, 0], [4, 4]])],
        image_path="D:\\\\photos\\\\food_box\\\\test\\\\opened\\\\011001.jpg",
    )
    report = import_labelme(scan_dataset(root), [beside, by_name], dry_run=True)
    assert sorted(item.record.key for item in report.planned) == [
        "food_box/test/opened/010002",
        "food_box/test/opened/011001",
    ]


def test_outside_and_self_intersecting_polygons_are_clipped_repaired_and_reported(dataset, tmp_path):
    root, _ = dataset
    shapes = [
        _shape([[24, -5], [40, -5], [40, 3], [24, 3]]),  # above and right of the image
        _shape([[10, 10], [14, 14], [14, 10], [10, 14]]),
    ]  # a bow tie
    path = _write(tmp_path / "ann" / "x.json", shapes)
    report = import_labelme(scan_dataset(root), path)
    mask = read_mask(root / "drink_can" / "ground_truth" / "dent" / "001003_mask.png")
    assert mask[0:3, 24:28].all() and mask[0:3].sum() == 12
    # the bow tie is read as its two triangles, which meet at (12, 12)
    triangles = rasterize(Polygon([(10, 10), (12, 12), (10, 14)]), (20, 28)) | rasterize(
        Polygon([(14, 10), (12, 12), (14, 14)]), (20, 28)
    )
    assert triangles.sum() == 8 and np.array_equal(mask[4:], triangles[4:])
    notes = " | ".join(report.notes)
    assert "x.json" in notes and "clipped" in notes and "repaired" in notes


def test_folder_import_of_several_files_for_one_image_unites_them(dataset, tmp_path):
    root, _ = dataset
    _write(tmp_path / "ann" / "a.json", [_shape([[0, 0], [3, 0], [3, 3], [0, 3]])])
    _write(
        tmp_path / "ann" / "sub" / "b.json",
        [_shape([[5, 5], [7, 5], [7, 7], [5, 7]])],
        image_path="../../goods/drink_can/test/dent/001003.png",
    )
    report = import_labelme(scan_dataset(root), tmp_path / "ann")
    assert len(report.planned) == 1 and any("united" in note for note in report.notes)
    assert read_mask(root / "drink_can" / "ground_truth" / "dent" / "001003_mask.png").sum() == 9 + 4


def test_label_filter_keeps_only_the_labels_asked(dataset, tmp_path):
    root, _ = dataset
    path = _write(
        tmp_path / "ann" / "a.json",
        [
            _shape([[0, 0], [3, 0], [3, 3], [0, 3]], label="dent"),
            _shape([[5, 5], [7, 5], [7, 7], [5, 7]], label="other"),
        ],
    )
    report = import_labelme(scan_dataset(root), path, labels=["dent"], dry_run=True)
    assert report.planned[0].render().sum() == 9


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"shapes": [', "invalid JSON"),
        ("[1, 2]", "no 'shapes' list"),
        (
            json.dumps({"shapes": [{"points": [[1, "a"]]}], "imagePath": "../goods/drink_can/test/dent/001003.png"}),
            "not a list of \\[x, y\\] number pairs",
        ),
    ],
)
def test_malformed_labelme_files_are_refused_naming_the_file(dataset, tmp_path, content, message):
    root, _ = dataset
    path = tmp_path / "ann" / "bad.json"
    path.parent.mkdir()
    path.write_text(content)
    before = _snapshot(root)
    with pytest.raises(AnnotationFileError, match=message) as caught:
        import_labelme(scan_dataset(root), path)
    assert caught.value.path == path
    assert _snapshot(root) == before


def test_size_mismatch_is_refused_before_any_file_is_written(dataset, tmp_path):
    root, _ = dataset
    good = _write(
        tmp_path / "ann" / "a.json",
        [_shape([[0, 0], [3, 0], [3, 3]])],
        image_path="../goods/food_box/test/opened/010002.jpg",
    )
    wrong = _write(tmp_path / "ann" / "b.json", [_shape([[0, 0], [3, 0], [3, 3]])], width=2800, height=2000)
    before = _snapshot(root)
    with pytest.raises(AnnotationFileError, match=r"001003\.png is 2800x2000 but the file is 28x20") as caught:
        import_labelme(scan_dataset(root), [good, wrong])
    assert caught.value.path == wrong
    assert _snapshot(root) == before


def test_files_for_other_images_are_refused_listing_them(dataset, tmp_path):
    root, _ = dataset
    path = _write(tmp_path / "ann" / "a.json", [_shape([[0, 0], [3, 0], [3, 3]])], image_path="elsewhere/9.png")
    with pytest.raises(AnnotationFileError, match=r"a\.json.*elsewhere/9\.png"):
        import_labelme(scan_dataset(root), path)
