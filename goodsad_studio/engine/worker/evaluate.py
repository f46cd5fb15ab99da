"""Evaluation jobs: fit (or reuse) a model per category, predict the test split, compute the paper's metrics per
category and per goods id, and write the GoodsAD paper's tables.

The paper's protocol is one model per category; ``scope="goods"`` fits one model per goods id instead (GoodsAD
categories hold dozens of different goods) and evaluates each goods id's test images with its own model.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from goodsad_studio.dataset.imageio import read_mask
from goodsad_studio.dataset.index import ImageRecord
from goodsad_studio.engine.jobs import MethodSpec, Progress, ProgressFn, Workspace, check_cancel
from goodsad_studio.errors import StudioError
from goodsad_studio.metrics.evaluate import CategoryEvaluator
from goodsad_studio.metrics.report import ReportRow, write_report

SCOPES = ("category", "goods")


@dataclass
class CategoryOutcome:
    """What one method did on one category: report rows (category + per goods id) and its costs."""

    category: str
    method: str
    rows: list[ReportRow]
    fit_seconds: float
    predict_ms_per_image: float
    train_images: int
    test_images: int
    label: str
    timings: dict[str, float] = field(default_factory=dict)


def _groups(workspace: Workspace, category: str, scope: str) -> list[str | None]:
    if scope == "category":
        return [None]
    if scope == "goods":
        groups: list[str | None] = list(workspace.index.goods_ids(category))
        return groups
    raise StudioError(f"unknown scope {scope!r}: use {' or '.join(SCOPES)}")


def evaluate_category(
    workspace: Workspace,
    spec: MethodSpec,
    category: str,
    *,
    protocol: str = "native",
    scope: str = "category",
    batch_size: int = 8,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> CategoryOutcome:
    """Fit (or reuse) and evaluate ``spec`` on one category; see the module docstring for ``scope``."""
    test = workspace.test_records(category)
    if not test:
        raise StudioError(f"no test images in category {category!r}", workspace.index.category_dirs.get(category))
    whole = CategoryEvaluator(protocol=protocol)
    per_goods: dict[str, CategoryEvaluator] = {}
    goods_ids = workspace.index.goods_ids(category)
    fit_seconds = predict_seconds = 0.0
    train_images = 0
    label = ""
    for group in _groups(workspace, category, scope):
        check_cancel(cancel)
        model = workspace.fit(spec, category, goods_id=group, progress=progress, cancel=cancel)
        fit_seconds += model.fit_seconds
        train_images += model.train_images
        label = model.label
        records = test if group is None else [record for record in test if record.group == group]
        started = time.perf_counter()
        results = workspace.predict(model, records, batch_size=batch_size, progress=progress, cancel=cancel)
        predict_seconds += time.perf_counter() - started
        for position, record in enumerate(records):
            check_cancel(cancel)
            result = results[record.key]
            mask = _mask_of(record, result.native_shape)
            anomaly_map = result.native_map() if protocol == "native" else result.anomaly_map
            whole.add(
                result.score,
                record.is_anomalous,
                anomaly_map,
                mask,
                image_shape=result.native_shape,
                name=record.image_path,
            )
            if len(goods_ids) > 1:
                evaluator = per_goods.setdefault(record.group, CategoryEvaluator(protocol=protocol))
                evaluator.add(
                    result.score,
                    record.is_anomalous,
                    anomaly_map,
                    mask,
                    image_shape=result.native_shape,
                    name=record.image_path,
                )
            if progress is not None and (position % 16 == 0 or position == len(records) - 1):
                progress(Progress("evaluate", position + 1, len(records), f"{spec.method} on {category}"))
    method_name = spec.method if scope == "category" else f"{spec.method}/goods"
    rows = [ReportRow(category, method_name, whole.result(), label)]
    rows += [
        ReportRow(category, method_name, evaluator.result(), label, goods_id=goods_id)
        for goods_id, evaluator in sorted(per_goods.items())
    ]
    return CategoryOutcome(
        category, method_name, rows, fit_seconds, 1000 * predict_seconds / len(test), train_images, len(test), label
    )


def _mask_of(record: ImageRecord, native_shape: tuple[int, int]) -> npt.NDArray[np.bool_] | None:
    if record.mask_path is None:
        return None
    return read_mask(record.mask_path, shape=native_shape)


def evaluate_dataset(
    workspace: Workspace,
    specs: Sequence[MethodSpec],
    *,
    categories: Sequence[str] | None = None,
    protocol: str = "native",
    scope: str = "category",
    out_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> list[CategoryOutcome]:
    """Evaluate every method on every category (all by default) and, with ``out_dir``, write the report files
    (markdown, CSV, JSON) there."""
    names = list(categories) if categories else workspace.index.categories
    unknown = [name for name in names if name not in workspace.index.category_dirs]
    if unknown:
        raise StudioError(
            f"unknown categories {', '.join(unknown)}; this dataset has {', '.join(workspace.index.categories)}",
            workspace.index.root,
        )
    outcomes = [
        evaluate_category(workspace, spec, category, protocol=protocol, scope=scope, progress=progress, cancel=cancel)
        for spec in specs
        for category in names
    ]
    if out_dir is not None:
        rows = [row for outcome in outcomes for row in outcome.rows]
        write_report(rows, out_dir)
    return outcomes
