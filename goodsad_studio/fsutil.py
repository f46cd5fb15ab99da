"""Atomic file writing: a crash mid-save leaves the old file or the new one, never a broken one."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from goodsad_studio.errors import DiskFullError, ReadOnlyError, WriteError


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_error(exc: OSError, path: Path) -> WriteError:
    """The project's error for an OS error while writing ``path``: disk full, read-only, no permission, a folder
    where a file should be, or whatever else the system said — always naming the path."""
    number = exc.errno
    if number in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError("cannot write: the disk is full (no space left on the device); nothing was changed", path)
    if number == errno.EROFS:
        return ReadOnlyError("cannot write: the file system is read-only", path)
    if number in (errno.EACCES, errno.EPERM) or isinstance(exc, PermissionError):
        return ReadOnlyError("cannot write: no permission (or the file is immutable)", path)
    if number == errno.EISDIR or isinstance(exc, IsADirectoryError):
        return WriteError("cannot write: this path is a folder, not a file", path)
    if number == errno.ENOTDIR:
        return WriteError("cannot write: a part of this path is a file, not a folder", path)
    if number == errno.ENAMETOOLONG:
        return WriteError("cannot write: the file name is too long", path)
    return WriteError(f"cannot write: {exc.strerror or exc}", path)


@contextlib.contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path``; on success flush, fsync and replace ``path`` with it.

    On any exception the temporary file is removed and ``path`` is left as it was. An OS error (disk full, no
    permission, read-only, a folder at ``path``) becomes the project's :class:`WriteError` (or its
    :class:`DiskFullError` / :class:`ReadOnlyError`) naming the path.
    """
    path = Path(path)
    directory = path.parent
    if path.is_dir():
        raise WriteError("cannot write: this path is a folder, not a file", path)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        error = write_error(exc, directory)
        if isinstance(error, ReadOnlyError):
            error = ReadOnlyError("cannot write here (read-only or no permission)", directory)
        raise error from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
        _fsync_dir(directory)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise write_error(exc, path) from exc
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_writer(path) as handle:
        handle.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def is_writable_dir(directory: str | Path) -> bool:
    """True when files can be created in ``directory`` (tries for real: ``os.access`` lies on read-only mounts)."""
    directory = Path(directory)
    try:
        fd, name = tempfile.mkstemp(prefix=".goodsad-write-test.", dir=directory)
    except OSError:
        return False
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return True
