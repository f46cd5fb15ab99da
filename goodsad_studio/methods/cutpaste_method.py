"""CutPaste (Li, Sohn, Yoon, Pfister, "CutPaste: Self-Supervised Learning for Anomaly Detection and
Localization", CVPR 2021).

An ImageNet-pretrained CNN with an MLP projection head is fine-tuned on the *3-way* proxy task: classify each
training image as normal, CutPaste (:func:`~.synthetic.cutpaste.cutpaste`) or CutPaste-scar
(:func:`~.synthetic.cutpaste.cutpaste_scar`), with cross-entropy. After training, a Gaussian density estimator
(GDE) is fitted to the globally pooled CNN representations of the (unaugmented) training images — mean and a
Ledoit-Wolf-shrunk covariance — and the image score is the Mahalanobis distance of an image's representation.

Localisation (stated choice): **GradCAM** of the image score on the last convolutional feature map (gradient of
the Mahalanobis distance, averaged per channel, weighting the channels; ReLU), upsampled to the input and smoothed
(sigma 4). The paper's quantitative localisation uses a separate *patch-level* model (64x64 patches, dense
evaluation with stride 4); that is not implemented here — the paper shows GradCAM for the image-level model.

Defaults from the paper (Sec. 4): ResNet-18 pretrained on ImageNet, 256x256 inputs, 256 epochs, batch size 96
(normal images; each also gives a CutPaste and a scar view), SGD with momentum 0.9, lr 0.03 with cosine decay,
weight decay 3e-5.

Deviations, stated: ResNet-18 ImageNet weights are not shipped with the studio; ``backbone="auto"`` takes
``resnet18`` when its torchvision weights are on disk, else the offline ``mobilenet_v2`` (global pooling of its
last feature map, 1280 channels). The projection head is two 512-wide linear + batch-norm + ReLU layers and a
128-d output before the 3-way linear classifier (the paper says "MLP projection head" without sizes). The cosine
schedule runs over steps.
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from goodsad_studio.errors import SyntheticAnomalyError
from goodsad_studio.methods.backbones import build_network, get_backbone
from goodsad_studio.methods.params import ParamSpec
from goodsad_studio.methods.registry import register_method
from goodsad_studio.methods.synthetic import cutpaste, cutpaste_scar
from goodsad_studio.methods.training import TrainedMethod, TrainState, set_learning_rate, training_params


def ledoit_wolf_covariance(x: torch.Tensor) -> torch.Tensor:
    """Ledoit-Wolf shrinkage covariance of ``N x d`` samples (as scikit-learn's ``LedoitWolf``)."""
    n, d = x.shape
    centred = x - x.mean(0, keepdim=True)
    emp = centred.T @ centred / n
    mu = torch.trace(emp) / d
    delta = ((emp - mu * torch.eye(d, dtype=x.dtype, device=x.device)) ** 2).sum() / d
    x2 = centred**2
    beta = ((x2.T @ x2) / n - emp**2).sum() / (d * n)
    beta = torch.minimum(beta, delta)
    shrinkage = beta / delta if delta > 0 else torch.zeros((), dtype=x.dtype, device=x.device)
    return (1 - shrinkage) * emp + shrinkage * mu * torch.eye(d, dtype=x.dtype, device=x.device)


class CutPasteModel(nn.Module):
    """Backbone trunk -> global average pooling (the representation) -> projection head -> 3-way classifier; the
    fitted Gaussian (mean, precision) is kept in buffers so it is saved with the weights."""

    gde_mean: torch.Tensor  # buffers
    gde_precision: torch.Tensor

    def __init__(self, trunk: nn.Module, dim: int, head_width: int = 512, embed: int = 128):
        super().__init__()
        self.trunk = trunk
        self.head = nn.Sequential(
            nn.Linear(dim, head_width),
            nn.BatchNorm1d(head_width),
            nn.ReLU(inplace=True),
            nn.Linear(head_width, head_width),
            nn.BatchNorm1d(head_width),
            nn.ReLU(inplace=True),
            nn.Linear(head_width, embed),
        )
        self.classifier = nn.Linear(embed, 3)
        self.register_buffer("gde_mean", torch.zeros(dim))
        self.register_buffer("gde_precision", torch.eye(dim))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(feature map, class logits)``."""
        fmap = self.trunk(x)
        return fmap, self.classifier(self.head(fmap.mean((2, 3))))

    def mahalanobis(self, representation: torch.Tensor) -> torch.Tensor:
        diff = representation - self.gde_mean
        return ((diff @ self.gde_precision) * diff).sum(1).clamp_min(0).sqrt()


def _trunk(name: str, network: nn.Module) -> tuple[nn.Module, int]:
    if name == "mobilenet_v2":
        return cast(nn.Module, network.features), 1280  # torchvision's MobileNetV2.features: an nn.Sequential
    children = list(network.children())[:-2]  # ResNets: drop avgpool and fc
    return nn.Sequential(*children), get_backbone(name).channels["s32"]


@register_method
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

    def __init__(self, *, backbone: str = "auto", weights: str = "auto", **kwargs: Any):
        if backbone == "auto" and weights in ("auto", "random"):
            backbone = "resnet18" if weights == "random" or get_backbone("resnet18").has_weights() else "mobilenet_v2"
        super().__init__(backbone=backbone, weights=weights, **kwargs)

    def build_model(self) -> CutPasteModel:
        network = build_network(self.backbone_spec, self.weights_source)
        trunk, dim = _trunk(self.backbone_spec.name, network)
        return CutPasteModel(trunk, dim, self.hparams["head_width"])

    def build_optimizers(self, model: CutPasteModel) -> dict[str, torch.optim.Optimizer]:
        p = self.hparams
        return {
            "sgd": torch.optim.SGD(
                model.parameters(), lr=p["lr"], momentum=p["momentum"], weight_decay=p["weight_decay"]
            )
        }

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

    def training_step(self, state: TrainState[CutPasteModel], batch: np.ndarray) -> dict[str, float]:
        p = self.hparams
        lr = p["lr"] * 0.5 * (1 + math.cos(math.pi * state.step / max(state.total_steps, 1)))
        optimizer = state.optimizers["sgd"]
        set_learning_rate(optimizer, lr)
        views, labels = self.synthesize(np.asarray(batch), state.rng)
        _, logits = state.model(self.to_input(views))
        target = torch.from_numpy(labels).to(self.device)
        loss = F.cross_entropy(logits, target)
        optimizer.zero_grad()
        torch.autograd.backward(loss)  # loss.backward(), which torch leaves untyped
        optimizer.step()
        accuracy = (logits.argmax(1) == target).float().mean().item()
        return {"loss": loss.item(), "accuracy": accuracy, "lr": lr}

    def finish_training(self, model: CutPasteModel, data: np.ndarray) -> None:
        """Fit the Gaussian density on the pooled representations of the training images."""
        chunks = []
        for begin in range(0, len(data), 32):
            fmap, _ = model(self.to_input(data[begin : begin + 32]))
            chunks.append(fmap.mean((2, 3)).double())
        representations = torch.cat(chunks)
        model.gde_mean.copy_(representations.mean(0).float())
        covariance = ledoit_wolf_covariance(representations)
        covariance += 1e-6 * torch.eye(len(covariance), dtype=covariance.dtype, device=covariance.device)
        model.gde_precision.copy_(torch.linalg.inv(covariance).float())

    def predict_batch(self, model: CutPasteModel, batch: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        with torch.enable_grad():
            fmap = model.trunk(batch).detach().requires_grad_(True)
            scores = model.mahalanobis(fmap.mean((2, 3)))
            (grads,) = torch.autograd.grad(scores.sum(), fmap)
        cam = F.relu((grads.mean((2, 3), keepdim=True) * fmap.detach()).sum(1))
        return scores.detach().cpu().numpy(), cam.cpu().numpy()

    def _extra_config(self) -> dict[str, Any]:
        return {"localisation": "GradCAM of the Gaussian-density score on the last feature map"}


__all__ = ["CutPaste", "CutPasteModel", "ledoit_wolf_covariance"]
