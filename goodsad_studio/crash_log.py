"""Logs of unexpected errors: the CLI prints one line naming the log; the traceback goes into the log.

A log goes to the studio's state folder: the dataset's (``<root>/.goodsad-studio/logs``, or its stand-in in the
user's data folder for a read-only dataset) when the command was given one, else ``<user data>/logs``; failing
both, the system's temporary folder.
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

from goodsad_studio import __version__
from goodsad_studio.paths import dataset_state_dir, user_data_dir

LOGS = "logs"


def _folders(root: object) -> list[Path]:
    folders = []
    if isinstance(root, Path) and root.is_dir():
        try:
            folders.append(dataset_state_dir(root) / LOGS)
        except OSError:
            pass
    folders += [user_data_dir() / LOGS, Path(tempfile.gettempdir())]
    return folders


def write_crash_log(argv: Sequence[str], root: object = None, error: BaseException | None = None) -> Path | str:
    """Write the traceback of ``error`` (default: the exception being handled), with the command and versions;
    returns the log's path (or a note saying no log could be written)."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = (
        f"goodsad-studio {__version__}, Python {platform.python_version()}, {platform.platform()}\n"
        f"command: goodsad-studio {' '.join(argv)}\n"
        f"time: {datetime.datetime.now().isoformat(timespec='seconds')}\n\n"
        f"{traceback.format_exc() if error is None else ''.join(traceback.format_exception(error))}"
    )
    for folder in _folders(root):
        path = folder / f"error-{stamp}-{os.getpid()}.log"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError:
            continue
        return path
    if os.environ.get("GOODSAD_STUDIO_DEBUG"):
        print(text, file=sys.stderr)
    return "no log (no folder could be written; set GOODSAD_STUDIO_DEBUG=1 to print the details)"
