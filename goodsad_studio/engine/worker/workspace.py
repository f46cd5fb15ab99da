"""Fit and predict jobs over a dataset index, with progress, cancellation, saved models and the results cache.

A :class:`Workspace` is one dataset's engine state. Models live in ``<state dir>/models/<category>/<goods>/
<method>-<key>/`` (safetensors + JSON), results in ``<state dir>/cache/<key>/``, where ``<state dir>`` is
``<root>/.goodsad-studio`` or, for a read-only dataset, a folder in the user's data dir
(:func:`goodsad_studio.paths.dataset_state_dir`). The model key hashes the method's config (method, parameters,
backbone, weights checksum) together with the training images (their names, sizes and modification times), so a
model is refitted exactly when something that shapes it changed.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goodsad_studio.dataset.imageio import probe_image
from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.dataset.names import GOOD
from goodsad_studio.engine.cache import CachedResult, ResultsCache, file_signature, model_key
from goodsad_studio.engine.images import LazyImages
from goodsad_studio.errors import StudioError
from goodsad_studio.paths import dataset_state_dir

if TYPE_CHECKING:
    from goodsad_studio.methods.base import AnomalyMethod


@dataclass(frozen=True)
class Progress:
    """A job's progress: ``stage`` ("fit", "predict", "evaluate"), ``done`` of ``total`` items, and a detail line."""

    stage: str
    done: int
    total: int
    detail: str = ""


ProgressFn = Callable[[Progress], None]


@dataclass(frozen=True)
class MethodSpec:
    """Which method to run and how: the registry name, its parameters, backbone, weights and device requests."""

    method: str
    params: dict[str, Any] = field(default_factory=dict)
    backbone: str = "auto"
    weights: str = "auto"
    device: str = "auto"

    def create(self) -> AnomalyMethod:
        from goodsad_studio.methods.registry import create_method

        return create_method(
            self.method, backbone=self.backbone, device=self.device, weights=self.weights, **self.params
        )


@dataclass
class FittedModel:
    """A fitted method with its key (for the cache), where it is saved, and what fitting it cost."""

    method: AnomalyMethod
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


def check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        from goodsad_studio.errors import Cancelled

        raise Cancelled("cancelled by the user")


class Workspace:
    """The engine's view of one dataset: its index, where models and results are kept."""

    def __init__(self, index: DatasetIndex, state_dir: str | Path | None = None):
        self.index = index
        self.state_dir = Path(state_dir) if state_dir is not None else dataset_state_dir(index.root)

    @property
    def models_dir(self) -> Path:
        return self.state_dir / "models"

    @property
    def cache_dir(self) -> Path:
        return self.state_dir / "cache"

    def training_records(self, category: str, goods_id: str | None = None) -> list[ImageRecord]:
        records = self.index.filter(category=category, split="train", defect=GOOD, goods_id=goods_id)
        if not records:
            where = f"category {category!r}" + (f", goods id {goods_id}" if goods_id else "")
            raise StudioError(f"no training images (train/good) for {where}", self.index.category_dirs.get(category))
        return records

    def test_records(self, category: str, goods_id: str | None = None) -> list[ImageRecord]:
        return self.index.filter(category=category, split="test", goods_id=goods_id)

    def _identity(
        self, method: AnomalyMethod, category: str, goods_id: str | None, records: Sequence[ImageRecord]
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
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> FittedModel:
        """Fit ``spec`` on the category's (or goods id's) normal training images and save it; a model already saved
        with the same key is loaded instead when ``reuse``."""
        from goodsad_studio.methods.base import AnomalyMethod

        method = spec.create()
        records = self.training_records(category, goods_id)
        key = model_key(self._identity(method, category, goods_id, records))
        directory = self.models_dir / category / (goods_id or "all") / f"{spec.method}-{key}"
        if reuse and (directory / "method.json").is_file():
            try:
                loaded = AnomalyMethod.load(directory, device=spec.device, weights=spec.weights)
                return FittedModel(loaded, key, directory, category, goods_id, len(records), 0.0, True)
            except StudioError:
                pass  # an unreadable or outdated saved model is refitted and replaced
        check_cancel(cancel)
        if hasattr(method, "checkpoint_dir"):
            # trained methods checkpoint beside their model: a cancelled or killed fit resumes from there
            method.checkpoint_dir = directory.with_name(directory.name + ".checkpoints")
        images = LazyImages(records, _image_size(method))

        def on_progress(done: int, total: int) -> None:
            if progress is not None:
                progress(Progress("fit", done, total or len(records), f"{spec.method} on {category}"))

        started = time.perf_counter()
        method.fit(images, progress=on_progress, cancel=cancel)
        seconds = time.perf_counter() - started
        method.save(directory)
        checkpoint_dir = getattr(method, "checkpoint_dir", None)
        if checkpoint_dir is not None:
            shutil.rmtree(checkpoint_dir, ignore_errors=True)  # the saved model supersedes them
        return FittedModel(method, key, directory, category, goods_id, len(records), seconds, False)

    def cache_for(self, model: FittedModel) -> ResultsCache:
        return ResultsCache(
            self.cache_dir,
            model.key,
            {"model": str(model.directory), "info": model.label, "config": model.method.config()},
        )

    def predict(
        self,
        model: FittedModel,
        records: Sequence[ImageRecord],
        *,
        batch_size: int = 8,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        use_cache: bool = True,
    ) -> dict[str, CachedResult]:
        """Score and map every record, reading the cache first; returns results by record key."""
        cache = self.cache_for(model)
        results: dict[str, CachedResult] = {}
        todo: list[ImageRecord] = []
        for record in records:
            cached = cache.get(record) if use_cache else None
            if cached is not None:
                results[record.key] = cached
            else:
                todo.append(record)
        total = len(records)
        if progress is not None:
            progress(Progress("predict", len(results), total, f"{len(results)} from the cache"))
        images = iter(LazyImages(todo, _image_size(model.method)))
        for start in range(0, len(todo), batch_size):
            check_cancel(cancel)
            batch = todo[start : start + batch_size]
            arrays = [next(images) for _ in batch]
            for record, prediction in zip(batch, model.method.predict(arrays), strict=False):
                info = probe_image(record.image_path)
                results[record.key] = cache.put(
                    record, prediction.score, prediction.anomaly_map, (info.height, info.width)
                )
            if progress is not None:
                progress(Progress("predict", len(results), total, record.key))
        return results


def _image_size(method: AnomalyMethod) -> int:
    return int(getattr(method, "hparams", {}).get("image_size") or 224)
