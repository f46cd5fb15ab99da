"""Where the studio keeps its own files on the user's machine (XDG base directories)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

STATE_DIR_NAME = ".goodsad-studio"
"""The folder inside a dataset root where the studio keeps models, results caches and recovery journals."""


def user_data_dir() -> Path:
    """``$XDG_DATA_HOME/goodsad-studio`` (default ``~/.local/share/goodsad-studio``); overridable for tests with
    ``GOODSAD_STUDIO_DATA``."""
    override = os.environ.get("GOODSAD_STUDIO_DATA")
    if override:
        return Path(override)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "goodsad-studio"


def demo_dataset_dir() -> Path:
    """Where the studio generates its embedded demo dataset on first launch."""
    return user_data_dir() / "demo"


def dataset_state_dir(dataset_root: str | Path, *, writable: bool | None = None) -> Path:
    """Where the studio keeps its files for one dataset: ``<root>/.goodsad-studio`` when the dataset can be written,
    else a folder in the user's data dir named after the dataset's path (a read-only dataset still gets a cache).

    ``writable`` skips the write test when the caller already knows."""
    from goodsad_studio.fsutil import is_writable_dir

    root = Path(dataset_root).resolve()
    inside = root / STATE_DIR_NAME
    if writable is None:
        writable = is_writable_dir(inside) if inside.is_dir() else is_writable_dir(root)
    if writable:
        return inside
    digest = hashlib.sha1(str(root).encode("utf-8")).hexdigest()[:12]
    return user_data_dir() / "datasets" / f"{root.name}-{digest}"
