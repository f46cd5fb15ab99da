"""The dataset subcommands: ``export-mvtec``, ``export-coco``, ``import-coco``, ``import-labelme``, ``mark``,
``new-defect`` and ``repair-masks``. Each is a thin wrapper over a core function in :mod:`goodsad_studio.dataset`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from goodsad_studio.errors import StudioError


def _csv(value: str | None) -> list[str] | None:
    return [item.strip() for item in value.split(",") if item.strip()] if value else None


def _add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--categories", help="comma-separated categories (default: all)")
    parser.add_argument("--goods", help="comma-separated goods ids: 042 (any category) or drink_can/042")
    parser.add_argument("--defects", help="comma-separated defect types, 'good' included (default: all)")
    parser.add_argument("--splits", help="train,test (default: both)")


def _selection(args: argparse.Namespace):
    from goodsad_studio.dataset.selection import Selection

    return Selection.of(
        categories=_csv(args.categories),
        goods_ids=_csv(args.goods),
        defects=_csv(args.defects),
        splits=_csv(args.splits),
    )


def _size(text: str | None):
    if text is None:
        return None
    width, sep, height = text.lower().partition("x")
    try:
        return (int(width), int(height)) if sep else int(width)
    except ValueError:
        raise StudioError(f"--size takes N or WxH, got {text!r}") from None


def progress_bar():
    """Progress on stderr: tqdm's live bar on a terminal, plain lines in a log or a pipe (a job's event listener)."""
    from goodsad_studio.engine.progress_meter import StageMeter

    return StageMeter(sys.stderr)


def _monitor():
    from goodsad_studio.progress import Monitor

    return Monitor(progress_bar())


def add_dataset_commands(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("export-mvtec", help="copy a selection in MVTec-AD layout (optionally resized)")
    parser.add_argument("root", type=Path)
    parser.add_argument("dest", type=Path)
    _add_selection(parser)
    parser.add_argument("--size", help="resize to N (square) or WxH; masks stay binary")
    parser.add_argument("--overwrite", action="store_true", help="allow a non-empty destination")
    parser.set_defaults(handler=cmd_export_mvtec)

    parser = sub.add_parser("export-coco", help="COCO instance JSON: one annotation per defect region (RLE)")
    parser.add_argument("root", type=Path)
    parser.add_argument("out", type=Path)
    _add_selection(parser)
    parser.add_argument("--polygons", action="store_true", help="add polygon outlines beside the exact RLE")
    parser.add_argument("--overwrite", action="store_true")
    parser.set_defaults(handler=cmd_export_coco)

    for name, help_text in (
        ("import-coco", "masks from a COCO JSON (RLE or polygons)"),
        ("import-labelme", "masks from labelme JSON files or folders"),
    ):
        parser = sub.add_parser(name, help=help_text)
        parser.add_argument("root", type=Path)
        parser.add_argument("sources", type=Path, nargs="+" if name == "import-labelme" else 1)
        if name == "import-labelme":
            parser.add_argument("--labels", help="only shapes with these comma-separated labels")
        parser.add_argument("--dry-run", action="store_true", help="say what would be written, write nothing")
        parser.add_argument("--merge", action="store_true", help="add to existing masks instead of replacing them")
        parser.set_defaults(handler=cmd_import)

    parser = sub.add_parser("mark", help="mark a test image good, or defective with a defect type (moves files)")
    parser.add_argument("root", type=Path)
    parser.add_argument("key", help="image key category/split/defect/stem (see `info --json`)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--good", action="store_true")
    group.add_argument("--defect")
    parser.set_defaults(handler=cmd_mark)

    parser = sub.add_parser("new-defect", help="create a defect type (test/<name> and ground_truth/<name>)")
    parser.add_argument("root", type=Path)
    parser.add_argument("category")
    parser.add_argument("name")
    parser.set_defaults(handler=cmd_new_defect)

    parser = sub.add_parser(
        "repair-masks",
        help="binarise masks that are not 0/255 and scale masks to their image's size (originals to the trash)",
    )
    parser.add_argument("root", type=Path)
    parser.add_argument(
        "--binarise",
        type=_threshold,
        metavar="T",
        help="make every value above T foreground (255), the rest background (0); T from 0 to 254 (127: the upper "
        "half; 0: every non-zero pixel)",
    )
    parser.add_argument(
        "--resize",
        action="store_true",
        help="scale a mask of another size to its image's size (nearest neighbour, so it stays binary)",
    )
    parser.add_argument("--category", action="append", help="only this category (repeat for more; default: all)")
    parser.add_argument(
        "--dry-run", action="store_true", help="the preview: list each mask, its values and what would change"
    )
    parser.set_defaults(handler=cmd_repair_masks)


def _index(root: Path):
    from goodsad_studio.dataset.index import scan_dataset

    return scan_dataset(root)


def cmd_export_mvtec(args: argparse.Namespace) -> int:
    from goodsad_studio.dataset.export_mvtec import export_mvtec

    result = export_mvtec(
        _index(args.root),
        args.dest,
        _selection(args),
        size=_size(args.size),
        overwrite=args.overwrite,
        monitor=_monitor(),
    )
    print(
        f"exported {result.image_count} images and {len(result.files) - result.image_count} masks to "
        f"{result.dest}; manifest: {result.manifest_path}"
    )
    for note in result.notes:
        print(f"note: {note}")
    return 0


def cmd_export_coco(args: argparse.Namespace) -> int:
    from goodsad_studio.dataset.export_coco import export_coco

    result = export_coco(
        _index(args.root),
        args.out,
        _selection(args),
        polygons=args.polygons,
        overwrite=args.overwrite,
        monitor=_monitor(),
    )
    print(f"wrote {result.path}: {result.image_count} images, {result.annotation_count} annotations")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    index = _index(args.root)
    if args.command == "import-coco":
        from goodsad_studio.dataset.import_coco import import_coco

        report = import_coco(index, args.sources[0], dry_run=args.dry_run, merge_existing=args.merge)
    else:
        from goodsad_studio.dataset.import_labelme import import_labelme

        report = import_labelme(
            index, args.sources, dry_run=args.dry_run, merge_existing=args.merge, labels=_csv(args.labels)
        )
    print(report.summary())
    for line in report.skipped:
        print(f"skipped: {line}")
    for line in report.notes:
        print(f"note: {line}")
    if args.dry_run:
        for path in report.would_write:
            print(f"would {'replace (old one to the trash)' if path in report.would_replace else 'write'} {path}")
        for path in report.unchanged:
            print(f"unchanged {path}")
    return 0


def cmd_mark(args: argparse.Namespace) -> int:
    from goodsad_studio.dataset.edits import mark_defective, mark_good

    index = _index(args.root)
    record = index.get(args.key)
    if record is None:
        raise StudioError(f"no image with key {args.key!r} (keys are category/split/defect/stem)", args.root)
    new = mark_good(index, record) if args.good else mark_defective(index, record, args.defect)
    print(f"{record.key} -> {new.key}")
    return 0


def cmd_new_defect(args: argparse.Namespace) -> int:
    from goodsad_studio.dataset.edits import create_defect_type

    path = create_defect_type(_index(args.root), args.category, args.name)
    print(f"created defect type {args.name} in {path.parent.parent}")
    return 0


def _masks(count: int) -> str:
    return f"{count} mask{'' if count == 1 else 's'}"


def _threshold(text: str) -> int:
    from goodsad_studio.dataset.mask_repair import check_threshold

    try:
        return check_threshold(int(text))
    except ValueError as exc:
        message = str(exc) if text.strip().lstrip("-").isdigit() else f"not a whole number: {text!r}"
        raise argparse.ArgumentTypeError(message) from None


def cmd_repair_masks(args: argparse.Namespace) -> int:
    from goodsad_studio.dataset.edits import new_trash_stamp, trash_root
    from goodsad_studio.dataset.mask_repair import NOT_BINARY, apply_survey, require_writable, survey_masks

    if args.binarise is None and not args.resize:
        raise StudioError("repair-masks needs --binarise T, --resize or both (add --dry-run to preview)")
    index = _index(args.root)
    records = index.records
    if args.category:
        unknown = sorted(set(args.category) - set(index.categories))
        if unknown:
            raise StudioError(
                f"no category {', '.join(unknown)} in this dataset (it has: {', '.join(index.categories)})", args.root
            )
        records = [record for record in records if record.category in args.category]
    if not args.dry_run:
        require_writable(index, [])  # a read-only dataset is refused before any mask is read
    survey = survey_masks(index, records, threshold=args.binarise, resize=args.resize)
    for problem in survey.left_alone:
        add = "--binarise T" if problem.kind == NOT_BINARY else "--resize"
        print(f"left alone: {problem.path}: {problem.message} (add {add} to repair it)")
    for line in survey.refused:
        print(f"cannot repair: {line}")
    if args.dry_run:
        for planned in survey.planned:
            print(f"would repair {planned.path}: {planned.summary}")
        print(
            f"dry run: {_masks(len(survey.planned))} would be repaired, {survey.fine} need no repair, "
            f"{len(survey.left_alone)} left alone, {len(survey.refused)} cannot be repaired; nothing was written"
        )
        return 1 if survey.refused else 0
    stamp = new_trash_stamp()
    done = apply_survey(index, survey, stamp)
    for applied in done:
        print(f"repaired {applied.path}: {applied.summary}")
    kept = f"; the originals are in {trash_root(index) / stamp}" if done else ""
    print(
        f"repaired {_masks(len(done))}, {survey.fine} needed no repair, {len(survey.left_alone)} left alone, "
        f"{len(survey.refused)} cannot be repaired{kept}"
    )
    return 1 if survey.refused else 0
