"""NSA at tiny scale: the network, the synthetic training pairs, the training contract, a defect that stands out."""

from __future__ import annotations

import numpy as np
import torch

from goodsad_studio.methods import create_method
from goodsad_studio.methods.nsa import Nsa
from goodsad_studio.methods.nsa.model import ResNet18EncDec
from goodsad_studio.progress import NO_MONITOR

from .conftest import textured_images
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
    method.training_data(images, NO_MONITOR)
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


def turned_patch(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The image with the square ``box`` (y0, x0, y1, x1) turned a quarter: horizontal stripes in vertical ones,
    the kind of local texture break NSA trains on (a patch that does not continue its surroundings)."""
    out = image.copy()
    y0, x0, y1, x1 = box
    out[y0:y1, x0:x1] = np.rot90(image[y0:y1, x0:x1])
    return out


def test_learns_to_segment_a_defect():
    """What a user sees after a short training: the heatmap of a defective image lights up on the defect (mean inside
    the turned patch over mean in the image's top and bottom bands, over 8 images).

    The label threshold is lowered (``logistic_x0`` 4, ``logistic_k`` 1: every visibly changed pixel counts) because
    at the default (24 grey levels) 1% of the pixels of these faint training patches get a label above 0.5 and the
    network learns only the constant. Measured over seeds 0-9 with 1 torch thread, with the reference's
    encoder-decoder and rescaled patches clipped to 0.4 of the side: the ratio was at least 4.5 (median 7.1; with
    the stand-in network before it, at least 1.50). The image score (the map's mean) is not asserted: with the
    stand-in it ranked the 8 defective images above the 8 good ones in most runs but fell to AUROC 0.55-0.72 in 2 of
    20; at 40 steps and the default label nothing was learned (AUROC about 0.5)."""
    method = make(image_size=64, max_steps=300, batch_size=8, lr=1e-2, logistic_x0=4.0, logistic_k=1.0, seed=0)
    method.fit(textured_images(8, (64, 64)))
    good = textured_images(8, (64, 64), seed=21)
    maps = np.stack([p.anomaly_map for p in method.predict([turned_patch(image, (16, 16, 48, 48)) for image in good])])
    inside = maps[:, 16:48, 16:48].mean()
    bands = np.concatenate([maps[:, :8], maps[:, -8:]], axis=1).mean()
    assert inside > 1.2 * bands, (inside, bands)
