"""NSA at tiny scale: the network, the synthetic training pairs, the training contract, a defect that stands out."""

from __future__ import annotations

import numpy as np
import torch

from goodsad_studio.methods.nsa_method import Nsa, ResNet18EncDec
from goodsad_studio.methods.registry import create_method

from .conftest import textured_images, with_defect
from .trained_contract import (
    check_cancel_and_resume,
    check_loss_goes_down,
    check_save_load_and_map_resolution,
    check_seed_determinism,
)


def make(**kw) -> Nsa:
    settings = dict(device="cpu", image_size=32, batch_size=4, width=8, lr=3e-3)
    return create_method("nsa", **{**settings, **kw})


def test_defaults_are_the_reference_scripts():
    p = Nsa(device="cpu").hparams
    assert (p["epochs"], p["batch_size"], p["lr"], p["min_lr"], p["width"]) == (320, 64, 1e-3, 1e-6, 64)
    assert (p["max_patches"], p["logistic_k"], p["logistic_x0"]) == (3, 1 / 12, 24.0)


def test_network_gives_a_map_at_the_input_size():
    assert ResNet18EncDec(4)(torch.rand(2, 3, 64, 96)).shape == (2, 64, 96)
    full = sum(p.numel() for p in ResNet18EncDec(64).encoder.parameters())
    assert 10e6 < full < 12e6  # ResNet-18's stages hold about 11M weights


def test_training_pairs_blend_patches_of_other_images():
    method = make()
    images = np.stack(textured_images(4, (32, 32)))
    images[1:] = np.random.default_rng(0).integers(0, 256, images[1:].shape)  # busy sources: visible patches
    method.prepare_training_data(images, None)
    augmented, labels = method.synthesize(images[:1], np.array([0]), np.random.default_rng(0))
    changed = np.any(augmented[0] != images[0], axis=2)
    assert changed.any() and (labels[0][~changed] == 0).all() and (labels[0][changed] > 0).all()


def test_loss_goes_down():
    check_loss_goes_down(make, 24, ratio=0.9)  # BCE on soft labels has a floor: their entropy


def test_save_load_and_map_resolution(tmp_path):
    check_save_load_and_map_resolution(make, tmp_path)


def test_seed_determinism():
    check_seed_determinism(make)


def test_cancel_and_resume(tmp_path):
    check_cancel_and_resume(make, tmp_path)


def test_learns_to_segment_a_defect():
    method = make(max_steps=40, batch_size=8)
    images = textured_images(8, (32, 32))
    method.fit(images)
    good = textured_images(1, (32, 32), seed=11)[0]
    bad = with_defect(good, (10, 10, 20, 20))
    pred_good, pred_bad = method.predict([good, bad])
    assert pred_bad.score > pred_good.score
    assert pred_bad.anomaly_map[10:20, 10:20].mean() > pred_bad.anomaly_map[:6, :6].mean()
