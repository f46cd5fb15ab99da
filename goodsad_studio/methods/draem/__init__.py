"""DRAEM: a reconstructive and a discriminative network trained on synthetic anomalies (Zavrtanik, Kristan, Skočaj,
ICCV 2021). What fit and predict compute, defaults and deviations: README.md; networks and losses: model.py."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from goodsad_studio.methods.api import Batch, Capability, GridScores
from goodsad_studio.methods.components.schedules import Schedule, milestones
from goodsad_studio.methods.components.synthetic import draem_anomaly
from goodsad_studio.methods.components.training import StepContext, TrainedMethod, training_params
from goodsad_studio.methods.draem.model import DraemModel, focal_loss, ssim
from goodsad_studio.params import ParamSpec


def rotate_image(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate about the centre, filling with black (imgaug's Affine default)."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


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
    capabilities = frozenset({Capability.CHECKPOINTS})

    def build_model(self) -> DraemModel:
        return DraemModel(self.hparams["rec_width"], self.hparams["disc_width"])

    def build_optimizers(self, model: DraemModel) -> dict[str, torch.optim.Optimizer]:
        return {"adam": torch.optim.Adam(model.parameters(), lr=self.hparams["lr"])}

    def schedule(self) -> Schedule:
        """The learning rate x0.2 at 80% and at 90% of the steps."""
        return milestones(self.hparams["lr"], (0.8, 0.9), 0.2)

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

    def step(self, ctx: StepContext[DraemModel], batch: np.ndarray) -> dict[str, float]:
        normal, augmented, masks = self.synthesize(np.asarray(batch), ctx.rng)
        target, inputs = self.to_input(normal), self.to_input(augmented)
        reconstruction, logits = ctx.model(inputs)
        l2 = F.mse_loss(reconstruction, target)
        ssim_loss = 1 - ssim(reconstruction, target)
        segment = focal_loss(torch.softmax(logits, dim=1), torch.from_numpy(masks).to(self.device))
        loss = l2 + ssim_loss + segment
        ctx.update(loss)
        return {"loss": loss.item(), "l2": l2.item(), "ssim": ssim_loss.item(), "focal": segment.item()}

    def infer(self, model: DraemModel, batch: Batch) -> GridScores:
        _, logits = model(batch.input)
        anomalous = torch.softmax(logits, dim=1)[:, 1:]
        k = self.hparams["score_window"]
        averaged = F.avg_pool2d(anomalous, k, stride=1, padding=k // 2) if k > 1 else anomalous
        return GridScores(maps=anomalous[:, 0], images=averaged.flatten(1).max(1).values)

    def extra_config(self) -> dict[str, Any]:
        return {**super().extra_config(), "anomaly_source": "procedural textures (DTD not available offline)"}


__all__ = ["Draem", "DraemModel", "focal_loss", "rotate_image", "ssim"]
