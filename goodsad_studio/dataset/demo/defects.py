"""Surface defects and dents, drawn onto a copy of a product layer.

Each function takes the clean layer, a random generator and a severity (0..1, small to large) and returns a new,
defective layer; the clean one is left as it was. The generator places both in the same photo and takes the pixels
that differ as the ground-truth mask, so the mask is exact whatever the drawing did.

- surface_damage: scratches (thin jagged lines exposing lighter or darker material) and scuffs (an abraded patch)
- surface_anomaly: stains (an irregular translucent blot with a darker rim) and foreign stickers (a price label)
- deformation: a dent (local pinch of the surface with concave shading and creases; at an edge it notches the
  outline, at a box corner it crushes it)
"""

from __future__ import annotations

import cv2
import numpy as np

from goodsad_studio.dataset.demo.layer import Layer, blend_into, poly, px
from goodsad_studio.dataset.demo.palette import RGB, SMALL_FONT, hsv, luminance, put_text, shade


def random_point(region: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """A random pixel (x, y) of a boolean region (the layer centre when the region is empty)."""
    ys, xs = np.nonzero(region)
    if ys.size == 0:
        h, w = region.shape
        return w / 2, h / 2
    i = int(rng.integers(0, ys.size))
    return float(xs[i]), float(ys[i])


def object_size(layer: Layer) -> float:
    """A length that scales defects with the product: the side of the square with the product's area."""
    return float(np.sqrt(max(int(np.count_nonzero(layer.alpha > 128)), 1)))


def _contrast_colour(layer: Layer, region: np.ndarray, light: RGB, dark: RGB) -> RGB:
    if not region.any():
        return light
    mean = layer.rgb[region].mean(axis=0)
    return dark if luminance(tuple(mean)) > 0.55 else light


def _apply_paint(layer: Layer, coverage: np.ndarray, colour: RGB, opacity: float) -> Layer:
    """A copy of ``layer`` painted with ``colour`` at weight coverage*opacity, on the product only.

    Paint is opaque matter: on clear plastic or glass it also makes the product less transparent there.
    """
    out = layer.copy()
    on_product = np.clip(layer.alpha.astype(np.float32) * (3.0 / 255.0), 0.0, 1.0)
    weight = coverage.astype(np.float32) * (opacity / 255.0) * on_product
    blend_into(out.rgb, np.array(colour, np.uint8), weight)
    blend_into(out.alpha, np.array(255, np.uint8), weight)
    return out


def scratches(layer: Layer, rng: np.random.Generator, severity: float) -> Layer:
    """One to three thin jagged scratches."""
    size = object_size(layer)
    coverage = np.zeros(layer.shape, np.uint8)
    for _ in range(int(rng.integers(1, 4 if severity > 0.4 else 2))):
        x, y = random_point(layer.surface, rng)
        angle = rng.uniform(0, np.pi)
        length = size * rng.uniform(0.15, 0.3) * (0.55 + severity)
        steps = int(rng.integers(6, 12))
        t = np.linspace(-0.5, 0.5, steps)
        wiggle = np.cumsum(rng.normal(0, length * 0.025, steps))
        pts = np.stack(
            [
                x + np.cos(angle) * t * length - np.sin(angle) * wiggle,
                y + np.sin(angle) * t * length + np.cos(angle) * wiggle,
            ],
            1,
        )
        cv2.polylines(
            coverage, poly(pts), False, 255, px(rng.uniform(1.2, 2.4) * (0.6 + severity * 0.6), layer.unit), cv2.LINE_AA
        )
    colour = _contrast_colour(layer, coverage > 0, (236, 236, 232), (70, 64, 58))
    return _apply_paint(layer, coverage, colour, 0.85)


def scuff(layer: Layer, rng: np.random.Generator, severity: float) -> Layer:
    """An abraded patch: print rubbed pale, crossed by fine parallel marks."""
    size = object_size(layer)
    x, y = random_point(layer.surface, rng)
    axes = (size * rng.uniform(0.05, 0.09) * (0.55 + severity), size * rng.uniform(0.025, 0.05) * (0.55 + severity))
    angle = rng.uniform(0, 180)
    patch = np.zeros(layer.shape, np.uint8)
    cv2.ellipse(
        patch, (int(x), int(y)), (max(2, int(axes[0])), max(1, int(axes[1]))), angle, 0, 360, 255, -1, cv2.LINE_AA
    )
    out = _apply_paint(layer, patch, (228, 226, 220), 0.45)
    marks: np.ndarray = np.zeros(layer.shape, np.uint8)
    direction = np.deg2rad(angle)
    for _ in range(14):
        ox, oy = rng.normal(0, axes[1] * 0.6, 2)
        half = axes[0] * rng.uniform(0.4, 0.9)
        a = (x + ox - np.cos(direction) * half, y + oy - np.sin(direction) * half)
        b = (x + ox + np.cos(direction) * half, y + oy + np.sin(direction) * half)
        cv2.line(marks, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), 255, px(0.8, layer.unit), cv2.LINE_AA)
    marks = cv2.bitwise_and(marks, patch)
    return _apply_paint(out, marks, (250, 250, 250), 0.5)


def stain(layer: Layer, rng: np.random.Generator, severity: float) -> Layer:
    """An irregular translucent stain (oil, sauce, dirt) with a darker dried rim."""
    size = object_size(layer)
    x, y = random_point(layer.surface, rng)
    radius = size * rng.uniform(0.035, 0.06) * (0.6 + severity)
    blob: np.ndarray = np.zeros(layer.shape, np.uint8)
    for _ in range(int(rng.integers(3, 7))):
        ox, oy = rng.normal(0, radius * 0.55, 2)
        cv2.circle(blob, (int(x + ox), int(y + oy)), max(1, int(radius * rng.uniform(0.45, 0.9))), 255, -1, cv2.LINE_AA)
    blob = cv2.GaussianBlur(blob, (0, 0), max(0.8, radius * 0.25))
    blob = np.where(blob > 100, 255, 0).astype(np.uint8)
    blob = cv2.GaussianBlur(blob, (0, 0), max(0.5, layer.unit * 0.7))
    colour = hsv(rng.uniform(0.03, 0.12), rng.uniform(0.45, 0.8), rng.uniform(0.2, 0.45))
    out = _apply_paint(layer, blob, colour, rng.uniform(0.5, 0.7))
    rim = cv2.morphologyEx(
        np.where(blob > 127, 255, 0).astype(np.uint8),
        cv2.MORPH_GRADIENT,
        np.ones((3, 3), np.uint8),
        iterations=max(1, int(round(layer.unit))),
    )
    rim = cv2.bitwise_and(rim, np.where(blob > 0, 255, 0).astype(np.uint8))
    return _apply_paint(out, rim, shade(colour, 0.6), 0.5)


def sticker(layer: Layer, rng: np.random.Generator, severity: float) -> Layer:
    """A foreign price sticker stuck on the product, slightly rotated, with a thin shadow."""
    size = object_size(layer)
    x, y = random_point(layer.surface, rng)
    w = size * rng.uniform(0.1, 0.16) * (0.6 + severity * 0.8)
    h = w * rng.uniform(0.5, 0.7)
    colour = [(250, 250, 245), (255, 225, 60), (255, 150, 40), (250, 90, 120)][int(rng.integers(0, 4))]
    pw, ph = int(np.ceil(w)) + 2, int(np.ceil(h)) + 2
    patch = np.zeros((ph, pw, 3), np.uint8)
    patch[...] = colour
    put_text(
        patch,
        str(rng.choice(["-30%", "5.99", "SALE", "2 FOR 1", "9.90"])),
        (pw * 0.08, ph * 0.08, pw * 0.92, ph * 0.62),
        (20, 20, 20),
        font=SMALL_FONT,
        weight=1.2,
    )
    for i in range(int(pw * 0.1), int(pw * 0.9), max(2, int(pw * 0.04))):
        if rng.random() < 0.6:
            cv2.line(patch, (i, int(ph * 0.7)), (i, int(ph * 0.9)), (30, 30, 30), max(1, int(pw * 0.015)))
    angle = rng.uniform(-25, 25)
    matrix = cv2.getRotationMatrix2D((pw / 2, ph / 2), angle, 1.0)
    matrix[:, 2] += np.array([x - pw / 2, y - ph / 2])
    lh, lw = layer.shape
    rgb = cv2.warpAffine(patch, matrix, (lw, lh), flags=cv2.INTER_LINEAR)
    cover = cv2.warpAffine(np.full((ph, pw), 255, np.uint8), matrix, (lw, lh), flags=cv2.INTER_LINEAR)
    shift = np.array([[1, 0, max(1.0, layer.unit * 1.5)], [0, 1, max(1.0, layer.unit * 1.5)]], np.float32)
    shadow = cv2.GaussianBlur(cv2.warpAffine(cover, shift, (lw, lh)), (0, 0), max(0.6, layer.unit))
    out = _apply_paint(layer, shadow, (0, 0, 0), 0.35)
    weight = cover.astype(np.float32) / 255.0 * np.clip(layer.alpha.astype(np.float32) * (3.0 / 255.0), 0.0, 1.0)
    blend_into(out.rgb, rgb, weight)
    blend_into(out.alpha, np.array(255, np.uint8), weight)
    return out


def dent(
    layer: Layer, rng: np.random.Generator, severity: float, *, centre: tuple[float, float] | None = None
) -> Layer:
    """A dent: the surface pinched towards a point, shaded as a hollow, with a few creases."""
    size = object_size(layer)
    radius = size * rng.uniform(0.08, 0.12) * (0.65 + severity * 0.9)
    if centre is None:
        centre = random_point(layer.surface, rng)
    cx, cy = centre
    lh, lw = layer.shape
    x0, y0 = max(0, int(cx - radius) - 2), max(0, int(cy - radius) - 2)
    x1, y1 = min(lw, int(cx + radius) + 3), min(lh, int(cy + radius) + 3)
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dx, dy = xs - cx, ys - cy
    rho2 = (dx * dx + dy * dy) / (radius * radius)
    inside = rho2 < 1.0
    fall = np.where(inside, (1 - rho2) ** 2, 0).astype(np.float32)
    pull = 0.35 + 0.25 * severity
    map_x = (cx + dx * (1 + pull * fall)).astype(np.float32)
    map_y = (cy + dy * (1 + pull * fall)).astype(np.float32)
    rgba = np.dstack([layer.rgb, layer.alpha])
    warped = cv2.remap(rgba, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    light = rng.uniform(0, 2 * np.pi)
    # height h = -(1 - rho2)^2; its slope along the light direction darkens one side and lights the other
    slope = 4 * (1 - rho2) * (dx * np.cos(light) + dy * np.sin(light)) / (radius * radius) * radius
    gain = np.where(inside, 1.0 - 0.3 * slope - 0.1 * fall, 1.0).astype(np.float32)
    rgb = warped[..., :3].astype(np.float32) * gain[..., None]
    out = layer.copy()
    out.rgb[y0:y1, x0:x1] = np.where(inside[..., None], np.clip(rgb + 0.5, 0, 255), out.rgb[y0:y1, x0:x1])
    out.alpha[y0:y1, x0:x1] = np.where(inside, warped[..., 3], out.alpha[y0:y1, x0:x1])
    # creases: folds from the dent's centre outwards, each a dark line beside a light one
    dark = np.zeros((y1 - y0, x1 - x0), np.uint8)
    light_side = np.zeros_like(dark)
    offset = max(1, int(round(layer.unit)))
    for _ in range(int(rng.integers(2, 5))):
        a = rng.uniform(0, 2 * np.pi)
        r = radius * rng.uniform(0.45, 0.8)
        p = np.array([cx - x0 + rng.normal(0, radius * 0.1), cy - y0 + rng.normal(0, radius * 0.1)])
        bend = p + np.array([np.cos(a), np.sin(a)]) * r * 0.5 + rng.normal(0, radius * 0.08, 2)
        q = p + np.array([np.cos(a), np.sin(a)]) * r
        points = np.stack([p, bend, q])
        cv2.polylines(dark, poly(points), False, 255, px(1.2, layer.unit), cv2.LINE_AA)
        cv2.polylines(light_side, poly(points + offset), False, 255, px(1.0, layer.unit), cv2.LINE_AA)
    region = out.rgb[y0:y1, x0:x1]
    on_product = (out.alpha[y0:y1, x0:x1] > 0) & inside
    blend_into(region, np.zeros_like(region), dark.astype(np.float32) / 255 * 0.5 * on_product)
    blend_into(region, np.full_like(region, 255), light_side.astype(np.float32) / 255 * 0.35 * on_product)
    return out


def edge_point(layer: Layer, rng: np.random.Generator) -> tuple[float, float]:
    """A point on the product's outline beside its front surface (where a dent notches the silhouette)."""
    rows = np.nonzero(layer.surface.any(axis=1))[0]
    if rows.size == 0:
        return random_point(layer.surface, rng)
    y = int(rng.choice(rows))
    xs = np.nonzero(layer.alpha[y] > 128)[0]
    if xs.size == 0:
        return random_point(layer.surface, rng)
    return float(xs[0] if rng.random() < 0.5 else xs[-1]), float(y)


def corner_point(layer: Layer, rng: np.random.Generator) -> tuple[float, float]:
    """A corner of a box's front face (crushed corners are the typical box deformation)."""
    front = layer.quads.get("front")
    if front is None:
        return edge_point(layer, rng)
    corner = front[int(rng.integers(0, 4))]
    return float(corner[0]), float(corner[1])
