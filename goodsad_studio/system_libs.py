"""Which system libraries Qt's platform plugins cannot find, and the ``apt-get install`` line that adds them.

Qt's xcb platform plugin (a window on an X11 desktop) links some twenty X libraries that a stock desktop may lack
(``libxcb-cursor0``, ``libxcb-icccm4``, ``libxcb-keysyms1``...); without one, Qt aborts naming only the first it
happened to miss, or a wrong one. The dynamic linker knows them all: ``ldd`` on the plugin lists each library it
cannot find. Used by the README's set-up (``packaging/check_system_libs.py``), by ``packaging/linux/install.sh`` and
by the studio's own start (:func:`window_problem`), which says what to install instead of letting Qt abort. Nothing
here imports Qt: the plugins are found with ``importlib.util.find_spec``.

    python -m goodsad_studio.system_libs           # the offscreen platform (tests, screenshots): exit 1 if one is
                                                   # missing; the on-screen (xcb) ones: a warning
    python -m goodsad_studio.system_libs --window  # the same, and exit 1 when a library of a real window lacks
    goodsad-studio system-libs [--window|--packages]  # the same from the command (a frozen build has it too)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from importlib.util import find_spec
from pathlib import Path

PACKAGE_OF = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
}
"""Sonames whose Debian package is not the soname's own spelling (libfoo-bar.so.N -> libfoo-barN)."""


def debian_package(soname: str) -> str:
    """The Debian package that ships a library, from its soname (libxcb-icccm.so.4 -> libxcb-icccm4)."""
    if soname in PACKAGE_OF:
        return PACKAGE_OF[soname]
    match = re.fullmatch(r"(.+)\.so\.(\d+)(?:\..*)?", soname)
    if match is None:
        return soname
    name, version = match.group(1).lower(), match.group(2)
    return f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}"


def missing_libraries(library: Path) -> list[str]:
    """The sonames that the dynamic linker cannot find for ``library`` (ldd's "not found" lines); empty when the
    file or ``ldd`` is not there (a frozen build keeps its plugins elsewhere: nothing can be said)."""
    if not library.is_file():
        return []
    try:
        result = subprocess.run(["ldd", str(library)], capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return sorted({line.split()[0] for line in result.stdout.splitlines() if "not found" in line})


def apt_line(sonames: list[str]) -> str:
    return "sudo apt-get install " + " ".join(sorted({debian_package(soname) for soname in sonames}))


def qt_folder() -> Path | None:
    """PySide6's ``Qt`` folder (plugins and libraries), without importing PySide6; None when it is not installed."""
    spec = find_spec("PySide6")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "Qt"


def missing_for_platforms(qt: Path) -> tuple[list[str], list[str]]:
    """(what the offscreen platform lacks, what a window on X11 lacks besides), as sonames."""
    platforms = qt / "plugins" / "platforms"
    offscreen = sorted(
        set(missing_libraries(platforms / "libqoffscreen.so") + missing_libraries(qt / "lib" / "libQt6Gui.so.6"))
    )
    window = [soname for soname in missing_libraries(platforms / "libqxcb.so") if soname not in offscreen]
    return offscreen, window


def uses_xcb(environ: Mapping[str, str] | None = None) -> bool:
    """Whether Qt will open its window through X11 (the xcb plugin): asked for by name, or an X display in a
    session that is not Wayland's."""
    env = os.environ if environ is None else environ
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(":", 1)[0] == "xcb"
    wayland = bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE") == "wayland"
    return bool(env.get("DISPLAY")) and not wayland


def window_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """What keeps the studio's window from opening on this X11 desktop, in words with the command that fixes it;
    None when nothing does (or the window does not go through X11)."""
    if not uses_xcb(environ):
        return None
    qt = qt_folder()
    if qt is None:
        return None
    offscreen, window = missing_for_platforms(qt)
    missing = sorted(set(offscreen + window))
    if not missing:
        return None
    return (
        f"goodsad-studio: cannot open a window on this X11 desktop: Qt's xcb platform plugin needs the system "
        f"libraries {', '.join(missing)}, which are not installed. Install them with:\n    {apt_line(missing)}\n"
        "(or run without a window: QT_QPA_PLATFORM=offscreen, or goodsad-studio gui --screenshot FILE.png)"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--window", action="store_true", help="fail when a library of an on-screen window lacks")
    parser.add_argument(
        "--packages",
        action="store_true",
        help="print only the Debian packages a window lacks, one line (nothing when none is missing): for scripts",
    )


def run(args: argparse.Namespace) -> int:
    """The check's verdict (see the module docstring): messages on stderr, the exit status returned."""
    qt = qt_folder()
    if qt is None:
        print("check_system_libs: PySide6 is not installed in this environment", file=sys.stderr)
        return 1
    offscreen, window = missing_for_platforms(qt)
    if args.packages:
        missing = offscreen + window
        if missing:
            print(" ".join(sorted({debian_package(soname) for soname in missing})))
        return 0
    status = 0
    if offscreen:
        print(f"Qt cannot start without the system libraries {', '.join(offscreen)}.", file=sys.stderr)
        print(f"Install them with:\n    {apt_line(offscreen)}", file=sys.stderr)
        status = 1
    if window:
        what = "cannot open" if args.window else "will not open"
        print(
            f"The studio {what} a window on an X11 desktop without {', '.join(window)} (Qt's xcb platform plugin); "
            f"the tests and `make run` without a display do not need them. Install them with:\n"
            f"    {apt_line(window)}",
            file=sys.stderr,
        )
        if args.window:
            status = 1
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
