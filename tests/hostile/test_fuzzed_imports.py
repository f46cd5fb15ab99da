"""Random mutations of valid COCO and labelme files: a value replaced by any JSON value (huge integers, NaN and
infinities, booleans, nulls, strings, nested lists and objects), a key deleted, a value wrapped in a list. The
import exits 0 or 2, never raises and never prints a traceback; refused, it changed nothing; accepted, every mask
of the dataset is still a binary 0/255 PNG of its image's size."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from goodsad_studio.dataset.export_coco import build_coco
from goodsad_studio.dataset.index import scan_dataset

from .helpers import (
    assert_no_traceback,
    assert_one_error_line,
    checksums,
    count_example,
    labelme_for,
    labelme_shape,
    masks_are_binary_pngs_of_their_images,
    run_cli,
    write_text,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation:DeprecationWarning",
    "ignore::RuntimeWarning",  # shapely on NaN coordinates
)

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure reports its example within the time budget
)

LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.sampled_from([0, 1, -1, 20, 28, 560, 2**31, 2**63, 10**400])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
JSON_VALUES = st.recursive(
    LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=8,
)


def _places(value: Any, path: tuple = ()) -> list[tuple]:
    """Every place in a JSON document, as the keys and indices leading to it (the root is ``()``)."""
    places = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            places.extend(_places(child, (*path, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            places.extend(_places(child, (*path, index)))
    return places


def _mutate(document: Any, data) -> Any:
    """Apply one to three random mutations to a deep copy of ``document``."""
    document = json.loads(json.dumps(document))
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        place = data.draw(st.sampled_from(_places(document)), label="place")
        action = data.draw(st.sampled_from(["replace", "delete", "wrap"]), label="action")
        if not place:
            document = data.draw(JSON_VALUES) if action == "replace" else [document]
            continue
        parent = document
        for step in place[:-1]:
            parent = parent[step]
        last = place[-1]
        if action == "delete":
            del parent[last]
        elif action == "wrap":
            parent[last] = [parent[last]]
        else:
            parent[last] = data.draw(JSON_VALUES, label="value")
    return document


class ValidCoco(dict):
    """A COCO document whose repr is short (hypothesis prints a failing example's arguments)."""

    def __repr__(self) -> str:
        return f"<the tiny dataset's COCO export: {len(self['images'])} images, {len(self['annotations'])} annotations>"


@pytest.fixture(scope="module")
def valid_coco(pristine_dataset) -> ValidCoco:
    """The tiny dataset's own COCO export (file names relative to the root: they match every copy)."""
    coco = ValidCoco(build_coco(scan_dataset(pristine_dataset))[0])
    for annotation in coco["annotations"][:3]:  # polygons beside the RLEs
        x, y, w, h = annotation["bbox"]
        annotation["segmentation"] = [[x, y, x + w, y, x + w, y + h, x, y + h]]
    return coco


VALID_LABELME = labelme_for(
    [
        labelme_shape([[2, 2], [12, 2], [12, 9], [2, 9]]),
        labelme_shape([[15, 10], [20, 15]], "rectangle"),
        labelme_shape([[5, 14], [8, 14]], "circle"),
    ]
)


def _import_survives(root, command, source, capsys) -> None:
    before = checksums(root)
    status, out, err = run_cli([command, root, source], capsys)
    assert status in (0, 2), out + err
    assert_no_traceback(out, err)
    if status == 2:
        assert_one_error_line(err)
        assert checksums(root) == before
    else:
        assert masks_are_binary_pngs_of_their_images(root) == []


@EXAMPLES
@given(data=st.data())
def test_mutated_coco_files_import_or_are_refused_cleanly(dataset, tmp_path, capsys, valid_coco, data):
    count_example()
    document = _mutate(valid_coco, data)
    source = write_text(tmp_path / "coco" / "mutated.json", json.dumps(document, allow_nan=True))
    _import_survives(dataset, "import-coco", source, capsys)


@EXAMPLES
@given(data=st.data())
def test_mutated_labelme_files_import_or_are_refused_cleanly(dataset, tmp_path, capsys, data):
    count_example()
    document = _mutate(VALID_LABELME, data)
    source = write_text(tmp_path / "labelme" / "001003.json", json.dumps(document, allow_nan=True))
    _import_survives(dataset, "import-labelme", source, capsys)


def test_the_unmutated_files_import(dataset, tmp_path, capsys, valid_coco):
    coco = write_text(tmp_path / "coco" / "valid.json", json.dumps(valid_coco))
    assert run_cli(["import-coco", dataset, coco], capsys)[0] == 0
    labelme = write_text(tmp_path / "labelme" / "001003.json", json.dumps(VALID_LABELME))
    assert run_cli(["import-labelme", dataset, labelme], capsys)[0] == 0
    assert masks_are_binary_pngs_of_their_images(dataset) == []
