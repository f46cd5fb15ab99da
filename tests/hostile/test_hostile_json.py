"""Annotation files built to break the importers: NaN, Infinity and 1e999 as coordinates, JSON nested 100,000 deep,
RLE counts that do not cover the image (or are floats, or negative), booleans where numbers go. Each is refused
with the project's error naming the JSON file, one message line, exit 2, and no mask changed."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from goodsad_studio.dataset.import_coco import import_coco
from goodsad_studio.dataset.import_labelme import import_labelme
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.errors import AnnotationFileError

from .helpers import (
    BOX,
    HEIGHT,
    SENTINEL,
    WIDTH,
    assert_one_error_line,
    checksums,
    coco_for,
    dumps_with,
    labelme_for,
    labelme_shape,
    run_cli,
    write_text,
)

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

NONFINITE = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"]
DEEP = 100_000


def _compressed_counts(height: int, width: int) -> str:
    rle = mask_utils.encode(np.asfortranarray(np.ones((height, width), np.uint8)))
    return rle["counts"].decode("ascii")


def _rle(counts) -> dict:
    return {"size": [HEIGHT, WIDTH], "counts": counts}


COCO_FILES = {
    **{
        f"polygon {literal}": (lambda literal=literal: dumps_with(coco_for([[*BOX[:2], SENTINEL, *BOX[3:]]]), literal))
        for literal in NONFINITE
    },
    **{
        f"bbox {literal}": (lambda literal=literal: dumps_with(coco_for([BOX], bbox=[1, 1, SENTINEL, 5]), literal))
        for literal in NONFINITE
    },
    "nested lists": lambda: '{"images":' + "[" * DEEP + "]" * DEEP + "}",
    "nested objects": lambda: '{"images": [], "annotations": ' + '{"a":' * DEEP + "1" + "}" * DEEP + "}",
    "nested segmentation": lambda: dumps_with(coco_for(SENTINEL), "[" * DEEP + "]" * DEEP),
    "rle sum short": lambda: json.dumps(coco_for(_rle([100, 50]))),
    "rle sum long": lambda: json.dumps(coco_for(_rle([500, 100]))),
    "rle empty counts": lambda: json.dumps(coco_for(_rle([]))),
    "rle float counts": lambda: json.dumps(coco_for(_rle([499.5, 60.5]))),
    "rle negative count": lambda: json.dumps(coco_for(_rle([600, -40]))),
    "rle negative first count": lambda: json.dumps(coco_for(_rle([-1, 561]))),
    "rle boolean counts": lambda: json.dumps(coco_for(_rle([True, 559]))),
    "rle compressed short": lambda: json.dumps(coco_for(_rle(_compressed_counts(HEIGHT, HEIGHT)))),
    "rle compressed long": lambda: json.dumps(coco_for(_rle(_compressed_counts(30, WIDTH)))),
    "polygon booleans": lambda: json.dumps(coco_for([[True, False, True, True, False, True]])),
    "polygon with a boolean": lambda: json.dumps(coco_for([[True, *BOX[1:]]])),
    "bbox booleans": lambda: json.dumps(coco_for([BOX], bbox=[True, False, True, True])),
    "rle size booleans": lambda: json.dumps(coco_for({"size": [True, True], "counts": [0, 1]})),
    "image size booleans": lambda: json.dumps(coco_for([BOX], width=True, height=True)),
}

LABELME_FILES = {
    **{
        f"{kind} {literal}": (
            lambda kind=kind, points=points, literal=literal: dumps_with(
                labelme_for([labelme_shape(points, kind)]), literal
            )
        )
        for literal in NONFINITE
        for kind, points in (
            ("polygon", [[2, 2], [SENTINEL, 2], [12, 9], [2, 9]]),
            ("rectangle", [[2, 2], [SENTINEL, 9]]),
            ("circle", [[5, 5], [SENTINEL, 5]]),
        )
    },
    "nested lists": lambda: '{"shapes":' + "[" * DEEP + "]" * DEEP + "}",
    "nested objects": lambda: '{"shapes": [], "flags": ' + '{"a":' * DEEP + "1" + "}" * DEEP + "}",
    "nested points": lambda: dumps_with(labelme_for([labelme_shape(SENTINEL)]), "[" * DEEP + "]" * DEEP),
    "point booleans": lambda: json.dumps(labelme_for([labelme_shape([[True, False], [True, True], [False, True]])])),
    "rectangle booleans": lambda: json.dumps(labelme_for([labelme_shape([[True, True], [12, 9]], "rectangle")])),
    "image size booleans": lambda: json.dumps(labelme_for([labelme_shape([[2, 2], [12, 2], [12, 9]])], width=True)),
}


def _assert_refused(root, command, source, capsys, importer):
    before = checksums(root)
    with pytest.raises(AnnotationFileError) as caught:
        importer(scan_dataset(root), source)
    assert caught.value.path == source, caught.value
    status, out, err = run_cli([command, root, source], capsys)
    assert status == 2, out + err
    assert_one_error_line(err, source)
    assert "RecursionError" not in out + err
    assert checksums(root) == before


@pytest.mark.parametrize("text", COCO_FILES.values(), ids=COCO_FILES.keys())
def test_hostile_coco_files_are_refused_naming_the_file(dataset, tmp_path, capsys, text):
    source = write_text(tmp_path / "coco" / "hostile.json", text())
    _assert_refused(dataset, "import-coco", source, capsys, import_coco)


@pytest.mark.parametrize("text", LABELME_FILES.values(), ids=LABELME_FILES.keys())
def test_hostile_labelme_files_are_refused_naming_the_file(dataset, tmp_path, capsys, text):
    source = write_text(tmp_path / "labelme" / "001003.json", text())
    _assert_refused(dataset, "import-labelme", source, capsys, lambda index, path: import_labelme(index, [path]))


def test_the_valid_twins_of_these_files_import(dataset, tmp_path, capsys):
    """The hostile files differ from these in the one value that makes them hostile: these import (exit 0)."""
    coco = write_text(tmp_path / "coco" / "valid.json", json.dumps(coco_for([BOX], bbox=[2, 2, 10, 7])))
    assert run_cli(["import-coco", dataset, coco], capsys)[0] == 0
    labelme = write_text(
        tmp_path / "labelme" / "001003.json", json.dumps(labelme_for([labelme_shape([[2, 2], [12, 9]], "rectangle")]))
    )
    assert run_cli(["import-labelme", dataset, labelme], capsys)[0] == 0
