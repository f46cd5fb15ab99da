"""DRAEM at tiny scale: networks' shapes, losses, the training contract, and a defect that stands out."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from goodsad_studio.methods import create_method
from goodsad_studio.methods.draem import Draem
from goodsad_studio.methods.draem.model import DraemModel, focal_loss, ssim

from .conftest import textured_images, with_defect
from .trained_contract import (
    check_cancel_and_resume,
    check_loss_goes_down,
    check_save_load_and_map_resolution,
    check_seed_determinism,
)


def make(**kw) -> Draem:
    settings = dict(device="cpu", image_size=32, batch_size=4, rec_width=8, disc_width=8, lr=2e-3)
    return create_method("draem", **{**settings, **kw})


def test_defaults_are_the_papers():
    p = Draem(device="cpu").hparams
    assert (p["epochs"], p["batch_size"], p["lr"], p["image_size"]) == (700, 8, 1e-4, 256)
    assert (p["rec_width"], p["disc_width"], p["anomaly_prob"]) == (128, 64, 0.5)
    assert "procedural" in Draem(device="cpu").config()["anomaly_source"]


def test_subnetworks_keep_the_input_resolution():
    model = DraemModel(4, 4)
    reconstruction, logits = model(torch.rand(2, 3, 64, 96))
    assert reconstruction.shape == (2, 3, 64, 96) and logits.shape == (2, 2, 64, 96)


def test_ssim_and_focal_loss():
    x = torch.rand(2, 3, 32, 32)
    assert ssim(x, x).item() == pytest.approx(1.0, abs=1e-5)
    assert ssim(x, torch.rand_like(x)).item() < 0.2
    target = torch.zeros(1, 8, 8, dtype=torch.long)
    target[0, 2:4, 2:4] = 1
    right = torch.stack([1 - target.float(), target.float()], 1).clamp(0.01, 0.99)
    wrong = 1 - right
    assert focal_loss(right, target) < 1e-3 < focal_loss(wrong, target)


def test_synthesized_batches_follow_the_anomaly_probability():
    method = make(anomaly_prob=0.5, rotate_prob=0.0)
    images = np.stack(textured_images(16, (64, 64)))
    normal, augmented, masks = method.synthesize(images, np.random.default_rng(0))
    has = masks.reshape(16, -1).any(1)
    assert 3 <= has.sum() <= 13
    np.testing.assert_array_equal(normal, images)
    for i in np.flatnonzero(~has):
        np.testing.assert_array_equal(augmented[i], images[i])
    for i in np.flatnonzero(has):
        np.testing.assert_array_equal(np.any(augmented[i] != images[i], axis=2), masks[i])


def test_loss_goes_down():
    check_loss_goes_down(make, 12)


def test_save_load_and_map_resolution(tmp_path):
    check_save_load_and_map_resolution(make, tmp_path)


def test_seed_determinism():
    check_seed_determinism(make)


def test_cancel_and_resume(tmp_path):
    check_cancel_and_resume(make, tmp_path)


def test_learns_to_segment_a_synthetic_defect():
    """What a user sees after a short training: every defective image ranks above every good one (AUROC 1 over 4 good
    and 4 defective images). Measured over seeds 0-9 with 1 and 2 torch threads: the ranking held in all 20 runs
    (worst gap 0.014, typically 0.1-0.3, on scores of 0.2-0.5); 2 training steps fail it. Where the map points was
    left out: its defect / background ratio fell below 1 in 3 of those 20 runs at this training length."""
    method = make(max_steps=120, batch_size=8, lr=3e-3, anomaly_prob=0.9, rotate_prob=0.0, score_window=5, seed=0)
    method.fit(textured_images(8, (32, 32)))
    good = textured_images(4, (32, 32), seed=21)
    preds = method.predict(good + [with_defect(image, (8, 8, 24, 24)) for image in good])
    assert min(p.score for p in preds[4:]) > max(p.score for p in preds[:4]), [p.score for p in preds]
