"""NSA's network, the reference's ``resnet18_enc_dec`` (pooling on, no pre-activation): a ResNet-18 encoder, a 1x1
bridge and a decoder of transposed residual blocks, one logit per pixel."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    """ResNet's basic block: two 3x3 convs with batch norm and an identity (or 1x1-projected) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class UpBlock(nn.Module):
    """The basic block doubling the resolution: a 3x3 transposed conv (stride 2) then a 3x3 conv, each with batch
    norm, and a 1x1 transposed-conv shortcut with batch norm."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = nn.ConvTranspose2d(cin, cout, 3, 2, 1, output_padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential(
            nn.ConvTranspose2d(cin, cout, 1, 2, output_padding=1, bias=False), nn.BatchNorm2d(cout)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18EncDec(nn.Module):
    """ResNet-18 encoder (stride 32; widths ``w..8w``), a bridge of two 1x1 convs with ReLU (``8w -> 4w -> 2w``),
    three up-blocks (``w``, ``w/2``, ``w/4``), a x2 bilinear upsampling and a 7x7 transposed conv (stride 2) to one
    logit per pixel: back at the input size (for a side that is a multiple of 32; else resized to it). ``w`` = 64
    is the reference network."""

    def __init__(self, width: int = 64):
        super().__init__()
        w = width
        self.stem = nn.Sequential(
            nn.Conv2d(3, w, 7, 2, 3, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)
        )
        stages, cin = [], w
        for cout, stride in ((w, 1), (2 * w, 2), (4 * w, 2), (8 * w, 2)):
            stages.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout)))
            cin = cout
        self.encoder = nn.Sequential(*stages)
        self.bridge = nn.Sequential(
            nn.Conv2d(8 * w, 4 * w, 1, bias=False),
            nn.ReLU(inplace=True),
            nn.Conv2d(4 * w, 2 * w, 1, bias=False),
            nn.ReLU(inplace=True),
        )
        ups, cin = [], 2 * w
        for cout in (w, max(w // 2, 1), max(w // 4, 1)):
            ups.append(UpBlock(cin, cout))
            cin = cout
        self.decoder = nn.Sequential(*ups)
        self.upsample = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        self.head = nn.ConvTranspose2d(cin, 1, 7, 2, 3, output_padding=1, bias=False)
        for module in self.modules():  # the reference's init; its transposed convs keep torch's default
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # torch 2.14's oneDNN backward of a strided 1x1 transposed conv on a channels-last input of few channels
        # corrupts the heap on some CPUs (AMD EPYC: "double free or corruption"). A batch made from HWC images is
        # channels-last, and convolutions keep the layout they are given: a plain one avoids that kernel
        x = x.contiguous()
        features = self.bridge(self.encoder(self.stem(x)))
        logits: torch.Tensor = self.head(self.upsample(self.decoder(features)))
        if logits.shape[-2:] != x.shape[-2:]:
            logits = F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return logits[:, 0]


__all__ = ["BasicBlock", "ResNet18EncDec", "UpBlock"]
