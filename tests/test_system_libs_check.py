"""The check for Qt's system libraries (goodsad_studio.system_libs, run by the set-up's
packaging/check_system_libs.py and by the studio's start): Debian package names, verdicts, and the studio refusing
to start a window it cannot open with a message naming what to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from goodsad_studio import system_libs

SCRIPT = Path(__file__).resolve().parents[1] / "packaging" / "check_system_libs.py"


@pytest.fixture
def check():
    return system_libs


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


def test_the_set_up_script_runs_the_check():
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr  # the suite itself runs on the offscreen platform


@pytest.mark.parametrize(
    ("environ", "xcb"),
    [
        ({"DISPLAY": ":0"}, True),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, False),
        ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"}, False),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, False),
        ({"QT_QPA_PLATFORM": "xcb:nograb"}, True),
        ({}, False),
    ],
)
def test_the_window_goes_through_x11_when_qt_will_use_xcb(environ, xcb):
    assert system_libs.uses_xcb(environ) is xcb


def test_a_window_without_its_libraries_is_a_message_naming_them_and_the_apt_line(monkeypatch):
    found = {"libqoffscreen.so": [], "libQt6Gui.so.6": [], "libqxcb.so": ["libxcb-cursor.so.0", "libxcb-icccm.so.4"]}
    monkeypatch.setattr(system_libs, "missing_libraries", lambda path: found[path.name])
    problem = system_libs.window_problem({"DISPLAY": ":0"})
    assert problem is not None
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4, which are not installed" in problem
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4" in problem and "QT_QPA_PLATFORM=offscreen" in problem
    assert system_libs.window_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    found["libqxcb.so"] = []
    assert system_libs.window_problem({"DISPLAY": ":0"}) is None


def test_the_studio_says_what_to_install_instead_of_letting_qt_abort(monkeypatch, capsys):
    from goodsad_studio.gui import launch

    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")  # a display is chosen: the platform is left as it is
    monkeypatch.setattr(system_libs, "window_problem", lambda environ=None: "goodsad-studio: cannot open a window: X")
    assert launch.launch(None) == 1
    assert capsys.readouterr().err.strip() == "goodsad-studio: cannot open a window: X"


def test_a_plugin_that_is_not_there_or_no_ldd_says_nothing_is_missing(tmp_path, monkeypatch):
    assert system_libs.missing_libraries(tmp_path / "absent.so") == []
    present = tmp_path / "present.so"
    present.write_bytes(b"")
    monkeypatch.setenv("PATH", str(tmp_path))  # no ldd on it
    assert system_libs.missing_libraries(present) == []
