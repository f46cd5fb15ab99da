"""Autosave of unsaved edits to a recovery journal and their recovery on the next open."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from goodsad_studio.annotation.recovery import RecoveryJournal
from goodsad_studio.annotation.storage import open_record, save_record
from goodsad_studio.dataset.imageio import read_mask
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.errors import ReadOnlyError
from goodsad_studio.paths import user_data_dir


def _record(index, stem="000"):
    return index.get(f"{index.categories[0]}/test/scratch/{stem}")


def test_unsaved_edits_are_autosaved_beside_the_dataset_and_recovered_on_open(dataset):
    root, index = dataset
    record = _record(index)
    on_disk = read_mask(record.mask_path)
    journal = RecoveryJournal.for_dataset(root)
    assert journal.folder == root.resolve() / ".goodsad-studio" / "recovery"
    doc = open_record(index, record, journal=journal)
    doc.paint([(20, 15), (28, 18)], 2)
    doc.add_polygon([(1, 14), (6, 14), (6, 22), (1, 22)])
    assert journal.autosave(doc, record.key)
    assert not journal.autosave(doc, record.key)  # nothing new since
    assert sorted(p.suffix for p in journal.folder.iterdir()) == [".json", ".npz"]
    edited = doc.mask.copy()
    del doc  # the session ends without saving

    again = RecoveryJournal.for_dataset(root)
    reopened = open_record(scan_dataset(root), record, journal=again)
    assert np.array_equal(reopened.mask, edited)
    assert reopened.modified and any("recovered unsaved edits" in note for note in reopened.notes)
    assert read_mask(record.mask_path).sum() == on_disk.sum()  # the file itself is untouched
    assert reopened.undo() == "Recover unsaved edits"
    assert np.array_equal(reopened.mask, on_disk) and not reopened.modified
    reopened.redo()
    save_record(reopened, index, record, journal=again)
    assert np.array_equal(read_mask(record.mask_path), edited)
    assert again.find(record.mask_path) is None and not list(again.folder.iterdir())


def test_undoing_back_to_the_file_drops_the_entry_and_keeps_the_history(dataset):
    root, index = dataset
    journal = RecoveryJournal.for_dataset(root)
    record = _record(index)
    doc = open_record(index, record, journal=journal)
    doc.paint([(3, 3)], 1)
    journal.autosave(doc, record.key)
    assert journal.find(doc.path) is not None
    doc.undo()
    journal.autosave(doc, record.key)
    assert journal.find(doc.path) is None
    assert doc.history.redo_count == 1  # autosave never touched the undo history


def test_read_only_dataset_journals_in_the_user_data_folder(dataset, make_read_only):
    root, index = dataset
    record = _record(index)
    make_read_only(root)
    journal = RecoveryJournal.for_dataset(root)
    assert journal.folder.is_relative_to(user_data_dir() / "recovery")
    assert any("read-only" in note for note in journal.notes)
    doc = open_record(index, record, journal=journal)
    doc.paint([(10, 10)], 4)
    with pytest.raises(ReadOnlyError):
        save_record(doc, index, record, journal=journal)
    assert journal.autosave(doc, record.key)
    recovered = open_record(index, record, journal=RecoveryJournal.for_dataset(root))
    assert np.array_equal(recovered.mask, doc.mask)


def test_damaged_or_pickled_entries_are_ignored_with_a_note(dataset):
    root, index = dataset
    record = _record(index)
    journal = RecoveryJournal.for_dataset(root)
    doc = open_record(index, record, journal=journal)
    doc.paint([(3, 3)], 1)
    json_path = journal.write(doc, record.key)
    meta = json.loads(json_path.read_text())
    npz_path = journal.folder / meta["npz"]
    # an entry whose arrays need pickle to load must never be unpickled
    buffer = io.BytesIO()
    np.savez(buffer, bits=np.array([{"evil": 1}], dtype=object), shape=np.array([24, 32]))
    npz_path.write_bytes(buffer.getvalue())
    fresh = RecoveryJournal(journal.folder)
    assert fresh.find(record.mask_path) is None
    assert any("unreadable" in note and "pickle" in note.lower() for note in fresh.notes)
    json_path.write_text("{not json")
    assert fresh.find(record.mask_path) is None
    reopened = open_record(index, record, journal=fresh)
    assert not reopened.modified and np.array_equal(reopened.mask, read_mask(record.mask_path))


def test_entry_of_another_size_is_not_applied(dataset):
    root, index = dataset
    record = _record(index)
    journal = RecoveryJournal.for_dataset(root)
    from goodsad_studio.annotation.document import MaskDocument

    stray = MaskDocument.blank((5, 5), record.mask_path)
    stray.paint([(2, 2)], 1)
    journal.write(stray, record.key)
    doc = open_record(index, record, journal=journal)
    assert not doc.modified and any("not applied" in note for note in doc.notes)


def test_the_index_skips_the_journal_folder(dataset):
    root, index = dataset
    journal = RecoveryJournal.for_dataset(root)
    record = _record(index)
    doc = open_record(index, record, journal=journal)
    doc.paint([(3, 3)], 1)
    journal.autosave(doc, record.key)
    assert len(scan_dataset(root)) == len(index)
