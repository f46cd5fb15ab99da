"""SimpleNet's networks: the feature adaptor and the discriminator."""

from __future__ import annotations

import torch
from torch import nn


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


__all__ = ["Discriminator", "SimpleNetModel"]
