"""CutPaste's network: a backbone trunk, global pooling (the representation), a projection head and a 3-way
classifier; the fitted Gaussian density of the representations is kept in its buffers."""

from __future__ import annotations

from typing import cast

import torch
from torch import nn

from goodsad_studio.methods.components.backbones import get_backbone
from goodsad_studio.methods.components.embeddings import global_pool
from goodsad_studio.methods.components.gaussian import Gaussian


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
        return fmap, self.classifier(self.head(global_pool(fmap)))

    @property
    def gaussian(self) -> Gaussian:
        """The density in the buffers (a view of them: differentiable, on the model's device)."""
        return Gaussian(self.gde_mean[None], self.gde_precision[None])

    def keep(self, gaussian: Gaussian) -> None:
        """Copy a fitted image-level Gaussian into the buffers (their names are what saved models hold)."""
        self.gde_mean.copy_(gaussian.mean[0])
        self.gde_precision.copy_(gaussian.precision[0])

    def mahalanobis(self, representation: torch.Tensor) -> torch.Tensor:
        """``B x C`` pooled representations -> ``B`` Mahalanobis distances (the image score)."""
        return self.gaussian.mahalanobis(representation[:, None])[:, 0]


def trunk_of(name: str, network: nn.Module) -> tuple[nn.Module, int]:
    """The convolutional trunk of a torchvision network and its output channels."""
    if name == "mobilenet_v2":
        return cast(nn.Module, network.features), 1280  # torchvision's MobileNetV2.features: an nn.Sequential
    children = list(network.children())[:-2]  # ResNets: drop avgpool and fc
    return nn.Sequential(*children), get_backbone(name).channels["s32"]


__all__ = ["CutPasteModel", "trunk_of"]
