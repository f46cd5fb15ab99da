"""Fixtures of the annotation tests: a tiny dataset, and making a folder read-only even when tests run as root."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from conftest import build_category

from goodsad_studio.dataset.index import scan_dataset


@pytest.fixture
def dataset(tmp_path):
    """A category with two defect images that have masks (24x32, MVTec ``_mask`` naming) and its index."""
    root = build_category(tmp_path / "bottle", names=("000", "001"), defects=("scratch",))
    return root, scan_dataset(root)


def _writes_despite_chmod(folder: Path) -> bool:
    try:
        fd, name = tempfile.mkstemp(dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


@pytest.fixture
def make_read_only(monkeypatch):
    """``make_read_only(folder)``: chmod the folder and its sub-folders to 0o555.

    Root ignores permission bits, so when a write still succeeds (tests run as root here) file creation under the
    folder is refused the way the OS would refuse it: ``tempfile.mkstemp`` (which every atomic save and the
    writability probe go through) raises ``PermissionError``.
    """
    changed: list[Path] = []

    def apply(folder: Path) -> None:
        folder = Path(folder).resolve()
        for path in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
            os.chmod(path, 0o555)
            changed.append(path)
        if _writes_despite_chmod(folder):
            real_mkstemp = tempfile.mkstemp

            def refusing_mkstemp(*args, **kwargs):
                directory = Path(kwargs.get("dir") or (args[2] if len(args) > 2 else tempfile.gettempdir()))
                if directory.resolve().is_relative_to(folder):
                    raise PermissionError(13, "Permission denied", str(directory))
                return real_mkstemp(*args, **kwargs)

            monkeypatch.setattr(tempfile, "mkstemp", refusing_mkstemp)

    yield apply
    for path in reversed(changed):
        os.chmod(path, 0o755)
