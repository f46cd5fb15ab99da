"""The pseudo-anomaly generators: binary non-empty masks of exactly the changed pixels, shapes, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from goodsad_studio.methods.components.synthetic import (
    SyntheticAnomalyError,
    augment_texture,
    cutpaste,
    cutpaste_scar,
    draem_anomaly,
    nsa_logistic_label,
    nsa_patch_blend,
    perlin_mask,
    perlin_noise,
    procedural_texture,
)
from goodsad_studio.methods.components.synthetic.textures import KINDS

from .conftest import textured_images

SOURCE = textured_images(1, (64, 80), seed=7)[0][:, ::-1].copy()
GENERATORS = {
    "draem": draem_anomaly,
    "cutpaste": cutpaste,
    "scar": cutpaste_scar,
    "nsa": lambda image, rng: nsa_patch_blend(image, rng, SOURCE[:, :, ::-1].copy()),
}


def _image(shape=(64, 80), seed=0) -> np.ndarray:
    """A photo-like image: a textured product on noise, so any pasted patch differs from where it lands."""
    rng = np.random.default_rng(seed)
    image = textured_images(1, shape, seed)[0].astype(np.int16)
    return np.clip(image + rng.integers(-20, 21, image.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("name", sorted(GENERATORS))
@pytest.mark.parametrize("seed", range(4))
def test_mask_is_binary_non_empty_and_marks_exactly_the_changed_pixels(name, seed):
    image = _image(seed=seed)
    before = image.copy()
    out, mask = GENERATORS[name](image, np.random.default_rng(seed))
    assert out.dtype == np.uint8 and out.shape == image.shape
    assert mask.dtype == np.bool_ and mask.shape == image.shape[:2]
    assert mask.any() and not mask.all()
    changed = np.any(out != image, axis=2)
    np.testing.assert_array_equal(mask, changed)
    np.testing.assert_array_equal(image, before)  # the input is not modified


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_same_generator_state_same_output_other_state_differs(name):
    image = _image()
    a = GENERATORS[name](image, np.random.default_rng(3))
    b = GENERATORS[name](image, np.random.default_rng(3))
    c = GENERATORS[name](image, np.random.default_rng(4))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_grayscale_and_non_square_inputs(name):
    gray = _image((48, 96))[:, :, 0]
    out, mask = GENERATORS[name](gray, np.random.default_rng(0))
    assert out.shape == (48, 96, 3) and mask.shape == (48, 96)
    assert mask.any()


def test_anomaly_sizes_follow_the_papers():
    image = _image((128, 128))
    cp = [cutpaste(image, np.random.default_rng(s))[1].mean() for s in range(20)]
    assert max(cp) <= 0.15 + 1e-9 and np.mean(cp) > 0.02  # CutPaste: 2-15% of the area
    scar = [cutpaste_scar(image, np.random.default_rng(s))[1].mean() for s in range(20)]
    assert max(scar) < 0.02  # scars are thin
    draem = [draem_anomaly(image, np.random.default_rng(s))[1].mean() for s in range(20)]
    assert 0.005 < np.mean(draem) < 0.5


def test_black_image_cannot_get_a_cutpaste_anomaly():
    flat = np.zeros((32, 32, 3), np.uint8)  # a black patch stays black under colour jitter
    with pytest.raises(SyntheticAnomalyError, match="changed no pixel"):
        cutpaste(flat, np.random.default_rng(0))


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 4, 3), np.uint8), np.zeros((32, 32, 3), np.float32), np.zeros((32, 32, 4), np.uint8)]
)
def test_bad_inputs_are_refused_with_a_reason(bad):
    with pytest.raises(SyntheticAnomalyError):
        draem_anomaly(bad, np.random.default_rng(0))


def test_perlin_noise_and_mask():
    rng = np.random.default_rng(0)
    noise = perlin_noise((40, 60), (4, 2), rng)
    assert noise.shape == (40, 60) and noise.dtype == np.float32
    assert -1.5 < noise.min() < 0 < noise.max() < 1.5
    assert np.abs(np.diff(noise, axis=1)).max() < 0.3  # smooth, not white noise
    mask = perlin_mask((40, 60), rng)
    assert mask.dtype == np.bool_ and mask.any() and not mask.all()


@pytest.mark.parametrize("kind", KINDS)
def test_procedural_textures_are_varied_colour_images(kind):
    rng = np.random.default_rng(1)
    texture = procedural_texture((48, 64), rng, kind)
    assert texture.shape == (48, 64, 3) and texture.dtype == np.uint8
    assert texture.std() > 5  # a pattern, not a flat colour
    augmented = augment_texture(texture, np.random.default_rng(2))
    assert augmented.shape == texture.shape and augmented.dtype == np.uint8


def test_nsa_logistic_label_is_zero_outside_the_mask_and_grows_with_the_change():
    image = _image()
    out, mask = nsa_patch_blend(image, np.random.default_rng(0), SOURCE)
    label = nsa_logistic_label(image, out, mask)
    assert label.dtype == np.float32 and label.shape == mask.shape
    assert (label[~mask] == 0).all() and (label[mask] > 0).all() and label.max() <= 1
    weak = nsa_logistic_label(image, np.clip(image.astype(int) + 4, 0, 255).astype(np.uint8), np.ones_like(mask))
    strong = nsa_logistic_label(image, np.clip(image.astype(int) + 60, 0, 255).astype(np.uint8), np.ones_like(mask))
    assert weak.mean() < 0.2 < 0.9 < strong.mean()
