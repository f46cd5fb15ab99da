"""The set-up's check for Qt's system libraries (packaging/check_system_libs.py): Debian package names and verdicts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "packaging" / "check_system_libs.py"


@pytest.fixture(scope="module")
def check():
    spec = importlib.util.spec_from_file_location("check_system_libs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libEGL.so.1", "libegl1"),
        ("libX11-xcb.so.1", "libx11-xcb1"),
        ("libdbus-1.so.3", "libdbus-1-3"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
        ("libfontconfig.so.1", "libfontconfig1"),
    ],
)
def test_debian_package_of_a_soname(check, soname, package):
    assert check.debian_package(soname) == package


def test_missing_window_libraries_warn_and_fail_only_when_a_window_is_wanted(check, monkeypatch, capsys):
    found = {"libqoffscreen.so": [], "libQt6Gui.so.6": [], "libqxcb.so": ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]}
    monkeypatch.setattr(check, "missing_libraries", lambda path: found[path.name])
    assert check.main([]) == 0
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in capsys.readouterr().err
    assert check.main(["--window"]) == 1


def test_a_missing_library_of_the_offscreen_platform_fails(check, monkeypatch, capsys):
    found = {"libqoffscreen.so": ["libEGL.so.1"], "libQt6Gui.so.6": ["libEGL.so.1"], "libqxcb.so": ["libEGL.so.1"]}
    monkeypatch.setattr(check, "missing_libraries", lambda path: found[path.name])
    assert check.main([]) == 1
    err = capsys.readouterr().err
    assert "sudo apt-get install libegl1" in err and "xcb" not in err


def test_the_installed_qt_is_checked_with_ldd(check):
    import PySide6

    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqoffscreen.so"
    assert check.missing_libraries(plugin) == []  # the suite itself runs on this platform
