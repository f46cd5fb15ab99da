"""CutPaste: a CNN fine-tuned to tell CutPaste and scar augmentations apart, a Gaussian density of its pooled
representations as the image score, GradCAM as the map (Li, Sohn, Yoon, Pfister, CVPR 2021). What fit and predict
compute, defaults and deviations: README.md; the network: model.py."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from goodsad_studio.errors import SyntheticAnomalyError
from goodsad_studio.methods.api import Batch, Capability, GridScores
from goodsad_studio.methods.components.backbones import build_network, get_backbone
from goodsad_studio.methods.components.embeddings import global_pool
from goodsad_studio.methods.components.gaussian import Gaussian, LedoitWolf
from goodsad_studio.methods.components.schedules import Schedule, cosine
from goodsad_studio.methods.components.synthetic import cutpaste, cutpaste_scar
from goodsad_studio.methods.components.training import StepContext, TrainedMethod, training_params
from goodsad_studio.methods.cutpaste.model import CutPasteModel, trunk_of
from goodsad_studio.params import ParamSpec

GDE_SHRINK = LedoitWolf(eps=1e-6)
"""The density's covariance: Ledoit-Wolf shrinkage (as scikit-learn's), plus 1e-6 on the diagonal."""


class CutPaste(TrainedMethod[CutPasteModel]):
    name = "cutpaste"
    description = "CNN fine-tuned to tell CutPaste/scar augmentations apart; Gaussian density score, GradCAM map"
    roles = ("s32",)
    params = [
        *training_params(epochs=256, batch_size=96, lr=0.03, image_size=256),
        ParamSpec("momentum", "float", 0.9, min=0.0, max=0.999, help="SGD momentum (paper 0.9)"),
        ParamSpec("weight_decay", "float", 3e-5, min=0.0, max=1.0, help="SGD weight decay (paper 3e-5)"),
        ParamSpec("head_width", "int", 512, min=8, max=4096, help="projection head width"),
    ]
    capabilities = frozenset({Capability.CHECKPOINTS})

    def setup(self) -> None:
        request = self.setup_request
        if request.backbone == "auto" and request.weights in ("auto", "random"):
            has_resnet18 = request.weights == "random" or get_backbone("resnet18").has_weights()
            backbone = "resnet18" if has_resnet18 else "mobilenet_v2"
            self.setup_request = dataclasses.replace(request, backbone=backbone)
        super().setup()

    def build_model(self) -> CutPasteModel:
        spec = self.inputs.spec
        trunk, dim = trunk_of(spec.name, build_network(spec, self.inputs.weights_source))
        return CutPasteModel(trunk, dim, self.hparams["head_width"])

    def build_optimizers(self, model: CutPasteModel) -> dict[str, torch.optim.Optimizer]:
        p = self.hparams
        return {
            "sgd": torch.optim.SGD(
                model.parameters(), lr=p["lr"], momentum=p["momentum"], weight_decay=p["weight_decay"]
            )
        }

    def schedule(self) -> Schedule:
        """A cosine from ``lr`` down to 0 over the steps."""
        return cosine(self.hparams["lr"])

    def synthesize(self, images: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """The 3-way batch: every image as itself (label 0), with a CutPaste (1) and with a scar (2)."""
        views, labels = [], []
        for label, augment in enumerate((None, cutpaste, cutpaste_scar)):
            for image in images:
                view = image
                if augment is not None:
                    try:
                        view = augment(image, rng)[0]
                    except SyntheticAnomalyError:  # a patch that changes nothing (a black image): a normal view
                        label_here = 0
                    else:
                        label_here = label
                views.append(view)
                labels.append(label if augment is None else label_here)
        return np.stack(views), np.asarray(labels, np.int64)

    def step(self, ctx: StepContext[CutPasteModel], batch: np.ndarray) -> dict[str, float]:
        lr = ctx.lr
        assert lr is not None  # the schedule above sets it
        views, labels = self.synthesize(np.asarray(batch), ctx.rng)
        _, logits = ctx.model(self.to_input(views))
        target = torch.from_numpy(labels).to(self.device)
        loss = F.cross_entropy(logits, target)
        ctx.update(loss)
        accuracy = (logits.argmax(1) == target).float().mean().item()
        return {"loss": loss.item(), "accuracy": accuracy, "lr": lr}

    def finish(self, model: CutPasteModel, data: np.ndarray) -> None:
        """Fit the Gaussian density on the pooled representations of the (unaugmented) training images."""
        chunks = []
        for begin in range(0, len(data), 32):
            fmap, _ = model(self.to_input(data[begin : begin + 32]))
            chunks.append(global_pool(fmap).double())
        model.keep(Gaussian.from_samples(torch.cat(chunks), GDE_SHRINK))

    def infer(self, model: CutPasteModel, batch: Batch) -> GridScores:
        """Image score: the Mahalanobis distance of the pooled representation; map: its GradCAM on the last
        feature map (gradient per channel, averaged, weighting the channels; ReLU)."""
        with torch.enable_grad():
            fmap = model.trunk(batch.input).detach().requires_grad_(True)
            scores = model.mahalanobis(global_pool(fmap))
            (grads,) = torch.autograd.grad(scores.sum(), fmap)
        cam = F.relu((grads.mean((2, 3), keepdim=True) * fmap.detach()).sum(1))
        return GridScores(maps=cam, images=scores.detach())

    def extra_config(self) -> dict[str, Any]:
        return {
            **super().extra_config(),
            "localisation": "GradCAM of the Gaussian-density score on the last feature map",
        }


__all__ = ["CutPaste", "CutPasteModel"]
