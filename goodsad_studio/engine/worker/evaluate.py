"""Evaluation jobs: fit (or reuse) a model per category, predict the test split, compute the paper's metrics per
category and per goods id, and write the GoodsAD paper's tables.

The paper's protocol is one model per category; ``scope="goods"`` fits one model per goods id instead (GoodsAD
categories hold dozens of different goods) and evaluates each goods id's test images with its own model.

A category without ``ground_truth/`` (an image-level-only dataset, as MVTec-style sets without masks often are) is
evaluated at image level: the pixel metrics say "n/a (no masks)". A category with ground truth where a defective
image has no mask is refused, naming that image.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from goodsad_studio.dataset.imageio import read_mask
from goodsad_studio.dataset.index import ImageRecord
from goodsad_studio.engine.contract import CategoryOutcome, MethodSpec, Scope
from goodsad_studio.engine.worker.workspace import FittedModel, Workspace
from goodsad_studio.errors import MaskError, StudioError
from goodsad_studio.metrics.evaluate import CategoryEvaluator
from goodsad_studio.metrics.report import ReportRow
from goodsad_studio.progress import NO_MONITOR, Monitor, Stage


def _groups(workspace: Workspace, category: str, scope: Scope) -> list[str | None]:
    if scope == Scope.CATEGORY:
        return [None]
    if scope == Scope.GOODS:
        groups: list[str | None] = list(workspace.index.goods_ids(category))
        return groups
    raise StudioError(f"unknown scope {scope!r}: use {' or '.join(Scope)}")


def evaluate_category(
    workspace: Workspace,
    spec: MethodSpec,
    category: str,
    *,
    protocol: str = "native",
    scope: Scope = Scope.CATEGORY,
    batch_size: int = 8,
    monitor: Monitor = NO_MONITOR,
) -> tuple[CategoryOutcome, list[FittedModel]]:
    """Fit (or reuse) and evaluate ``spec`` on one category; see the module docstring for ``scope``. Returns the
    outcome and the models it used (one, or one per goods id)."""
    workspace.require_category(category)
    test = workspace.test_records(category)
    if not test:
        raise StudioError(f"no test images in category {category!r}", workspace.index.category_dirs.get(category))
    image_only = workspace.index.image_level_only(category)
    whole = CategoryEvaluator(protocol=protocol)
    per_goods: dict[str, CategoryEvaluator] = {}
    goods_ids = workspace.index.goods_ids(category)
    fit_seconds = predict_seconds = 0.0
    train_images = 0
    label = ""
    models: list[FittedModel] = []
    evaluated = 0
    for group in _groups(workspace, category, scope):
        monitor.check()
        model = workspace.fit(spec, category, goods_id=group, monitor=monitor)
        models.append(model)
        fit_seconds += model.fit_seconds
        train_images += model.train_images
        label = model.label
        records = test if group is None else [record for record in test if record.group == group]
        started = time.perf_counter()
        results = workspace.predict(model, records, batch_size=batch_size, monitor=monitor)
        predict_seconds += time.perf_counter() - started
        records = [record for record in records if record.key in results]  # skipped images have none
        monitor.stage(Stage.EVALUATE, len(records), f"{spec.method} on {category}")
        for position, record in enumerate(records):
            monitor.check()
            result = results[record.key]
            try:
                mask = None if image_only else _mask_of(record, result.native_shape)
            except MaskError as exc:
                workspace.skip(exc.path or record.image_path, f"its mask cannot be used: {exc.problem}")
                continue
            evaluated += 1
            anomaly_map = None if image_only else result.native_map() if protocol == "native" else result.anomaly_map
            evaluators = [whole]
            if len(goods_ids) > 1:
                evaluators.append(per_goods.setdefault(record.group, CategoryEvaluator(protocol=protocol)))
            for evaluator in evaluators:
                evaluator.add(
                    result.score,
                    record.is_anomalous,
                    anomaly_map,
                    mask,
                    image_shape=result.native_shape,
                    name=record.image_path,
                )
            if position % 16 == 0 or position == len(records) - 1:
                monitor.advance(position + 1)
    if not evaluated:
        raise StudioError(
            f"nothing of category {category!r} could be evaluated: all {len(test)} test images were skipped "
            f"({'; '.join(f'{p} — {r}' for p, r in list(workspace.skipped.items())[:3])})",
            workspace.index.category_dirs.get(category),
        )
    method_name = spec.method if scope == Scope.CATEGORY else f"{spec.method}/goods"
    rows = [ReportRow(category, method_name, whole.result(), label)]
    rows += [
        ReportRow(category, method_name, evaluator.result(), label, goods_id=goods_id)
        for goods_id, evaluator in sorted(per_goods.items())
    ]
    outcome = CategoryOutcome(
        category,
        method_name,
        rows,
        fit_seconds,
        1000 * predict_seconds / evaluated,
        train_images,
        evaluated,
        label,
        skipped=workspace.skipped_report(),
    )
    return outcome, models


def _mask_of(record: ImageRecord, native_shape: tuple[int, int]) -> npt.NDArray[np.bool_] | None:
    if record.mask_path is None:
        return None
    return read_mask(record.mask_path, shape=native_shape)
