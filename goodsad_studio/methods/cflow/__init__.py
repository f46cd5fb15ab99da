"""CFLOW-AD: conditional normalizing flows on multi-scale frozen encoder features (Gudovskiy et al., WACV 2022).
What fit and predict compute, defaults and deviations: README.md; networks: model.py."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from goodsad_studio.errors import ParamError
from goodsad_studio.methods.api import Batch, Capability, GridScores
from goodsad_studio.methods.cflow.model import (
    CflowModel,
    ConditionalFlow,
    log_likelihood_per_dim,
    positional_encoding_2d,
)
from goodsad_studio.methods.components.schedules import Schedule, cosine
from goodsad_studio.methods.components.training import StepContext, TrainedMethod, training_params
from goodsad_studio.params import ParamSpec
from goodsad_studio.progress import Monitor

ROLES = ("s8", "s16", "s32")
"""The encoder layers the reference hooks: layer2..layer4 of a ResNet (strides 8, 16, 32)."""
META_EPOCHS = 25
"""The reference's 25 meta-epochs: the learning rate is held within each, the first 2 are the warm-up."""
_CHUNK = 65536  # feature vectors per flow pass when scoring


class Cflow(TrainedMethod[CflowModel]):
    name = "cflow"
    description = "conditional normalizing flows on multi-scale encoder features with positional encoding"
    roles = ROLES
    params = [
        *training_params(epochs=200, batch_size=32, lr=2e-4, image_size=256, blur_sigma=0.0),
        ParamSpec("coupling_blocks", "int", 8, min=1, max=64, help="coupling blocks per flow (paper 8)"),
        ParamSpec("condition_dim", "int", 128, min=4, max=1024, help="positional encoding size (paper 128)"),
        ParamSpec("clamp", "float", 1.9, min=0.1, max=10.0, help="soft clamp of the log-scales (paper 1.9)"),
        ParamSpec("fiber_batch", "int", 256, min=8, max=1 << 20, help="feature vectors per optimizer step (256)"),
    ]
    capabilities = frozenset({Capability.CHECKPOINTS})

    def setup(self) -> None:
        super().setup()
        if self.hparams["condition_dim"] % 4:
            raise ParamError(f"parameter 'condition_dim' must be a multiple of 4, got {self.hparams['condition_dim']}")
        self._encodings: dict[tuple[int, int], torch.Tensor] = {}

    def build_model(self) -> CflowModel:
        p = self.hparams
        return CflowModel(self.inputs.channels, p["condition_dim"], p["coupling_blocks"], p["clamp"])

    def build_optimizers(self, model: CflowModel) -> dict[str, torch.optim.Optimizer]:
        return {"adam": torch.optim.Adam(model.flows.parameters(), lr=self.hparams["lr"])}

    def schedule(self) -> Schedule:
        """Cosine decay over 25 meta-epochs to lr * 0.1^3 with a linear warm-up from lr / 10 over the first 2."""
        lr: float = self.hparams["lr"]
        return cosine(lr, lr * 0.1**3, periods=META_EPOCHS, warmup=2 / META_EPOCHS, warmup_from=lr / 10)

    def _encoding(self, height: int, width: int) -> torch.Tensor:
        key = (height, width)
        if key not in self._encodings:
            self._encodings[key] = positional_encoding_2d(self.hparams["condition_dim"], height, width)
        return self._encodings[key].to(self.device)

    def training_data(self, images: np.ndarray, monitor: Monitor) -> dict[str, torch.Tensor]:
        return self.inputs.cache(images, monitor)  # frozen encoder features, once

    def _vectors(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``B x C x H x W`` -> feature vectors ``BHW x C`` and their conditions ``BHW x P``."""
        b, c, h, w = features.shape
        cond = self._encoding(h, w).unsqueeze(0).expand(b, -1, -1, -1)
        return (
            features.float().permute(0, 2, 3, 1).reshape(-1, c),
            cond.permute(0, 2, 3, 1).reshape(-1, cond.shape[1]),
        )

    def step(self, ctx: StepContext[CflowModel], batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        total_loss, fibers = 0.0, 0
        for role in ROLES:
            vectors, conds = self._vectors(batch[role].to(self.device))
            n = len(vectors)
            fiber = min(self.hparams["fiber_batch"], n)
            order = torch.randperm(n, device=self.device)
            for f in range(max(1, n // fiber)):
                index = order[f * fiber : (f + 1) * fiber]
                z, log_jac = ctx.model.flows[role](vectors[index], conds[index])
                loss = -F.logsigmoid(log_likelihood_per_dim(z, log_jac)).mean()
                ctx.update(loss)  # one optimizer step per fiber
                total_loss += loss.item()
                fibers += 1
        return {"loss": total_loss / fibers}

    def _log_likelihoods(self, model: CflowModel, features: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = {}
        for role in ROLES:
            b, _, h, w = features[role].shape
            vectors, conds = self._vectors(features[role].to(self.device))
            logp = torch.cat(
                [
                    log_likelihood_per_dim(*model.flows[role](vectors[i : i + _CHUNK], conds[i : i + _CHUNK]))
                    for i in range(0, len(vectors), _CHUNK)
                ]
            )
            out[role] = logp.reshape(b, h, w)
        return out

    def finish(self, model: CflowModel, data: Mapping[str, torch.Tensor]) -> None:
        """The reference log-likelihood of every scale: its maximum over the training positions."""
        n = len(data[ROLES[0]])
        maxima = torch.full((len(ROLES),), -float("inf"), device=self.device)
        for begin in range(0, n, 16):
            logps = self._log_likelihoods(model, {r: v[begin : begin + 16] for r, v in data.items()})
            for i, role in enumerate(ROLES):
                maxima[i] = torch.maximum(maxima[i], logps[role].max())
        model.reference_logp.copy_(maxima)

    def infer(self, model: CflowModel, batch: Batch) -> GridScores:
        logps = self._log_likelihoods(model, self.inputs.of(batch.input))
        size = batch.input.shape[-2:]
        total = torch.zeros(batch.input.shape[0], *size, device=self.device)
        for i, role in enumerate(ROLES):
            prob = torch.exp(logps[role] - model.reference_logp[i]).unsqueeze(1)
            total += F.interpolate(prob, size=size, mode="bilinear", align_corners=True)[:, 0]
        return GridScores(maps=len(ROLES) - total, images=None)


__all__ = ["Cflow", "CflowModel", "ConditionalFlow", "log_likelihood_per_dim", "positional_encoding_2d"]
