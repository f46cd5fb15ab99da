"""The engine's subcommands: ``methods``, ``fit``, ``predict`` and ``evaluate`` (headless, progress from tqdm)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from goodsad_studio.errors import StudioError


def _progress():
    """The engine's progress on stderr: tqdm's live bar on a terminal, plain lines in a log or a pipe."""
    from goodsad_studio.engine.progress_meter import StageMeter

    return StageMeter(sys.stderr)


def _add_method_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backbone",
        default="auto",
        help="backbone name (default: auto = the best one with "
        "weights on this machine; wide_resnet50_2 when its weights are in the torch hub cache)",
    )
    parser.add_argument("--weights", default="auto", help="auto, a weights file, or 'random' (untrained: for tests)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a method parameter (repeatable); METHOD.NAME=VALUE for one method only; "
        "`goodsad-studio methods` lists them",
    )


def _params(values: list[str], method: str) -> dict[str, str]:
    """The ``--param`` values meant for ``method``: ``NAME=VALUE`` applies to every method of the command,
    ``METHOD.NAME=VALUE`` to that method only (e.g. ``patchcore.coreset_ratio=0.01`` beside PaDiM). Checked
    against the method's parameters now, so a typo stops the command before any work, naming the method."""
    from goodsad_studio.methods.registry import get_method
    from goodsad_studio.params import validate_params

    params = {}
    for item in values:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise StudioError(f"--param takes NAME=VALUE or METHOD.NAME=VALUE, got {item!r}")
        owner, dot, bare = name.rpartition(".")
        if dot and owner != method:
            continue
        params[bare if dot else name] = value
    try:
        validate_params(get_method(method).params, params)
    except StudioError as exc:
        raise StudioError(f"{method}: {exc} (`goodsad-studio methods {method}` lists them)") from None
    return params


def add_engine_commands(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("methods", help="list the anomaly-detection methods and their parameters")
    parser.add_argument("names", nargs="*", help="only these methods (default: all)")
    parser.set_defaults(handler=cmd_methods)

    parser = sub.add_parser("fit", help="fit a method on a category's normal training images (saved for reuse)")
    parser.add_argument("root", type=Path)
    parser.add_argument("--method", default="patchcore")
    parser.add_argument("--category", action="append", default=None, help="category (repeatable; default all)")
    parser.add_argument(
        "--scope",
        choices=("category", "goods"),
        default="category",
        help="one model per category (the paper) or per goods id",
    )
    parser.add_argument("--refit", action="store_true", help="fit again even when a saved model matches")
    _add_method_options(parser)
    parser.set_defaults(handler=cmd_fit)

    parser = sub.add_parser("predict", help="anomaly maps and scores for a category's images")
    parser.add_argument("root", type=Path)
    parser.add_argument("--method", default="patchcore")
    parser.add_argument("--category", required=True)
    parser.add_argument("--split", choices=("test", "train"), default="test")
    parser.add_argument("--goods", default=None, help="only this goods id")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write scores.csv, raw maps (.npy, float32, native size) and heatmap PNGs here",
    )
    _add_method_options(parser)
    parser.set_defaults(handler=cmd_predict)

    parser = sub.add_parser("evaluate", help="the GoodsAD paper's Tables IV and V for methods x categories")
    parser.add_argument("root", type=Path)
    parser.add_argument("--methods", default="patchcore", help="comma-separated method names")
    parser.add_argument("--category", action="append", default=None, help="category (repeatable; default all)")
    parser.add_argument(
        "--protocol",
        choices=("native", "224"),
        default="native",
        help="pixel metrics at each mask's native size (default) or at 224x224 as in the paper",
    )
    parser.add_argument("--scope", choices=("category", "goods"), default="category")
    parser.add_argument("--out", type=Path, required=True, help="folder for report.md, report.json, report_*.csv")
    _add_method_options(parser)
    parser.set_defaults(handler=cmd_evaluate)


def _spec(method: str, args: argparse.Namespace):
    from goodsad_studio.engine.jobs import MethodSpec

    return MethodSpec(method, _params(args.param, method), args.backbone, args.weights, args.device)


def _workspace(root: Path):
    from goodsad_studio.dataset.index import scan_dataset
    from goodsad_studio.engine.jobs import Workspace

    return Workspace(scan_dataset(root))


def cmd_methods(args: argparse.Namespace) -> int:
    from goodsad_studio.methods.registry import available_methods, get_method

    for name in args.names or available_methods():
        cls = get_method(name)
        print(f"{name}: {cls.description}")
        for spec in cls.params:
            default = "auto" if spec.default is None else spec.default
            print(f"    --param {spec.name}={default}  ({spec.describe()})" + (f"  {spec.help}" if spec.help else ""))
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    workspace = _workspace(args.root)
    spec = _spec(args.method, args)
    bar = _progress()
    for category in args.category or workspace.index.categories:
        groups = [None] if args.scope == "category" else workspace.index.goods_ids(category)
        for group in groups:
            model = workspace.fit(spec, category, goods_id=group, reuse=not args.refit, progress=bar)
            how = "reused the saved model" if model.reused else f"fitted in {model.fit_seconds:.1f} s"
            print(
                f"{category}{'/' + group if group else ''}: {model.label}: {how} on {model.train_images} images "
                f"-> {model.directory}"
            )
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from goodsad_studio.engine.export_maps import write_predictions

    workspace = _workspace(args.root)
    spec = _spec(args.method, args)
    bar = _progress()
    model = workspace.fit(spec, args.category, progress=bar)
    records = workspace.index.filter(category=args.category, split=args.split, goods_id=args.goods)
    results = workspace.predict(model, records, progress=bar)
    print(f"{model.label}: {len(results)} images of {args.category}/{args.split}")
    if args.out is not None:
        written = write_predictions(records, results, args.out)
        print(f"wrote {len(written)} files to {args.out}")
    else:
        for record in records:
            print(f"{results[record.key].score:12.5f}  {record.key}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from goodsad_studio.engine.evaluate import evaluate_dataset
    from goodsad_studio.engine.evaluations import save_outcome
    from goodsad_studio.engine.timings import write_timings

    workspace = _workspace(args.root)
    specs = [_spec(name.strip(), args) for name in args.methods.split(",") if name.strip()]
    outcomes = evaluate_dataset(
        workspace,
        specs,
        categories=args.category,
        protocol=args.protocol,
        scope=args.scope,
        out_dir=args.out,
        progress=_progress(),
    )
    if args.scope == "category":  # the studio's Dataset metrics window shows these when the dataset is opened
        for outcome in outcomes:
            save_outcome(workspace.state_dir, outcome)
    print((args.out / "report.md").read_text())
    print(write_timings(outcomes, args.out))
    return 0
