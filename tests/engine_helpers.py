"""What several engine and GUI test modules share: a small deterministic method defined in the tests (no torch;
registered at run time like a plug-in), the small demo category the worker-process tests run on, and a PatchCore
configuration slow enough to cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

from goodsad_studio.engine.jobs import MethodSpec
from goodsad_studio.errors import Cancelled
from goodsad_studio.methods.base import AnomalyMethod, MethodInfo, Prediction
from goodsad_studio.params import ParamSpec

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


GRID = 16


class MeanImageDistance(AnomalyMethod):
    """Distance of each pixel from the mean training image at a coarse grid: simple, exact, torch-free."""

    name: ClassVar[str] = "test-mean-distance"
    params: ClassVar[list[ParamSpec]] = [ParamSpec("image_size", "int", 32, min=8, max=256, help="grid side")]
    fits = 0

    def __init__(self, **kwargs: Any):
        kwargs.pop("backbone", None), kwargs.pop("device", None), kwargs.pop("weights", None)
        super().__init__(**kwargs)
        self.mean: np.ndarray | None = None

    def _small(self, image):
        side = self.hparams["image_size"]
        return cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)

    def fit(self, images, *, progress=None, cancel=None):
        total, acc = len(images), None
        for done, image in enumerate(images, 1):
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled")
            small = self._small(image)
            acc = small if acc is None else acc + small
            if progress:
                progress(done, total)
        self.mean = acc / total
        type(self).fits += 1

    def predict(self, images):
        out = []
        for image in images:
            distance = np.abs(self._small(image) - self.mean).mean(axis=2)
            full = cv2.resize(distance, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
            out.append(Prediction(float(distance.max()), full.astype(np.float32)))
        return out

    @property
    def is_fitted(self):
        return self.mean is not None

    @property
    def info(self):
        return MethodInfo(self.name, "none", "no weights", "cpu")

    def _config_extra(self):
        return {"backbone": "none"}

    def _state_arrays(self):
        return {"mean": self.mean}

    def _load_state_arrays(self, arrays, path):
        self.mean = arrays["mean"]
