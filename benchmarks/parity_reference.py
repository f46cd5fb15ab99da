"""Parity with the authors' code: with an authors' repository checked out at PATH, load our networks' weights into
their model, feed one fixed batch to both, and compare losses and maps (rtol 1e-3 plus 1e-3 x the range of the
reference's values). One module per method in benchmarks/parity/.

    git clone https://github.com/hq-deng/RD4AD /tmp/RD4AD
    .venv/bin/python benchmarks/parity_reference.py --reference /tmp/RD4AD [--method rd4ad]

The method is found from the repository's files unless ``--method`` names it. Prints one line per quantity and
exits 1 when any is outside the tolerance. The methods' READMEs hold each run's output and the differences that
remain on purpose.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

PARITY_METHODS = ("rd4ad", "draem", "simplenet", "cflow", "nsa")


def module_of(method: str):
    return importlib.import_module(f"parity.{method}")


def detect(reference: Path) -> str:
    """The method whose ``MARKERS`` files are all in ``reference``."""
    found = [m for m in PARITY_METHODS if all((reference / f).is_file() for f in module_of(m).MARKERS)]
    if len(found) != 1:
        raise SystemExit(
            f"{reference}: cannot tell which method's reference this is (matches: {found or 'none'}); "
            f"name it with --method {{{','.join(PARITY_METHODS)}}}"
        )
    return found[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=Path, required=True, help="a checkout of the authors' repository")
    parser.add_argument("--method", choices=PARITY_METHODS, default=None)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not args.reference.is_dir():
        raise SystemExit(f"{args.reference}: no such folder (check out the authors' repository there)")
    import torch

    torch.set_num_threads(args.threads)
    method = args.method or detect(args.reference)
    checks = module_of(method).compare(args.reference)
    print(f"{method} against {args.reference}:")
    for check in checks:
        print(f"  {check.line()}")
    failed = [c.what for c in checks if not c.ok]
    print(f"{len(checks) - len(failed)} of {len(checks)} within tolerance" + (f"; outside: {failed}" if failed else ""))
    return 1 if failed or not checks else 0


if __name__ == "__main__":
    raise SystemExit(main())
