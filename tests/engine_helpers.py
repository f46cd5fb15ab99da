"""What several engine and GUI test modules share: small deterministic plug-in methods defined in the tests (named
by import path, as a user's own method is), the small demo category the worker-process tests run on, and a
PatchCore configuration slow enough to cancel."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import ClassVar

import numpy as np

from goodsad_studio.engine.contract import MethodSpec
from goodsad_studio.errors import ModelFileError, WorkerError, by_code
from goodsad_studio.methods.api import Batch, GridScores, Method
from goodsad_studio.methods.components.features import FEATURE_PARAMS, FeatureExtractor
from goodsad_studio.params import ParamSpec
from goodsad_studio.progress import NO_MONITOR, Monitor, Stage

CATEGORY = "drink_can"
SLOW = MethodSpec("patchcore", {"coreset_ratio": 0.5, "coreset_dim": 2048})  # a long coreset after the features


def small_demo(dest: Path) -> Path:
    """One demo category of 160 px photos: 16 training and 8 test images over two goods ids."""
    from goodsad_studio.dataset.demo import generate_demo

    return generate_demo(
        dest,
        size=160,
        categories=[CATEGORY],
        goods_per_category=2,
        train_per_goods=8,
        test_good_per_goods=2,
        defective_per_goods=2,
    )


class MeanImageDistance(Method):
    """Distance of each pixel from the mean training image on a coarse grid: simple and exact. A plug-in, named
    by its import path (:data:`PLUGIN`), so the worker process imports it like any user's own method."""

    name: ClassVar[str] = "test-mean-distance"
    description: ClassVar[str] = "a test plug-in: distance from the mean training image"
    params: ClassVar[list[ParamSpec]] = [
        dataclasses.replace(FEATURE_PARAMS[0], default=32, min=8),
        *FEATURE_PARAMS[1:],
        ParamSpec("blur_sigma", "float", 0.0, min=0.0, max=8.0, help="map smoothing"),
    ]

    def setup(self) -> None:
        self.inputs = FeatureExtractor.build((), self.hparams, self.setup_request, normalize=False)
        self.mean: np.ndarray | None = None

    def fit(self, images, monitor: Monitor = NO_MONITOR) -> None:
        total, count = None, 0
        for batch in self.inputs.batches(images, monitor):
            pixels = batch.input.numpy().astype(np.float64)
            total = pixels.sum(axis=0) if total is None else total + pixels.sum(axis=0)
            count += len(batch)
        monitor.check()
        self.mean = (total / count).astype(np.float32)

    def score(self, batch: Batch) -> GridScores:
        distance = np.abs(batch.input.numpy() - self.fitted(self.mean)).mean(axis=1)
        return GridScores(distance, distance.reshape(len(batch), -1).max(axis=1))

    @property
    def is_fitted(self) -> bool:
        return self.mean is not None

    def state(self) -> dict[str, np.ndarray]:
        return {"mean": self.fitted(self.mean)}

    def restore(self, arrays: dict[str, np.ndarray], where: Path) -> None:
        if "mean" not in arrays:
            raise ModelFileError("state array 'mean' is missing", where)
        self.mean = arrays["mean"]


class Failing(MeanImageDistance):
    """A plug-in whose fit raises the error class registered under its ``code`` param (``"unexpected"``: a
    RuntimeError), naming ``/data/broken.png``: every error class, raised in the worker, reaches the studio."""

    name: ClassVar[str] = "test-failing"
    params: ClassVar[list[ParamSpec]] = [
        *MeanImageDistance.params,
        ParamSpec("code", "str", "unexpected", help="the error code to raise"),
    ]

    def fit(self, images, monitor: Monitor = NO_MONITOR) -> None:
        code = self.hparams["code"]
        cls = by_code(code)
        if cls is None:
            raise RuntimeError(f"raised on purpose ({code})")
        if cls is WorkerError:
            raise WorkerError("raised on purpose", "a traceback", "SomeError")
        raise cls("raised on purpose", "/data/broken.png")


class Stuck(MeanImageDistance):
    """A plug-in whose fit reports its first image, then runs one step that never returns and never looks at the
    cancel flag: what one huge torch operation looks like to the engine."""

    name: ClassVar[str] = "test-stuck"

    def fit(self, images, monitor: Monitor = NO_MONITOR) -> None:
        monitor.stage(Stage.FEATURES, 2)
        monitor.advance(1)
        time.sleep(3600)


class FailsOnce(MeanImageDistance):
    """A plug-in whose first fit fails (leaving the file its ``marker`` param names) and whose next one works: what
    a node that fails a task now and then looks like."""

    name: ClassVar[str] = "test-fails-once"
    params: ClassVar[list[ParamSpec]] = [
        *MeanImageDistance.params,
        ParamSpec("marker", "str", "", help="a file: absent, the fit creates it and fails"),
    ]

    def fit(self, images, monitor: Monitor = NO_MONITOR) -> None:
        marker = Path(self.hparams["marker"])
        if not marker.exists():
            marker.write_text("failed once")
            raise RuntimeError("failed on purpose, once")
        super().fit(images, monitor)


PLUGIN = "engine_helpers:MeanImageDistance"
FAILS_ONCE = "engine_helpers:FailsOnce"
FAILING = "engine_helpers:Failing"
STUCK = "engine_helpers:Stuck"
