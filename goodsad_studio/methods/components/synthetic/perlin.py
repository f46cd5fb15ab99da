"""Perlin-noise anomaly masks and DRAEM's anomaly synthesis (Zavrtanik et al., "DRAEM - A discriminatively
trained reconstruction embedding for surface anomaly detection", ICCV 2021, Sec. 3.3).

DRAEM draws 2-D Perlin noise with a random scale ``2**k`` (``k`` in ``[0, 6)``, each axis independently), rotates
it by an angle in ``[-90, 90]`` degrees, and thresholds it at 0.5: the anomaly mask ``M``. A texture image ``A``
(the "anomaly source": DTD textures in the paper; here :mod:`.textures` makes them procedurally because DTD cannot be
downloaded in the studio's offline setting) is augmented by 3 random image operations, and blended in::

    I_a = (1 - M) * I + (1 - beta) * M * A + beta * M * I,     beta ~ U[0, 0.8)

as in the reference code (``beta = rand * 0.8``). The mask returned is the pixels of ``M`` that changed.
"""

from __future__ import annotations

import cv2
import numpy as np

from goodsad_studio.errors import SyntheticAnomalyError
from goodsad_studio.methods.components.synthetic.common import MAX_TRIES, check_image, restrict_to_changes
from goodsad_studio.methods.components.synthetic.textures import augment_texture, procedural_texture

PERLIN_SCALE_EXP = (0, 6)
"""Exponent range of the noise period count per axis (reference code: ``perlin_scale = 6, min_perlin_scale = 0``)."""
THRESHOLD = 0.5
BETA_MAX = 0.8


def _fade(t: np.ndarray) -> np.ndarray:
    faded: np.ndarray = 6 * t**5 - 15 * t**4 + 10 * t**3
    return faded


def perlin_noise(shape: tuple[int, int], res: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """2-D gradient (Perlin) noise of ``shape`` with ``res`` periods per axis, values roughly in [-1, 1]."""
    height, width = shape
    ry, rx = max(int(res[0]), 1), max(int(res[1]), 1)
    angles = 2 * np.pi * rng.random((ry + 1, rx + 1))
    gradients = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    y = np.linspace(0, ry, height, endpoint=False)
    x = np.linspace(0, rx, width, endpoint=False)
    yi, xi = y.astype(int), x.astype(int)
    yf, xf = (y - yi)[:, None], (x - xi)[None, :]

    def corner(dy: int, dx: int) -> np.ndarray:
        g = gradients[(yi + dy)[:, None], (xi + dx)[None, :]]
        value: np.ndarray = g[..., 0] * (yf - dy) + g[..., 1] * (xf - dx)
        return value

    u, v = _fade(xf), _fade(yf)
    top = corner(0, 0) * (1 - u) + corner(0, 1) * u
    bottom = corner(1, 0) * (1 - u) + corner(1, 1) * u
    noise: np.ndarray = (np.sqrt(2) * (top * (1 - v) + bottom * v)).astype(np.float32)
    return noise


def _rotate(array: np.ndarray, degrees: float, border: int = cv2.BORDER_REFLECT) -> np.ndarray:
    height, width = array.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(array, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=border)


def perlin_mask(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """DRAEM's mask: thresholded, rotated Perlin noise with random scales; retried until non-empty."""
    for _ in range(MAX_TRIES):
        sy, sx = (2 ** rng.integers(*PERLIN_SCALE_EXP, size=2)).tolist()
        noise = perlin_noise(shape, (sy, sx), rng)
        noise = _rotate(noise, float(rng.uniform(-90, 90)))
        mask = noise > THRESHOLD
        if mask.any():
            return mask
    raise SyntheticAnomalyError(f"no Perlin mask with any pixel above {THRESHOLD} in {MAX_TRIES} draws")


def draem_anomaly(
    image: np.ndarray, rng: np.random.Generator, texture: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One DRAEM pseudo-anomaly on ``image``: ``(augmented uint8, bool mask of the changed pixels)``.

    ``texture`` is the anomaly source (any size, resized to the image); by default a procedural texture.
    """
    image = check_image(image, "DRAEM anomaly")
    height, width = image.shape[:2]
    for _ in range(MAX_TRIES):
        source = (
            procedural_texture((height, width), rng)
            if texture is None
            else cv2.resize(check_image(texture, "DRAEM texture", 2), (width, height), interpolation=cv2.INTER_LINEAR)
        )
        source = augment_texture(source, rng)
        region = perlin_mask((height, width), rng)
        beta = float(rng.random() * BETA_MAX)
        blended = (1 - beta) * source.astype(np.float32) + beta * image.astype(np.float32)
        out, mask = restrict_to_changes(image, np.clip(np.rint(blended), 0, 255).astype(np.uint8), region)
        if mask.any():
            return out, mask
    raise SyntheticAnomalyError(f"DRAEM anomaly changed no pixel in {MAX_TRIES} draws (a constant image?)")
