"""Errors the core raises for bad input. Every message names the file and the problem."""

from __future__ import annotations

from pathlib import Path


class StudioError(Exception):
    """Base class of every error a user may see; ``path`` names the file concerned when there is one."""

    def __init__(self, message: str, path: str | Path | None = None):
        self.path = Path(path) if path is not None else None
        super().__init__(f"{path}: {message}" if path is not None else message)
        self.problem = message


class DatasetError(StudioError):
    """A dataset folder that is missing or not laid out as MVTec AD."""


class ImageReadError(StudioError):
    """An image that cannot be read: missing, truncated, corrupt or of an unknown kind."""


class MaskError(StudioError):
    """A mask that cannot be used: unreadable, wrong size, or not binary."""


class ReadOnlyError(StudioError):
    """A save to a place the user cannot write."""
