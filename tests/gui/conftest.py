"""Fixtures of the GUI tests: a window on a tiny dataset with isolated settings (see helpers.py for the mouse)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings

from goodsad_studio.gui.gui_thread_gc import restore_automatic_collection
from goodsad_studio.gui.main_window import MainWindow
from goodsad_studio.gui.settings import StudioSettings

from .helpers import UI_WAIT_MS, ScriptedPrompts, pattern, write_rgb


@pytest.fixture(scope="package", autouse=True)
def _automatic_collection_after_the_gui_tests():
    """The studio collects garbage on the GUI thread's timer only (gui_thread_gc); the tests after this package run
    without an event loop, so they get Python's automatic collection back."""
    yield
    restore_automatic_collection()


@pytest.fixture(scope="session", autouse=True)
def _method_catalog():
    """The method list and the default description, asked once from the engine in this process: every window's
    methods panel then fills at once instead of each test starting a worker process to ask (the panel's own path
    through the worker is tested in test_job_process_gui.py)."""
    from goodsad_studio.engine.client import EngineClient
    from goodsad_studio.engine.contract import MethodSpec
    from goodsad_studio.engine.transports.inline import InlineTransport
    from goodsad_studio.gui.methods_panel import forget, remember

    client = EngineClient(InlineTransport())
    described = client.describe(MethodSpec("patchcore")).description
    remember(client.methods(), {("patchcore", "auto", "auto", "auto"): described})
    yield
    forget()


@pytest.fixture
def settings(tmp_path) -> StudioSettings:
    return StudioSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def make_window(qtbot, settings):
    """``make_window(root=None, select=None, prompts=None)``: a shown, active window, loaded and idle."""

    def make(
        root: Path | None = None,
        select: str | None = None,
        prompts: ScriptedPrompts | None = None,
        size: tuple[int, int] | None = (1200, 800),
        **kwargs,
    ) -> MainWindow:
        window = MainWindow(settings, prompts or ScriptedPrompts(), **kwargs)
        qtbot.addWidget(window)
        if size is not None:
            window.resize(*size)
        window.show()
        qtbot.waitExposed(window, timeout=UI_WAIT_MS)
        window.activateWindow()
        if root is not None:
            assert window.open_dataset(root)
        if select is not None:
            assert window.select_image(select)
        assert window.wait_until_loaded(UI_WAIT_MS)
        return window

    return make


@pytest.fixture
def goods_root(tmp_path) -> Path:
    """A GoodsAD-named category of 40x30 PNGs: goods 001 (train 2, test good 1, scratch 1 with a mask, dent 1 with
    no mask) and goods 002 (train 1, scratch 1 with a mask)."""
    from goodsad_studio.dataset.imageio import write_mask

    root = tmp_path / "data"
    cat = root / "drink_can"
    files = {
        "train/good/001000": 1,
        "train/good/001001": 2,
        "test/good/001002": 3,
        "test/scratch/001003": 4,
        "test/dent/001004": 5,
        "train/good/002000": 6,
        "test/scratch/002001": 7,
    }
    for name, seed in files.items():
        (cat / name).parent.mkdir(parents=True, exist_ok=True)
        write_rgb(cat / f"{name}.png", pattern(30, 40, seed))
    for stem in ("001003", "002001"):
        mask = np.zeros((30, 40), bool)
        mask[4:10, 4:12] = True
        write_mask(cat / "ground_truth" / "scratch" / f"{stem}_mask.png", mask)
    (cat / "ground_truth" / "dent").mkdir(parents=True)
    return root
