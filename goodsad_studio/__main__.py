"""``python -m goodsad_studio`` behaves like the ``goodsad-studio`` command."""

import sys

from goodsad_studio.cli import main

if __name__ == "__main__":
    sys.exit(main())
