"""Checks that the system libraries Qt needs are installed; prints the apt-get line for the missing ones.

Run by the README's set-up (make setup, make run) with the virtual environment's Python, after the install; the
check itself is :mod:`goodsad_studio.system_libs` (the studio runs it too before it opens a window).

    python packaging/check_system_libs.py           # the offscreen platform (tests, screenshots): exit 1 if one
                                                    # is missing; the on-screen (xcb) ones: a warning
    python packaging/check_system_libs.py --window  # the same, and exit 1 when a library of a real window lacks
"""

from __future__ import annotations

import sys

from goodsad_studio.system_libs import main

if __name__ == "__main__":
    sys.exit(main())
