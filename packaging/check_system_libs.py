"""Checks that the system libraries Qt needs are installed; prints the apt-get line for the missing ones.

Run by the README's set-up (make setup, make run) with the virtual environment's Python, after the install:
it asks the dynamic linker (ldd) which libraries Qt's platform plugins in .venv cannot find.

    python packaging/check_system_libs.py           # the offscreen platform (tests, screenshots): exit 1 if one
                                                    # is missing; the on-screen (xcb) ones: a warning
    python packaging/check_system_libs.py --window  # the same, and exit 1 when a library of a real window lacks
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

# sonames whose Debian package is not the soname's own spelling (libfoo-bar.so.N -> libfoo-barN)
PACKAGE_OF = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
}


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
    """The sonames that the dynamic linker cannot find for ``library`` (ldd's "not found" lines)."""
    result = subprocess.run(["ldd", str(library)], capture_output=True, text=True, check=False)
    return sorted({line.split()[0] for line in result.stdout.splitlines() if "not found" in line})


def apt_line(sonames: list[str]) -> str:
    return "sudo apt-get install " + " ".join(sorted({debian_package(soname) for soname in sonames}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", action="store_true", help="fail when a library of an on-screen window lacks")
    args = parser.parse_args(argv)
    spec = find_spec("PySide6")
    if spec is None or spec.origin is None:
        print("check_system_libs: PySide6 is not installed in this environment", file=sys.stderr)
        return 1
    plugins = Path(spec.origin).parent / "Qt" / "plugins" / "platforms"
    qt_lib = Path(spec.origin).parent / "Qt" / "lib"
    offscreen = missing_libraries(plugins / "libqoffscreen.so") + missing_libraries(qt_lib / "libQt6Gui.so.6")
    window = [soname for soname in missing_libraries(plugins / "libqxcb.so") if soname not in offscreen]
    status = 0
    if offscreen:
        print(f"Qt cannot start without the system libraries {', '.join(sorted(set(offscreen)))}.", file=sys.stderr)
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


if __name__ == "__main__":
    sys.exit(main())
