"""CFLOW-AD (Gudovskiy et al., "CFLOW-AD: Real-Time Unsupervised Anomaly Detection with Localization via
Conditional Normalizing Flows", WACV 2022).

A frozen pretrained encoder gives feature maps at ``L = 3`` scales (stride 4, 8, 16: layer1..layer3 of
WideResNet50). For each scale a *conditional normalizing flow* decoder maps every feature vector ``x`` (one per
position) to a latent ``z`` with a standard-normal prior, conditioned on a 2-D sinusoidal positional encoding of
its position (``condition_dim`` = 128). Training maximises the likelihood: the loss of a position is
``-logsigmoid(log p(x) / C)`` with ``log p(x) = -C/2 log(2 pi) - |z|^2 / 2 + log|det J|`` (the reference code's
form). Positions are shuffled and processed in *fibers* of ``fiber_batch`` = 256 vectors, one optimizer step each.

Each decoder is ``coupling_blocks`` = 8 Glow-style "all-in-one" coupling blocks, implemented here in torch
(the reference uses FrEIA's ``AllInOneBlock``; the same computation): affine coupling of one half of the channels
by a subnet ``Linear(c1 + P, 2 (c1 + P)) - ReLU - Linear(.., 2 c2)`` of the other half and the condition, with
coefficients scaled by 0.1 and the log-scales soft-clamped ``1.9 tanh(.)``; then a learned global affine
(softplus-activated scale initialised to 1, offset 0) and a fixed random orthogonal ("soft") permutation.

Inference: per scale, the per-dimension log-likelihood ``log p(x) / C`` of every position is turned into
``exp(log p - m_l)``, upsampled (bilinear) to the input and summed over the scales; the anomaly map is
``L - sum`` and the image score its maximum (no Gaussian smoothing, as the reference: ``blur_sigma=0``).

Paper/reference defaults: WideResNet50, L = 3, 8 coupling blocks, condition 128, clamp 1.9, Adam lr 2e-4,
25 meta-epochs x 8 sub-epochs (= 200 epochs), batch size 32 images, fiber batch 256, cosine learning-rate decay to
lr * 1e-3 with a linear warm-up (from lr / 10) over the first 2 meta-epochs, input 256 x 256.

Deviations, stated: (1) ``m_l`` is the maximum training log-likelihood of scale ``l`` (computed after training)
instead of the maximum over the test set — so an image's map does not depend on the other test images;
(2) without WideResNet50 weights the offline mobilenet_v2 is used (its stride-4/8/16 blocks); (3) frozen
encoder features of the training images are computed once and reused (no augmentation in the reference, so the
values are the same; float16 above 1 GiB); (4) when a scale has fewer positions in a batch than ``fiber_batch``
they form one fiber (the reference would skip the scale); (5) the warm-up is linear over the first 2/25 of the
steps rather than restarting within each sub-epoch.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from goodsad_studio.methods.params import ParamSpec
from goodsad_studio.methods.registry import register_method
from goodsad_studio.methods.training import TrainedMethod, TrainState, set_learning_rate, training_params

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_FEATURE_CACHE_LIMIT = 1 << 30
_ROLES = ("s4", "s8", "s16")


def positional_encoding_2d(dim: int, height: int, width: int) -> torch.Tensor:
    """``dim x height x width`` sinusoidal encoding: the first half encodes the column, the second the row."""
    if dim % 4:
        raise ValueError(f"positional encoding size must be a multiple of 4, got {dim}")
    pe = torch.zeros(dim, height, width)
    half = dim // 2
    div = torch.exp(torch.arange(0.0, half, 2) * -(math.log(10000.0) / half))
    pos_w = torch.arange(0.0, width).unsqueeze(1)
    pos_h = torch.arange(0.0, height).unsqueeze(1)
    pe[0:half:2] = torch.sin(pos_w * div).T.unsqueeze(1).repeat(1, height, 1)
    pe[1:half:2] = torch.cos(pos_w * div).T.unsqueeze(1).repeat(1, height, 1)
    pe[half::2] = torch.sin(pos_h * div).T.unsqueeze(2).repeat(1, 1, width)
    pe[half + 1 :: 2] = torch.cos(pos_h * div).T.unsqueeze(2).repeat(1, 1, width)
    return pe


class AllInOneCoupling(nn.Module):
    """One conditional affine coupling block with global affine and a fixed soft permutation (FrEIA's
    ``AllInOneBlock`` with ``global_affine_type='SOFTPLUS', permute_soft=True``) for vectors ``N x C``."""

    w_perm: torch.Tensor  # a buffer

    def __init__(self, channels: int, condition: int, clamp: float = 1.9):
        super().__init__()
        self.clamp = clamp
        self.split1 = channels - channels // 2
        self.split2 = channels // 2
        hidden_in = self.split1 + condition
        self.subnet = nn.Sequential(
            nn.Linear(hidden_in, 2 * hidden_in), nn.ReLU(), nn.Linear(2 * hidden_in, 2 * self.split2)
        )
        self.global_scale = nn.Parameter(torch.full((1, channels), 2.0 * math.log(math.exp(5.0) - 1.0)))
        self.global_offset = nn.Parameter(torch.zeros(1, channels))
        q, r = torch.linalg.qr(torch.randn(channels, channels))
        q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)  # a uniformly random orthogonal matrix
        self.register_buffer("w_perm", q)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x1, x2 = x[:, : self.split1], x[:, self.split1 :]
        a = self.subnet(torch.cat([x1, cond], 1)) * 0.1
        log_s = self.clamp * torch.tanh(a[:, : self.split2])
        x2 = x2 * torch.exp(log_s) + a[:, self.split2 :]
        log_jac = log_s.sum(1)
        scale = 0.1 * F.softplus(self.global_scale, beta=0.5)
        out = torch.cat([x1, x2], 1) * scale + self.global_offset
        log_jac = log_jac + torch.log(scale).sum()
        return F.linear(out, self.w_perm), log_jac


class ConditionalFlow(nn.Module):
    def __init__(self, channels: int, condition: int, blocks: int, clamp: float):
        super().__init__()
        self.blocks = nn.ModuleList(AllInOneCoupling(channels, condition, clamp) for _ in range(blocks))

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_jac = torch.zeros(len(x), device=x.device)
        for block in self.blocks:
            x, jac = block(x, cond)
            log_jac = log_jac + jac
        return x, log_jac


def log_likelihood_per_dim(z: torch.Tensor, log_jac: torch.Tensor) -> torch.Tensor:
    """``log p(x) / C`` under a standard-normal prior (the reference's ``get_logp`` divided by C)."""
    channels = z.shape[1]
    return (-channels * _LOG_SQRT_2PI - 0.5 * (z**2).sum(1) + log_jac) / channels


class CflowModel(nn.Module):
    reference_logp: torch.Tensor  # a buffer

    def __init__(self, channels: dict[str, int], condition: int, blocks: int, clamp: float):
        super().__init__()
        self.flows = nn.ModuleDict({r: ConditionalFlow(c, condition, blocks, clamp) for r, c in channels.items()})
        self.register_buffer("reference_logp", torch.zeros(len(channels)))


@register_method
class Cflow(TrainedMethod[CflowModel]):
    name = "cflow"
    description = "conditional normalizing flows on multi-scale encoder features with positional encoding"
    roles = _ROLES
    params = [
        *training_params(epochs=200, batch_size=32, lr=2e-4, image_size=256, blur_sigma=0.0),
        ParamSpec("coupling_blocks", "int", 8, min=1, max=64, help="coupling blocks per flow (paper 8)"),
        ParamSpec("condition_dim", "int", 128, min=4, max=1024, help="positional encoding size (paper 128)"),
        ParamSpec("clamp", "float", 1.9, min=0.1, max=10.0, help="soft clamp of the log-scales (paper 1.9)"),
        ParamSpec("fiber_batch", "int", 256, min=8, max=1 << 20, help="feature vectors per optimizer step (256)"),
    ]

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        if self.hparams["condition_dim"] % 4:
            from goodsad_studio.errors import ParamError

            raise ParamError(f"parameter 'condition_dim' must be a multiple of 4, got {self.hparams['condition_dim']}")
        self._encodings: dict[tuple[int, int], torch.Tensor] = {}

    def build_model(self) -> CflowModel:
        p = self.hparams
        return CflowModel(
            {r: self.backbone_spec.channels[r] for r in _ROLES}, p["condition_dim"], p["coupling_blocks"], p["clamp"]
        )

    def build_optimizers(self, model: CflowModel) -> dict[str, torch.optim.Optimizer]:
        return {"adam": torch.optim.Adam(model.flows.parameters(), lr=self.hparams["lr"])}

    def lr_at(self, step: int, total: int) -> float:
        """Cosine decay over 25 meta-epochs to lr * 0.1^3 with a linear warm-up from lr / 10 over the first 2."""
        lr: float = self.hparams["lr"]
        meta_epochs = 25
        eta_min = lr * 0.1**3
        fraction = step / max(total, 1)

        def cosine(meta: float) -> float:
            return eta_min + (lr - eta_min) * (1 + math.cos(math.pi * meta / meta_epochs)) / 2

        warm = 2 / meta_epochs
        if fraction < warm:
            return lr / 10 + (fraction / warm) * (cosine(2) - lr / 10)
        return cosine(math.floor(fraction * meta_epochs))

    def _encoding(self, height: int, width: int) -> torch.Tensor:
        key = (height, width)
        if key not in self._encodings:
            self._encodings[key] = positional_encoding_2d(self.hparams["condition_dim"], height, width)
        return self._encodings[key].to(self.device)

    def prepare_training_data(self, images: np.ndarray, cancel: threading.Event | None) -> dict[str, torch.Tensor]:
        return self.cache_backbone_features(images, cancel, _FEATURE_CACHE_LIMIT)

    def _vectors(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``B x C x H x W`` -> feature vectors ``BHW x C`` and their conditions ``BHW x P``."""
        b, c, h, w = features.shape
        cond = self._encoding(h, w).unsqueeze(0).expand(b, -1, -1, -1)
        return (
            features.float().permute(0, 2, 3, 1).reshape(-1, c),
            cond.permute(0, 2, 3, 1).reshape(-1, cond.shape[1]),
        )

    def training_step(self, state: TrainState[CflowModel], batch: dict[str, torch.Tensor]) -> dict[str, float]:
        optimizer = state.optimizers["adam"]
        set_learning_rate(optimizer, self.lr_at(state.step, state.total_steps))
        total_loss, fibers = 0.0, 0
        for role in _ROLES:
            vectors, conds = self._vectors(batch[role].to(self.device))
            n = len(vectors)
            fiber = min(self.hparams["fiber_batch"], n)
            order = torch.randperm(n, device=self.device)
            for f in range(max(1, n // fiber)):
                index = order[f * fiber : (f + 1) * fiber]
                z, log_jac = state.model.flows[role](vectors[index], conds[index])
                loss = -F.logsigmoid(log_likelihood_per_dim(z, log_jac)).mean()
                optimizer.zero_grad()
                torch.autograd.backward(loss)  # loss.backward(), which torch leaves untyped
                optimizer.step()
                total_loss += loss.item()
                fibers += 1
        return {"loss": total_loss / fibers}

    def _log_likelihoods(self, model: CflowModel, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = {}
        for role in _ROLES:
            b, _, h, w = features[role].shape
            vectors, conds = self._vectors(features[role].to(self.device))
            logp = torch.cat(
                [
                    log_likelihood_per_dim(*model.flows[role](vectors[i : i + 65536], conds[i : i + 65536]))
                    for i in range(0, len(vectors), 65536)
                ]
            )
            out[role] = logp.reshape(b, h, w)
        return out

    def finish_training(self, model: CflowModel, data: dict[str, torch.Tensor]) -> None:
        n = len(data[_ROLES[0]])
        maxima = torch.full((len(_ROLES),), -float("inf"), device=self.device)
        for begin in range(0, n, 16):
            logps = self._log_likelihoods(model, {r: v[begin : begin + 16] for r, v in data.items()})
            for i, role in enumerate(_ROLES):
                maxima[i] = torch.maximum(maxima[i], logps[role].max())
        model.reference_logp.copy_(maxima)

    def predict_batch(self, model: CflowModel, batch: torch.Tensor) -> tuple[None, np.ndarray]:
        logps = self._log_likelihoods(model, self.backbone_features(batch))
        size = batch.shape[-2:]
        total = torch.zeros(batch.shape[0], *size, device=self.device)
        for i, role in enumerate(_ROLES):
            prob = torch.exp(logps[role] - model.reference_logp[i]).unsqueeze(1)
            total += F.interpolate(prob, size=size, mode="bilinear", align_corners=True)[:, 0]
        return None, (len(_ROLES) - total).cpu().numpy()


__all__ = ["Cflow", "positional_encoding_2d"]
