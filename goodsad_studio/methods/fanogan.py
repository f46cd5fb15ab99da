"""f-AnoGAN (Schlegl, Seeböck, Waldstein, Langs, Schmidt-Erfurth, "f-AnoGAN: Fast unsupervised anomaly detection
with generative adversarial networks", Medical Image Analysis 54, 2019).

Two training phases, run one after the other inside one schedule (``gan_fraction`` of the steps, then the rest):

1. A Wasserstein GAN with gradient penalty (WGAN-GP, Gulrajani et al. 2017) on the normal images: a DCGAN-style
   generator ``G`` (latent ``z ~ N(0, I)``, ``latent_dim = 128``, transposed convs + batch norm + ReLU, tanh) and
   a critic ``D`` (strided convs + LeakyReLU(0.2), no batch norm as WGAN-GP requires); the critic is updated every
   step, the generator every ``n_critic = 5`` steps; gradient penalty weight 10; Adam lr 1e-4, betas (0, 0.9).
2. The *izi_f* encoder training: an encoder ``E`` (the critic's architecture, ending in a linear map to ``z``)
   learns ``z = E(x)`` with ``G`` and ``D`` frozen, minimising
   ``||x - G(E(x))||^2 / n + kappa * ||f(x) - f(G(E(x)))||^2 / n_f`` (``f`` = the critic's last features,
   ``kappa = 1``).

Scoring (the paper's Eq. 5): image score ``A(x) = A_R(x) + kappa * A_D(x)`` (the two terms above); the anomaly map
is the pixel residual ``|x - G(E(x))|`` averaged over the colour channels (not smoothed: ``blur_sigma = 0``).

Defaults: 64x64 inputs (the paper's architecture; ``image_size`` must be a power of two), images scaled to
[-1, 1], batch size 64, half of the steps per phase. The paper does not fix epochs for RGB product photos; the
default of 400 epochs (200 GAN + 200 encoder) is this implementation's choice, as is ``width = 64``.
Deviations, stated: the phases share one step schedule (so one ``epochs``/``max_steps`` covers both); the latent
prior is a standard normal and the encoder output is linear (the paper's choice of prior is not restated here).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from goodsad_studio.errors import ParamError
from goodsad_studio.methods.params import ParamSpec
from goodsad_studio.methods.registry import register_method
from goodsad_studio.methods.training import TrainedMethod, TrainState, training_params


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

    def __init__(self, width: int, image_size: int, out: int):
        super().__init__()
        levels = _levels(image_size)
        channels = [width * min(2**i, 8) for i in range(levels)]
        layers: list[nn.Module] = []
        cin = 3
        for cout in channels:
            layers += [nn.Conv2d(cin, cout, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
            cin = cout
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.out = nn.Linear(cin * 16, out)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.features(x)
        return self.out(f), f


class FAnoGanModel(nn.Module):
    def __init__(self, latent: int, width: int, image_size: int):
        super().__init__()
        self.generator = Generator(latent, width, image_size)
        self.critic = ConvStack(width, image_size, 1)
        self.encoder = ConvStack(width, image_size, latent)


@register_method
class FAnoGan(TrainedMethod[FAnoGanModel]):
    name = "fanogan"
    description = "WGAN-GP on normal images, then an izi_f encoder; score = residual + critic-feature residual"
    roles = ()
    normalize = False
    params = [
        *training_params(epochs=400, batch_size=64, lr=1e-4, image_size=64, blur_sigma=0.0),
        ParamSpec("latent_dim", "int", 128, min=2, max=4096, help="size of the latent code z (paper 128)"),
        ParamSpec("width", "int", 64, min=2, max=512, help="base channel width of G, D and E"),
        ParamSpec(
            "gan_fraction",
            "float",
            0.5,
            min=0.01,
            max=0.99,
            help="share of the training steps spent on the WGAN-GP; the rest trains the encoder",
        ),
        ParamSpec("n_critic", "int", 5, min=1, max=100, help="critic updates per generator update (WGAN-GP 5)"),
        ParamSpec("gp_weight", "float", 10.0, min=0.0, max=1000.0, help="gradient penalty weight (WGAN-GP 10)"),
        ParamSpec("kappa", "float", 1.0, min=0.0, max=1000.0, help="weight of the feature residual (paper 1)"),
    ]

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        size = self.hparams["image_size"]
        if size & (size - 1) or size < 16:
            raise ParamError(
                f"fanogan: image_size must be a power of two of at least 16 (its DCGAN "
                f"architecture doubles 4x4 maps), got {size}"
            )

    def build_model(self) -> FAnoGanModel:
        p = self.hparams
        return FAnoGanModel(p["latent_dim"], p["width"], p["image_size"])

    def build_optimizers(self, model: FAnoGanModel) -> dict[str, torch.optim.Optimizer]:
        lr, betas = self.hparams["lr"], (0.0, 0.9)
        return {
            "generator": torch.optim.Adam(model.generator.parameters(), lr=lr, betas=betas),
            "critic": torch.optim.Adam(model.critic.parameters(), lr=lr, betas=betas),
            "encoder": torch.optim.Adam(model.encoder.parameters(), lr=lr, betas=betas),
        }

    def gan_steps(self, total: int) -> int:
        fraction: float = self.hparams["gan_fraction"]
        return min(max(1, round(total * fraction)), max(total - 1, 1))

    def _scaled(self, batch: np.ndarray) -> torch.Tensor:
        return self.to_input(batch) * 2 - 1

    def training_step(self, state: TrainState[FAnoGanModel], batch: np.ndarray) -> dict[str, float]:
        x = self._scaled(np.asarray(batch))
        if state.step < self.gan_steps(state.total_steps):
            return self._gan_step(state, x)
        return self._encoder_step(state, x)

    def _gan_step(self, state: TrainState[FAnoGanModel], x: torch.Tensor) -> dict[str, float]:
        p, model = self.hparams, state.model
        z = torch.randn(len(x), p["latent_dim"], device=self.device)
        fake = model.generator(z).detach()
        alpha = torch.rand(len(x), 1, 1, 1, device=self.device)
        mixed = (alpha * x + (1 - alpha) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(model.critic(mixed)[0].sum(), mixed, create_graph=True)
        penalty = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
        wasserstein = model.critic(x)[0].mean() - model.critic(fake)[0].mean()
        d_loss = -wasserstein + p["gp_weight"] * penalty
        state.optimizers["critic"].zero_grad()
        d_loss.backward()
        state.optimizers["critic"].step()
        losses = {"loss": d_loss.item(), "critic": d_loss.item(), "wasserstein": wasserstein.item(), "phase": 0.0}
        if state.step % p["n_critic"] == 0:
            z = torch.randn(len(x), p["latent_dim"], device=self.device)
            g_loss = -model.critic(model.generator(z))[0].mean()
            state.optimizers["generator"].zero_grad()
            g_loss.backward()
            state.optimizers["generator"].step()
            state.optimizers["critic"].zero_grad()  # the generator's backward also reached the critic
            losses["generator"] = g_loss.item()
        return losses

    def _residuals(self, model: FAnoGanModel, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per image: pixel residual term, feature residual term, and the residual image ``B x 3 x S x S``."""
        reconstruction = model.generator(model.encoder(x)[0])
        _, f_real = model.critic(x)
        _, f_fake = model.critic(reconstruction)
        residual = x - reconstruction
        return (residual**2).flatten(1).mean(1), ((f_real - f_fake) ** 2).mean(1), residual

    def _encoder_step(self, state: TrainState[FAnoGanModel], x: torch.Tensor) -> dict[str, float]:
        model = state.model
        model.generator.eval()  # frozen: batch-norm statistics are not updated any more
        for module in (model.generator, model.critic):
            module.requires_grad_(False)
        try:
            pixel, feature, _ = self._residuals(model, x)
            loss = (pixel + self.hparams["kappa"] * feature).mean()
            state.optimizers["encoder"].zero_grad()
            loss.backward()
            state.optimizers["encoder"].step()
        finally:
            for module in (model.generator, model.critic):
                module.requires_grad_(True)
        return {"loss": loss.item(), "pixel": pixel.mean().item(), "feature": feature.mean().item(), "phase": 1.0}

    def predict_batch(self, model: FAnoGanModel, batch: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        x = batch * 2 - 1
        pixel, feature, residual = self._residuals(model, x)
        scores = pixel + self.hparams["kappa"] * feature
        return scores.cpu().numpy(), residual.abs().mean(1).cpu().numpy()


__all__ = ["FAnoGan", "FAnoGanModel"]
