"""``python -m goodsad_studio`` behaves like the ``goodsad-studio`` command.

``multiprocessing.freeze_support()`` runs first, before anything reads ``sys.argv``: a no-op when run by Python,
and in a frozen build (where this module can also be the entry) it turns a "spawn" child of the GUI's fit jobs
into that child instead of a second studio.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()

    from goodsad_studio.cli import main

    sys.exit(main())
