"""SimpleNet: a feature adaptor and a discriminator trained on noise-perturbed patch features (Liu et al., CVPR
2023). What fit and predict compute, defaults and deviations: README.md; networks: model.py."""

from __future__ import annotations

import numpy as np
import torch

from goodsad_studio.methods.api import Batch, Capability, GridScores
from goodsad_studio.methods.components.embeddings import locally_aware_patches
from goodsad_studio.methods.components.training import StepContext, TrainedMethod, training_params
from goodsad_studio.methods.simplenet.model import Discriminator, SimpleNetModel
from goodsad_studio.params import ParamSpec
from goodsad_studio.progress import Monitor

WRN_EMBED_DIM = 1536
"""The paper's embedding (and pre-projection) size on wide_resnet50_2."""


class SimpleNet(TrainedMethod[SimpleNetModel]):
    name = "simplenet"
    description = "feature adaptor + discriminator trained on noise-perturbed patch features"
    roles = ("s8", "s16")
    params = [
        *training_params(epochs=160, batch_size=8, lr=1e-4, image_size=224, resize_mode="resize_crop"),
        ParamSpec("dsc_lr", "float", 2e-4, min=1e-8, max=10.0, help="discriminator learning rate (paper 2e-4)"),
        ParamSpec(
            "noise_std",
            "float",
            0.015,
            min=1e-6,
            max=10.0,
            help="std of the Gaussian noise that makes anomalous features (paper 0.015)",
        ),
        ParamSpec("margin", "float", 0.5, min=0.0, max=10.0, help="th of the truncated L1 loss (paper 0.5)"),
        ParamSpec("dsc_hidden", "int", 1024, min=8, max=8192, help="discriminator hidden size (paper 1024)"),
        ParamSpec(
            "embed_dim",
            "int",
            None,
            min=8,
            max=8192,
            optional=True,
            help="patch feature size; None = 1536 for wide_resnet50_2, else the backbone's default",
        ),
    ]
    capabilities = frozenset({Capability.CHECKPOINTS})

    def setup(self) -> None:
        super().setup()
        spec = self.inputs.spec
        wrn = spec.name == "wide_resnet50_2"
        self.resolve_auto(embed_dim=WRN_EMBED_DIM if wrn else spec.patchcore_dims[1])
        self.pretrain_dim = max(WRN_EMBED_DIM if wrn else spec.patchcore_dims[0], 8)

    def embed(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Frozen backbone features -> ``B x h x w x embed_dim`` locally aware patch features (as PatchCore's)."""
        return locally_aware_patches(features, self.pretrain_dim, self.hparams["embed_dim"])

    def build_model(self) -> SimpleNetModel:
        return SimpleNetModel(self.hparams["embed_dim"], self.hparams["dsc_hidden"])

    def build_optimizers(self, model: SimpleNetModel) -> dict[str, torch.optim.Optimizer]:
        p = self.hparams
        return {
            "adaptor": torch.optim.AdamW(model.adaptor.parameters(), lr=p["lr"], weight_decay=0.01),
            "discriminator": torch.optim.Adam(model.discriminator.parameters(), lr=p["dsc_lr"], weight_decay=1e-5),
        }

    def training_data(self, images: np.ndarray, monitor: Monitor) -> torch.Tensor:
        return self.inputs.cache_embedded(images, monitor, self.embed)  # frozen patch features, once

    def step(self, ctx: StepContext[SimpleNetModel], batch: torch.Tensor) -> dict[str, float]:
        p = self.hparams
        model = ctx.model
        feats = batch.to(self.device, torch.float32).reshape(-1, p["embed_dim"])
        true = model.adaptor(feats)
        fake = true + torch.randn_like(true) * p["noise_std"]
        scores = model.discriminator(torch.cat([true, fake]))
        true_scores, fake_scores = scores[: len(true)], scores[len(true) :]
        true_loss = torch.clamp(p["margin"] - true_scores, min=0).mean()
        fake_loss = torch.clamp(p["margin"] + fake_scores, min=0).mean()
        loss = true_loss + fake_loss
        ctx.update(loss)  # adaptor and discriminator together (the paper's Eq. 5)
        with torch.no_grad():
            p_true = (true_scores.detach() >= p["margin"]).float().mean().item()
            p_fake = (fake_scores.detach() < -p["margin"]).float().mean().item()
        return {"loss": loss.item(), "p_true": p_true, "p_fake": p_fake}

    def infer(self, model: SimpleNetModel, batch: Batch) -> GridScores:
        embedded = self.embed(self.inputs.of(batch.input))
        b, h, w, dim = embedded.shape
        scores = -model.discriminator(model.adaptor(embedded.reshape(-1, dim))).reshape(b, h, w)
        maps = scores.float().cpu().numpy()
        return GridScores(maps=maps, images=maps.reshape(b, -1).max(1))  # the maximum patch score


__all__ = ["Discriminator", "SimpleNet", "SimpleNetModel"]
