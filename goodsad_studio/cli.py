"""The ``goodsad-studio`` command: with no arguments it opens the studio; subcommands do the work headless.

The CLI is a client of the core like the GUI; it never imports Qt unless it opens the window.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from goodsad_studio import __version__
from goodsad_studio.cli_dataset import add_dataset_commands
from goodsad_studio.cli_engine import add_engine_commands
from goodsad_studio.errors import StudioError


def _add_info(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("info", help="counts per category, split, defect and goods id, and validation findings")
    parser.add_argument("root", type=Path, help="dataset root: one category or a folder of categories")
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
    parser.add_argument("--deep", action="store_true", help="decode every image too (slow on 3000px photos)")
    parser.add_argument("--goods", action="store_true", help="print the per-goods-id table too")
    parser.set_defaults(handler=_cmd_info)


def _add_demo(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="generate the GoodsAD-shaped synthetic demo dataset")
    parser.add_argument("dest", type=Path, help="folder to create")
    parser.add_argument("--size", type=int, default=512, help="image side in pixels (3000 for full-size stress data)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed -> identical files)")
    parser.add_argument("--goods", type=int, default=4, help="goods ids per category")
    parser.add_argument("--categories", default=None, help="comma-separated category names (default: all)")
    parser.add_argument(
        "--defects",
        choices=("any", "small"),
        default="any",
        help="small: only defects of 0.05-0.5%% of the photo, at random places (the native-resolution benchmark's set)",
    )
    parser.set_defaults(handler=_cmd_demo)


def _add_system_libs(sub: argparse._SubParsersAction) -> None:
    from goodsad_studio import system_libs

    parser = sub.add_parser(
        "system-libs", help="check the system libraries Qt needs; print the apt-get line for the missing ones"
    )
    system_libs.add_arguments(parser)
    parser.set_defaults(handler=system_libs.run)


def _add_gui(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("gui", help="open the studio (the default when no subcommand is given)")
    add_gui_arguments(parser)
    parser.set_defaults(handler=_cmd_gui)


def add_gui_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "root", type=Path, nargs="?", default=None, help="dataset root to open (default: the embedded demo dataset)"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the embedded demo dataset (generated on first use) instead of the last dataset",
    )
    parser.add_argument("--select", default=None, help="image to show: a path or a key category/split/defect/stem")
    parser.add_argument(
        "--screenshot", type=Path, default=None, help="render the window to this PNG and exit (works without a display)"
    )


class _StudioParser(argparse.ArgumentParser):
    """The top-level parser; ``commands`` names its subcommands (``main`` routes a bare root to ``gui``)."""

    commands: frozenset[str] = frozenset()


def build_parser() -> _StudioParser:
    parser = _StudioParser(
        prog="goodsad-studio",
        description="Anomaly detection on supermarket goods. With no command it opens "
        "the studio; the commands do the work headless.",
    )
    parser.add_argument("--version", action="version", version=f"goodsad-studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_gui(sub)
    _add_info(sub)
    _add_demo(sub)
    _add_system_libs(sub)
    add_engine_commands(sub)
    add_dataset_commands(sub)
    parser.commands = frozenset(sub.choices)
    return parser


def _cmd_info(args: argparse.Namespace) -> int:
    from goodsad_studio.dataset.index import scan_dataset
    from goodsad_studio.dataset.info_report import info_json, info_text
    from goodsad_studio.dataset.validation import validate

    started = time.perf_counter()
    index = scan_dataset(args.root)
    report = validate(index, deep=args.deep)
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps(info_json(index, report), indent=2))
    else:
        print(info_text(index, report, goods=args.goods, seconds=elapsed))
    return 1 if report.errors else 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from goodsad_studio.dataset.demo import generate_demo

    categories = [name.strip() for name in args.categories.split(",")] if args.categories else None
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\rgenerating {done}/{total} images", end="", file=sys.stderr, flush=True)

    dest = generate_demo(
        args.dest,
        size=args.size,
        seed=args.seed,
        categories=categories,
        goods_per_category=args.goods,
        defect_size=args.defects,
        progress=progress,
    )
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"demo dataset in {dest} ({time.perf_counter() - started:.1f} s); open it with: goodsad-studio gui {dest}")
    return 0


def _cmd_gui(args: argparse.Namespace) -> int:
    from goodsad_studio.gui.launch import launch

    if args.demo and args.root is not None:
        raise StudioError("give either a dataset root or --demo, not both")
    return launch(args.root, select=args.select, screenshot=args.screenshot, demo=args.demo)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or (argv[0] not in parser.commands and not argv[0].startswith("-")):
        argv = ["gui", *argv]  # `goodsad-studio` and `goodsad-studio ROOT` open the studio
    if argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["gui", *argv]
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except StudioError as exc:
        print(f"goodsad-studio: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file the core did not expect to fail (its own writes raise StudioErrors)
        if not exc.filename:
            return _internal_error(exc, argv, args)
        print(f"goodsad-studio: error: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("goodsad-studio: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line and a log, never a traceback
        return _internal_error(exc, argv, args)


def _internal_error(exc: BaseException, argv: Sequence[str], args: argparse.Namespace) -> int:
    """Print one line naming the log that holds the traceback (written to the studio's state folder)."""
    from goodsad_studio.crash_log import write_crash_log

    log = write_crash_log(argv, getattr(args, "root", None))
    print(
        f"goodsad-studio: internal error ({type(exc).__name__}: {_one_line(str(exc))[:200]}); the details are in {log}",
        file=sys.stderr,
    )
    return 2


def _one_line(text: str) -> str:
    return " ".join(text.split())
