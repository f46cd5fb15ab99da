"""How much a dataset's results cache holds, and making it hold less: per result set (one folder per model key
under ``<state dir>/cache``, :mod:`goodsad_studio.engine.cache`), its size and when it was last written; removing
the least recently written sets down to a limit, or all of them. Used by the studio's settings (a cache limit, a
Clear cache button); Qt-free, so a script or the CLI can hold a cache to a size the same way."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from goodsad_studio.errors import StudioError


@dataclass(frozen=True)
class CacheSet:
    """One result set of a results cache: its folder, its size on disk, when a file of it was last written."""

    folder: Path
    size: int
    written: float


def folder_size(folder: Path) -> int:
    """Bytes of every file under ``folder`` (0 when it does not exist; unreadable entries are left out)."""
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(dirpath, name), follow_symlinks=False).st_size
            except OSError:
                continue
    return total


def cache_sets(cache_dir: Path) -> list[CacheSet]:
    """The result sets (one folder per model key) of a results cache, the most recently written first."""
    found = []
    try:
        folders = [entry for entry in Path(cache_dir).iterdir() if entry.is_dir()]
    except OSError:
        return []
    for folder in folders:
        size, written = 0, 0.0
        for dirpath, _dirs, files in os.walk(folder):
            for name in files:
                try:
                    stat = os.stat(os.path.join(dirpath, name), follow_symlinks=False)
                except OSError:
                    continue
                size, written = size + stat.st_size, max(written, stat.st_mtime)
        found.append(CacheSet(folder, size, written))
    return sorted(found, key=lambda item: -item.written)


def prune_cache(cache_dir: Path, limit_bytes: int) -> list[CacheSet]:
    """Remove whole result sets, the least recently written first, until ``cache_dir`` holds at most
    ``limit_bytes``; the newest set always stays. Returns what was removed (a set that cannot be removed is
    skipped). ``limit_bytes`` 0 means no limit."""
    sets = cache_sets(cache_dir)
    total = sum(item.size for item in sets)
    removed = []
    for item in reversed(sets[1:]):
        if limit_bytes <= 0 or total <= limit_bytes:
            break
        try:
            shutil.rmtree(item.folder)
        except OSError:
            continue
        total -= item.size
        removed.append(item)
    return removed


def clear_cache(cache_dir: Path) -> list[CacheSet]:
    """Remove every result set of ``cache_dir``: heatmaps and scores are computed again when asked for. Raises
    :class:`StudioError` naming the folder that could not be removed."""
    removed = []
    for item in cache_sets(cache_dir):
        try:
            shutil.rmtree(item.folder)
        except OSError as exc:
            raise StudioError(f"cannot remove this result set: {exc.strerror or exc}", item.folder) from None
        removed.append(item)
    return removed
