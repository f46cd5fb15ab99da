"""One demo photo: a product of a category on a shelf, with or without a defect, and its exact mask.

Every random choice comes from a generator seeded by (seed, category, goods, serial, purpose), so a photo does not
depend on which other photos are made or in which order. A defective photo is rendered twice from the same draws,
once clean and once with the defect; the mask is the set of pixels where the two differ (by at least
:data:`MIN_CHANGE` grey levels before noise), and the saved photo takes the defective pixels only there. The mask is
therefore exactly the pixels the defect altered in the rendered photo (JPEG compression, applied afterwards to
every image alike, blurs that edge by a pixel or two, as it does in real datasets).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from goodsad_studio.dataset.demo import scene
from goodsad_studio.dataset.demo.categories import CATEGORIES, apply_defect, defect_state
from goodsad_studio.dataset.demo.layer import Layer

SMALL_AREA = (0.0005, 0.005)
"""The share of the photo a small defect covers (``small=True``): 0.05 % to 0.5 %, GoodsAD's common case."""
SMALL_ATTEMPTS = 48
MIN_CHANGE = 2.0
"""Grey levels (of 255) a pixel must change by to count as part of a defect; smaller changes are not drawn."""

_CATEGORY_NUMBER = {name: number for number, name in enumerate(CATEGORIES)}
_DESIGN, _VIEW, _SCENE, _DEFECT, _BAY = 0, 1, 2, 3, 4
SHELF_BAYS = 3
"""Shelf bays per category: the photos of a category are taken in front of one of these few shelves, as in a shop."""
NEIGHBOUR_GOODS = tuple(range(900, 908))
"""Goods numbers (never used by the dataset) of the products standing beside the photographed one."""


@dataclass
class Sample:
    """A rendered photo. ``mask`` and ``clean`` (the same photo without the defect) only for defective ones."""

    image: np.ndarray
    mask: np.ndarray | None
    clean: np.ndarray | None


def _rng(seed: int, category: str, goods: int, serial: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, _CATEGORY_NUMBER[category], goods, serial, purpose]))


@functools.lru_cache(maxsize=256)
def goods_design(category: str, goods: int, seed: int) -> Any:
    """The design (shape, colours, label) of goods number ``goods``: the same in every photo of it."""
    return CATEGORIES[category].design(_rng(seed, category, goods, 0, _DESIGN))


def _product_height(category: str, design: Any, size: int, scale: float) -> float:
    spec = CATEGORIES[category]
    return min(size * spec.height * scale, size * 0.62 / max(spec.aspect(design), 1e-3))


@functools.lru_cache(maxsize=16)
def _neighbour(category: str, goods: int, seed: int, size: int) -> tuple[np.ndarray, tuple[float, float], float]:
    """A product standing beside the photographed one: premultiplied RGBA, its base point and its width."""
    spec = CATEGORIES[category]
    design = goods_design(category, goods, seed)
    view = spec.view(_rng(seed, category, goods, 0, _VIEW))
    layer = spec.draw(design, view, _product_height(category, design, size, 1.0), size / 512, None)
    rgba = scene.soften(scene.premultiplied_rgba(layer), _defocus(size))
    rgba.flags.writeable = False
    return rgba, layer.points["base"], _width(layer)


@functools.lru_cache(maxsize=4)
def _shelf_bay(category: str, bay: int, seed: int, size: int) -> tuple[np.ndarray, float]:
    image, shelf_y = scene.shelf_background(size, _rng(seed, category, bay, 0, _BAY))
    image = scene.soften(image, _defocus(size))
    image.flags.writeable = False
    return image, shelf_y


def _defocus(size: int) -> int:
    """How much the shelf and the neighbouring goods are out of focus (a shrink factor for :func:`scene.soften`)."""
    return max(1, round(size / 320))


def _width(layer: Layer) -> float:
    columns = np.nonzero(layer.alpha.max(axis=0) > 128)[0]
    return float(columns[-1] - columns[0] + 1) if columns.size else 0.0


def _severity(rng: np.random.Generator) -> float:
    """Defect size: a third of the defects are small (most of those under 1% of the photo)."""
    return float(rng.uniform(0.0, 0.25) if rng.random() < 0.35 else rng.uniform(0.25, 1.0))


def _quantise(image: np.ndarray, noise: np.ndarray, sigma: float) -> np.ndarray:
    """``image + sigma * noise`` rounded and saturated to uint8 (OpenCV does it in one pass)."""
    return cv2.addWeighted(image, 1.0, noise, sigma, 0.0, dtype=cv2.CV_8U)


def render_sample(
    category: str,
    goods: int,
    serial: int,
    defect: str | None = None,
    *,
    size: int = 512,
    seed: int = 0,
    small: bool = False,
) -> Sample:
    """Render photo ``serial`` of goods number ``goods``; with ``defect`` (a type from the category's list) the
    product shows that defect and the sample carries its exact mask. With ``small`` the defect is drawn as ever,
    at a random place, and kept only when it covers :data:`SMALL_AREA` of the photo (other draws are tried until
    one does)."""
    spec = CATEGORIES[category]
    if defect is not None and defect not in spec.defects:
        raise ValueError(f"{defect!r} is not a defect type of {category} (known: {', '.join(spec.defects)})")
    unit = size / 512
    design = goods_design(category, goods, seed)
    view_rng = _rng(seed, category, goods, serial, _VIEW)
    view = spec.view(view_rng)
    height = _product_height(category, design, size, float(view_rng.uniform(0.9, 1.06)))
    clean = spec.draw(design, view, height, unit, None)

    rng = _rng(seed, category, goods, serial, _SCENE)
    bay, shelf_y = _shelf_bay(category, int(rng.integers(0, SHELF_BAYS)), seed, size)
    background = bay.astype(np.float32)
    target = (size * (0.5 + rng.uniform(-0.1, 0.1)), shelf_y + size * rng.uniform(-0.005, 0.015))
    half_width = _width(clean) / 2
    for side in (-1, 1):
        if rng.random() < 0.7:
            rgba, base, width = _neighbour(category, int(rng.choice(NEIGHBOUR_GOODS)), seed, size)
            gap = size * rng.uniform(0.02, 0.06)
            x = target[0] + side * (half_width + gap + width / 2)
            placed = scene.place_upright(rgba, base, (x, shelf_y - size * rng.uniform(0.0, 0.02)), size)
            if placed is not None:
                scene.composite(background, placed, gain=float(rng.uniform(0.8, 0.92)))
    homography = scene.pose(clean, size, target, rng)
    placed_clean = scene.place(clean, homography, size)
    # the product's base is posed near the middle of the shelf line, well inside the photo, so it always lands
    assert placed_clean is not None
    scene.cast_shadow(background, placed_clean, rng, shelf_y)
    gain = scene.lighting(size, rng)
    noise, sigma = scene.sensor_noise(size, seed, rng)

    x0, y0, x1, y1 = placed_clean.box
    behind = background[y0:y1, x0:x1].copy()  # what the product hides, for the defective version
    scene.composite(background, placed_clean)
    lit_clean = cv2.multiply(background, gain)
    image_clean = _quantise(lit_clean, noise, sigma)
    if defect is None:
        return Sample(image_clean, None, None)

    low, high = SMALL_AREA
    for attempt in range(SMALL_ATTEMPTS if small else 8):
        defect_rng = _rng(seed, category, goods, serial, _DEFECT + 16 * attempt)
        severity = _severity(defect_rng) if small else max(_severity(defect_rng), min(1.0, 0.2 * attempt))
        state = defect_state(category, defect, defect_rng, severity)
        if state is not None:
            broken = spec.draw(design, view, height, unit, state)
        else:
            broken = apply_defect(category, defect, clean, defect_rng, severity)
        mask, image = _apply(broken, homography, behind, gain, (noise, sigma), lit_clean, image_clean)
        if mask.any() and (not small or low <= np.count_nonzero(mask) / mask.size <= high):
            return Sample(image, mask, image_clean)
    kind = "small " if small else ""
    raise RuntimeError(f"could not draw a visible {kind}{defect} on {category} goods {goods:03d} photo {serial:03d}")


def _apply(
    broken: Layer,
    homography: np.ndarray,
    behind: np.ndarray,
    gain: np.ndarray,
    noise: tuple[np.ndarray, float],
    lit_clean: np.ndarray,
    image_clean: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The defective photo and its mask: defective pixels where they differ visibly from the clean photo.

    ``behind`` is the background under the product's box (the defective layer has the same canvas and pose, so
    the same box).
    """
    size = image_clean.shape[0]
    placed = scene.place(broken, homography, size)
    mask = np.zeros((size, size), bool)
    image = image_clean.copy()
    if placed is None:
        return mask, image
    x0, y0, x1, y1 = placed.box
    region = behind.copy()
    scene.composite(region, scene.Placed(placed.rgb, placed.alpha, (0, 0, x1 - x0, y1 - y0)))
    lit = cv2.multiply(region, gain[y0:y1, x0:x1])
    visible = cv2.absdiff(lit, lit_clean[y0:y1, x0:x1]).max(axis=2) >= MIN_CHANGE
    quantised = _quantise(lit, noise[0][y0:y1, x0:x1], noise[1])
    changed = visible & np.any(quantised != image_clean[y0:y1, x0:x1], axis=2)
    mask[y0:y1, x0:x1] = changed
    image[y0:y1, x0:x1][changed] = quantised[changed]
    return mask, image
