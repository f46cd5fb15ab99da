"""RD4AD: reverse distillation from a frozen teacher through a one-class bottleneck to a student decoder (Deng & Li,
CVPR 2022). What fit and predict compute, defaults and deviations: README.md; networks: model.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F

from goodsad_studio.methods.api import Batch, Capability, GridScores
from goodsad_studio.methods.components.training import StepContext, TrainedMethod, training_params
from goodsad_studio.methods.rd4ad.model import ROLES, RD4ADModel, cosine_distance_maps
from goodsad_studio.params import ParamSpec
from goodsad_studio.progress import Monitor


class RD4AD(TrainedMethod[RD4ADModel]):
    name = "rd4ad"
    description = "reverse distillation: frozen teacher, one-class bottleneck, student decoder"
    roles = ROLES
    params = [
        *training_params(epochs=200, batch_size=16, lr=0.005, image_size=256, blur_sigma=4.0),
        ParamSpec(
            "loss",
            "choice",
            "flattened",
            choices=("flattened", "per_position"),
            help="flattened: one cosine distance per image and scale over its whole flattened map (the authors' "
            "code); per_position: the mean of the per-position distances (the paper's Eq. 3)",
        ),
    ]
    capabilities = frozenset({Capability.CHECKPOINTS})

    def build_model(self) -> RD4ADModel:
        ch = self.inputs.channels
        return RD4ADModel(ch["s4"], ch["s8"], ch["s16"], wide=self.inputs.spec.name == "wide_resnet50_2")

    def build_optimizers(self, model: RD4ADModel) -> dict[str, torch.optim.Optimizer]:
        return {"adam": torch.optim.Adam(model.parameters(), lr=self.hparams["lr"], betas=(0.5, 0.999))}

    def training_data(self, images: np.ndarray, monitor: Monitor) -> dict[str, torch.Tensor]:
        return self.inputs.cache(images, monitor)  # frozen teacher features, once

    def step(self, ctx: StepContext[RD4ADModel], batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        teacher = {r: batch[r].to(self.device, torch.float32) for r in ROLES}
        student = ctx.model(teacher)
        if self.hparams["loss"] == "flattened":
            per_scale = {
                r: (1 - F.cosine_similarity(teacher[r].flatten(1), student[r].flatten(1))).mean() for r in ROLES
            }
        else:
            per_scale = {r: d.mean() for r, d in cosine_distance_maps(teacher, student).items()}
        loss = cast(torch.Tensor, sum(per_scale.values()))  # 0 + tensors (one per role): a tensor
        ctx.update(loss)
        return {"loss": loss.item(), **{f"loss_{r}": v.item() for r, v in per_scale.items()}}

    def infer(self, model: RD4ADModel, batch: Batch) -> GridScores:
        teacher = self.inputs.of(batch.input)
        size = batch.input.shape[-2:]
        distances = cosine_distance_maps(teacher, model(teacher))
        total = cast(  # 0 + tensors (one per role): a tensor
            torch.Tensor,
            sum(
                F.interpolate(d.unsqueeze(1), size=size, mode="bilinear", align_corners=True)[:, 0]
                for d in distances.values()
            ),
        )
        return GridScores(maps=total, images=None)  # image score: the maximum of the smoothed map


__all__ = ["RD4AD", "RD4ADModel", "cosine_distance_maps"]
