"""SPADE (Cohen & Hoshen, "Sub-Image Anomaly Detection with Deep Pyramid Correspondences", 2020).

Image level: the globally average-pooled last feature map (stride 32) of every training image is kept; a test
image's score is its mean L2 distance to the ``k_images`` (K, paper: 50; capped by the training-set size) nearest
training images.

Pixel level: a feature pyramid per position — the stride-4, -8 and -16 maps brought to one grid and concatenated.
For a test image, the gallery is every position of its K nearest training images; a position's anomaly score is
its mean distance to its ``kappa`` (paper: 1) nearest gallery features. The map is upsampled and smoothed
(Gaussian, sigma 4), as in the paper.

Deviation, for memory: the pyramid is kept on the stride-8 grid (28 x 28 at 224 px; the stride-4 map is
average-pooled 2x2) instead of the stride-4 grid, and stored in float16 — 4x fewer features to store and search
(wide_resnet50_2 on 761 images: 2.1 GB instead of 34 GB).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import torch
import torch.nn.functional as F

import goodsad_studio.methods.knn  # noqa: F401  (sets faiss' BLAS threshold)
from goodsad_studio.errors import ModelFileError, NotFittedError
from goodsad_studio.methods.backbone_method import BackboneMethod, check_cancel
from goodsad_studio.methods.base import Prediction, ProgressFn
from goodsad_studio.methods.params import ParamSpec
from goodsad_studio.methods.preprocess import PREPROCESS_PARAMS
from goodsad_studio.methods.registry import register_method


@register_method
class Spade(BackboneMethod):
    name = "spade"
    description = "kNN of whole images, then pixel kNN against the K nearest training images' feature pyramids"
    roles = ("s4", "s8", "s16", "s32")
    params = [
        *PREPROCESS_PARAMS,
        ParamSpec(
            "k_images",
            "int",
            50,
            min=1,
            max=10000,
            help="K nearest training images for the image score and the pixel gallery (paper: 50)",
        ),
        ParamSpec("kappa", "int", 1, min=1, max=100, help="nearest gallery features averaged per pixel (paper: 1)"),
        ParamSpec("blur_sigma", "float", 4.0, min=0.0, max=64.0, help="Gaussian smoothing of the map (paper: 4)"),
    ]

    def __init__(self, *, backbone: str = "auto", device: str = "auto", weights: str = "auto", **params: Any):
        super().__init__(backbone=backbone, device=device, weights=weights, **params)
        self._global: np.ndarray | None = None  # N x C32 float32
        self._pyramid: np.ndarray | None = None  # N x h x w x C float16

    @staticmethod
    def global_features(features: dict[str, torch.Tensor]) -> torch.Tensor:
        return features["s32"].mean(dim=(2, 3))

    @staticmethod
    def pyramid(features: dict[str, torch.Tensor]) -> torch.Tensor:
        """``B x h x w x C`` pyramid features on the stride-8 grid."""
        mid = features["s8"]
        size = (mid.shape[-2], mid.shape[-1])
        fine = F.adaptive_avg_pool2d(features["s4"], size)
        coarse = F.interpolate(features["s16"], size=size, mode="bilinear", align_corners=False)
        return torch.cat([fine, mid, coarse], dim=1).permute(0, 2, 3, 1)

    def fit(
        self, images: Iterable[np.ndarray], *, progress: ProgressFn | None = None, cancel: threading.Event | None = None
    ) -> None:
        globals_: list[np.ndarray] = []
        pyramids: list[np.ndarray] = []
        for features, _ in self.iter_feature_batches(images, progress=progress, cancel=cancel):
            globals_.append(self.global_features(features).cpu().numpy().astype(np.float32))
            pyramids.append(self.pyramid(features).cpu().numpy().astype(np.float16))
        check_cancel(cancel, "fitting")
        self._global, self._pyramid = np.concatenate(globals_), np.concatenate(pyramids)

    @property
    def is_fitted(self) -> bool:
        return self._global is not None

    def predict(self, images: Sequence[np.ndarray]) -> list[Prediction]:
        if self._global is None or self._pyramid is None:
            raise NotFittedError("SPADE has not been fitted: call fit() or load a saved model first")
        k = min(self.hparams["k_images"], len(self._global))
        kappa = self.hparams["kappa"]
        results: list[Prediction] = []
        for begin in range(0, len(images), self.batch_size):
            features, shapes = self.features(images[begin : begin + self.batch_size], begin)
            queries = np.ascontiguousarray(self.global_features(features).cpu().numpy(), dtype=np.float32)
            dist2, nearest = faiss.knn(queries, self._global, k)
            image_scores = np.sqrt(np.maximum(dist2, 0)).mean(1)
            pyramid = self.pyramid(features).cpu().numpy().astype(np.float32)
            for i, shape in enumerate(shapes):
                h, w, c = pyramid[i].shape
                gallery = np.ascontiguousarray(self._pyramid[np.sort(nearest[i])].reshape(-1, c), dtype=np.float32)
                pixel_d2, _ = faiss.knn(
                    np.ascontiguousarray(pyramid[i].reshape(-1, c)), gallery, min(kappa, len(gallery))
                )
                grid_map = np.sqrt(np.maximum(pixel_d2, 0)).mean(1).reshape(h, w)
                heat = self.preprocess.map_to_image(grid_map, shape, self.hparams["blur_sigma"])
                results.append(Prediction(float(image_scores[i]), heat))
        return results

    def _state_arrays(self) -> dict[str, np.ndarray]:
        assert self._global is not None and self._pyramid is not None
        return {"global": self._global, "pyramid": self._pyramid}

    def _load_state_arrays(self, arrays: dict[str, np.ndarray], path: Path) -> None:
        global_ = self._require(arrays, "global", path, ndim=2)
        pyramid = self._require(arrays, "pyramid", path, ndim=4)
        spec = self.backbone_spec
        if (
            len(global_) != len(pyramid)
            or len(global_) == 0
            or global_.shape[1] != spec.channels["s32"]
            or pyramid.shape[3] != sum(spec.channels[r] for r in ("s4", "s8", "s16"))
        ):
            raise ModelFileError(
                f"SPADE state arrays do not fit {spec.name} (global {global_.shape}, pyramid {pyramid.shape})", path
            )
        self._global = np.ascontiguousarray(global_, dtype=np.float32)
        self._pyramid = np.ascontiguousarray(pyramid, dtype=np.float16)
