"""Autosave of unsaved edits to a recovery journal, and their recovery when the image is opened again.

The journal lives next to the dataset in ``<root>/.goodsad-studio/recovery/`` (hidden, so the index skips it), or
in the user's data folder (``$XDG_DATA_HOME/goodsad-studio/recovery/<hash of the root>/``) when the dataset
cannot be written. One entry per image, keyed by the image's full dataset key (``category/split/defect/stem``,
:attr:`ImageRecord.key`): ``<hash of the key>.<n>.npz`` (the mask, bit-packed; no pickle, loaded with
``allow_pickle=False``) and ``<hash of the key>.json`` naming it (the key, the mask path, size, time, and the
signature of the mask file on disk when editing began). An edit is offered back only for the image whose key it
carries, never for another image whose file or mask has the same name. The JSON is written last and atomically, so
a crash mid-autosave leaves the previous entry whole. Autosave never touches the undo history.

Version 1 of the journal keyed entries by the mask path alone, and train/good/000.png and test/good/000.png share
the mask path ground_truth/good/000_mask.png, so such an entry could be offered for the wrong image.
:meth:`RecoveryJournal.settle_legacy` re-keys a version-1 entry only when its mask path names exactly one image
that can have a mask, and drops the entries of good images (they can never be saved), with a note either way.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from goodsad_studio import strict_json
from goodsad_studio.annotation.document import MaskDocument
from goodsad_studio.fsutil import atomic_write_bytes, atomic_write_text, is_writable_dir
from goodsad_studio.paths import user_data_dir

FORMAT = "goodsad-studio-recovery"
VERSION = 2
LEGACY_VERSION = 1  # keyed by the mask path only (see the module docstring)
GOOD_FOLDER = "good"  # the ground-truth folder name a good image's mask path would have
_UNREADABLE = (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError)


@dataclass(frozen=True, slots=True)
class RecoveryEntry:
    """Unsaved edits of one image found in the journal. ``key`` is the image's dataset key; None for an entry
    written by version 1 (which knew only the mask path)."""

    key: str | None
    mask_path: Path
    mask: np.ndarray
    saved_at: str
    base_signature: tuple[int, int] | None
    json_path: Path

    def apply_to(self, document: MaskDocument) -> bool:
        """Put these edits into ``document`` as one undoable step "Recover unsaved edits", with a note; an entry
        of another size is not applied (noted). Returns True when applied."""
        if self.mask.shape != document.shape:
            document.notes.append(
                f"{self.json_path}: recovered edits are {self.mask.shape[1]}x{self.mask.shape[0]} "
                f"but the image is {document.shape[1]}x{document.shape[0]}; not applied"
            )
            return False
        document.replace_mask(self.mask, "Recover unsaved edits")
        note = f"{document.path}: recovered unsaved edits autosaved at {self.saved_at}"
        if self.base_signature is not None and tuple(self.base_signature) != document.disk_signature:
            note += " (the file changed on disk since; saving will replace it with the recovered mask)"
        document.notes.append(note)
        return True


def file_signature(path: Path) -> tuple[int, int] | None:
    """(size, mtime in ns) of a file, or None when it does not exist: tells whether it changed since."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _same_path(a: str | Path, b: str | Path) -> bool:
    return Path(a).resolve() == Path(b).resolve()


class RecoveryJournal:
    """The recovery journal of one dataset (see the module docstring)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.notes: list[str] = []
        self._written: dict[str, int] = {}  # key -> the document's change count last journalled

    @classmethod
    def for_dataset(cls, root: str | Path) -> RecoveryJournal:
        """Next to the dataset when it is writable, else in the user's data folder."""
        root = Path(root).resolve()
        beside = root / ".goodsad-studio" / "recovery"
        with contextlib.suppress(OSError):
            beside.mkdir(parents=True, exist_ok=True)
        if beside.is_dir() and is_writable_dir(beside):
            return cls(beside)
        digest = hashlib.sha1(str(root).encode()).hexdigest()[:16]
        journal = cls(user_data_dir() / "recovery" / digest)
        journal.notes.append(f"{root}: the dataset is read-only; unsaved edits are autosaved to {journal.folder}")
        return journal

    def _stem(self, key: str) -> str:
        return hashlib.sha1(f"image:{key}".encode()).hexdigest()[:20]

    # ------------------------------------------------------------------------------------ writing
    def write(self, document: MaskDocument, key: str, saved_at: str | None = None) -> Path:
        """Store the document's mask as the entry of image ``key`` (its full dataset key); returns the JSON path."""
        if document.path is None:
            raise ValueError("a document without a mask path cannot be journalled")
        return self._write(key, Path(document.path), document.mask, document.disk_signature, saved_at)

    def _write(
        self,
        key: str,
        mask_path: Path,
        mask: np.ndarray,
        base_signature: tuple[int, int] | None,
        saved_at: str | None = None,
    ) -> Path:
        stem = self._stem(key)
        npz_name = f"{stem}.{time.time_ns()}.npz"
        buffer = io.BytesIO()
        np.savez_compressed(buffer, bits=np.packbits(mask, axis=None), shape=np.asarray(mask.shape, np.int64))
        atomic_write_bytes(self.folder / npz_name, buffer.getvalue())
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "key": key,
            "mask_path": str(mask_path.resolve()),
            "npz": npz_name,
            "shape": list(mask.shape),
            "saved_at": saved_at or time.strftime("%Y-%m-%d %H:%M:%S"),
            "base_signature": list(base_signature) if base_signature else None,
        }
        json_path = self.folder / f"{stem}.json"
        atomic_write_text(json_path, json.dumps(meta, indent=1))
        for old in self.folder.glob(f"{stem}.*.npz"):
            if old.name != npz_name:
                with contextlib.suppress(OSError):
                    old.unlink()
        return json_path

    def autosave(self, document: MaskDocument, key: str) -> bool:
        """Journal the document of image ``key`` when it changed since the last autosave; drop its entry when it is
        no longer modified (saved, or undone back to the file). Returns True when something was written."""
        if document.path is None:
            return False
        if not document.modified:
            if key in self._written:
                self.discard_image(key)
            return False
        if self._written.get(key) == document.change_count:
            return False
        self.write(document, key)
        self._written[key] = document.change_count
        return True

    def discard_image(self, key: str) -> None:
        """Remove the entry of image ``key`` (after a save, or when the user declines recovery)."""
        self._written.pop(key, None)
        stem = self._stem(key)
        self._remove(self.folder / f"{stem}.json", stem)

    def discard(self, mask_path: str | Path) -> None:
        """Remove every entry recorded for the mask file ``mask_path`` (what the core's ``save_record`` does after
        it saved that file); the studio itself discards by image key (:meth:`discard_image`)."""
        for json_path, meta in self._metas():
            if _same_path(meta["mask_path"], mask_path):
                if meta.get("key") is not None:
                    self._written.pop(str(meta["key"]), None)
                self._remove(json_path, json_path.stem)

    def _remove(self, json_path: Path, stem: str) -> None:
        for path in [json_path, *self.folder.glob(f"{stem}.*.npz")]:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    # ------------------------------------------------------------------------------------ reading
    def find_image(self, key: str) -> RecoveryEntry | None:
        """The entry of image ``key``, or None. An entry is returned only when the key it records is exactly
        ``key``; a damaged entry is skipped with a note, never loaded blindly."""
        json_path = self.folder / f"{self._stem(key)}.json"
        if not json_path.is_file():
            return None
        try:
            meta = self._meta(json_path)
            if meta.get("key") != key:
                raise ValueError(f"it records the image {meta.get('key')!r}, not {key!r}")
            return self._load(json_path, meta)
        except _UNREADABLE as exc:
            self.notes.append(f"{json_path}: recovery entry unreadable, ignored ({exc})")
            return None

    def find(self, mask_path: str | Path) -> RecoveryEntry | None:
        """The entry recorded for the mask file ``mask_path``, for the core's ``open_record`` which knows only the
        mask: returned only when exactly one entry records that mask and it is not a good image's (train/good and
        test/good share one ground-truth folder). The studio finds entries by image key (:meth:`find_image`)."""
        found = [(path, meta) for path, meta in self._metas() if _same_path(meta["mask_path"], mask_path)]
        if len(found) > 1:
            self.notes.append(f"{mask_path}: {len(found)} recovery entries name this mask; none is applied")
            return None
        if not found or Path(mask_path).parent.name == GOOD_FOLDER:
            return None
        try:
            return self._load(*found[0])
        except _UNREADABLE as exc:
            self.notes.append(f"{found[0][0]}: recovery entry unreadable, ignored ({exc})")
            return None

    def entries(self) -> list[RecoveryEntry]:
        """Every readable entry (of either version); damaged ones are noted."""
        found = []
        for json_path, meta in self._metas():
            try:
                found.append(self._load(json_path, meta))
            except _UNREADABLE as exc:
                self.notes.append(f"{json_path}: recovery entry unreadable, ignored ({exc})")
        return found

    def keys(self) -> set[str]:
        """The image keys the journal holds edits of (version-2 entries; the masks are not read)."""
        return {str(meta["key"]) for _path, meta in self._metas() if meta.get("key") is not None}

    def _metas(self) -> list[tuple[Path, dict[str, Any]]]:
        """The JSON of every entry that parses as one (others are noted)."""
        found = []
        for json_path in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            try:
                found.append((json_path, self._meta(json_path)))
            except _UNREADABLE as exc:
                self.notes.append(f"{json_path}: recovery entry unreadable, ignored ({exc})")
        return found

    def _meta(self, json_path: Path) -> dict[str, Any]:
        meta = strict_json.loads(json_path.read_text(encoding="utf-8"), finite=False)
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError("not a goodsad-studio recovery entry")
        if meta.get("version") == VERSION:
            if not isinstance(meta.get("key"), str) or not meta["key"]:
                raise ValueError("the entry names no image key")
        elif meta.get("version") == LEGACY_VERSION:
            meta["key"] = None
        else:
            raise ValueError(f"recovery entry version {meta.get('version')!r} is not one this studio reads")
        if not isinstance(meta.get("mask_path"), str):
            raise ValueError("the entry names no mask file")
        return meta

    def _load(self, json_path: Path, meta: dict[str, Any]) -> RecoveryEntry:
        npz_name = str(meta["npz"])
        if "/" in npz_name or "\\" in npz_name:
            raise ValueError("the entry names a file outside the journal")
        with np.load(self.folder / npz_name, allow_pickle=False) as data:
            bits, shape = data["bits"], tuple(int(v) for v in data["shape"])
        if len(shape) != 2 or list(shape) != list(meta["shape"]) or bits.size * 8 < shape[0] * shape[1]:
            raise ValueError("the stored mask does not match its recorded size")
        mask = np.unpackbits(bits, count=shape[0] * shape[1]).reshape(shape).astype(bool)
        signature = meta.get("base_signature")
        return RecoveryEntry(
            meta["key"],
            Path(meta["mask_path"]),
            mask,
            str(meta.get("saved_at", "?")),
            (int(signature[0]), int(signature[1])) if signature else None,
            json_path,
        )

    # ------------------------------------------------------------------------------------ version 1
    def settle_legacy(self, owners: Callable[[], Mapping[Path, str]]) -> list[str]:
        """Re-key or drop the entries written by version 1 (keyed by mask path; see the module docstring).

        ``owners()`` maps the resolved mask path of every image that can have a mask (a defective test image) to
        its key (called only when there is such an entry). An entry whose mask is one of them is rewritten under
        that key (a defect folder's mask names exactly one image); an entry of a good image is removed (it can
        never be saved, and it cannot tell train/good from test/good); any other entry is left on disk and not
        offered. Each case adds a note naming the entry; the notes of the entries re-keyed or dropped are returned
        too (for a message: it happens once per entry)."""
        changed: list[str] = []
        legacy = [(json_path, meta) for json_path, meta in self._metas() if meta["key"] is None]
        by_mask = owners() if legacy else {}
        for json_path, meta in legacy:
            mask_path = Path(meta["mask_path"])
            owner = by_mask.get(mask_path.resolve())
            if owner is not None:
                try:
                    entry = self._load(json_path, meta)
                except _UNREADABLE as exc:
                    self.notes.append(f"{json_path}: recovery entry unreadable, ignored ({exc})")
                    continue
                self._write(owner, mask_path, entry.mask, entry.base_signature, entry.saved_at)
                self._remove(json_path, json_path.stem)
                changed.append(f"{json_path}: unsaved edits from an older version matched to {owner} by its mask")
            elif mask_path.parent.name == GOOD_FOLDER:
                self._remove(json_path, json_path.stem)
                changed.append(
                    f"{json_path}: dropped unsaved edits of a good image from an older version ({mask_path.name}: a "
                    "good image has no mask to save, and the entry cannot tell train/good from test/good)"
                )
            else:
                self.notes.append(
                    f"{json_path}: unsaved edits from an older version name {mask_path}, which is no image of this "
                    "dataset now; left in the journal, not offered"
                )
        self.notes += changed
        return changed
