"""Fixtures of the hostile-input suite: a fresh tiny dataset per test, a disk that fills up on demand, decoder
spies; and the summary line that says how many cases the suite ran."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest
import torch
from dataset_io.conftest import build_dataset

from .helpers import TALLY, DecoderSpy

torch.set_num_threads(1)

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(session, config, items):
    TALLY["items"] = sum(1 for item in items if HERE in Path(item.path).resolve().parents)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if TALLY["items"]:
        generated = TALLY["generated"]
        terminalreporter.write_line(
            f"hostile-input suite: {TALLY['items'] + generated} cases ({generated} generated examples)"
        )


@pytest.fixture(autouse=True)
def _default_decode_limit(monkeypatch):
    """The decode limit at its default (150 megapixels) whatever the environment running the suite says."""
    from goodsad_studio.dataset.imageio import MAX_MEGAPIXELS_VARIABLE

    monkeypatch.delenv(MAX_MEGAPIXELS_VARIABLE, raising=False)


@pytest.fixture(scope="session")
def pristine_dataset(tmp_path_factory) -> Path:
    """The tiny two-category GoodsAD dataset (tests/dataset_io/conftest.py), built once; never changed."""
    root = tmp_path_factory.mktemp("hostile-pristine") / "goods"
    build_dataset(root)
    return root


@pytest.fixture
def dataset(tmp_path, pristine_dataset) -> Path:
    """A fresh copy of the tiny dataset, which the test may change: its root."""
    root = tmp_path / "goods"
    shutil.copytree(pristine_dataset, root)
    return root


class DiskFull:
    """Makes every write the studio finishes fail as a full disk does: ``os.fsync`` raises ENOSPC (seen through
    ``goodsad_studio.fsutil.os``) from :meth:`start` on."""

    def __init__(self, monkeypatch) -> None:
        self._monkeypatch = monkeypatch
        self.calls = 0

    def start(self) -> None:
        from goodsad_studio import fsutil

        def fsync(fd):
            self.calls += 1
            raise OSError(errno.ENOSPC, "No space left on device")

        self._monkeypatch.setattr(fsutil.os, "fsync", fsync)


@pytest.fixture
def disk_full(monkeypatch) -> DiskFull:
    """Call ``disk_full.start()`` once the test has set up what it needs: every write after fails with ENOSPC."""
    return DiskFull(monkeypatch)


@pytest.fixture
def no_decoding(monkeypatch) -> DecoderSpy:
    """cv2.imdecode / cv2.imread fail the test when called at all (``.decoded`` lists the calls)."""
    return DecoderSpy(monkeypatch)
