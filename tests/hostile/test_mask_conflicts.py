"""Two editors of one mask, and a save aimed at a folder: the second editor's save is refused (MaskChangedError
naming the mask) rather than silently losing the first one's edit, unless told to overwrite or keep both."""

from __future__ import annotations

import numpy as np
import pytest

from goodsad_studio.annotation.storage import open_mask, open_record, save_mask, save_record
from goodsad_studio.dataset.imageio import read_mask, write_mask
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.errors import MaskChangedError, StudioError, WriteError
from goodsad_studio.fsutil import atomic_write_bytes
from goodsad_studio.paths import STATE_DIR_NAME

from .helpers import DEFECT_KEY, DEFECT_MASK, HEIGHT, WIDTH, checksums, leftover_temp_files


def _box(top: int, left: int, bottom: int, right: int) -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH), bool)
    mask[top:bottom, left:right] = True
    return mask


MASK_A, MASK_B = _box(1, 1, 6, 9), _box(10, 12, 18, 26)


def _trash_copies(root):
    relative = DEFECT_MASK
    return sorted((root / STATE_DIR_NAME / "trash").glob(f"*/{relative}"))


def _two_editors(root):
    index = scan_dataset(root)
    record = index.get(DEFECT_KEY)
    doc_a, doc_b = open_record(index, record), open_record(index, record)
    doc_a.replace_mask(MASK_A, "editor A")
    doc_b.replace_mask(MASK_B, "editor B")
    return index, record, doc_a, doc_b


def test_the_second_editors_save_is_refused_naming_the_mask(dataset):
    index, record, doc_a, doc_b = _two_editors(dataset)
    path = dataset / DEFECT_MASK
    save_record(doc_a, index, record)
    assert np.array_equal(read_mask(path), MASK_A)
    with pytest.raises(MaskChangedError) as caught:
        save_record(doc_b, index, record)
    assert caught.value.path == path and str(path) in str(caught.value)
    assert np.array_equal(read_mask(path), MASK_A)


def test_keep_both_writes_the_second_mask_and_puts_the_first_in_the_trash(dataset):
    index, record, doc_a, doc_b = _two_editors(dataset)
    path = dataset / DEFECT_MASK
    save_record(doc_a, index, record)
    with pytest.raises(MaskChangedError):
        save_record(doc_b, index, record)
    save_record(doc_b, index, record, on_conflict="keep_both")
    assert np.array_equal(read_mask(path), MASK_B)
    copies = _trash_copies(dataset)
    assert any(np.array_equal(read_mask(copy), MASK_A) for copy in copies), copies
    doc_b.replace_mask(MASK_A | MASK_B, "editor B again")
    save_record(doc_b, index, record)  # its own save since: no conflict
    assert np.array_equal(read_mask(path), MASK_A | MASK_B)


def test_overwrite_writes_the_second_mask_without_a_copy(dataset):
    index, record, doc_a, doc_b = _two_editors(dataset)
    path = dataset / DEFECT_MASK
    save_record(doc_a, index, record)
    copies = _trash_copies(dataset)
    save_record(doc_b, index, record, on_conflict="overwrite")
    assert np.array_equal(read_mask(path), MASK_B)
    assert _trash_copies(dataset) == copies


def test_save_mask_refuses_a_mask_changed_on_disk_too(dataset):
    path = dataset / DEFECT_MASK
    doc_a, doc_b = open_mask(path, (HEIGHT, WIDTH)), open_mask(path, (HEIGHT, WIDTH))
    doc_a.replace_mask(MASK_A)
    doc_b.replace_mask(MASK_B)
    assert save_mask(doc_a)
    with pytest.raises(MaskChangedError) as caught:
        save_mask(doc_b)
    assert caught.value.path == path
    assert np.array_equal(read_mask(path), MASK_A)


def test_a_mask_changed_by_another_program_is_a_conflict(dataset):
    path = dataset / DEFECT_MASK
    document = open_mask(path, (HEIGHT, WIDTH))
    document.replace_mask(MASK_B)
    write_mask(path, MASK_A)  # e.g. an import, or another studio
    with pytest.raises(MaskChangedError):
        save_mask(document)
    assert np.array_equal(read_mask(path), MASK_A)


def test_a_document_saved_twice_in_a_row_is_no_conflict(dataset):
    index = scan_dataset(dataset)
    record = index.get(DEFECT_KEY)
    path = dataset / DEFECT_MASK
    document = open_record(index, record)
    document.replace_mask(MASK_A)
    save_record(document, index, record)
    document.replace_mask(MASK_B)
    save_record(document, index, record)
    assert np.array_equal(read_mask(path), MASK_B)
    document.replace_mask(MASK_A)
    assert save_mask(document)
    assert np.array_equal(read_mask(path), MASK_A)


def test_save_mask_to_a_folder_raises_write_error_naming_it(dataset):
    folder = dataset / "drink_can" / "ground_truth" / "dent"
    document = open_mask(dataset / DEFECT_MASK, (HEIGHT, WIDTH))
    document.replace_mask(MASK_A)
    before = checksums(dataset)
    with pytest.raises(WriteError) as caught:
        save_mask(document, folder)
    assert caught.value.path == folder and str(folder) in str(caught.value)
    assert isinstance(caught.value, StudioError) and not isinstance(caught.value, OSError)
    assert folder.is_dir() and checksums(dataset) == before
    assert leftover_temp_files(dataset) == []


def test_atomic_write_to_a_folder_raises_write_error_naming_it(tmp_path):
    folder = tmp_path / "a folder"
    folder.mkdir()
    (folder / "inside.txt").write_text("kept")
    with pytest.raises(WriteError) as caught:
        atomic_write_bytes(folder, b"data")
    assert caught.value.path == folder
    assert [path.name for path in folder.iterdir()] == ["inside.txt"]
    assert leftover_temp_files(tmp_path) == []
