"""Start the studio: pick a Qt platform, open a dataset (the last one used, else the demo set), optionally render
the window to a PNG and exit (``--screenshot``: for docs, tests and install checks)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path


def has_display() -> bool:
    """True when a windowing system is reachable (X11 or Wayland), or the user chose a Qt platform."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))


def choose_platform(screenshot: bool) -> None:
    """Fall back to Qt's offscreen platform, saying so, when there is no display (instead of Qt aborting)."""
    if has_display():
        return
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if not screenshot:
        print("goodsad-studio: no display found (DISPLAY and WAYLAND_DISPLAY are unset): running on Qt's offscreen "
              "platform, so no window is visible. Press Ctrl+C to quit, or use --screenshot FILE.png to render the "
              "window to a picture.", file=sys.stderr)


def ensure_demo_dataset() -> Path:
    """The embedded demo dataset, generated on first launch into the user's data folder."""
    from goodsad_studio.dataset.demo import DEMO_VERSION, generate_demo
    from goodsad_studio.paths import demo_dataset_dir

    dest = demo_dataset_dir() / f"v{DEMO_VERSION}"  # a new drawing version gets a fresh folder
    if not (dest / "DEMO.json").exists():
        print(f"goodsad-studio: generating the demo dataset in {dest} (first launch)...", file=sys.stderr)
    return generate_demo(dest)


def default_root(recent: list[Path]) -> Path:
    """The dataset to open when none is given: the most recent one that still exists, else the demo set."""
    for root in recent:
        if root.is_dir():
            return root
    return ensure_demo_dataset()


def launch(root: Path | None, *, select: str | None = None, screenshot: Path | None = None) -> int:
    choose_platform(screenshot is not None)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from goodsad_studio.gui.main_window import MainWindow
    from goodsad_studio.gui.settings import StudioSettings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("goodsad-studio")
    app.setOrganizationName("goodsad-studio")
    settings = StudioSettings()
    if root is None:
        root = default_root(settings.recent_datasets())
    window = MainWindow(settings, interactive=screenshot is None)
    if screenshot is not None or settings.window_layout()[0] is None:
        window.resize(1500, 940)
    if not window.open_dataset(root, select=select or None) and screenshot is not None:
        return 2
    window.show()
    if screenshot is not None:
        code = window.save_screenshot(screenshot)
        window.close()
        return code
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl+C quits even while Qt's loop runs
    QTimer.singleShot(0, window.raise_)
    return app.exec()
