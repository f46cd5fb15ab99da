"""Start the studio: pick a Qt platform, give the application its name, desktop id and icon, open a dataset (the last
one used, else the demo set), optionally render the window to a PNG and exit (``--screenshot``: for docs, tests and
install checks). A window that Qt's xcb plugin cannot open for a missing system library is refused up front with
the ``apt-get install`` line that adds it (:mod:`goodsad_studio.system_libs`). While it runs, an error nobody
caught in a Qt slot reaches the user as one line naming a crash log (:mod:`goodsad_studio.gui.crash_report`), never
as a traceback.

The icon comes from ``resources/icons`` of a source or editable checkout, or of a frozen build (PyInstaller's
``sys._MEIPASS``), else from the desktop's icon theme where ``packaging/linux/install.sh`` put it; with none of
these the studio runs without an icon rather than failing.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # Qt is imported only once a platform is chosen (choose_platform)
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

APP_ID = "io.github.goodsad_studio.GoodsadStudio"
"""The reverse-DNS id shared by the desktop entry, the AppStream metainfo, the icon files and Qt's desktop file name
(so a Wayland compositor matches the window to its launcher and icon)."""
ICON_SIZES = (16, 32, 48, 64, 128, 256)
"""The sizes of the application icon's PNG renders in ``resources/icons/hicolor`` (packaging/render_icons.py)."""


def resources_dir() -> Path | None:
    """The ``resources`` folder of a frozen build or of a source/editable checkout; None when neither has one (a
    wheel installed into site-packages does not carry it)."""
    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "resources")
    candidates.append(Path(__file__).resolve().parents[2] / "resources")
    for candidate in candidates:
        if (candidate / "icons").is_dir():
            return candidate
    return None


def icon_files() -> list[Path]:
    """The application icon's PNG renders that exist, smallest first; empty when the resources are absent."""
    root = resources_dir()
    if root is None:
        return []
    files = [root / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png" for size in ICON_SIZES]
    return [path for path in files if path.is_file()]


def application_icon() -> QIcon:
    """A QIcon holding every render (Qt picks the size per place: title bar, task bar, Alt+Tab), else the theme's
    icon of that name, else a null icon."""
    from PySide6.QtGui import QIcon

    icon = QIcon()
    for path in icon_files():
        icon.addFile(str(path))
    return icon if not icon.isNull() else QIcon.fromTheme(APP_ID)


def configure_application(app: QApplication) -> None:
    """Name, organisation (the settings file's place), desktop file name and window icon of the QApplication."""
    app.setApplicationName("goodsad-studio")
    app.setOrganizationName("goodsad-studio")
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(application_icon())


def has_display() -> bool:
    """True when a windowing system is reachable (X11 or Wayland), or the user chose a Qt platform."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))


def choose_platform(screenshot: bool) -> None:
    """Fall back to Qt's offscreen platform, saying so, when there is no display (instead of Qt aborting)."""
    if has_display():
        return
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if not screenshot:
        print(
            "goodsad-studio: no display found (DISPLAY and WAYLAND_DISPLAY are unset): running on Qt's offscreen "
            "platform, so no window is visible. Press Ctrl+C to quit, or use --screenshot FILE.png to render the "
            "window to a picture.",
            file=sys.stderr,
        )


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


def launch(root: Path | None, *, select: str | None = None, screenshot: Path | None = None, demo: bool = False) -> int:
    """Open the studio on ``root`` (None: the last dataset, else the demo set; ``demo``: the demo set)."""
    choose_platform(screenshot is not None)
    from goodsad_studio import system_libs

    problem = system_libs.window_problem()  # what to install, where Qt would abort blaming the wrong library
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from goodsad_studio.gui.crash_report import CrashReporter
    from goodsad_studio.gui.main_window import MainWindow
    from goodsad_studio.gui.settings import StudioSettings
    from goodsad_studio.gui.settings_dialog import apply_data_folder

    # an existing instance is a QApplication: the studio (or the tests' qapp) only ever makes that kind
    app = cast("QApplication | None", QApplication.instance()) or QApplication(sys.argv[:1])
    configure_application(app)
    settings = StudioSettings()
    apply_data_folder(settings)  # the demo set and every later file go to the chosen data folder
    if demo:
        root = ensure_demo_dataset()
    elif root is None:
        root = default_root(settings.recent_datasets())
    window = MainWindow(settings, interactive=screenshot is None)
    # for the studio's lifetime an error nobody caught in a slot is one line (and a crash log), not a traceback
    reporter = CrashReporter(window).install()
    try:
        window.remember_recent = screenshot is None
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
    finally:
        reporter.uninstall()
