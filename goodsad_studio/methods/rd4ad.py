"""RD4AD (Deng & Li, "Anomaly Detection via Reverse Distillation from One-Class Embedding", CVPR 2022).

A frozen pretrained *teacher* encoder (WideResNet50) gives feature maps at stride 4, 8 and 16 (layer1..layer3).
The trainable *one-class bottleneck embedding* (OCBE) fuses them — multi-scale feature fusion: the stride-4 map
through two strided 3x3 conv + BN + ReLU, the stride-8 map through one, concatenated with the stride-16 map —
and compresses the result with one residual bottleneck block of stride 2 (the one-class embedding, stride 32).
A *student decoder*, the teacher's reverse (residual blocks with 2x2 transposed convolutions for upsampling),
reconstructs the three teacher maps from the embedding. Training minimises, at every scale, the mean over
positions of ``1 - cos(f_teacher(h, w), f_student(h, w))`` (the paper's Eq. 2-3), summed over the scales.

Inference: the anomaly map is the sum over scales of the per-position ``1 - cos`` maps upsampled (bilinear) to the
input, smoothed by a Gaussian of sigma 4; the image score is the maximum of the smoothed map (as the reference).

Paper defaults: WideResNet50 teacher, input 256 x 256, Adam lr 0.005 with betas (0.5, 0.999), batch size 16,
200 epochs; decoder stages of 3, 4 and 6 bottleneck blocks (the reverse of WideResNet50's layer3..layer1).

Deviations, stated: (1) the reference code's training loss compares each scale's *flattened* maps with one cosine
per image; this follows the paper's per-position loss, which is also what the anomaly map measures; (2) without
WideResNet50 weights the offline mobilenet_v2 teacher is used (stride-4/8/16 blocks of 24/32/96 channels) and
the OCBE/decoder are built for those widths (bottleneck width = the output channels, 2 blocks per decoder stage);
(3) teacher features of the training images are computed once and reused every epoch (the teacher is frozen in
eval mode and the reference uses no augmentation, so they are the same; float16 above 1 GiB).
"""

from __future__ import annotations

import threading
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from goodsad_studio.methods.registry import register_method
from goodsad_studio.methods.training import TrainedMethod, TrainState, training_params

_ROLES = ("s4", "s8", "s16")


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
    """OCBE: multi-scale feature fusion of the three teacher maps, then one stride-2 bottleneck block."""

    def __init__(self, c1: int, c2: int, c3: int, width: int):
        super().__init__()
        self.from_s4 = nn.Sequential(_conv_bn_relu(c1, c2, 2), _conv_bn_relu(c2, c3, 2))
        self.from_s8 = _conv_bn_relu(c2, c3, 2)
        self.embed = Bottleneck(3 * c3, width, 2 * c3, stride=2)

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
    def __init__(self, c1: int, c2: int, c3: int, wide: bool):
        super().__init__()
        self.bottleneck = OneClassBottleneck(c1, c2, c3, width=c3 if wide else 2 * c3)
        self.decoder = StudentDecoder(c1, c2, c3, (3, 4, 6) if wide else (2, 2, 2), wide)

    def forward(self, teacher: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        student: dict[str, torch.Tensor] = self.decoder(self.bottleneck(teacher["s4"], teacher["s8"], teacher["s16"]))
        return student


def cosine_distance_maps(teacher: dict[str, torch.Tensor], student: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per scale, ``1 - cos`` between teacher and student feature vectors at every position: ``B x h x w``."""
    return {r: 1.0 - F.cosine_similarity(teacher[r], student[r], dim=1) for r in _ROLES}


@register_method
class RD4AD(TrainedMethod[RD4ADModel]):
    name = "rd4ad"
    description = "reverse distillation: frozen teacher, one-class bottleneck, student decoder"
    roles = _ROLES
    params = training_params(epochs=200, batch_size=16, lr=0.005, image_size=256, blur_sigma=4.0)

    @property
    def _wide(self) -> bool:
        return self.backbone_spec.name == "wide_resnet50_2"

    def build_model(self) -> RD4ADModel:
        ch = self.backbone_spec.channels
        return RD4ADModel(ch["s4"], ch["s8"], ch["s16"], self._wide)

    def build_optimizers(self, model: RD4ADModel) -> dict[str, torch.optim.Optimizer]:
        return {"adam": torch.optim.Adam(model.parameters(), lr=self.hparams["lr"], betas=(0.5, 0.999))}

    def prepare_training_data(self, images: np.ndarray, cancel: threading.Event | None) -> dict[str, torch.Tensor]:
        return self.cache_backbone_features(images, cancel)

    def training_step(self, state: TrainState[RD4ADModel], batch: dict[str, torch.Tensor]) -> dict[str, float]:
        teacher = {r: batch[r].to(self.device, torch.float32) for r in _ROLES}
        distances = cosine_distance_maps(teacher, state.model(teacher))
        per_scale = {r: d.mean() for r, d in distances.items()}
        loss = cast(torch.Tensor, sum(per_scale.values()))  # 0 + tensors (one per role): a tensor
        optimizer = state.optimizers["adam"]
        optimizer.zero_grad()
        torch.autograd.backward(loss)  # loss.backward(), which torch leaves untyped
        optimizer.step()
        return {
            "loss": loss.item(),
            **{f"loss_{r}": v.item() for r, v in per_scale.items()},
        }

    def predict_batch(self, model: RD4ADModel, batch: torch.Tensor) -> tuple[None, np.ndarray]:
        teacher = self.backbone_features(batch)
        distances = cosine_distance_maps(teacher, model(teacher))
        size = batch.shape[-2:]
        total = cast(  # 0 + tensors (one per role): a tensor
            torch.Tensor,
            sum(
                F.interpolate(d.unsqueeze(1), size=size, mode="bilinear", align_corners=True)[:, 0]
                for d in distances.values()
            ),
        )
        return None, total.cpu().numpy()


__all__ = ["RD4AD", "cosine_distance_maps"]
