"""SPADE: kNN of whole images, then a pixel kNN against the feature pyramids of the K nearest training images (Cohen
& Hoshen, 2020). What fit and predict compute, defaults and deviations: README.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from goodsad_studio.errors import ModelFileError
from goodsad_studio.methods.api import Batch, Capability, GridScores, ImageSet, Method
from goodsad_studio.methods.components.bank import MemoryBank
from goodsad_studio.methods.components.embeddings import global_pool, goods_descriptor, pyramid
from goodsad_studio.methods.components.features import FEATURE_PARAMS, FeatureExtractor
from goodsad_studio.methods.components.nn_index import NeighbourIndex, make_index
from goodsad_studio.methods.persistence import require
from goodsad_studio.params import ParamSpec
from goodsad_studio.progress import NO_MONITOR, Monitor


class Spade(Method):
    name = "spade"
    description = "kNN of whole images, then pixel kNN against the K nearest training images' feature pyramids"
    roles = ("s4", "s8", "s16", "s32")
    inputs: FeatureExtractor
    capabilities = frozenset({Capability.TILING, Capability.GOODS_AWARE})
    params = [
        *FEATURE_PARAMS,
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

    def setup(self) -> None:
        self.inputs = FeatureExtractor.build(self.roles, self.hparams, self.setup_request)
        self.global_: np.ndarray | None = None
        """``N x C32`` float32: each training image's pooled stride-32 features."""
        self.images: NeighbourIndex | None = None
        self.pixels: MemoryBank | None = None
        """Every position of every training pyramid (float16 rows), owned by its image (photo ``str(i)``)."""
        self.pixel_index: NeighbourIndex | None = None
        self.grid = (0, 0)

    def fit(self, images: ImageSet, monitor: Monitor = NO_MONITOR) -> None:
        pooled: list[np.ndarray] = []
        pyramids: list[np.ndarray] = []
        for batch in self.inputs.batches(images, monitor, batch_size=self.batch_size):
            pooled.append(global_pool(batch.maps["s32"]).cpu().numpy().astype(np.float32))
            pyramids.append(pyramid(batch.maps).cpu().numpy().astype(np.float16))
        monitor.check("fitting")
        self._keep(np.concatenate(pooled), np.concatenate(pyramids))

    def _keep(self, global_: np.ndarray, pyramids: np.ndarray) -> None:
        n, h, w, c = pyramids.shape
        owner = np.repeat(np.arange(n, dtype=np.int32), h * w)
        pixels = MemoryBank(pyramids.reshape(n * h * w, c), owner, tuple(str(i) for i in range(n)))
        self.images, self.pixel_index = make_index("flat", global_), make_index("flat", pixels)
        self.global_, self.pixels, self.grid = global_, pixels, (h, w)

    @property
    def is_fitted(self) -> bool:
        return self.images is not None

    def describe(self, batch: Batch) -> np.ndarray:
        """The goods descriptor every goods-aware method shares (:func:`goods_descriptor`)."""
        return goods_descriptor(batch)

    def score(self, batch: Batch) -> GridScores:
        images, pixels, pixel_index = self.fitted(self.images), self.fitted(self.pixels), self.fitted(self.pixel_index)
        pooled = global_pool(batch.maps["s32"]).cpu().numpy()
        queries = pyramid(batch.maps).cpu().numpy().astype(np.float32)
        b, h, w, c = queries.shape
        if batch.among or batch.left_out:  # the K nearest among each image's chosen training images
            nearest_ids, image_scores = [], np.empty(b, np.float64)
            for i in range(b):
                chosen = batch.among[i] if batch.among else ()
                ids = np.unique(np.asarray(chosen, np.int64)) if chosen else np.arange(len(images), dtype=np.int64)
                kept = np.setdiff1d(ids, np.asarray(batch.left_out, np.int64))
                ids = kept if len(kept) else ids
                k = min(self.hparams["k_images"], len(ids))
                found = images.search(pooled[i : i + 1], k, among=ids)
                nearest_ids.append(found.ids[0])
                image_scores[i] = np.sqrt(found.dist2[0]).mean()
        else:
            k = min(self.hparams["k_images"], len(images))
            nearest = images.search(pooled, k)
            nearest_ids, image_scores = list(nearest.ids), np.sqrt(nearest.dist2).mean(1)
        maps = np.empty((b, h, w), np.float32)
        for i in range(b):
            among = pixels.rows_of(pixels.photos[j] for j in nearest_ids[i])  # every position of the K images
            found = pixel_index.search(queries[i].reshape(-1, c), self.hparams["kappa"], among=among)
            maps[i] = np.sqrt(found.dist2).mean(1).reshape(h, w)
        return GridScores(maps=maps, images=image_scores)

    def state(self) -> dict[str, np.ndarray]:
        global_, pixels = self.fitted(self.global_), self.fitted(self.pixels)
        return {"global": global_, "pyramid": pixels.rows.reshape(len(global_), *self.grid, -1)}

    def restore(self, arrays: dict[str, np.ndarray], where: Path) -> None:
        global_, pyramids = require(arrays, "global", where, 2), require(arrays, "pyramid", where, 4)
        spec = self.inputs.spec
        if (
            len(global_) != len(pyramids)
            or len(global_) == 0
            or global_.shape[1] != spec.channels["s32"]
            or pyramids.shape[3] != sum(spec.channels[r] for r in ("s4", "s8", "s16"))
        ):
            raise ModelFileError(
                f"SPADE state arrays do not fit {spec.name} (global {global_.shape}, pyramid {pyramids.shape})", where
            )
        self._keep(np.ascontiguousarray(global_, dtype=np.float32), np.ascontiguousarray(pyramids, dtype=np.float16))


__all__ = ["Spade"]
