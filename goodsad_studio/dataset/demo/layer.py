"""The object layer: one product drawn upright in its own canvas, before it is placed into a shelf photo.

A :class:`Layer` is ``uint8`` RGB plus ``uint8`` alpha (OpenCV anti-aliases only 8-bit drawing), the regions where
defects may go, named points (the base the product stands on, a cigarette lid line) and named faces of boxes.
Helpers here are shared by the shapes: printed patterns, cylinder wrapping of a flat label, and shading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

import cv2
import numpy as np
import numpy.typing as npt

from goodsad_studio.dataset.demo.palette import RGB, Scheme, mix, shade

NOMINAL_HEIGHT = 0.68 * 512
"""Product height (in 1/512 of the photo) printed textures are drawn for: one texture per goods serves every photo
of it (photos differ in scale by a few percent; the texture is resampled when it is mapped onto the product)."""


def nominal(fraction: float, unit: float) -> int:
    """Pixels of a texture side that is ``fraction`` of the nominal product height."""
    return max(8, int(round(fraction * NOMINAL_HEIGHT * unit)))


def frozen(array: np.ndarray) -> np.ndarray:
    """Mark a cached array read-only so that no caller can change what later callers get."""
    array.flags.writeable = False
    return array


class DrawState(TypedDict, total=False):
    """How a shape draws a defect it draws itself (today only bottle caps); every key is optional."""

    cap: str
    """``closed``, ``open`` or ``half`` (``bottles.CLOSED``, ``OPEN``, ``HALF``)."""
    cap_angle: float
    """Degrees a half-open cap is tipped over."""
    cap_side: int
    """+1: a half-open cap is hinged on the right, -1: on the left."""
    cap_lift: float
    """How far a half-open cap is lifted, as a fraction of the cap's height."""


@dataclass
class Layer:
    """A product drawn in its own canvas. ``unit`` is pixels per 1/512 of the output image (stroke widths)."""

    rgb: np.ndarray
    alpha: np.ndarray
    unit: float
    surface: np.ndarray
    """Where surface defects (scratches, stains, dents) may be centred: the product's visible front, bool."""
    points: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Named points in layer pixels: ``base`` (bottom centre the product stands on) always; ``lid`` on packs."""
    quads: dict[str, np.ndarray] = field(default_factory=dict)
    """Named faces of boxes as 4x2 corner arrays (clockwise from top-left): ``front``, ``top``, ``side``."""

    @property
    def shape(self) -> tuple[int, int]:
        return self.alpha.shape[:2]

    def copy(self) -> Layer:
        return Layer(
            self.rgb.copy(),
            self.alpha.copy(),
            self.unit,
            self.surface.copy(),
            dict(self.points),
            {name: quad.copy() for name, quad in self.quads.items()},
        )


def blank_layer(height: int, width: int, unit: float) -> Layer:
    return Layer(
        np.zeros((height, width, 3), np.uint8),
        np.zeros((height, width), np.uint8),
        unit,
        np.zeros((height, width), bool),
    )


def px(value: float, unit: float) -> int:
    """A stroke width of ``value`` 512-scale pixels at this ``unit``, at least one pixel."""
    return max(1, int(round(value * unit)))


def poly(points: npt.ArrayLike) -> list[np.ndarray]:
    """Points as the int32 array list OpenCV polygon functions take."""
    return [np.round(np.asarray(points, np.float64)).astype(np.int32).reshape(-1, 1, 2)]


def fill(layer: Layer, points: npt.ArrayLike, color: RGB, *, opaque: bool = True) -> None:
    """Fill a polygon in the layer's colour and, when ``opaque``, in its alpha."""
    cv2.fillPoly(layer.rgb, poly(points), color, cv2.LINE_AA)
    if opaque:
        cv2.fillPoly(layer.alpha, poly(points), 255, cv2.LINE_AA)


def blend_into(target: np.ndarray, source: np.ndarray, weight: np.ndarray) -> None:
    """``target = target * (1 - weight) + source * weight`` in place (rounded); ``weight`` in [0, 1], HxW."""
    weight = np.ascontiguousarray(weight, dtype=np.float32)
    source = np.ascontiguousarray(np.broadcast_to(source, target.shape), dtype=target.dtype)
    target[...] = cv2.blendLinear(np.ascontiguousarray(target), source, 1.0 - weight, weight)


def multiply(target: np.ndarray, gain: np.ndarray) -> None:
    """Scale ``target`` (uint8, HxWx3) by ``gain`` (HxW or broadcastable), in place, with rounding."""
    g = gain[..., None] if gain.ndim == 2 else gain
    out = target.astype(np.float32) * g
    np.clip(out + 0.5, 0, 255, out=out)
    target[...] = out.astype(np.uint8)


def add_light(target: np.ndarray, amount: np.ndarray) -> None:
    """Add a white highlight of ``amount`` (0..1, HxW or broadcastable) towards white, in place."""
    a = amount[..., None] if amount.ndim == 2 else amount
    out = target.astype(np.float32)
    out += (255.0 - out) * a
    np.clip(out + 0.5, 0, 255, out=out)
    target[...] = out.astype(np.uint8)


# ------------------------------------------------------------------------------------------- printed patterns


def pattern(canvas: np.ndarray, scheme: Scheme, kind: int, rng: np.random.Generator, unit: float) -> None:
    """Cover ``canvas`` with one of several printed background patterns in the product's colours."""
    h, w = canvas.shape[:2]
    canvas[...] = scheme.main
    if kind == 0:  # horizontal bands
        y = h * rng.uniform(0.55, 0.75)
        band = h * rng.uniform(0.08, 0.18)
        cv2.rectangle(canvas, (0, int(y)), (w, int(y + band)), scheme.second, -1)
        cv2.rectangle(canvas, (0, int(y - band * 0.25)), (w, int(y - band * 0.1)), scheme.accent, -1)
    elif kind == 1:  # diagonal stripes
        step = max(w, h) * rng.uniform(0.12, 0.2)
        thick = max(2, int(step * rng.uniform(0.15, 0.35)))
        for x in np.arange(-h, w + h, step):
            cv2.line(canvas, (int(x), h), (int(x + h * 0.7), 0), shade(scheme.main, 1.15), thick, cv2.LINE_AA)
    elif kind == 2:  # wave
        xs = np.linspace(0, w, 64)
        phase = rng.uniform(0, 2 * np.pi)
        cycles = rng.integers(1, 3)
        base = h * rng.uniform(0.55, 0.7)
        ys = base + np.sin(xs / w * 2 * np.pi * cycles + phase) * h * 0.07
        points = np.concatenate([np.stack([xs, ys], 1), [[w, h], [0, h]]])
        cv2.fillPoly(canvas, [np.round(points).astype(np.int32)], scheme.second, cv2.LINE_AA)
        cv2.polylines(
            canvas,
            [np.round(np.stack([xs, ys - h * 0.03], 1)).astype(np.int32)],
            False,
            scheme.accent,
            px(4, unit),
            cv2.LINE_AA,
        )
    elif kind == 3:  # dots / bubbles
        for _ in range(int(rng.integers(8, 16))):
            centre = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
            radius = int(min(w, h) * rng.uniform(0.02, 0.09))
            cv2.circle(
                canvas, centre, max(radius, 1), mix(scheme.main, scheme.second, rng.uniform(0.3, 0.7)), -1, cv2.LINE_AA
            )
    else:  # vertical gradient
        top, bottom = np.array(shade(scheme.main, 1.25), np.float32), np.array(scheme.main, np.float32)
        t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        canvas[...] = np.clip(top * (1 - t) + bottom * t + 0.5, 0, 255).astype(np.uint8)


def fruit(canvas: np.ndarray, centre: tuple[float, float], radius: float, color: RGB, unit: float) -> None:
    """A simple round 'product photo' (a fruit or a bowl) with a highlight and a leaf."""
    cx, cy = centre
    r = max(int(radius), 2)
    cv2.circle(canvas, (int(cx), int(cy)), r, shade(color, 0.75), -1, cv2.LINE_AA)
    cv2.circle(canvas, (int(cx - r * 0.08), int(cy - r * 0.08)), int(r * 0.88), color, -1, cv2.LINE_AA)
    cv2.circle(
        canvas, (int(cx - r * 0.35), int(cy - r * 0.35)), max(1, int(r * 0.22)), shade(color, 1.5), -1, cv2.LINE_AA
    )
    leaf = [(cx, cy - r * 0.9), (cx + r * 0.5, cy - r * 1.35), (cx + r * 0.15, cy - r * 0.85)]
    cv2.fillPoly(canvas, poly(leaf), (60, 140, 50), cv2.LINE_AA)


# ------------------------------------------------------------------------------------------- cylinders


def wrap_cylinder(texture: np.ndarray, width: int, height: int, azimuth: float, tilt: float) -> np.ndarray:
    """The part of a flat RGBA label ``texture`` (wrapped once around a cylinder) seen from the front.

    ``width`` is the cylinder's diameter in pixels, ``azimuth`` the view angle around it (radians) and ``tilt``
    how far from above it is seen (horizontal circles bow down by ``tilt * radius`` at the front). Returns RGBA of
    ``height + tilt*radius`` rows so the bowed bottom edge fits; alpha is the label's anti-aliased coverage.
    """
    radius = width / 2.0
    bow = int(np.ceil(tilt * radius)) + 1
    tex_h, tex_w = texture.shape[:2]
    padded = np.concatenate([texture, texture[:, :2]], axis=1)  # no seam where the label's ends meet
    xs = (np.arange(width, dtype=np.float32) + 0.5 - radius) / radius
    theta = np.arcsin(np.clip(xs, -0.999, 0.999))
    u = ((theta + azimuth) / (2 * np.pi)) % 1.0 * tex_w
    rows = np.arange(height + bow, dtype=np.float32)[:, None]
    v = (rows - (tilt * radius * np.cos(theta))[None, :]) * (tex_h / max(height, 1))
    map_x = np.broadcast_to(u[None, :], v.shape).astype(np.float32)
    return cv2.remap(
        padded, map_x, v.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )


def paste_rgba(layer: Layer, rgba: np.ndarray, x0: int, y0: int, *, opaque: bool = True) -> None:
    """Alpha-composite an RGBA patch onto the layer at (x0, y0) (clipped to the layer)."""
    h, w = rgba.shape[:2]
    lh, lw = layer.shape
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + w, lw), min(y0 + h, lh)
    if xa >= xb or ya >= yb:
        return
    patch = rgba[ya - y0 : yb - y0, xa - x0 : xb - x0]
    weight = patch[..., 3].astype(np.float32) / 255.0
    blend_into(layer.rgb[ya:yb, xa:xb], patch[..., :3], weight)
    if opaque:
        region = layer.alpha[ya:yb, xa:xb]
        np.maximum(region, patch[..., 3], out=region)


def cylinder_shading(width: int, light: float, metallic: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-column diffuse gain and specular highlight of a vertical cylinder lit from angle ``light``."""
    xs = (np.arange(width, dtype=np.float32) + 0.5 - width / 2) / (width / 2)
    theta = np.arcsin(np.clip(xs, -0.999, 0.999))
    diffuse = 0.55 + 0.5 * np.clip(np.cos(theta - light), 0, 1)
    edge = np.clip(1.0 - np.abs(xs) ** 6, 0.0, 1.0)
    gain = (diffuse * (0.75 + 0.25 * edge)).astype(np.float32)
    spec_width = 0.09 + 0.08 * (1 - metallic)
    spec = np.exp(-(((theta - light * 0.6) / spec_width) ** 2)) * (0.25 + 0.45 * metallic)
    spec += np.exp(-(((theta + 1.05) / 0.07) ** 2)) * 0.25 * metallic  # rim light on the far side
    return gain, spec.astype(np.float32)


def profile_outline(cx: float, rows: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """A closed outline of a body of revolution: radius ``radii[i]`` at row ``rows[i]``, centred on ``cx``."""
    right = np.stack([cx + radii, rows], 1)
    left = np.stack([cx - radii[::-1], rows[::-1]], 1)
    return np.concatenate([right, left])


def revolve_shading(
    layer: Layer, cx: float, rows: np.ndarray, radii: np.ndarray, light: float, metallic: float
) -> None:
    """Shade rows ``rows`` of the layer as the surface of a body of revolution with radius ``radii[i]`` at row
    ``rows[i]``. Works on the bounding rectangle: pixels outside the outline are shaded as its rim (they are
    transparent, so nothing shows)."""
    lh, lw = layer.shape
    y0, y1 = max(int(rows[0]), 0), min(int(rows[-1]) + 1, lh)
    r_max = float(radii.max())
    x0, x1 = max(int(cx - r_max) - 1, 0), min(int(np.ceil(cx + r_max)) + 2, lw)
    radius = np.interp(np.arange(y0, y1, dtype=np.float32), rows, radii).astype(np.float32)[:, None]
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] + 0.5 - cx
    rel = np.clip(xs / np.maximum(radius, 1.0), -0.999, 0.999)
    theta = np.arcsin(rel)
    diffuse = 0.55 + 0.5 * np.clip(np.cos(theta - light), 0, 1)
    gain = diffuse * (0.75 + 0.25 * np.clip(1.0 - np.abs(rel) ** 6, 0, 1))
    spec = np.exp(-(((theta - light * 0.6) / (0.1 + 0.08 * (1 - metallic))) ** 2)) * (0.3 + 0.4 * metallic)
    region = layer.rgb[y0:y1, x0:x1]
    pixels = region.astype(np.float32) * gain[..., None]
    pixels += (255.0 - pixels) * spec[..., None]
    region[...] = np.clip(pixels + 0.5, 0, 255).astype(np.uint8)


def ridges(layer: Layer, x0: float, x1: float, y0: float, y1: float, color: RGB, count: int) -> None:
    """Vertical ridges of a bottle cap, denser towards the sides as on a real cylinder."""
    cx, radius = (x0 + x1) / 2, (x1 - x0) / 2
    for angle in np.linspace(-1.35, 1.35, count):
        x = cx + np.sin(angle) * radius
        cv2.line(
            layer.rgb,
            (int(round(x)), int(round(y0))),
            (int(round(x)), int(round(y1))),
            color,
            px(1, layer.unit),
            cv2.LINE_AA,
        )


def warp_quad(layer: Layer, texture: np.ndarray, quad: np.ndarray, *, gain: float = 1.0) -> None:
    """Paint an RGB ``texture`` onto the quadrilateral ``quad`` (4x2, clockwise from the texture's top-left).

    Only the quad's bounding box is warped, so a small face costs little on a large layer.
    """
    quad = np.asarray(quad, np.float32)
    lh, lw = layer.shape
    x0, y0 = np.floor(quad.min(0)).astype(int) - 1
    x1, y1 = np.ceil(quad.max(0)).astype(int) + 2
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, lw), min(y1, lh)
    if x1 <= x0 or y1 <= y0:
        return
    th, tw = texture.shape[:2]
    source = np.array([[0, 0], [tw, 0], [tw, th], [0, th]], np.float32)
    matrix = cv2.getPerspectiveTransform(source, quad - np.array([x0, y0], np.float32))
    rgba = np.dstack([texture, np.full((th, tw), 255, np.uint8)])
    warped = cv2.warpPerspective(
        rgba, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    if gain != 1.0:
        multiply(warped[..., :3], np.float32(gain) * np.ones(warped.shape[:2], np.float32))
    paste_rgba(layer, warped, int(x0), int(y0))
