"""Every export kind the engine can run, as a table: :data:`EXPORTERS` maps each
:class:`~goodsad_studio.engine.contract.ExportKind` to its handler (a test checks it covers
:data:`~goodsad_studio.engine.contract.EXPORT_KINDS`). The studio's dialog and the CLI only collect options."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from goodsad_studio.dataset.export_coco import export_coco
from goodsad_studio.dataset.export_mvtec import check_destination, export_mvtec
from goodsad_studio.dataset.index import DatasetIndex
from goodsad_studio.dataset.selection import Selection
from goodsad_studio.engine.cache import CachedResult, ResultsCache
from goodsad_studio.engine.contract import Export, Exported, ExportKind, SelectionSpec
from goodsad_studio.engine.evaluations import load_outcomes
from goodsad_studio.engine.layout import StateLayout
from goodsad_studio.engine.worker.export_maps import write_predictions
from goodsad_studio.errors import Cancelled, StudioError
from goodsad_studio.metrics.report import write_report
from goodsad_studio.progress import Monitor, Stage

Exporter = Callable[[Export, DatasetIndex, Monitor], Exported]


def selection_of(spec: SelectionSpec) -> Selection:
    return Selection.of(categories=spec.categories, goods_ids=spec.goods_ids, defects=spec.defects, splits=spec.splits)


def _mvtec(request: Export, index: DatasetIndex, monitor: Monitor) -> Exported:
    options = request.options
    result = export_mvtec(
        index,
        request.dest,
        selection_of(request.selection),
        size=options.size,
        overwrite=options.overwrite,
        monitor=monitor,
    )
    if result.cancelled:
        raise Cancelled(f"export cancelled after {len(result.files)} files (the manifest lists them)", result.dest)
    masks = len(result.files) - result.image_count
    return Exported(result.dest, len(result.files), f"{result.image_count} images and {masks} masks")


def _coco(request: Export, index: DatasetIndex, monitor: Monitor) -> Exported:
    options = request.options
    result = export_coco(
        index,
        request.dest,
        selection_of(request.selection),
        polygons=options.polygons,
        overwrite=options.overwrite,
        monitor=monitor,
    )
    if result.cancelled or result.path is None:
        raise Cancelled("export cancelled: nothing was written", request.dest)
    return Exported(result.path, 1, f"{result.image_count} images, {len(result.coco['annotations'])} regions")


def _heatmaps(request: Export, index: DatasetIndex, monitor: Monitor) -> Exported:
    layout = StateLayout(Path(request.dataset.state_dir))
    records = selection_of(request.selection).apply(index)
    keys = dict(request.options.results)
    results: dict[str, CachedResult] = {}
    monitor.stage(Stage.EXPORT, len(records), "reading cached results")
    for done, record in enumerate(records, start=1):
        key = keys.get(record.category)
        found = ResultsCache(layout.cache_dir, key).get(record) if key is not None else None
        if found is not None:
            results[record.key] = found
        monitor.advance(done)
        monitor.check()
    chosen = [record for record in records if record.key in results]
    if not chosen:
        raise StudioError("no cached results of the method for the selection: predict them first", request.dest)
    check_destination(index.root, Path(request.dest), overwrite=request.options.overwrite)
    written = write_predictions(chosen, results, request.dest, monitor)
    return Exported(Path(request.dest), len(written), f"maps and heatmaps of {len(chosen)} images")


def _report(request: Export, index: DatasetIndex, monitor: Monitor) -> Exported:
    outcomes = load_outcomes(request.dataset.state_dir)
    rows = [row for outcome in outcomes for row in outcome.rows]
    if not rows:
        raise StudioError("no evaluation yet: evaluate a category first (Methods panel)", request.dest)
    check_destination(index.root, Path(request.dest), overwrite=request.options.overwrite)
    written = write_report(rows, request.dest)
    return Exported(Path(request.dest), len(written), f"{len(rows)} rows of {len(outcomes)} evaluations")


EXPORTERS: dict[ExportKind, Exporter] = {
    ExportKind.MVTEC: _mvtec,
    ExportKind.COCO: _coco,
    ExportKind.HEATMAPS: _heatmaps,
    ExportKind.REPORT: _report,
}
