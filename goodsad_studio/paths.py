"""Where the studio keeps its own files on the user's machine (XDG base directories)."""

from __future__ import annotations

import os
from pathlib import Path


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
