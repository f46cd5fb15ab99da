"""Where the studio keeps its own files on the user's machine (XDG base directories)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

STATE_DIR_NAME = ".goodsad-studio"
"""The folder inside a dataset root where the studio keeps models, results caches and recovery journals."""


def xdg_data_dir() -> Path:
    """``$XDG_DATA_HOME/goodsad-studio`` (default ``~/.local/share/goodsad-studio``): the data folder unless one is
    chosen."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "goodsad-studio"


def user_data_dir() -> Path:
    """The studio's data folder: ``GOODSAD_STUDIO_DATA`` when set (the studio's settings set it, tests too), else
    :func:`xdg_data_dir`."""
    override = os.environ.get("GOODSAD_STUDIO_DATA")
    if override:
        return Path(override)
    return xdg_data_dir()


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


def check_data_folder(folder: Path) -> Path:
    """``folder`` made absolute and created if missing, to be the data folder; :class:`StudioError` naming it when
    it cannot be written."""
    from goodsad_studio.errors import StudioError
    from goodsad_studio.fsutil import is_writable_dir

    folder = folder.expanduser()
    if not folder.is_absolute():
        raise StudioError("the data folder must be an absolute path", folder)
    if folder.exists() and not folder.is_dir():
        raise StudioError("the data folder is a file, not a folder", folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StudioError(f"the data folder cannot be created: {exc.strerror or exc}", folder) from None
    if not is_writable_dir(folder):
        raise StudioError("the data folder is not writable; choose another", folder)
    return folder
