"""NSA — Natural Synthetic Anomalies (Schlüter, Tan, Hou, Kainz, "Natural Synthetic Anomalies for Self-Supervised
Anomaly Detection and Localization", ECCV 2022).

A ResNet-18 encoder-decoder, trained from scratch, learns to segment the synthetic anomalies of
:func:`~.synthetic.nsa.nsa_patch_blend`: patches of *other* normal training images, rescaled and Poisson-blended
(``cv2.seamlessClone``) into each training image. The target is the paper's "logistic-intensity" label (a logistic
function of the per-pixel intensity change, :func:`~.synthetic.nsa.nsa_logistic_label`), the loss binary
cross-entropy on the sigmoid output. Inference: the sigmoid output is the anomaly map (no smoothing); the image
score is its mean over the image, as in the paper.

Defaults from the reference training script (``train_mvtec.py``, setting "Shift-Intensity"): Adam with lr 1e-3
annealed by a cosine to 1e-6 over training, batch size 64, 320 epochs (560 for unaligned objects in MVTec; goods
are unaligned, but 320 is kept as the default — raise ``epochs`` to follow the paper there), up to 3 patches,
``NORMAL_CLONE``, logistic label ``k = 1/12, x0 = 24``, input 224 px.

Deviations, stated: the reference's ``resnet18_enc_dec`` module is not published in a form available here; this
one is a ResNet-18 encoder (7x7 stem, max-pool, four stages of two basic blocks, widths ``w..8w``, ``w = 64``)
followed by a decoder of five x2 bilinear upsamplings each with a 3x3 conv + batch norm + ReLU, and a 1x1 conv to
one logit. The reference's random crop/rotation augmentation and its object-only patch placement
("skip_background") are not used. The cosine schedule runs over *steps*.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from goodsad_studio.errors import SyntheticAnomalyError
from goodsad_studio.methods.params import ParamSpec
from goodsad_studio.methods.registry import register_method
from goodsad_studio.methods.synthetic import nsa_logistic_label, nsa_patch_blend
from goodsad_studio.methods.training import TrainedMethod, TrainState, set_learning_rate, training_params


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


class ResNet18EncDec(nn.Module):
    """ResNet-18 encoder (stride 32) and an upsampling decoder back to the input size; one logit per pixel."""

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
        ups = []
        for cout in (4 * w, 2 * w, w, w, max(w // 2, 1)):
            ups += [
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(cin, cout, 3, 1, 1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
            ]
            cin = cout
        self.decoder = nn.Sequential(*ups)
        self.head = nn.Conv2d(cin, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.head(self.decoder(self.encoder(self.stem(x))))
        if logits.shape[-2:] != x.shape[-2:]:
            logits = F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return logits[:, 0]


@register_method
class Nsa(TrainedMethod[ResNet18EncDec]):
    name = "nsa"
    description = "ResNet-18 segmenter trained on Poisson-blended patches of other normal images"
    roles = ()
    params = [
        *training_params(epochs=320, batch_size=64, lr=1e-3, image_size=224, blur_sigma=0.0),
        ParamSpec("min_lr", "float", 1e-6, min=0.0, max=1.0, help="end of the cosine schedule (reference 1e-6)"),
        ParamSpec("width", "int", 64, min=2, max=512, help="ResNet-18 base width (64 = ResNet-18)"),
        ParamSpec("max_patches", "int", 3, min=1, max=10, help="patches per image, first always, others p=0.5"),
        ParamSpec("logistic_k", "float", 1 / 12, min=1e-4, max=10.0, help="slope of the logistic label"),
        ParamSpec("logistic_x0", "float", 24.0, min=0.0, max=255.0, help="grey-level change where the label is 0.5"),
        ParamSpec("mixed_clone", "bool", False, help="Poisson blending keeps the stronger gradient (MIXED_CLONE)"),
    ]

    def build_model(self) -> ResNet18EncDec:
        return ResNet18EncDec(self.hparams["width"])

    def build_optimizers(self, model: ResNet18EncDec) -> dict[str, torch.optim.Optimizer]:
        return {"adam": torch.optim.Adam(model.parameters(), lr=self.hparams["lr"])}

    def prepare_training_data(self, images: np.ndarray, cancel: threading.Event | None) -> dict[str, np.ndarray]:
        self._sources = images  # patches come from any other training image
        return {"image": images, "index": np.arange(len(images))}

    def synthesize(
        self, images: np.ndarray, indices: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Augmented uint8 images and their float32 logistic labels; the source of each is another image."""
        p = self.hparams
        pool = self._sources
        augmented, labels = [], []
        for image, own in zip(images, indices, strict=False):
            choices = len(pool) - 1
            other = int(rng.integers(choices)) if choices else int(own)
            other = other + 1 if choices and other >= own else other
            try:
                out, mask = nsa_patch_blend(
                    image, rng, pool[other], max_patches=p["max_patches"], mixed=p["mixed_clone"]
                )
                label = nsa_logistic_label(image, out, mask, p["logistic_k"], p["logistic_x0"])
            except SyntheticAnomalyError:  # identical source and target: a normal example
                out, label = image, np.zeros(image.shape[:2], np.float32)
            augmented.append(out)
            labels.append(label)
        return np.stack(augmented), np.stack(labels)

    def training_step(self, state: TrainState[ResNet18EncDec], batch: dict[str, np.ndarray]) -> dict[str, float]:
        p = self.hparams
        progress = state.step / max(state.total_steps, 1)
        lr = p["min_lr"] + (p["lr"] - p["min_lr"]) * 0.5 * (1 + math.cos(math.pi * progress))
        optimizer = state.optimizers["adam"]
        set_learning_rate(optimizer, lr)
        augmented, labels = self.synthesize(np.asarray(batch["image"]), np.asarray(batch["index"]), state.rng)
        logits = state.model(self.to_input(augmented))
        loss = F.binary_cross_entropy_with_logits(logits, torch.from_numpy(labels).to(self.device))
        optimizer.zero_grad()
        torch.autograd.backward(loss)  # loss.backward(), which torch leaves untyped
        optimizer.step()
        return {"loss": loss.item(), "lr": lr}

    def predict_batch(self, model: ResNet18EncDec, batch: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        maps = torch.sigmoid(model(batch))
        return maps.flatten(1).mean(1).cpu().numpy(), maps.cpu().numpy()


__all__ = ["Nsa", "ResNet18EncDec"]
