"""The engine's subcommands: ``methods``, ``fit``, ``predict``, ``evaluate``, ``identify`` and ``export``
(headless, progress from tqdm). They hold an engine client over the inline transport: the same requests the studio
sends its worker."""

from __future__ import annotations

import argparse
from pathlib import Path

from goodsad_studio.errors import StudioError


def _progress():
    from goodsad_studio.cli_dataset import progress_bar

    return progress_bar()


def _add_method_options(parser: argparse.ArgumentParser) -> None:
    _add_model_options(parser)
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="MINUTES",
        help="trained methods: fit within this many minutes each (the steps of the paper's schedule that fit, timed "
        "on a few probe steps; the schedule compressed to them); the results say how much was trained. Default: "
        "the paper's whole schedule",
    )
    _add_view_options(parser)
    _add_executor_options(parser)


def _add_executor_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local (the default): in this process; ray: sharded into Ray tasks, a fit per model then predictions "
        "of a few images each, on the cluster at --ray-address or on a one-machine Ray (pip install "
        "'goodsad-studio[ray]'; docs/ray.md)",
    )
    parser.add_argument("--ray-address", default=None, help="the Ray cluster (e.g. ray://head:10001 or auto)")
    parser.add_argument(
        "--ray-cpus", type=int, default=None, help="CPUs of the one-machine Ray started without an address (all)"
    )
    parser.add_argument(
        "--images-per-task", type=int, default=0, help="images per Ray predict task (0: one share per CPU, >= 8)"
    )


def _executor(args: argparse.Namespace):
    from goodsad_studio.engine.contract import LOCAL, Executor, ExecutorKind

    if args.executor == "local":
        if args.ray_address or args.ray_cpus:
            raise StudioError("--ray-address and --ray-cpus need --executor ray")
        return LOCAL
    if args.images_per_task < 0 or (args.ray_cpus is not None and args.ray_cpus < 1):
        raise StudioError("--images-per-task must be 0 or more and --ray-cpus at least 1")
    return Executor(ExecutorKind.RAY, args.ray_address, args.ray_cpus, args.images_per_task)


def _add_model_options(parser: argparse.ArgumentParser) -> None:
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


def _add_view_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tiling",
        default="auto",
        metavar="auto|off|SIZE[:OVERLAP]",
        help="see each photo in overlapping tiles of SIZE photo pixels (OVERLAP: a quarter of SIZE unless given), "
        "each resized to the method's input; auto (the default): tiles of twice the input for photos of 1024 px "
        "and more, the whole photo otherwise",
    )
    parser.add_argument(
        "--crop",
        default="auto",
        choices=("auto", "on", "off"),
        help="crop each photo to the goods before anything else; auto (the default): for photos of 1024 px and more",
    )
    parser.add_argument(
        "--multiscale", action="store_true", help="fuse the whole (cropped) photo's map with the tiled one"
    )
    parser.add_argument(
        "--compare-with",
        default="all",
        metavar="all|goods|K|goods:K",
        help="goods-aware scoring (patchcore, spade): compare each photo with all training photos (the default), "
        "with those of its own goods id, with its K nearest by global descriptor, or its K nearest of its goods",
    )
    parser.add_argument(
        "--calibrate",
        nargs="?",
        const="on",
        default="auto",
        choices=("auto", "on", "off"),
        help="turn scores and maps into z-scores of each goods' normal scores, so one threshold means the same for "
        "every goods; auto (the default): for goods-aware methods (patchcore, spade) scoring whole photos",
    )


def _client():
    from goodsad_studio.engine.client import EngineClient
    from goodsad_studio.engine.transports.inline import InlineTransport

    return EngineClient(InlineTransport())


def _cards(client) -> dict:
    return {card.name: card for card in client.methods().methods}


def _params(values: list[str], method: str, client, budget: float | None = None) -> dict[str, str]:
    """The ``--param`` values meant for ``method``: ``NAME=VALUE`` applies to every method of the command,
    ``METHOD.NAME=VALUE`` to that method only (e.g. ``patchcore.coreset_ratio=0.01`` beside PaDiM). Checked
    against the method's parameters now, so a typo stops the command before any work, naming the method.
    ``budget`` (``--budget``) becomes ``budget_minutes`` of a method that trains, unless a ``--param`` sets it."""
    from goodsad_studio.engine.contract import MethodSpec
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
    card = _cards(client).get(method)
    specs = card.params if card is not None else client.describe(MethodSpec(method)).description.params
    if budget is not None and any(spec.name == "budget_minutes" for spec in specs):
        params.setdefault("budget_minutes", str(budget))
    try:
        validate_params(specs, params)
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

    parser = sub.add_parser(
        "identify",
        help="name the goods of photos: the top goods ids of a category by similarity to its training photos",
    )
    parser.add_argument("root", type=Path, help="the dataset whose training photos (with goods ids) are compared")
    parser.add_argument("images", type=Path, nargs="+", help="the photos to name (any image files)")
    parser.add_argument("--category", default=None, help="the category (default: the dataset's only one)")
    parser.add_argument("--method", default="patchcore", help="whose goods descriptor (a goods-aware method)")
    parser.add_argument("--top", type=int, default=5, help="goods ids per photo (default 5)")
    parser.add_argument("--json", action="store_true", help='print [{"image": path, "goods": [{"id", "similarity"}]}]')
    _add_model_options(parser)
    parser.set_defaults(handler=cmd_identify)

    from goodsad_studio.cli_dataset import _add_selection
    from goodsad_studio.engine.contract import EXPORT_KINDS

    parser = sub.add_parser(
        "export",
        help=f"any export the studio offers: {', '.join(EXPORT_KINDS)} (through the engine, as the studio runs them)",
    )
    parser.add_argument("kind", choices=[kind.value for kind in EXPORT_KINDS])
    parser.add_argument("root", type=Path)
    parser.add_argument("dest", type=Path, help="a folder, or for coco a .json file")
    _add_selection(parser)
    parser.add_argument("--size", help="mvtec: resize to N (square) or WxH; masks stay binary")
    parser.add_argument("--polygons", action="store_true", help="coco: add polygon outlines beside the exact RLE")
    parser.add_argument("--method", default="patchcore", help="heatmaps: whose cached results (default patchcore)")
    parser.add_argument("--overwrite", action="store_true", help="allow a non-empty destination")
    parser.set_defaults(handler=cmd_export)


def _spec(method: str, args: argparse.Namespace, client):
    from goodsad_studio.engine.contract import MethodSpec
    from goodsad_studio.goods.spec import GoodsSpec
    from goodsad_studio.native.spec import ViewRequest

    view = ViewRequest.parse(args.tiling, args.crop, args.multiscale)
    goods = GoodsSpec.parse(args.compare_with, args.calibrate)
    params = _params(args.param, method, client, args.budget)
    return MethodSpec(method, params, args.backbone, args.weights, args.device, view, goods)


def _dataset(root: Path):
    """The dataset's index and its reference for requests (its state folder beside it, or in the data dir)."""
    from goodsad_studio.dataset.index import scan_dataset
    from goodsad_studio.engine.contract import DatasetRef
    from goodsad_studio.paths import dataset_state_dir

    index = scan_dataset(root)
    return index, DatasetRef.of(index.root, dataset_state_dir(index.root))


def report_skipped(skipped: dict[str, str]) -> None:
    """Name each image a job left out, and why, after its results (``N images skipped: PATH — reason``)."""
    if not skipped:
        return
    count = f"{len(skipped)} image{'s' if len(skipped) != 1 else ''} skipped"
    lines = [f"{path} — {reason}" for path, reason in skipped.items()]
    print(f"{count}: {lines[0]}" if len(lines) == 1 else "\n  ".join([f"{count}:", *lines]))


def cmd_methods(args: argparse.Namespace) -> int:
    cards = _cards(_client())
    for name in args.names or list(cards):
        card = cards.get(name)
        if card is None:
            raise StudioError(f"unknown method {name!r}; available: {', '.join(cards)}")
        print(f"{name}: {card.description}" if not card.problem else f"{name}: cannot be used here: {card.problem}")
        for spec in card.params:
            unset = "auto" if spec.unset == "auto" else f"auto ({spec.unset})"  # "auto" is what one types
            default = unset if spec.default is None else spec.default
            print(f"    --param {spec.name}={default}  ({spec.describe()})" + (f"  {spec.help}" if spec.help else ""))
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    from goodsad_studio.engine.contract import Batch, Fit, Fitted

    client = _client()
    index, dataset = _dataset(args.root)
    spec = _spec(args.method, args, client)
    executor = _executor(args)
    fits = [
        Fit(dataset, spec, category, goods_id=group, reuse=not args.refit)
        for category in args.category or index.categories
        for group in ([None] if args.scope == "category" else index.goods_ids(category))
    ]
    bar = _progress()
    if executor.kind == "local":
        results = [client.fit(fit, bar) for fit in fits]
    else:  # every model side by side
        results = [
            result for result in client.batch(Batch(tuple(fits), executor), bar).results if isinstance(result, Fitted)
        ]
    skipped: dict[str, str] = {}
    for fit, fitted in zip(fits, results, strict=True):
        skipped.update(fitted.skipped)
        model = fitted.model
        how = "reused the saved model" if model.reused else f"fitted in {model.fit_seconds:.1f} s"
        print(
            f"{fit.category}{'/' + fit.goods_id if fit.goods_id else ''}: {model.label}: {how} on "
            f"{model.train_images} images -> {model.directory}"
        )
    report_skipped(skipped)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from goodsad_studio.engine.contract import Predict
    from goodsad_studio.engine.inspect import cached_results, result_set_for
    from goodsad_studio.engine.layout import StateLayout
    from goodsad_studio.engine.worker.export_maps import write_predictions

    client = _client()
    index, dataset = _dataset(args.root)
    spec = _spec(args.method, args, client)
    records = index.filter(category=args.category, split=args.split, goods_id=args.goods)
    request = Predict(dataset, spec, args.category, tuple(record.key for record in records), executor=_executor(args))
    predicted = client.predict(request, _progress())
    model = predicted.model
    results = cached_results(result_set_for(model, StateLayout(Path(dataset.state_dir)).cache_dir), records)
    records = [record for record in records if record.key in results]
    print(f"{model.label}: {len(results)} images of {args.category}/{args.split}")
    if args.out is not None:
        written = write_predictions(records, results, args.out)
        print(f"wrote {len(written)} files to {args.out}")
    else:
        for record in records:
            print(f"{results[record.key].score:12.5f}  {record.key}")
    report_skipped(dict(predicted.skipped))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from goodsad_studio.engine.contract import Batch, Evaluate, Evaluated, Scope
    from goodsad_studio.engine.timings import write_timings
    from goodsad_studio.metrics.report import write_report

    client = _client()
    index, dataset = _dataset(args.root)
    specs = [_spec(name.strip(), args, client) for name in args.methods.split(",") if name.strip()]
    names = list(args.category) if args.category else index.categories
    unknown = [name for name in names if name not in index.category_dirs]
    if unknown:
        raise StudioError(
            f"unknown categories {', '.join(unknown)}; this dataset has {', '.join(index.categories)}", index.root
        )
    executor = _executor(args)
    requests = [
        Evaluate(dataset, spec, category, args.protocol, Scope(args.scope)) for spec in specs for category in names
    ]
    bar = _progress()
    if executor.kind == "local":
        results = [client.evaluate(request, bar) for request in requests]
    else:  # every fit side by side, then every prediction
        done = client.batch(Batch(tuple(requests), executor), bar).results
        results = [result for result in done if isinstance(result, Evaluated)]
    skipped: dict[str, str] = {}
    outcomes = []
    for evaluated in results:
        outcomes.append(evaluated.outcome)
        skipped.update(evaluated.skipped)
    write_report([row for outcome in outcomes for row in outcome.rows], args.out, skipped=skipped)
    print((args.out / "report.md").read_text())
    print(write_timings(outcomes, args.out))
    return 0


def cmd_identify(args: argparse.Namespace) -> int:
    import json

    from goodsad_studio.engine.contract import Identify, MethodSpec

    client = _client()
    index, dataset = _dataset(args.root)
    category = args.category
    if category is None:
        if len(index.categories) != 1:
            raise StudioError(
                f"this dataset has {len(index.categories)} categories ({', '.join(index.categories)}): name one "
                "with --category",
                index.root,
            )
        category = index.categories[0]
    params = _params(args.param, args.method, client)
    spec = MethodSpec(args.method, params, args.backbone, args.weights, args.device)
    request = Identify(dataset, spec, category, tuple(str(path) for path in args.images), args.top)
    found = client.identify(request, _progress())
    if args.json:
        listed = [
            {"image": image, "goods": [{"id": m.goods_id, "similarity": m.similarity} for m in matches]}
            for image, matches in zip(found.images, found.matches, strict=True)
        ]
        print(json.dumps(listed, indent=2))
        return 0
    print(f"{category}: compared with {found.training_photos} training photos with goods ids")
    for image, matches in zip(found.images, found.matches, strict=True):
        ranked = "  ".join(f"{m.goods_id} {m.similarity:.3f}" for m in matches)
        print(f"{image}: {ranked}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from goodsad_studio.cli_dataset import _csv, _size
    from goodsad_studio.engine.contract import Export, ExportKind, ExportOptions, SelectionSpec
    from goodsad_studio.engine.inspect import saved_result_sets
    from goodsad_studio.engine.layout import StateLayout

    index, dataset = _dataset(args.root)
    kind = ExportKind(args.kind)
    results: tuple[tuple[str, str], ...] = ()
    if kind == ExportKind.HEATMAPS:  # the newest results of the method in each category
        sets = [s for s in saved_result_sets(StateLayout(Path(dataset.state_dir)).cache_dir) if s.goods_id is None]
        newest: dict[str, str] = {}
        for result_set in sets:
            if result_set.method == args.method:
                newest.setdefault(result_set.category, result_set.key)
        results = tuple(newest.items())

    def tuple_of(text: str | None) -> tuple[str, ...] | None:
        names = _csv(text)
        return tuple(names) if names else None

    selection = SelectionSpec(
        tuple_of(args.categories), tuple_of(args.goods), tuple_of(args.defects), tuple_of(args.splits)
    )
    options = ExportOptions(_size(args.size), args.polygons, args.overwrite, results)
    exported = _client().export(Export(dataset, kind, str(args.dest), selection, options), _progress())
    print(f"exported {exported.summary} to {exported.dest}")
    return 0
