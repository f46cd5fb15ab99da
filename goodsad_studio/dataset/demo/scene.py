"""The shop around the product: a shelf with a price strip, a back wall, neighbouring goods, shop lighting.

A photo is composed in float32 RGB: the background (wall, shelf, neighbours, the product's shadow), then the
product layer warped into place by a homography (position, small rotation, perspective), then a lighting gain
(gradient, vignetting, a colour cast) and sensor noise. Everything is drawn in fractions of the photo's side, so
any size looks the same.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from goodsad_studio.dataset.demo.layer import Layer, px
from goodsad_studio.dataset.demo.palette import SMALL_FONT, hsv, put_text, shade


@dataclass
class Placed:
    """A layer warped into the photo: premultiplied RGB and alpha over the box ``(x0, y0, x1, y1)``."""

    rgb: np.ndarray
    alpha: np.ndarray
    box: tuple[int, int, int, int]


def shelf_background(size: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """A shelf bay seen from the front: back wall, shelf board with a price strip. Returns (uint8 RGB, shelf y)."""
    unit = size / 512
    image = np.empty((size, size, 3), np.uint8)
    wall_kind = int(rng.integers(0, 3))
    wall = [
        hsv(0.58, 0.04, rng.uniform(0.75, 0.9)),
        hsv(rng.uniform(0.05, 0.12), 0.25, rng.uniform(0.6, 0.8)),
        hsv(rng.uniform(0.5, 0.65), 0.12, rng.uniform(0.78, 0.92)),
    ][wall_kind]
    image[...] = wall
    if wall_kind == 0:  # perforated pegboard
        step = size * rng.uniform(0.045, 0.06)
        offset = rng.uniform(0, step, 2)
        hole = shade(wall, 0.45)
        for y in np.arange(offset[1], size, step):
            for x in np.arange(offset[0], size, step):
                cv2.circle(image, (int(x), int(y)), px(2.2, unit), hole, -1, cv2.LINE_AA)
    elif wall_kind == 1:  # wooden back panel
        for x in np.arange(rng.uniform(0, size * 0.2), size, size * rng.uniform(0.12, 0.2)):
            cv2.line(image, (int(x), 0), (int(x), size), shade(wall, 0.8), px(2, unit), cv2.LINE_AA)
    shelf_y = size * rng.uniform(0.86, 0.9)
    back = int(shelf_y - size * rng.uniform(0.04, 0.07))
    front = int(shelf_y + size * 0.035)
    metal = hsv(0.6, 0.03, rng.uniform(0.72, 0.86))
    t = np.linspace(0.75, 1.0, max(front - back, 1), dtype=np.float32)[:, None, None]
    image[back:front] = np.clip(np.array(metal, np.float32) * t, 0, 255).astype(np.uint8)
    strip_colour = [(238, 238, 232), (250, 215, 60), (70, 74, 80), (225, 60, 50)][int(rng.integers(0, 4))]
    strip_bottom = int(front + size * 0.075)
    image[front:strip_bottom] = strip_colour
    image[strip_bottom:] = shade(metal, 0.35)
    cv2.line(image, (0, front), (size, front), shade(metal, 1.3), px(2, unit), cv2.LINE_AA)
    for x in np.arange(rng.uniform(-0.2, 0.1) * size, size, size * rng.uniform(0.35, 0.5)):
        tag = (int(x), int(front + size * 0.008), int(x + size * 0.15), int(strip_bottom - size * 0.008))
        cv2.rectangle(
            image, tag[:2], tag[2:], (252, 252, 248) if strip_colour != (238, 238, 232) else (255, 235, 90), -1
        )
        put_text(
            image,
            f"{rng.integers(1, 40)}.{rng.integers(0, 100):02d}",
            (tag[0] + size * 0.06, tag[1] + size * 0.005, tag[2] - size * 0.005, tag[3] - size * 0.02),
            (20, 20, 20),
            font=cv2.FONT_HERSHEY_DUPLEX,
            weight=1.2,
            align="right",
        )
        put_text(
            image,
            "ITEM " + str(rng.integers(1000, 9999)),
            (tag[0] + size * 0.005, tag[3] - size * 0.018, tag[0] + size * 0.07, tag[3] - size * 0.004),
            (60, 60, 60),
            font=SMALL_FONT,
            align="left",
        )
    if rng.random() < 0.5:  # the shelf above, just in view
        upper = int(size * rng.uniform(0.02, 0.06))
        image[:upper] = shade(metal, 0.3)
    return image, float(shelf_y)


def lighting(size: int, rng: np.random.Generator) -> np.ndarray:
    """A shop-light gain map (H, W, 3): a broad gradient, vignetting, a soft ceiling highlight, a colour cast.

    Drawn on a 48x48 grid and enlarged: light varies slowly, and this costs next to nothing at 3000 px.
    """
    small = 48
    yy, xx = np.mgrid[0:small, 0:small].astype(np.float32) / (small - 1) * 2 - 1
    direction = rng.uniform(0, 2 * np.pi)
    gain = 1.0 + rng.uniform(0.06, 0.18) * (xx * np.cos(direction) + yy * np.sin(direction))
    gain *= 1.0 - rng.uniform(0.12, 0.3) * (xx**2 + yy**2) / 2
    hx, hy = rng.uniform(-0.6, 0.6, 2)
    gain += rng.uniform(0.04, 0.12) * np.exp(-((xx - hx) ** 2 + (yy - hy) ** 2) / 0.3)
    gain *= rng.uniform(0.92, 1.05)
    warmth = rng.uniform(-0.04, 0.05)
    cast = np.array([1 + warmth, 1.0, 1 - warmth], np.float32)
    light: np.ndarray = cv2.resize(
        (gain[..., None] * cast).astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR
    )
    return light


NOISE_MARGIN = 61


@functools.lru_cache(maxsize=2)
def _noise_field(size: int, seed: int) -> np.ndarray:
    field = np.random.default_rng(np.random.SeedSequence([seed, 0x6E6F697365])).standard_normal(
        (size + NOISE_MARGIN, size + NOISE_MARGIN, 3), dtype=np.float32
    )
    field.flags.writeable = False
    return field


def sensor_noise(size: int, seed: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Gaussian noise of a few grey levels, as from a phone camera in shop light: unit noise (float32, H x W x 3)
    and the standard deviation to scale it by.

    The noise is a window at a random offset into one field drawn per (size, seed): drawing fresh normals for every
    photo would cost more than the rest of the photo.
    """
    sigma = float(rng.uniform(1.2, 3.0))
    ox, oy = (int(v) for v in rng.integers(0, NOISE_MARGIN, 2))
    return _noise_field(size, seed)[oy : oy + size, ox : ox + size], sigma


def soften(image: np.ndarray, factor: int) -> np.ndarray:
    """A cheap defocus: shrink by ``factor`` with area averaging and enlarge again (same dtype)."""
    if factor <= 1:
        return image
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def pose(layer: Layer, size: int, target: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """A homography taking the layer's base point to ``target`` with a small tilt and some perspective."""
    lh, lw = layer.shape
    bx, by = layer.points["base"]
    angle = np.deg2rad(rng.uniform(-5, 5))
    c, s = np.cos(angle), np.sin(angle)
    rotate = np.array([[c, -s], [s, c]])
    corners = np.array([[0, 0], [lw, 0], [lw, lh], [0, lh]], np.float32)
    placed = (corners - (bx, by)) @ rotate.T + target
    jitter = rng.uniform(-1, 1, (4, 2)) * max(lw, lh) * rng.uniform(0.01, 0.045)
    jitter[2:] *= 0.4  # the base stays on the shelf
    return cv2.getPerspectiveTransform(corners, (placed + jitter).astype(np.float32))


def place(layer: Layer, homography: np.ndarray, size: int) -> Placed | None:
    """Warp a layer into the photo (only over its bounding box); None when it falls outside.

    The colour is premultiplied by alpha before warping so that edges blend with the background, not with the
    black of the empty canvas.
    """
    lh, lw = layer.shape
    corners = cv2.perspectiveTransform(np.array([[[0, 0], [lw, 0], [lw, lh], [0, lh]]], np.float32), homography)[0]
    x0, y0 = np.floor(corners.min(0)).astype(int)
    x1, y1 = np.ceil(corners.max(0)).astype(int) + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, size), min(y1, size)
    if x1 <= x0 or y1 <= y0:
        return None
    shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
    matrix = shift @ homography
    rgba = premultiplied_rgba(layer)
    out = cv2.warpPerspective(
        rgba, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    return _placed(out, (x0, y0, x1, y1))


def premultiplied_rgba(layer: Layer) -> np.ndarray:
    """The layer as uint8 RGBA with colour premultiplied by alpha (so edges interpolate without dark fringes)."""
    alpha = layer.alpha
    premultiplied = cv2.multiply(layer.rgb, cv2.merge([alpha, alpha, alpha]), scale=1 / 255)
    return cv2.merge([premultiplied, alpha])


def _placed(rgba: np.ndarray, box: tuple[int, int, int, int]) -> Placed:
    rgb = rgba[..., :3].astype(np.float32)
    alpha = rgba[..., 3].astype(np.float32) * np.float32(1 / 255)
    return Placed(rgb, alpha, box)


def place_upright(rgba: np.ndarray, base: tuple[float, float], target: tuple[float, float], size: int) -> Placed | None:
    """Place a premultiplied RGBA canvas by whole-pixel translation only (neighbouring goods: no warp needed)."""
    h, w = rgba.shape[:2]
    left, top = int(round(target[0] - base[0])), int(round(target[1] - base[1]))
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + w, size), min(top + h, size)
    if x1 <= x0 or y1 <= y0:
        return None
    return _placed(rgba[y0 - top : y1 - top, x0 - left : x1 - left], (x0, y0, x1, y1))


def composite(background: np.ndarray, placed: Placed, gain: float = 1.0) -> None:
    """Lay a placed layer over ``background`` in place."""
    x0, y0, x1, y1 = placed.box
    keep = 1.0 - placed.alpha
    region = cv2.multiply(background[y0:y1, x0:x1], cv2.merge([keep, keep, keep]))
    background[y0:y1, x0:x1] = cv2.scaleAdd(placed.rgb, gain, region)


def cast_shadow(background: np.ndarray, placed: Placed, rng: np.random.Generator, shelf_y: float) -> None:
    """Darken the wall and shelf behind the product: a soft offset shadow and a contact shadow at its base.

    Shadows are soft, so they are drawn at 1/8 of the photo's size and enlarged.
    """
    size = background.shape[0]
    factor = 8 if size >= 256 else 4
    small_size = max(1, size // factor)
    x0, y0, x1, y1 = placed.box
    sx0, sy0 = x0 // factor, y0 // factor
    sx1, sy1 = max(sx0 + 1, min(small_size, -(-x1 // factor))), max(sy0 + 1, min(small_size, -(-y1 // factor)))
    silhouette = np.zeros((small_size, small_size), np.float32)
    if sx0 < small_size and sy0 < small_size:
        silhouette[sy0:sy1, sx0:sx1] = cv2.resize(placed.alpha, (sx1 - sx0, sy1 - sy0), interpolation=cv2.INTER_AREA)
    dx, dy = rng.uniform(-0.04, 0.04) * size / factor, rng.uniform(-0.01, 0.03) * size / factor
    shadow = cv2.warpAffine(silhouette, np.array([[1, 0, dx], [0, 1, dy]], np.float32), (small_size, small_size))
    shadow = cv2.GaussianBlur(shadow, (0, 0), max(0.8, size * 0.012 / factor))
    contact = np.zeros((small_size, small_size), np.float32)
    cv2.ellipse(
        contact,
        (int((x0 + x1) / 2 / factor), int(shelf_y / factor)),
        (max(1, int((x1 - x0) * 0.45 / factor)), max(1, int(size * 0.012 / factor))),
        0,
        0,
        360,
        1.0,
        -1,
    )
    contact = cv2.GaussianBlur(contact, (0, 0), max(0.7, size * 0.008 / factor))
    keep: np.ndarray = ((1.0 - rng.uniform(0.2, 0.4) * shadow) * (1.0 - 0.5 * contact)).astype(np.float32)
    keep = cv2.resize(cv2.merge([keep, keep, keep]), (size, size), interpolation=cv2.INTER_LINEAR)
    cv2.multiply(background, keep, dst=background)
