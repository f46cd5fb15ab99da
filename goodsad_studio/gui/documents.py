"""The mask documents open in a session: opening (with the recovery prompt), saving, autosave, save state.

A thin layer over ``annotation.storage`` and ``annotation.recovery``: documents with unsaved edits stay open (with
their undo history) while the user looks at other images; a few unmodified ones are kept too so that stepping back
keeps their history. Autosave journals every modified document; the state shown to the user is one of
``saved`` (the file holds what is shown), ``unsaved`` (edits since the last save or autosave) or ``autosaved``
(edits not saved, but safe in the recovery journal).

Only edits that can be saved are ever made or offered: the journal is keyed by the image's full dataset key, so an
autosave is offered back only for the image it was made on, and a good image (which has no mask to save; see
``gui.record_actions.mask_lock``) is never offered recovered edits.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from enum import Enum

from PySide6.QtCore import QObject, QTimer, Signal

from goodsad_studio.annotation.document import MaskDocument
from goodsad_studio.annotation.recovery import RecoveryEntry, RecoveryJournal
from goodsad_studio.annotation.storage import OnConflict, open_record, save_record
from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.dataset.names import GOOD

AUTOSAVE_MS = 3000
KEEP_UNMODIFIED = 6


class SaveState(Enum):
    SAVED = "saved"
    UNSAVED = "unsaved"
    AUTOSAVED = "autosaved"


# Asked when a document has recovered edits: True recovers, False discards them, None leaves them for later.
RecoveryQuestion = Callable[[ImageRecord, RecoveryEntry], "bool | None"]


class DocumentStore(QObject):
    """Open mask documents of one dataset, keyed by record key (see the module docstring)."""

    state_changed = Signal(str)  # record key

    def __init__(
        self,
        index: DatasetIndex,
        journal: RecoveryJournal,
        ask_recovery: RecoveryQuestion,
        parent: QObject | None = None,
        *,
        autosave_ms: int = AUTOSAVE_MS,
    ) -> None:
        super().__init__(parent)
        self.index = index
        self.journal = journal
        self.ask_recovery = ask_recovery
        self._documents: OrderedDict[str, MaskDocument] = OrderedDict()
        self._autosaved: dict[str, int] = {}
        self.autosaved_at: dict[str, str] = {}
        self.saved_keys: set[str] = set()
        #: what settling the older journal version's entries did (re-keyed or dropped), for a message once
        self.legacy_notes = journal.settle_legacy(
            lambda: {index.mask_path_for(r).resolve(): r.key for r in index.records if r.defect != GOOD}
        )
        self._recoverable = journal.keys()
        self._timer = QTimer(self)
        self._timer.setInterval(autosave_ms)
        self._timer.timeout.connect(self.autosave)
        if autosave_ms > 0:
            self._timer.start()

    # ------------------------------------------------------------------------------------ opening
    def get(self, key: str) -> MaskDocument | None:
        return self._documents.get(key)

    def open(self, record: ImageRecord, prefetched: MaskDocument | None = None) -> MaskDocument:
        """The document of ``record``: already open, prefetched, or read now; recovered edits are offered."""
        document = self._documents.get(record.key)
        if document is None:
            document = prefetched if prefetched is not None else open_record(self.index, record)
            self._offer_recovery(record, document)
        self._documents[record.key] = document
        self._documents.move_to_end(record.key)
        self._evict(keep=record.key)
        return document

    def _offer_recovery(self, record: ImageRecord, document: MaskDocument) -> None:
        """Ask about the journal's edits of exactly this image (by its key); a good image has none to offer."""
        self._recoverable.discard(record.key)
        if document.path is None or record.defect == GOOD:
            return
        entry = self.journal.find_image(record.key)
        if entry is None:
            return
        answer = self.ask_recovery(record, entry)
        if answer is True:
            entry.apply_to(document)
        elif answer is False:
            self.journal.discard_image(record.key)

    def _evict(self, keep: str) -> None:
        unmodified = [key for key, doc in self._documents.items() if key != keep and not doc.modified]
        for key in unmodified[: max(0, len(unmodified) - KEEP_UNMODIFIED)]:
            del self._documents[key]

    def has_recoverable(self, record: ImageRecord) -> bool:
        """True when the journal holds edits of this record that were not offered yet."""
        return record.key in self._recoverable

    # ------------------------------------------------------------------------------------ state
    def state(self, key: str) -> SaveState:
        document = self._documents.get(key)
        if document is None or not document.modified:
            return SaveState.SAVED
        if self._autosaved.get(key) == document.change_count:
            return SaveState.AUTOSAVED
        return SaveState.UNSAVED

    def is_modified(self, key: str) -> bool:
        document = self._documents.get(key)
        return document is not None and document.modified

    def is_edited(self, key: str) -> bool:
        """Modified now, or saved during this session."""
        return key in self.saved_keys or self.is_modified(key)

    def modified_keys(self) -> list[str]:
        return [key for key, doc in self._documents.items() if doc.modified]

    def touched(self, key: str) -> None:
        """The document of ``key`` was edited (or undone): tell the views."""
        self.state_changed.emit(key)

    # ------------------------------------------------------------------------------------ saving
    def save(self, key: str, on_conflict: OnConflict = "refuse") -> ImageRecord:
        """Save one document (atomic; raises the core's errors naming the file); returns the updated record.

        A mask file that changed on disk since the document read it raises ``MaskChangedError`` unless
        ``on_conflict`` says otherwise (``"keep_both"``: the other version goes to the trash and a note naming the
        copy to ``document.notes``; ``"overwrite"``); see ``annotation.storage.save_mask``."""
        record = self.index.get(key)
        document = self._documents.get(key)
        if record is None or document is None:
            raise KeyError(key)
        record = save_record(document, self.index, record, on_conflict=on_conflict)
        self.journal.discard_image(key)
        self._autosaved.pop(key, None)
        self.saved_keys.add(key)
        self.state_changed.emit(key)
        return record

    def autosave(self) -> list[str]:
        """Journal every document changed since its last autosave; returns their keys."""
        written = []
        for key, document in list(self._documents.items()):
            before = self.state(key)
            if self.journal.autosave(document, key):
                self._autosaved[key] = document.change_count
                self.autosaved_at[key] = time.strftime("%H:%M:%S")
                written.append(key)
            if self.state(key) != before or key in written:
                self.state_changed.emit(key)
        return written

    def discard(self, key: str) -> None:
        """Forget a document and its journal entry (the user chose not to keep its edits)."""
        self._documents.pop(key, None)
        self._autosaved.pop(key, None)
        self.journal.discard_image(key)
        self.state_changed.emit(key)

    def rekey(self, old: str, new: ImageRecord) -> None:
        """The image moved (marked good/defective): its document follows it to the new key and mask path."""
        document = self._documents.pop(old, None)
        self._autosaved.pop(old, None)
        if old in self.saved_keys:
            self.saved_keys.discard(old)
            self.saved_keys.add(new.key)
        if document is None:
            return
        self.journal.discard_image(old)  # the next autosave journals the edits under the new key
        document.path = self.index.mask_path_for(new)
        self._documents[new.key] = document

    def stop(self) -> None:
        self._timer.stop()
