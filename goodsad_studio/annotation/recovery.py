"""Autosave of unsaved edits to a recovery journal, and their recovery when the mask is opened again.

The journal lives next to the dataset in ``<root>/.goodsad-studio/recovery/`` (hidden, so the index skips it), or
in the user's data folder (``$XDG_DATA_HOME/goodsad-studio/recovery/<hash of the root>/``) when the dataset
cannot be written. One entry per mask file: ``<key>.<n>.npz`` (the mask, bit-packed; no pickle, loaded with
``allow_pickle=False``) and ``<key>.json`` naming it (the mask path, size, time, and the signature of the file on
disk when editing began). The JSON is written last and atomically, so a crash mid-autosave leaves the previous
entry whole. Autosave never touches the undo history.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from goodsad_studio import strict_json
from goodsad_studio.annotation.document import MaskDocument
from goodsad_studio.fsutil import atomic_write_bytes, atomic_write_text, is_writable_dir
from goodsad_studio.paths import user_data_dir

FORMAT = "goodsad-studio-recovery"
VERSION = 1


@dataclass(frozen=True, slots=True)
class RecoveryEntry:
    """Unsaved edits of one mask found in the journal."""

    mask_path: Path
    mask: np.ndarray
    saved_at: str
    base_signature: tuple[int, int] | None
    json_path: Path


def file_signature(path: Path) -> tuple[int, int] | None:
    """(size, mtime in ns) of a file, or None when it does not exist: tells whether it changed since."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


class RecoveryJournal:
    """The recovery journal of one dataset (see the module docstring)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.notes: list[str] = []
        self._written: dict[Path, int] = {}

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

    def _key(self, mask_path: Path) -> str:
        return hashlib.sha1(str(Path(mask_path).resolve()).encode()).hexdigest()[:20]

    def _json_path(self, mask_path: Path) -> Path:
        return self.folder / f"{self._key(mask_path)}.json"

    # ------------------------------------------------------------------------------------ writing
    def write(self, document: MaskDocument) -> Path:
        """Store the document's mask as the entry of its mask file; returns the JSON path."""
        if document.path is None:
            raise ValueError("a document without a mask path cannot be journalled")
        key = self._key(document.path)
        serial = time.time_ns()
        npz_name = f"{key}.{serial}.npz"
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, bits=np.packbits(document.mask, axis=None), shape=np.asarray(document.shape, np.int64)
        )
        atomic_write_bytes(self.folder / npz_name, buffer.getvalue())
        meta = {
            "format": FORMAT,
            "version": VERSION,
            "mask_path": str(Path(document.path).resolve()),
            "npz": npz_name,
            "shape": list(document.shape),
            "saved_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "base_signature": list(document.disk_signature) if document.disk_signature else None,
        }
        json_path = self.folder / f"{key}.json"
        atomic_write_text(json_path, json.dumps(meta, indent=1))
        for old in self.folder.glob(f"{key}.*.npz"):
            if old.name != npz_name:
                with contextlib.suppress(OSError):
                    old.unlink()
        return json_path

    def autosave(self, document: MaskDocument) -> bool:
        """Journal the document when it changed since the last autosave; drop its entry when it is no longer
        modified (saved, or undone back to the file). Returns True when something was written."""
        if document.path is None:
            return False
        path = Path(document.path)
        if not document.modified:
            if path in self._written:
                self.discard(path)
            return False
        if self._written.get(path) == document.change_count:
            return False
        self.write(document)
        self._written[path] = document.change_count
        return True

    def discard(self, mask_path: str | Path) -> None:
        """Remove the entry of a mask (after a save, or when the user declines recovery)."""
        key = self._key(Path(mask_path))
        self._written.pop(Path(mask_path), None)
        for path in [self.folder / f"{key}.json", *self.folder.glob(f"{key}.*.npz")]:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    # ------------------------------------------------------------------------------------ reading
    def find(self, mask_path: str | Path) -> RecoveryEntry | None:
        """The entry of ``mask_path``, or None. A damaged entry is skipped with a note, never loaded blindly."""
        json_path = self._json_path(Path(mask_path))
        if not json_path.is_file():
            return None
        try:
            return self._load(json_path)
        except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
            self.notes.append(f"{json_path}: recovery entry unreadable, ignored ({exc})")
            return None

    def entries(self) -> list[RecoveryEntry]:
        found = []
        for json_path in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            try:
                found.append(self._load(json_path))
            except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
                self.notes.append(f"{json_path}: recovery entry unreadable, ignored ({exc})")
        return found

    def _load(self, json_path: Path) -> RecoveryEntry:
        meta = strict_json.loads(json_path.read_text(encoding="utf-8"), finite=False)
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise ValueError("not a goodsad-studio recovery entry of a known version")
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
            Path(meta["mask_path"]),
            mask,
            str(meta.get("saved_at", "?")),
            tuple(signature) if signature else None,
            json_path,
        )
