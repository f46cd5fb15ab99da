"""DRAEM (Zavrtanik, Kristan, Skočaj, "DRAEM - A discriminatively trained reconstruction embedding for surface
anomaly detection", ICCV 2021).

Two sub-networks trained jointly from scratch on normal images with synthetic anomalies (:mod:`.synthetic.perlin`):

* the *reconstructive* sub-network, an encoder-decoder without skip connections (5 blocks of two 3x3
  conv + batch norm + ReLU, widths ``w, 2w, 4w, 8w, 8w``; ``w = 128``), learns to give back the anomaly-free
  image ``I`` from the augmented ``I_a``, with the loss ``L2(I, I_r) + (1 - SSIM(I, I_r))`` (11x11 Gaussian window);
* the *discriminative* sub-network, a U-Net (6 blocks, widths ``w, 2w, 4w, 8w, 8w, 8w``; ``w = 64``, skip
  connections) on the concatenation ``[I_r, I_a]``, outputs a 2-class softmax segmentation trained with the focal
  loss (gamma 2) against the synthetic mask.

Inference: the anomaly map is the softmax's "anomalous" channel (no smoothing: ``blur_sigma = 0``); the image score
is the maximum of that map averaged over 21x21 windows (the reference code's ``avg_pool2d(21, stride 1)``).

Paper / reference-code defaults: 256x256 inputs in [0, 1] (no ImageNet normalisation), batch size 8, 700 epochs,
Adam lr 1e-4 for both sub-networks, learning rate x0.2 at 80% and 90% of training, weights initialised
N(0, 0.02); each training image gets an anomaly with probability 0.5 and is first rotated by -90..90 degrees with
probability 0.3. (The GoodsAD paper ran DRAEM at its authors' settings.)

Deviations, stated: the anomaly source textures are procedural (:mod:`.synthetic.textures`) instead of the DTD
dataset, which cannot be downloaded here; the texture augmentations are numpy/OpenCV re-implementations of the
reference's imgaug operations; the learning-rate milestones are at 80%/90% of the *steps* (the same as of the
epochs for a full run, but also right for a ``max_steps`` schedule).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from goodsad_studio.methods.params import ParamSpec
from goodsad_studio.methods.registry import register_method
from goodsad_studio.methods.synthetic import draem_anomaly
from goodsad_studio.methods.training import TrainedMethod, TrainState, set_learning_rate, training_params


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
    a: torch.Tensor, b: torch.Tensor, window: int = 11, sigma: float = 1.5, value_range: float = 1.0
) -> torch.Tensor:
    """Mean structural similarity of two ``B x C x H x W`` batches (Gaussian window, zero padding as the
    reference code)."""
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


def rotate_image(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate about the centre, filling with black (imgaug's Affine default)."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


@register_method
class Draem(TrainedMethod[DraemModel]):
    name = "draem"
    description = "reconstructive + discriminative networks trained on Perlin-noise texture anomalies"
    roles = ()
    normalize = False
    params = [
        *training_params(epochs=700, batch_size=8, lr=1e-4, image_size=256, blur_sigma=0.0),
        ParamSpec("rec_width", "int", 128, min=2, max=512, help="reconstructive sub-network base width (paper 128)"),
        ParamSpec("disc_width", "int", 64, min=2, max=512, help="discriminative sub-network base width (paper 64)"),
        ParamSpec(
            "anomaly_prob",
            "float",
            0.5,
            min=0.0,
            max=1.0,
            help="probability that a training image gets a synthetic anomaly (paper 0.5)",
        ),
        ParamSpec(
            "rotate_prob",
            "float",
            0.3,
            min=0.0,
            max=1.0,
            help="probability that a training image is first rotated by -90..90 degrees (reference 0.3)",
        ),
        ParamSpec(
            "score_window",
            "int",
            21,
            min=1,
            max=255,
            help="side of the mean filter over the map whose maximum is the image score (reference 21)",
        ),
    ]

    def build_model(self) -> DraemModel:
        return DraemModel(self.hparams["rec_width"], self.hparams["disc_width"])

    def build_optimizers(self, model: DraemModel) -> dict[str, torch.optim.Optimizer]:
        return {"adam": torch.optim.Adam(model.parameters(), lr=self.hparams["lr"])}

    def synthesize(self, images: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(normal, augmented, masks)`` for a uint8 batch: optional rotation, then an anomaly with probability
        ``anomaly_prob`` (otherwise the image itself and an empty mask)."""
        p = self.hparams
        normals, augmented, masks = [], [], []
        for image in images:
            if rng.random() < p["rotate_prob"]:
                image = rotate_image(image, float(rng.uniform(-90, 90)))
            if rng.random() < p["anomaly_prob"]:
                try:
                    out, mask = draem_anomaly(image, rng)
                except ValueError:  # a uniform (e.g. black) image no texture can change
                    out, mask = image, np.zeros(image.shape[:2], bool)
            else:
                out, mask = image, np.zeros(image.shape[:2], bool)
            normals.append(image)
            augmented.append(out)
            masks.append(mask)
        return np.stack(normals), np.stack(augmented), np.stack(masks)

    def training_step(self, state: TrainState[DraemModel], batch: np.ndarray) -> dict[str, float]:
        total = state.total_steps
        decays = sum(state.step >= int(total * m) for m in (0.8, 0.9))
        optimizer = state.optimizers["adam"]
        set_learning_rate(optimizer, self.hparams["lr"] * 0.2**decays)
        normal, augmented, masks = self.synthesize(np.asarray(batch), state.rng)
        target, inputs = self.to_input(normal), self.to_input(augmented)
        reconstruction, logits = state.model(inputs)
        l2 = F.mse_loss(reconstruction, target)
        ssim_loss = 1 - ssim(reconstruction, target)
        segment = focal_loss(torch.softmax(logits, dim=1), torch.from_numpy(masks).to(self.device))
        loss = l2 + ssim_loss + segment
        optimizer.zero_grad()
        torch.autograd.backward(loss)  # loss.backward(), which torch leaves untyped
        optimizer.step()
        return {"loss": loss.item(), "l2": l2.item(), "ssim": ssim_loss.item(), "focal": segment.item()}

    def predict_batch(self, model: DraemModel, batch: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        _, logits = model(batch)
        anomalous = torch.softmax(logits, dim=1)[:, 1:]
        k = self.hparams["score_window"]
        averaged = F.avg_pool2d(anomalous, k, stride=1, padding=k // 2) if k > 1 else anomalous
        scores = averaged.flatten(1).max(1).values
        return scores.cpu().numpy(), anomalous[:, 0].cpu().numpy()

    def _extra_config(self) -> dict[str, Any]:
        return {"anomaly_source": "procedural textures (DTD not available offline)"}


__all__ = ["Draem", "DraemModel", "focal_loss", "ssim"]
