"""DRAEM's networks (the reconstructive encoder-decoder and the discriminative U-Net) and its losses (SSIM, focal)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv_bn_relu(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def double_conv(cin: int, cout: int, mid: int | None = None) -> nn.Sequential:
    return nn.Sequential(*conv_bn_relu(cin, mid or cout), *conv_bn_relu(mid or cout, cout))


def up_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), *conv_bn_relu(cin, cout))


class ReconstructiveSubNetwork(nn.Module):
    """Encoder (5 double-conv blocks, 4 max-pools) and decoder (4 upsamplings), no skip connections."""

    def __init__(self, width: int = 128, channels: int = 3):
        super().__init__()
        w = width
        widths = [w, 2 * w, 4 * w, 8 * w, 8 * w]
        self.encoder = nn.ModuleList(
            [double_conv(c_in, c_out) for c_in, c_out in zip([channels, *widths[:-1]], widths, strict=False)]
        )
        self.ups = nn.ModuleList([up_conv(8 * w, 8 * w), up_conv(4 * w, 4 * w), up_conv(2 * w, 2 * w), up_conv(w, w)])
        self.blocks = nn.ModuleList(
            [
                double_conv(8 * w, 4 * w, 8 * w),
                double_conv(4 * w, 2 * w, 4 * w),
                double_conv(2 * w, w, 2 * w),
                double_conv(w, w),
            ]
        )
        self.out = nn.Conv2d(w, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, block in enumerate(self.encoder):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
        for up, block in zip(self.ups, self.blocks, strict=False):
            x = block(up(x))
        reconstruction: torch.Tensor = self.out(x)
        return reconstruction


class DiscriminativeSubNetwork(nn.Module):
    """U-Net: 6 double-conv blocks, 5 max-pools, decoder with skip connections, 2-class logits."""

    def __init__(self, width: int = 64, in_channels: int = 6, out_channels: int = 2):
        super().__init__()
        w = width
        widths = [w, 2 * w, 4 * w, 8 * w, 8 * w, 8 * w]
        self.encoder = nn.ModuleList(
            [double_conv(c_in, c_out) for c_in, c_out in zip([in_channels, *widths[:-1]], widths, strict=False)]
        )
        ups, blocks = [], []
        current = widths[-1]
        for skip, out in zip(
            reversed(widths[:-1]), [8 * w, 4 * w, 2 * w, w, w], strict=False
        ):  # as the reference decoder
            ups.append(up_conv(current, out))
            blocks.append(double_conv(out + skip, out))
            current = out
        self.ups, self.blocks = nn.ModuleList(ups), nn.ModuleList(blocks)
        self.out = nn.Conv2d(w, out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.encoder):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for up, block, skip in zip(self.ups, self.blocks, reversed(skips[:-1]), strict=False):
            x = block(torch.cat([up(x), skip], dim=1))
        logits: torch.Tensor = self.out(x)
        return logits


class DraemModel(nn.Module):
    def __init__(self, rec_width: int, disc_width: int):
        super().__init__()
        self.reconstructive = ReconstructiveSubNetwork(rec_width)
        self.discriminative = DiscriminativeSubNetwork(disc_width)
        self.apply(_init_weights)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        reconstruction = self.reconstructive(x)
        return reconstruction, self.discriminative(torch.cat([reconstruction, x], dim=1))


def _init_weights(module: nn.Module) -> None:
    """The reference code's init: conv weights N(0, 0.02), batch-norm weights N(1, 0.02), biases 0."""
    if isinstance(module, nn.Conv2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def ssim(
    a: torch.Tensor, b: torch.Tensor, window: int = 11, sigma: float = 1.5, value_range: float | None = None
) -> torch.Tensor:
    """Mean structural similarity of two ``B x C x H x W`` batches (Gaussian window, zero padding as the
    reference code). ``value_range`` None: guessed from ``a`` as the reference code does, ``max - min`` with
    ``max`` 255 where ``a`` exceeds 128 (else 1) and ``min`` -1 where ``a`` falls below -0.5 (else 0); DRAEM's ``a``
    is the reconstruction, so the range is 2 while it dips below -0.5 (early in training)."""
    if value_range is None:
        top = 255.0 if bool(a.max() > 128) else 1.0
        value_range = top - (-1.0 if bool(a.min() < -0.5) else 0.0)
    coords = torch.arange(window, dtype=a.dtype, device=a.device) - window // 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    channels = a.shape[1]
    kernel = (g[:, None] * g[None, :]).expand(channels, 1, window, window).contiguous()

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, kernel, padding=window // 2, groups=channels)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = (0.01 * value_range) ** 2, (0.03 * value_range) ** 2
    value = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return value.mean()


def focal_loss(
    probabilities: torch.Tensor, target: torch.Tensor, gamma: float = 2.0, smooth: float = 1e-5
) -> torch.Tensor:
    """The reference focal loss on softmax ``probabilities`` (``B x K x H x W``) and integer ``target``
    (``B x H x W``): ``-(1 - p_t)^gamma log p_t`` with label smoothing ``smooth``, averaged."""
    classes = probabilities.shape[1]
    one_hot = F.one_hot(target.long(), classes).permute(0, 3, 1, 2).to(probabilities.dtype)
    one_hot = one_hot.clamp(smooth / (classes - 1), 1.0 - smooth)
    pt = (one_hot * probabilities).sum(1) + smooth
    return (-((1 - pt) ** gamma) * pt.log()).mean()


__all__ = [
    "DiscriminativeSubNetwork",
    "DraemModel",
    "ReconstructiveSubNetwork",
    "double_conv",
    "focal_loss",
    "ssim",
    "up_conv",
]
