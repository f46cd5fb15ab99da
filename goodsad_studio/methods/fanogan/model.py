"""f-AnoGAN's networks: a DCGAN-style generator, the critic and the encoder (both a stack of strided convolutions)."""

from __future__ import annotations

import math

import torch
from torch import nn


def _levels(image_size: int) -> int:
    return int(round(math.log2(image_size // 4)))


class Generator(nn.Module):
    """``z`` -> ``4 x 4 x 8w`` -> transposed convs doubling the size -> 3-channel tanh image."""

    def __init__(self, latent: int, width: int, image_size: int):
        super().__init__()
        levels = _levels(image_size)
        channels = [width * min(2 ** (levels - 1 - i), 8) for i in range(levels)]
        self.start = channels[0]
        self.project = nn.Sequential(
            nn.Linear(latent, 4 * 4 * channels[0]), nn.BatchNorm1d(4 * 4 * channels[0]), nn.ReLU(inplace=True)
        )
        layers: list[nn.Module] = []
        for cin, cout in zip(channels, channels[1:], strict=False):
            layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(channels[-1], 3, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        image: torch.Tensor = self.body(self.project(z).view(len(z), self.start, 4, 4))
        return image


class ConvStack(nn.Module):
    """Strided 4x4 convs + LeakyReLU(0.2) down to ``4 x 4``, flattened: the critic's features ``f`` (and the
    encoder's trunk), then a linear output of size ``out``."""

    def __init__(self, width: int, image_size: int, out: int, layer_norm: bool = False):
        super().__init__()
        levels = _levels(image_size)
        channels = [width * min(2**i, 8) for i in range(levels)]
        layers: list[nn.Module] = []
        cin = 3
        for i, cout in enumerate(channels):
            layers.append(nn.Conv2d(cin, cout, 4, 2, 1))
            if layer_norm and i > 0:  # over C x H x W per image, a scale and offset per channel (the reference's)
                layers.append(nn.GroupNorm(1, cout))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            cin = cout
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.out = nn.Linear(cin * 16, out)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.features(x)
        return self.out(f), f


class FAnoGanModel(nn.Module):
    def __init__(self, latent: int, width: int, image_size: int, critic_layer_norm: bool = False):
        super().__init__()
        self.generator = Generator(latent, width, image_size)
        self.critic = ConvStack(width, image_size, 1, layer_norm=critic_layer_norm)
        self.encoder = ConvStack(width, image_size, latent)


__all__ = ["ConvStack", "FAnoGanModel", "Generator"]
