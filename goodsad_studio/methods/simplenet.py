"""SimpleNet (Liu et al., "SimpleNet: A Simple Network for Image Anomaly Detection and Localization", CVPR 2023).

A frozen pretrained backbone gives locally aware patch features (stride-8 and stride-16 maps — layer2 and layer3
of WideResNet50 — each averaged over 3x3 neighbourhoods and pooled to ``embed_dim`` channels, exactly as
PatchCore's :func:`~.patchcore.locally_aware_patches`). A *feature adaptor* (one linear layer) maps them to the
target domain. During training, anomalous features are synthesised by adding Gaussian noise
``N(0, noise_std^2)`` to the adapted normal features, and a *discriminator* (a 2-layer MLP: linear, batch norm,
LeakyReLU(0.2), linear) is trained with the truncated L1 loss
``max(0, th - D(q)) + max(0, th + D(q - noise))`` (``th`` = 0.5) to score normal features positive and noisy ones
negative. Adaptor and discriminator are trained jointly (the paper's Eq. 5); the adaptor with lr 1e-4 (AdamW
with its default weight decay 0.01, as the reference code), the discriminator with Adam (lr 2e-4, weight decay
1e-5).

Inference: the anomaly score of a patch is ``-D(adaptor(feature))``; the map is upsampled to the input and
smoothed with a Gaussian (sigma 4), the image score is the maximum patch score (as the reference code).

Paper defaults (Sec. 4.1 / the reference configuration for MVTec AD): WideResNet50 layer2+layer3, embedding 1536,
images resized to 256 and centre-cropped to 224 (``image_size=224, resize_mode=resize_crop``), batch size 8,
160 epochs, noise std 0.015, th 0.5, discriminator hidden size 1024.

Deviations, stated: (1) when WideResNet50 weights are absent the offline mobilenet_v2 is used (layers
``features.6``/``features.13``) and the embedding defaults to that backbone's PatchCore sizes (96/192) instead of
1536; (2) the frozen features of the training images are computed once and reused every epoch (the reference
recomputes them; with a frozen backbone in eval mode and no augmentation the values are the same); stored as
float16 when they would exceed 1 GiB; (3) the reference trains the discriminator 4 "gan epochs" per "meta epoch"
(40 x 4 = 160) and keeps the epoch with the best test score — test data are not used here: the final weights are
kept.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import torch
from torch import nn

from goodsad_studio.methods.backbone_method import check_cancel
from goodsad_studio.methods.params import ParamSpec
from goodsad_studio.methods.patchcore import locally_aware_patches
from goodsad_studio.methods.registry import register_method
from goodsad_studio.methods.training import TrainedMethod, TrainState, training_params

_FEATURE_CACHE_LIMIT = 1 << 30


class Discriminator(nn.Module):
    """The paper's discriminator: ``n_hidden`` blocks of linear + batch norm + LeakyReLU(0.2), then a linear score."""

    def __init__(self, dim: int, hidden: int, n_hidden: int = 1):
        super().__init__()
        layers: list[nn.Module] = []
        width = dim
        for _ in range(n_hidden):
            layers += [nn.Linear(width, hidden), nn.BatchNorm1d(hidden), nn.LeakyReLU(0.2)]
            width = hidden
        self.body = nn.Sequential(*layers)
        self.tail = nn.Linear(width, 1, bias=False)
        for module in self.modules():  # the reference's xavier init
            if isinstance(module, nn.Linear):
                nn.init.xavier_normal_(module.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        score: torch.Tensor = self.tail(self.body(x)).squeeze(1)
        return score


class SimpleNetModel(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.adaptor = nn.Linear(dim, dim)
        nn.init.xavier_normal_(self.adaptor.weight)
        self.discriminator = Discriminator(dim, hidden)


@register_method
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

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        if self.hparams["embed_dim"] is None:
            wrn = self.backbone_spec.name == "wide_resnet50_2"
            self.hparams["embed_dim"] = 1536 if wrn else self.backbone_spec.patchcore_dims[1]

    def _dims(self) -> tuple[int, int]:
        dim = self.hparams["embed_dim"]
        pretrain = 1536 if self.backbone_spec.name == "wide_resnet50_2" else self.backbone_spec.patchcore_dims[0]
        return max(pretrain, 8), dim

    def embed(self, batch: torch.Tensor) -> torch.Tensor:
        """Normalised images -> ``B x h x w x embed_dim`` locally aware patch features (frozen)."""
        pretrain, dim = self._dims()
        return locally_aware_patches(self.backbone_features(batch), pretrain, dim)

    def build_model(self) -> SimpleNetModel:
        return SimpleNetModel(self.hparams["embed_dim"], self.hparams["dsc_hidden"])

    def build_optimizers(self, model: SimpleNetModel) -> dict[str, torch.optim.Optimizer]:
        p = self.hparams
        return {
            "adaptor": torch.optim.AdamW(model.adaptor.parameters(), lr=p["lr"], weight_decay=0.01),
            "discriminator": torch.optim.Adam(model.discriminator.parameters(), lr=p["dsc_lr"], weight_decay=1e-5),
        }

    def prepare_training_data(self, images: np.ndarray, cancel: threading.Event | None) -> torch.Tensor:
        chunks = []
        for begin in range(0, len(images), self.batch_size):
            check_cancel(cancel, f"training {self.name}")
            with torch.no_grad():
                chunks.append(self.embed(self.to_input(images[begin : begin + self.batch_size])).cpu())
        features = torch.cat(chunks)
        if features.numel() * 4 > _FEATURE_CACHE_LIMIT:
            features = features.half()
        return features

    def training_step(self, state: TrainState[SimpleNetModel], batch: torch.Tensor) -> dict[str, float]:
        p = self.hparams
        model = state.model
        feats = batch.to(self.device, torch.float32).reshape(-1, p["embed_dim"])
        true = model.adaptor(feats)
        fake = true + torch.randn_like(true) * p["noise_std"]
        scores = model.discriminator(torch.cat([true, fake]))
        true_scores, fake_scores = scores[: len(true)], scores[len(true) :]
        true_loss = torch.clamp(p["margin"] - true_scores, min=0).mean()
        fake_loss = torch.clamp(p["margin"] + fake_scores, min=0).mean()
        loss = true_loss + fake_loss
        for optimizer in state.optimizers.values():
            optimizer.zero_grad()
        torch.autograd.backward(loss)  # loss.backward(), which torch leaves untyped
        for optimizer in state.optimizers.values():
            optimizer.step()
        with torch.no_grad():
            p_true = (true_scores.detach() >= p["margin"]).float().mean().item()
            p_fake = (fake_scores.detach() < -p["margin"]).float().mean().item()
        return {"loss": loss.item(), "p_true": p_true, "p_fake": p_fake}

    def predict_batch(self, model: SimpleNetModel, batch: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        embedded = self.embed(batch)
        b, h, w, dim = embedded.shape
        scores = -model.discriminator(model.adaptor(embedded.reshape(-1, dim))).reshape(b, h, w)
        maps = scores.float().cpu().numpy()
        return maps.reshape(b, -1).max(1), maps


__all__ = ["SimpleNet"]
