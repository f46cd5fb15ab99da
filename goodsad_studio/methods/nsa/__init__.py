"""NSA, Natural Synthetic Anomalies: a ResNet-18 segmenter trained on Poisson-blended patches of other normal images
(Schlüter, Tan, Hou, Kainz, ECCV 2022). What fit and predict compute, defaults and deviations: README.md; the
network: model.py."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from goodsad_studio.errors import SyntheticAnomalyError
from goodsad_studio.methods.api import Batch, Capability, GridScores
from goodsad_studio.methods.components.schedules import Schedule, cosine
from goodsad_studio.methods.components.synthetic import nsa_logistic_label, nsa_patch_blend
from goodsad_studio.methods.components.training import StepContext, TrainedMethod, training_params
from goodsad_studio.methods.nsa.model import ResNet18EncDec
from goodsad_studio.params import ParamSpec
from goodsad_studio.progress import Monitor


class Nsa(TrainedMethod[ResNet18EncDec]):
    name = "nsa"
    description = "ResNet-18 segmenter trained on Poisson-blended patches of other normal images"
    roles = ()
    params = [
        *training_params(epochs=320, batch_size=64, lr=1e-3, image_size=224, blur_sigma=0.0),
        ParamSpec("min_lr", "float", 1e-6, min=0.0, max=1.0, help="end of the cosine schedule (reference 1e-6)"),
        ParamSpec("width", "int", 64, min=2, max=512, help="ResNet-18 base width (64 = ResNet-18)"),
        ParamSpec("max_patches", "int", 3, min=1, max=10, help="patches per image, first always, others p=0.5"),
        ParamSpec("logistic_k", "float", 1 / 12, min=1e-4, max=10.0, help="slope of the logistic label"),
        ParamSpec("logistic_x0", "float", 24.0, min=0.0, max=255.0, help="grey-level change where the label is 0.5"),
        ParamSpec("mixed_clone", "bool", False, help="Poisson blending keeps the stronger gradient (MIXED_CLONE)"),
    ]
    capabilities = frozenset({Capability.CHECKPOINTS})

    def setup(self) -> None:
        super().setup()
        self._sources: np.ndarray | None = None

    def build_model(self) -> ResNet18EncDec:
        return ResNet18EncDec(self.hparams["width"])

    def build_optimizers(self, model: ResNet18EncDec) -> dict[str, torch.optim.Optimizer]:
        return {"adam": torch.optim.Adam(model.parameters(), lr=self.hparams["lr"])}

    def schedule(self) -> Schedule:
        """A cosine from ``lr`` down to ``min_lr`` over the steps."""
        p = self.hparams
        return cosine(p["lr"], p["min_lr"], fraction_angle=True)

    def training_data(self, images: np.ndarray, monitor: Monitor) -> dict[str, np.ndarray]:
        self._sources = images  # patches come from any other training image
        return {"image": images, "index": np.arange(len(images))}

    def synthesize(
        self, images: np.ndarray, indices: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Augmented uint8 images and their float32 logistic labels; the source of each is another image."""
        p = self.hparams
        if self._sources is None:
            raise RuntimeError("nsa: synthesize() needs the training images (training_data) first")
        pool = self._sources
        augmented, labels = [], []
        for image, own in zip(images, indices, strict=False):
            choices = len(pool) - 1
            other = int(rng.integers(choices)) if choices else int(own)
            other = other + 1 if choices and other >= own else other
            try:
                out, mask = nsa_patch_blend(
                    image, rng, pool[other], max_patches=p["max_patches"], mixed=p["mixed_clone"]
                )
                label = nsa_logistic_label(image, out, mask, p["logistic_k"], p["logistic_x0"])
            except SyntheticAnomalyError:  # identical source and target: a normal example
                out, label = image, np.zeros(image.shape[:2], np.float32)
            augmented.append(out)
            labels.append(label)
        return np.stack(augmented), np.stack(labels)

    def step(self, ctx: StepContext[ResNet18EncDec], batch: Mapping[str, np.ndarray]) -> dict[str, float]:
        lr = ctx.lr
        assert lr is not None  # the schedule above sets it
        augmented, labels = self.synthesize(np.asarray(batch["image"]), np.asarray(batch["index"]), ctx.rng)
        logits = ctx.model(self.to_input(augmented))
        loss = F.binary_cross_entropy_with_logits(logits, torch.from_numpy(labels).to(self.device))
        ctx.update(loss)
        return {"loss": loss.item(), "lr": lr}

    def infer(self, model: ResNet18EncDec, batch: Batch) -> GridScores:
        maps = torch.sigmoid(model(batch.input))
        return GridScores(maps=maps, images=maps.flatten(1).mean(1))  # the paper's image score: the map's mean


__all__ = ["Nsa", "ResNet18EncDec"]
