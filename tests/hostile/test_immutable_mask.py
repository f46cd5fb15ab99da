"""A mask file the system will not let anyone replace (immutable, ``chattr +i``): an import that would replace it
stops with one message naming it, and every file of the dataset stays as it was."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

from goodsad_studio.dataset.import_coco import import_coco
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.errors import ReadOnlyError

from .helpers import BOX, DEFECT_IMAGE, DEFECT_MASK, assert_one_error_line, checksums, coco_for, run_cli, write_text

OTHER_IMAGE = "drink_can/test/dent/002002.png"


@pytest.fixture
def refuse_replacing(monkeypatch):
    """``refuse_replacing(path)``: from then on ``os.replace`` onto ``path`` fails with EPERM (as onto an
    immutable file); every other replace works."""
    from goodsad_studio import fsutil

    original = fsutil.os.replace
    refused: list[Path] = []

    def replace(src, dst, *args, **kwargs):
        if any(Path(dst).resolve() == path.resolve() for path in refused):
            raise PermissionError(errno.EPERM, "Operation not permitted", str(dst))
        return original(src, dst, *args, **kwargs)

    monkeypatch.setattr(fsutil.os, "replace", replace)
    return refused.append


@contextlib.contextmanager
def _immutable(path: Path):
    if os.geteuid() != 0:
        pytest.skip("chattr +i needs root (the simulated immutable file covers the rest)")
    result = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"chattr +i does not work here: {result.stderr.decode(errors='replace').strip()}")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def _coco_replacing(tmp_path, *file_names) -> Path:
    document = coco_for([BOX], file_name=file_names[0])
    for number, name in enumerate(file_names[1:], start=2):
        document["images"].append({"id": number, "file_name": name, "width": 28, "height": 20})
        document["annotations"].append({"id": number, "image_id": number, "category_id": 1, "segmentation": [BOX]})
    return write_text(tmp_path / "coco" / "coco.json", json.dumps(document))


def _refused_import(root, coco, capsys):
    mask = root / DEFECT_MASK
    before = checksums(root)
    status, out, err = run_cli(["import-coco", root, coco], capsys)
    assert status == 2, out + err
    assert_one_error_line(err, mask)
    assert checksums(root) == before


def test_import_over_a_mask_that_cannot_be_replaced_is_one_message_and_changes_nothing(
    dataset, tmp_path, capsys, refuse_replacing
):
    coco = _coco_replacing(tmp_path, DEFECT_IMAGE)
    refuse_replacing(dataset / DEFECT_MASK)
    _refused_import(dataset, coco, capsys)
    with pytest.raises(ReadOnlyError) as caught:
        import_coco(scan_dataset(dataset), coco)
    assert caught.value.path == dataset / DEFECT_MASK


def test_a_refusal_half_way_through_an_import_leaves_the_masks_before_it_as_they_were(
    dataset, tmp_path, capsys, refuse_replacing
):
    coco = _coco_replacing(tmp_path, OTHER_IMAGE, DEFECT_IMAGE)  # the other mask is planned (and written) first
    refuse_replacing(dataset / DEFECT_MASK)
    _refused_import(dataset, coco, capsys)


def test_import_over_a_really_immutable_mask(dataset, tmp_path, capsys):
    coco = _coco_replacing(tmp_path, DEFECT_IMAGE)
    with _immutable(dataset / DEFECT_MASK):
        _refused_import(dataset, coco, capsys)
