"""The recovery journal keys its entries by the image's full dataset key, so an autosave is offered back only for
the image it was made on; entries of the older journal version (keyed by mask path) are re-keyed only when their
mask names exactly one image, and good images' entries are dropped, each with a note."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pytest
from conftest import build_category

from goodsad_studio.annotation.document import MaskDocument
from goodsad_studio.annotation.recovery import FORMAT, RecoveryJournal
from goodsad_studio.annotation.storage import open_record
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.dataset.names import GOOD


@pytest.fixture
def dataset(tmp_path):
    """train/good/000, test/good/000 (both masks would be ground_truth/good/000_mask.png) and test/scratch/000."""
    root = build_category(tmp_path / "bottle", names=("000",), defects=("scratch",))
    return root, scan_dataset(root)


def _owners(index):
    return {index.mask_path_for(r).resolve(): r.key for r in index.records if r.defect != GOOD}


def _edited(index, key):
    document = open_record(index, index.get(key))
    document.paint([(5, 5)], 2)
    return document


def write_version_1(journal: RecoveryJournal, mask_path, mask: np.ndarray) -> None:
    """An entry as the journal's version 1 wrote it: named by the hash of the mask path, no image key."""
    stem = hashlib.sha1(str(mask_path.resolve()).encode()).hexdigest()[:20]
    buffer = io.BytesIO()
    np.savez_compressed(buffer, bits=np.packbits(mask, axis=None), shape=np.asarray(mask.shape, np.int64))
    journal.folder.mkdir(parents=True, exist_ok=True)
    (journal.folder / f"{stem}.1.npz").write_bytes(buffer.getvalue())
    meta = {
        "format": FORMAT,
        "version": 1,
        "mask_path": str(mask_path.resolve()),
        "npz": f"{stem}.1.npz",
        "shape": list(mask.shape),
        "saved_at": "2026-01-02 03:04:05",
        "base_signature": None,
    }
    (journal.folder / f"{stem}.json").write_text(json.dumps(meta))


def test_an_entry_is_found_only_under_the_key_it_was_written_for(dataset):
    root, index = dataset
    journal = RecoveryJournal.for_dataset(root)
    key = "bottle/test/scratch/000"
    document = _edited(index, key)
    assert journal.autosave(document, key)
    entry = journal.find_image(key)
    assert entry is not None and entry.key == key and np.array_equal(entry.mask, document.mask)
    assert journal.keys() == {key}
    for other in ("bottle/test/good/000", "bottle/train/good/000", "bottle/test/dent/000", "other/test/scratch/000"):
        assert journal.find_image(other) is None  # the same file name elsewhere is another image
    journal.discard_image(key)
    assert journal.find_image(key) is None and not list(journal.folder.iterdir())


def test_an_entry_recording_another_key_than_its_file_is_refused_with_a_note(dataset):
    root, index = dataset
    journal = RecoveryJournal.for_dataset(root)
    key = "bottle/test/scratch/000"
    json_path = journal.write(_edited(index, key), key)
    meta = json.loads(json_path.read_text())
    meta["key"] = "bottle/train/good/000"
    json_path.write_text(json.dumps(meta))
    assert journal.find_image(key) is None
    assert any(str(json_path) in note and "bottle/train/good/000" in note for note in journal.notes)


def test_the_cores_mask_path_lookup_never_serves_a_good_images_shared_mask_path(dataset):
    root, index = dataset
    journal = RecoveryJournal.for_dataset(root)
    train_good = index.get("bottle/train/good/000")
    test_good = index.get("bottle/test/good/000")
    shared = index.mask_path_for(train_good)
    assert shared == index.mask_path_for(test_good)  # why keys, not mask paths
    stray = MaskDocument.blank((24, 32), shared)
    stray.paint([(3, 3)], 1)
    journal.write(stray, train_good.key)
    assert journal.find(shared) is None
    assert not open_record(index, test_good, journal=journal).modified
    journal.write(stray, test_good.key)  # two entries name one mask: neither is applied, and the note says so
    assert journal.find(shared) is None and any("2 recovery entries" in note for note in journal.notes)


def test_version_1_entries_are_re_keyed_when_their_mask_names_one_image_and_dropped_for_good_images(dataset):
    root, index = dataset
    journal = RecoveryJournal.for_dataset(root)
    defect_mask = index.mask_path_for(index.get("bottle/test/scratch/000"))
    good_mask = index.mask_path_for(index.get("bottle/test/good/000"))
    gone_mask = defect_mask.with_name("999_mask.png")
    edits = np.zeros((24, 32), bool)
    edits[2:6, 3:9] = True
    for path in (defect_mask, good_mask, gone_mask):
        write_version_1(journal, path, edits)
    assert journal.keys() == set()  # a version-1 entry names no image
    journal.settle_legacy(lambda: _owners(index))
    entry = journal.find_image("bottle/test/scratch/000")
    assert entry is not None and np.array_equal(entry.mask, edits) and entry.saved_at == "2026-01-02 03:04:05"
    assert journal.keys() == {"bottle/test/scratch/000"}
    for key in ("bottle/test/good/000", "bottle/train/good/000"):
        assert journal.find_image(key) is None
    notes = " | ".join(journal.notes)
    assert "matched to bottle/test/scratch/000" in notes
    assert "dropped unsaved edits of a good image" in notes and "000_mask.png" in notes
    assert f"name {gone_mask}" in notes and "not offered" in notes
    left = sorted(json.loads(p.read_text())["version"] for p in journal.folder.glob("*.json"))
    assert left == [1, 2]  # the unmatched one stays on disk, the good one is gone, the matched one is version 2
    journal.settle_legacy(lambda: _owners(index))  # settling again changes nothing more
    assert journal.keys() == {"bottle/test/scratch/000"} and len(list(journal.folder.glob("*.json"))) == 2


def test_an_entry_of_an_unknown_version_is_refused_with_a_note(dataset):
    root, index = dataset
    journal = RecoveryJournal.for_dataset(root)
    key = "bottle/test/scratch/000"
    json_path = journal.write(_edited(index, key), key)
    meta = json.loads(json_path.read_text())
    meta["version"] = 7
    json_path.write_text(json.dumps(meta))
    assert journal.find_image(key) is None and journal.entries() == []
    assert any("version 7" in note for note in journal.notes)
