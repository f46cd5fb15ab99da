"""f-AnoGAN at tiny scale: architecture sizes, the two phases, the training contract, residual maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from goodsad_studio.errors import ParamError
from goodsad_studio.methods import create_method
from goodsad_studio.methods.fanogan import FAnoGan
from goodsad_studio.methods.fanogan.model import FAnoGanModel

from .conftest import textured_images, with_defect
from .trained_contract import (
    check_cancel_and_resume,
    check_save_load_and_map_resolution,
    check_seed_determinism,
)


def make(**kw) -> FAnoGan:
    settings = dict(device="cpu", image_size=32, batch_size=8, width=8, latent_dim=16, lr=1e-3)
    return create_method("fanogan", **{**settings, **kw})


def test_defaults_and_image_size_check():
    p = FAnoGan(device="cpu").hparams
    assert (p["image_size"], p["latent_dim"], p["n_critic"], p["gp_weight"], p["lr"]) == (64, 128, 5, 10.0, 1e-4)
    with pytest.raises(ParamError, match="power of two"):
        FAnoGan(device="cpu", image_size=48)


def test_generator_critic_and_encoder_shapes():
    model = FAnoGanModel(16, 4, 64).eval()
    z = torch.randn(2, 16)
    image = model.generator(z)
    assert image.shape == (2, 3, 64, 64) and image.abs().max() <= 1
    score, features = model.critic(image)
    assert score.shape == (2, 1) and features.shape[0] == 2
    assert model.encoder(image)[0].shape == (2, 16)
    normed = FAnoGanModel(16, 4, 64, critic_layer_norm=True)
    norms = [m for m in normed.critic.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert len(norms) == 3 and all(m.num_groups == 1 for m in norms)  # after every conv but the first
    assert not any(isinstance(m, torch.nn.GroupNorm) for m in normed.encoder.modules())
    assert FAnoGan(device="cpu").hparams["critic_norm"] == "layer"


def test_gan_phase_then_encoder_phase_whose_loss_goes_down():
    # The encoder's loss is bounded below by the young generator: with 4 generator updates (40 steps, n_critic 5)
    # it fell by <1% for some seeds (of seeds 0-9 x 1/2 threads, 6 runs failed the 0.97 bound and 4 the 15 decreasing
    # steps); with 15 updates (60 steps, n_critic 2) the worst mean(last 5) / mean(first 5) was 0.78 and the fewest
    # decreasing steps 24 of 29 (0.81 and 21 of 29 with oneDNN convolutions off).
    # measured with the plain DCGAN critic (critic_norm none); with the layer-norm critic the encoder's loss falls
    # too (1.075 -> 1.028 over its 30 steps at seed 0), by less than this bound
    method = make(max_steps=60, n_critic=2, izi_warmup=0.0, critic_norm="none")
    method.fit(textured_images(8, (64, 64)))
    phases = [h["phase"] for h in method.loss_history]
    assert phases == [0.0] * 30 + [1.0] * 30
    assert sum("generator" in h for h in method.loss_history) == 15  # every n_critic = 2 critic steps
    encoder = [h["loss"] for h in method.loss_history[30:]]
    assert np.mean(encoder[-5:]) < 0.9 * np.mean(encoder[:5])
    assert sum(b < a for a, b in zip(encoder, encoder[1:], strict=False)) >= 18


def test_the_encoder_warms_up_on_the_image_residual_before_the_feature_residual_joins():
    method = make(max_steps=40, izi_warmup=0.25, kappa=2.0)
    method.fit(textured_images(8, (64, 64)))
    encoder = [h for h in method.loss_history if h["phase"] == 1.0]
    assert len(encoder) == 20
    # 5 of the 20 encoder steps on the image residual alone, then image + kappa x feature residual
    assert all(h["loss"] == pytest.approx(h["pixel"]) for h in encoder[:5])
    assert all(h["loss"] == pytest.approx(h["pixel"] + 2.0 * h["feature"], rel=1e-5) for h in encoder[5:])
    assert [method.feature_weight(s, 40) for s in (19, 20, 24, 25, 39)] == [0.0, 0.0, 0.0, 2.0, 2.0]


def test_encoder_phase_leaves_generator_and_critic_unchanged():
    method = make(max_steps=12, gan_fraction=0.5)
    method.fit(textured_images(8, (64, 64)))
    # a run of 6 GAN steps and 1 encoder step gives the same G and D as the 12-step run (6 + 6)
    six = make(max_steps=7, gan_fraction=6 / 7)
    six.fit(textured_images(8, (64, 64)))
    full = {k: v for k, v in method.model.state_dict().items() if k.startswith(("generator.", "critic."))}
    gan = {k: v for k, v in six.model.state_dict().items() if k.startswith(("generator.", "critic."))}
    for key in full:
        assert torch.allclose(full[key].float(), gan[key].float()), key


def test_save_load_and_map_resolution(tmp_path):
    check_save_load_and_map_resolution(make, tmp_path)


def test_seed_determinism():
    check_seed_determinism(make)


def test_cancel_and_resume(tmp_path):
    check_cancel_and_resume(make, tmp_path)


def test_residual_map_shows_a_defect():
    # over seeds 0-9 x 1/2 threads the worst defect-box / corner ratio was 2.00 for the first image (the former
    # bound was 2) and 1.90 over all three, so the bound is 1.5
    method = make(max_steps=40)
    method.fit(textured_images(8, (64, 64)))
    bad = [with_defect(image) for image in textured_images(3, (64, 64), seed=11)]
    for pred in method.predict(bad):
        assert pred.anomaly_map[20:40, 20:40].mean() > 1.5 * pred.anomaly_map[:10, :10].mean()
