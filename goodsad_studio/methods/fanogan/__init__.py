"""f-AnoGAN: a WGAN-GP on normal images, then an izi_f encoder; the score is the pixel plus the critic-feature
residual (Schlegl et al., Medical Image Analysis 2019). What fit and predict compute, defaults and deviations:
README.md; networks: model.py."""

from __future__ import annotations

import numpy as np
import torch

from goodsad_studio.errors import ParamError
from goodsad_studio.methods.api import Batch, Capability, GridScores
from goodsad_studio.methods.components.training import StepContext, TrainedMethod, training_params
from goodsad_studio.methods.fanogan.model import FAnoGanModel
from goodsad_studio.params import ParamSpec


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
        ParamSpec(
            "critic_norm",
            "choice",
            "layer",
            choices=("layer", "none"),
            help="layer: layer norm after each critic conv but the first (the authors' critic); none: plain DCGAN",
        ),
        ParamSpec(
            "izi_warmup",
            "float",
            0.2,
            min=0.0,
            max=0.95,
            help="share of the encoder steps trained on the image residual alone before the feature residual joins "
            "(0 = the paper's izi_f from the first step, which collapses the encoder to one output on long runs)",
        ),
    ]
    capabilities = frozenset({Capability.CHECKPOINTS})

    def setup(self) -> None:
        super().setup()
        size = self.hparams["image_size"]
        if size & (size - 1) or size < 16:
            raise ParamError(
                f"fanogan: image_size must be a power of two of at least 16 (its DCGAN "
                f"architecture doubles 4x4 maps), got {size}"
            )

    def build_model(self) -> FAnoGanModel:
        p = self.hparams
        return FAnoGanModel(p["latent_dim"], p["width"], p["image_size"], p["critic_norm"] == "layer")

    def build_optimizers(self, model: FAnoGanModel) -> dict[str, torch.optim.Optimizer]:
        lr, betas = self.hparams["lr"], (0.0, 0.9)
        return {
            "generator": torch.optim.Adam(model.generator.parameters(), lr=lr, betas=betas),
            "critic": torch.optim.Adam(model.critic.parameters(), lr=lr, betas=betas),
            "encoder": torch.optim.Adam(model.encoder.parameters(), lr=lr, betas=betas),
        }

    def gan_steps(self, total: int) -> int:
        """How many of ``total`` steps train the WGAN-GP (the rest train the encoder)."""
        fraction: float = self.hparams["gan_fraction"]
        return min(max(1, round(total * fraction)), max(total - 1, 1))

    def feature_weight(self, step: int, total: int) -> float:
        """The feature residual's weight at ``step``: 0 through the encoder's warm-up, then ``kappa``."""
        gan = self.gan_steps(total)
        warm_end = gan + self.hparams["izi_warmup"] * (total - gan)
        return 0.0 if step < warm_end else float(self.hparams["kappa"])

    def _scaled(self, batch: np.ndarray) -> torch.Tensor:
        return self.to_input(batch) * 2 - 1

    def step(self, ctx: StepContext[FAnoGanModel], batch: np.ndarray) -> dict[str, float]:
        x = self._scaled(np.asarray(batch))
        if ctx.step < self.gan_steps(ctx.total_steps):
            return self._gan_step(ctx, x)
        return self._encoder_step(ctx, x)

    def _gan_step(self, ctx: StepContext[FAnoGanModel], x: torch.Tensor) -> dict[str, float]:
        p, model = self.hparams, ctx.model
        z = torch.randn(len(x), p["latent_dim"], device=self.device)
        fake = model.generator(z).detach()
        alpha = torch.rand(len(x), 1, 1, 1, device=self.device)
        mixed = (alpha * x + (1 - alpha) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(model.critic(mixed)[0].sum(), mixed, create_graph=True)
        penalty = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
        wasserstein = model.critic(x)[0].mean() - model.critic(fake)[0].mean()
        d_loss = -wasserstein + p["gp_weight"] * penalty
        ctx.update(d_loss, "critic")
        losses = {"loss": d_loss.item(), "critic": d_loss.item(), "wasserstein": wasserstein.item(), "phase": 0.0}
        if ctx.step % p["n_critic"] == 0:
            z = torch.randn(len(x), p["latent_dim"], device=self.device)
            g_loss = -model.critic(model.generator(z))[0].mean()
            ctx.update(g_loss, "generator")
            ctx.optimizers["critic"].zero_grad()  # the generator's backward also reached the critic
            losses["generator"] = g_loss.item()
        return losses

    def _residuals(self, model: FAnoGanModel, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per image: pixel residual term, feature residual term, and the residual image ``B x 3 x S x S``."""
        reconstruction = model.generator(model.encoder(x)[0])
        _, f_real = model.critic(x)
        _, f_fake = model.critic(reconstruction)
        residual = x - reconstruction
        return (residual**2).flatten(1).mean(1), ((f_real - f_fake) ** 2).mean(1), residual

    def _encoder_step(self, ctx: StepContext[FAnoGanModel], x: torch.Tensor) -> dict[str, float]:
        model = ctx.model
        model.generator.eval()  # frozen: batch-norm statistics are not updated any more
        for module in (model.generator, model.critic):
            module.requires_grad_(False)
        try:
            pixel, feature, _ = self._residuals(model, x)
            loss = (pixel + self.feature_weight(ctx.step, ctx.total_steps) * feature).mean()
            ctx.update(loss, "encoder")
        finally:
            for module in (model.generator, model.critic):
                module.requires_grad_(True)
        return {"loss": loss.item(), "pixel": pixel.mean().item(), "feature": feature.mean().item(), "phase": 1.0}

    def infer(self, model: FAnoGanModel, batch: Batch) -> GridScores:
        pixel, feature, residual = self._residuals(model, batch.input * 2 - 1)
        scores = pixel + self.hparams["kappa"] * feature  # the paper's Eq. 5
        return GridScores(maps=residual.abs().mean(1), images=scores)


__all__ = ["FAnoGan", "FAnoGanModel"]
