"""GDE: one Gaussian of globally pooled backbone features, an image-level baseline (CutPaste's density estimate
without the fine-tuning). The worked example of methods/README.md; what it computes: README.md here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from goodsad_studio.methods.api import Batch, Capability, GridScores, ImageSet, Method
from goodsad_studio.methods.components.embeddings import global_pool, to_rows
from goodsad_studio.methods.components.features import FEATURE_PARAMS, FeatureExtractor
from goodsad_studio.methods.components.gaussian import Gaussian, LedoitWolf
from goodsad_studio.params import ParamSpec
from goodsad_studio.progress import NO_MONITOR, Monitor


class GlobalGaussian(Method):
    name = "gde"
    description = "Gaussian of pooled s32 features: Mahalanobis image score, the same distance per position as map"
    roles = ("s32",)
    inputs: FeatureExtractor
    capabilities = frozenset({Capability.TILING})
    params = [
        *FEATURE_PARAMS,
        ParamSpec("eps", "float", 1e-6, min=0.0, max=1.0, help="added to the shrunk covariance's diagonal"),
        ParamSpec("blur_sigma", "float", 4.0, min=0.0, max=64.0, help="Gaussian smoothing of the map, input pixels"),
    ]

    def setup(self) -> None:
        self.inputs = FeatureExtractor.build(self.roles, self.hparams, self.setup_request)
        self.gaussian: Gaussian | None = None

    def fit(self, images: ImageSet, monitor: Monitor = NO_MONITOR) -> None:
        batches = self.inputs.batches(images, monitor, batch_size=self.batch_size)
        pooled = [global_pool(batch.maps["s32"]).double().cpu() for batch in batches]
        monitor.check("fitting")
        self.gaussian = Gaussian.from_samples(torch.cat(pooled), LedoitWolf(eps=self.hparams["eps"]))

    @property
    def is_fitted(self) -> bool:
        return self.gaussian is not None

    def score(self, batch: Batch) -> GridScores:
        gaussian = self.fitted(self.gaussian)  # NotFittedError naming the method while None
        fmap = batch.maps["s32"].double().cpu()  # B x C x h x w
        b, _, h, w = fmap.shape
        image = gaussian.mahalanobis(global_pool(fmap)[:, None])[:, 0]
        grid = gaussian.mahalanobis(to_rows(fmap.permute(0, 2, 3, 1))[:, None]).reshape(b, h, w)
        return GridScores(maps=grid.float(), images=image.numpy())

    def state(self) -> dict[str, np.ndarray]:
        return self.fitted(self.gaussian).state("gde/")

    def restore(self, arrays: dict[str, np.ndarray], where: Path) -> None:
        self.gaussian = Gaussian.from_state(arrays, where, "gde/")


__all__ = ["GlobalGaussian"]
