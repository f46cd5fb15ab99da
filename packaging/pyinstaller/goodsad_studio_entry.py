"""Entry point of the frozen (PyInstaller) goodsad-studio: the ``goodsad-studio`` command, GUI and CLI alike.

``multiprocessing.freeze_support()`` comes first: the GUI runs fits in "spawn" child processes, and in a frozen
build a child is this same executable started with multiprocessing's arguments. PyInstaller's version of
freeze_support recognises them, runs the child's work and exits, before the CLI would read them as a dataset path
and open a second studio window.
"""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()

    import sys

    from goodsad_studio.cli import main

    sys.exit(main())
