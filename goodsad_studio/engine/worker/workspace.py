"""Fit and predict over a dataset index, with saved models and the results cache (the worker side of the engine).

A :class:`Workspace` is one dataset's engine state. Where models and results live is :mod:`..layout`'s business.
The model key hashes the method's config (method, parameters, backbone, weights checksum) together with the
training images (their names, sizes and modification times), so a model is refitted exactly when something that
shapes it changed.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goodsad_studio.dataset.imageio import ImageInfo, file_problem, probe_image
from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.engine.cache import (
    MAX_STORED_SIDE,
    NATIVE_STORED_SIDE,
    CachedResult,
    ResultsCache,
    file_signature,
    model_key,
)
from goodsad_studio.engine.contract import MethodSpec, ModelSummary
from goodsad_studio.engine.records import OpenDataset
from goodsad_studio.engine.worker.images import LazyImages
from goodsad_studio.engine.worker.views import ViewedMethod
from goodsad_studio.errors import ImageReadError, StudioError
from goodsad_studio.methods.persistence import CONFIG_FILE
from goodsad_studio.native.crop import scale_box
from goodsad_studio.native.spec import AUTO, ViewRequest, ViewSpec, resolve
from goodsad_studio.progress import NO_MONITOR, Monitor, Stage

if TYPE_CHECKING:
    from goodsad_studio.methods import Method


def create_method(spec: MethodSpec) -> Method:
    """A new instance of ``spec``'s method (a built-in name or a plug-in's ``module:Class``)."""
    from goodsad_studio.methods import create_method as create

    return create(spec.method, backbone=spec.backbone, device=spec.device, weights=spec.weights, **spec.params)


@dataclass
class FittedModel:
    """A fitted method (seen through its view) with its key (for the cache), where it is saved, and what fitting
    it cost."""

    method: ViewedMethod
    spec: MethodSpec
    key: str
    directory: Path
    category: str
    goods_id: str | None
    train_images: int
    fit_seconds: float
    reused: bool

    @property
    def label(self) -> str:
        return str(self.method.info)

    @property
    def summary(self) -> ModelSummary:
        return ModelSummary(
            self.key,
            self.directory,
            self.spec.method,
            self.category,
            self.goods_id,
            self.label,
            self.train_images,
            self.fit_seconds,
            self.reused,
        )


MAX_FIT_RETRIES = 8
"""How many training images that turn out undecodable one fit drops (refitting without each) before it gives up."""


class Workspace(OpenDataset):
    """The engine's working view of one dataset: fits and predicts over its records, into its state folder.

    An image that cannot be used — refused by its header or end markers (:func:`file_problem`) before any work,
    or failing to decode during it — is skipped, and ``skipped`` (path -> reason) says which and why; a job
    fails only when no image is left to work on.
    """

    def __init__(self, index: DatasetIndex, state_dir: str | Path | None = None):
        super().__init__(index, state_dir)
        self.skipped: dict[Path, str] = {}

    def skip(self, path: Path, reason: str) -> None:
        self.skipped.setdefault(path, reason)

    def usable(self, records: Sequence[ImageRecord]) -> list[ImageRecord]:
        """The records whose image files look usable; the others are added to ``skipped``."""
        kept = []
        for record in records:
            if record.image_path in self.skipped:
                continue
            problem = file_problem(record.image_path)
            if problem:
                self.skip(record.image_path, problem)
            else:
                kept.append(record)
        return kept

    def skipped_report(self) -> tuple[tuple[str, str], ...]:
        return tuple((str(path), reason) for path, reason in self.skipped.items())

    def _identity(
        self, method: ViewedMethod, category: str, goods_id: str | None, records: Sequence[ImageRecord]
    ) -> dict[str, Any]:
        training = [(record.key, file_signature(record.image_path)) for record in records]
        return {"config": method.config(), "category": category, "goods_id": goods_id, "training": training}

    def fit(
        self,
        spec: MethodSpec,
        category: str,
        *,
        goods_id: str | None = None,
        reuse: bool = True,
        monitor: Monitor = NO_MONITOR,
    ) -> FittedModel:
        """Fit ``spec`` on the category's (or goods id's) normal training images and save it; a model already saved
        with the same key is loaded instead when ``reuse``."""
        self.require_category(category)
        records = self.training_records(category, goods_id)
        for _attempt in range(MAX_FIT_RETRIES + 1):
            records = self.usable(records)
            if not records:
                where = f"{category}" + (f"/{goods_id}" if goods_id else "")
                raise StudioError(
                    f"no usable training image left for {where}: {len(self.skipped)} skipped "
                    f"({'; '.join(f'{p} — {r}' for p, r in list(self.skipped.items())[:3])})",
                    self.index.category_dirs.get(category),
                )
            try:
                return self._fit_records(spec, category, goods_id, records, reuse, monitor)
            except ImageReadError as exc:  # damaged pixel data the header check could not see
                if exc.path is None or exc.path not in {record.image_path for record in records}:
                    raise
                self.skip(exc.path, exc.problem)
        raise StudioError(f"more than {MAX_FIT_RETRIES} training images of {category} failed to decode; fix them")

    def _fit_records(
        self,
        spec: MethodSpec,
        category: str,
        goods_id: str | None,
        records: list[ImageRecord],
        reuse: bool,
        monitor: Monitor,
    ) -> FittedModel:
        bare = create_method(spec)
        method = ViewedMethod(bare, self.view_for(spec, bare, records), spec.goods)
        key = model_key(self._identity(method, category, goods_id, records))
        directory = self.layout.model_dir(category, goods_id, spec.method, key)
        if reuse and (directory / CONFIG_FILE).is_file():
            try:
                loaded = ViewedMethod.load(
                    type(bare), directory, method.view, device=spec.device, weights=spec.weights, goods=spec.goods
                )
                return FittedModel(loaded, spec, key, directory, category, goods_id, len(records), 0.0, True)
            except StudioError:
                pass  # an unreadable or outdated saved model is refitted and replaced
        monitor.check()
        checkpoints = self.layout.checkpoints_of(directory)
        where = f"{spec.method} on {category}" + (f"/{goods_id}" if goods_id else "")
        if method.view.active:
            where += f" ({method.view})"
        if method.goods.active:
            where += f" ({method.goods})"
        started = time.perf_counter()
        method.fit(
            LazyImages(records, method.decode_side()),
            monitor.derive(checkpoint_dir=checkpoints, detail=where),
            keys=[record.key for record in records],
            goods=[record.goods_id for record in records],
        )
        seconds = time.perf_counter() - started
        method.save(directory)
        shutil.rmtree(checkpoints, ignore_errors=True)  # the saved model supersedes them (folder and all)
        return FittedModel(method, spec, key, directory, category, goods_id, len(records), seconds, False)

    def view_for(self, spec: MethodSpec, method: Method, records: Sequence[ImageRecord]) -> ViewSpec:
        """The view ``spec`` asks for, its ``auto`` parts resolved from the training photos' median shorter side
        (read from the file headers). A restricted goods-aware comparison scores whole photos, so ``auto`` is the
        plain view there (calibration alone works through any view)."""
        if spec.view.is_plain or (spec.goods.restricted and spec.view == ViewRequest(AUTO, AUTO)):
            return ViewSpec()
        sides = sorted(min(info.width, info.height) for info in map(_probe, records))
        median = sides[len(sides) // 2] if sides else 0
        return resolve(spec.view, median, int(method.hparams.get("image_size") or 224))

    def cache_for(self, model: FittedModel) -> ResultsCache:
        return ResultsCache(
            self.layout.cache_dir,
            model.key,
            {
                "model": str(model.directory),
                "method": model.spec.method,
                "info": model.label,
                "config": model.method.config(),
            },
        )

    def predict(
        self,
        model: FittedModel,
        records: Sequence[ImageRecord],
        *,
        batch_size: int = 8,
        monitor: Monitor = NO_MONITOR,
        use_cache: bool = True,
    ) -> dict[str, CachedResult]:
        """Score and map every record, reading the cache first; returns results by record key."""
        cache = self.cache_for(model)
        results: dict[str, CachedResult] = {}
        todo: list[ImageRecord] = []
        for record in self.usable(records):
            cached = cache.get(record) if use_cache else None
            if cached is not None:
                results[record.key] = cached
            else:
                todo.append(record)
        monitor.stage(Stage.PREDICT, len(results) + len(todo), f"{len(results)} from the cache")
        monitor.advance(len(results), f"{len(results)} from the cache")
        viewed = model.method
        max_side = NATIVE_STORED_SIDE if viewed.view.active else MAX_STORED_SIDE
        images = LazyImages(todo, viewed.decode_side()).outcomes()
        for start in range(0, len(todo), batch_size):
            monitor.check()
            batch, arrays = [], []
            for record, outcome in zip(todo[start : start + batch_size], images, strict=False):
                if isinstance(outcome, StudioError):
                    self.skip(record.image_path, outcome.problem)
                else:
                    batch.append(record)
                    arrays.append(outcome)
            if not batch:
                continue
            predictions = viewed.predict(arrays, monitor, goods=[record.goods_id for record in batch])
            for record, array, prediction in zip(batch, arrays, predictions, strict=True):
                info = probe_image(record.image_path)
                shape = (info.height, info.width)
                factor = info.width / max(1, array.shape[1])  # a reduced decode's boxes in the photo's pixels
                crop = None if prediction.crop is None else scale_box(prediction.crop, factor, shape)
                tiles = tuple(scale_box(tile, factor, shape) for tile in prediction.tiles)
                results[record.key] = cache.put(
                    record,
                    prediction.score,
                    prediction.anomaly_map,
                    shape,
                    crop=crop,
                    tiles=tiles,
                    max_side=max_side,
                    neighbours=prediction.neighbours,
                    calibrated=prediction.calibrated,
                )
            monitor.advance(len(results), batch[-1].key)
        return results


def _probe(record: ImageRecord) -> ImageInfo:
    return probe_image(record.image_path)
