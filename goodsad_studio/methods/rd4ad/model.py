"""RD4AD's networks: the one-class bottleneck embedding (OCBE) and the student decoder, and the per-scale cosine
distance between teacher and student features (see README.md)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

ROLES = ("s4", "s8", "s16")


def _conv_bn_relu(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class Bottleneck(nn.Module):
    """A ResNet bottleneck block (1x1, 3x3, 1x1) with a projection shortcut when the shape changes; with
    ``upsample=True`` the 3x3 conv is a 2x2 transposed conv of stride 2 (the student decoder's blocks)."""

    def __init__(self, c_in: int, width: int, c_out: int, stride: int = 1, upsample: bool = False):
        super().__init__()
        if upsample:
            middle: nn.Module = nn.ConvTranspose2d(width, width, 2, 2, bias=False)
            shortcut: nn.Module | None = nn.Sequential(
                nn.ConvTranspose2d(c_in, c_out, 2, 2, bias=False), nn.BatchNorm2d(c_out)
            )
        else:
            middle = nn.Conv2d(width, width, 3, stride, 1, bias=False)
            shortcut = (
                None
                if (stride == 1 and c_in == c_out)
                else nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
            )
        self.body = nn.Sequential(
            nn.Conv2d(c_in, width, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            middle,
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.shortcut is None else self.shortcut(x)
        return F.relu(self.body(x) + identity)


class OneClassBottleneck(nn.Module):
    """OCBE: multi-scale feature fusion of the three teacher maps, then a stage of ``blocks`` bottleneck blocks, the
    first of stride 2 (the one-class embedding: a ResNet's 4th stage, as the reference's ``BN_layer``)."""

    def __init__(self, c1: int, c2: int, c3: int, width: int, blocks: int):
        super().__init__()
        self.from_s4 = nn.Sequential(_conv_bn_relu(c1, c2, 2), _conv_bn_relu(c2, c3, 2))
        self.from_s8 = _conv_bn_relu(c2, c3, 2)
        layers = [Bottleneck(3 * c3, width, 2 * c3, stride=2)]
        layers += [Bottleneck(2 * c3, width, 2 * c3) for _ in range(blocks - 1)]
        self.embed = nn.Sequential(*layers)

    def forward(self, s4: torch.Tensor, s8: torch.Tensor, s16: torch.Tensor) -> torch.Tensor:
        embedding: torch.Tensor = self.embed(torch.cat([self.from_s4(s4), self.from_s8(s8), s16], 1))
        return embedding


class StudentDecoder(nn.Module):
    """The teacher in reverse: three stages, each upsampling x2, producing the stride-16, -8 and -4 maps."""

    def __init__(self, c1: int, c2: int, c3: int, blocks: tuple[int, int, int], wide: bool):
        super().__init__()

        def stage(c_in: int, c_out: int, n: int) -> nn.Sequential:
            width = c_out // 2 if wide else c_out
            layers = [Bottleneck(c_in, width, c_out, upsample=True)]
            layers += [Bottleneck(c_out, width, c_out) for _ in range(n - 1)]
            return nn.Sequential(*layers)

        self.to_s16 = stage(2 * c3, c3, blocks[0])
        self.to_s8 = stage(c3, c2, blocks[1])
        self.to_s4 = stage(c2, c1, blocks[2])

    def forward(self, embedding: torch.Tensor) -> dict[str, torch.Tensor]:
        s16 = self.to_s16(embedding)
        s8 = self.to_s8(s16)
        return {"s4": self.to_s4(s8), "s8": s8, "s16": s16}


class RD4ADModel(nn.Module):
    """Bottleneck and decoder. Convolutions start from He-normal weights (fan-out), transposed ones from torch's
    default, as the reference initialises them."""

    def __init__(self, c1: int, c2: int, c3: int, wide: bool):
        super().__init__()
        self.bottleneck = OneClassBottleneck(c1, c2, c3, width=c3 if wide else 2 * c3, blocks=3 if wide else 2)
        self.decoder = StudentDecoder(c1, c2, c3, (3, 4, 6) if wide else (2, 2, 2), wide)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, teacher: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        student: dict[str, torch.Tensor] = self.decoder(self.bottleneck(teacher["s4"], teacher["s8"], teacher["s16"]))
        return student


def cosine_distance_maps(teacher: dict[str, torch.Tensor], student: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per scale, ``1 - cos`` between teacher and student feature vectors at every position: ``B x h x w``."""
    return {r: 1.0 - F.cosine_similarity(teacher[r], student[r], dim=1) for r in ROLES}


__all__ = ["ROLES", "Bottleneck", "OneClassBottleneck", "RD4ADModel", "StudentDecoder", "cosine_distance_maps"]
