"""Food packages: glossy pillow bags (crisps, snacks) with crimped seals at the top and the bottom.

The printed face is drawn flat, then bent into the bag: the body narrows just under the seals and bulges in the
middle; shading darkens the rounded sides, glossy streaks and crinkles near the seals make it read as film.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from goodsad_studio.dataset.demo.layer import (
    DrawState,
    Layer,
    blank_layer,
    blend_into,
    frozen,
    nominal,
    pattern,
    poly,
    px,
)
from goodsad_studio.dataset.demo.palette import (
    FONTS,
    SMALL_FONT,
    Scheme,
    brand_name,
    flavour_word,
    hsv,
    put_text,
    shade,
)

SEAL = 0.075  # seal height / bag height


@dataclass(frozen=True)
class PackageDesign:
    width: float
    scheme: Scheme
    pattern: int
    brand: str
    flavour: str
    font: int
    weight: str
    window: bool
    chips: tuple[int, int, int]
    seed: int


@dataclass(frozen=True)
class PackageView:
    light: float  # horizontal light position, -1..1
    gloss: float  # position of the gloss streaks, 0..1
    squeeze: float  # how much the body narrows under the seals


def design_food_package(rng: np.random.Generator) -> PackageDesign:
    return PackageDesign(
        rng.uniform(0.66, 0.85),
        Scheme(rng),
        int(rng.integers(0, 5)),
        brand_name(rng),
        flavour_word(rng),
        int(rng.choice(FONTS[:5])),
        str(rng.choice(["70g", "100g", "150g", "45g"])),
        bool(rng.random() < 0.4),
        hsv(rng.uniform(0.08, 0.14), rng.uniform(0.55, 0.8), rng.uniform(0.8, 0.95)),
        int(rng.integers(0, 2**31)),
    )


@functools.lru_cache(maxsize=8)
def print_texture(d: PackageDesign, w: int, h: int, unit: float) -> np.ndarray:
    """The bag's printed face, flat (cached, read-only)."""
    rng = np.random.default_rng(d.seed)
    tex = np.zeros((h, w, 3), np.uint8)
    pattern(tex, d.scheme, d.pattern, rng, unit)
    s = d.scheme
    put_text(tex, d.brand, (w * 0.1, h * 0.13, w * 0.9, h * 0.32), s.text_on_main, font=d.font, weight=1.5)
    cv2.ellipse(tex, (int(w * 0.5), int(h * 0.4)), (int(w * 0.3), int(h * 0.045)), 0, 0, 360, s.second, -1, cv2.LINE_AA)
    put_text(tex, d.flavour, (w * 0.25, h * 0.37, w * 0.75, h * 0.43), s.text_on_second, font=FONTS[2])
    centre = (w * 0.5, h * 0.64)
    if d.window:  # a clear window showing the contents
        cv2.ellipse(
            tex,
            (int(centre[0]), int(centre[1])),
            (int(w * 0.3), int(h * 0.14)),
            0,
            0,
            360,
            (235, 225, 190),
            -1,
            cv2.LINE_AA,
        )
    for _ in range(int(rng.integers(7, 12))):
        x = centre[0] + rng.normal(0, 0.13) * w
        y = centre[1] + rng.normal(0, 0.06) * h
        r = w * rng.uniform(0.05, 0.09)
        angles = np.sort(rng.uniform(0, 2 * np.pi, 7))
        radii = r * rng.uniform(0.6, 1.0, 7)
        chip = np.stack([x + np.cos(angles) * radii, y + np.sin(angles) * radii * 0.7], 1)
        colour = shade(d.chips, rng.uniform(0.85, 1.1))
        cv2.fillPoly(tex, poly(chip), colour, cv2.LINE_AA)
        cv2.polylines(tex, poly(chip), True, shade(d.chips, 0.7), px(1, unit), cv2.LINE_AA)
    put_text(tex, d.weight, (w * 0.62, h * 0.84, w * 0.9, h * 0.9), s.text_on_main, font=SMALL_FONT)
    return frozen(tex)


def draw_package(
    design: PackageDesign, view: PackageView, height: float, unit: float, state: DrawState | None = None
) -> Layer:
    """Draw the bag ``height`` pixels tall, seal to seal. Openings are added afterwards by ``openings``."""
    d = design
    bw, bh = d.width * height, height
    lw, lh = int(np.ceil(bw * 1.2)) + 4, int(np.ceil(bh * 1.2)) + 4
    layer = blank_layer(lh, lw, unit)
    cx, base = lw / 2, lh - max(4, height * 0.04)
    y0, y1 = base - bh, base
    layer.points["base"] = (cx, base)
    seal = bh * SEAL
    tex = print_texture(d, nominal(d.width, unit), nominal(1.0, unit), unit)
    # bend the print: each row is narrowed by f(row) about the centre
    rows = np.arange(lh, dtype=np.float32)
    t = np.clip((rows - y0 - seal) / max(bh - 2 * seal, 1), 0, 1)
    in_seal = (rows < y0 + seal) | (rows > y1 - seal)
    factor = np.where(in_seal, 1.0, 1.0 - view.squeeze + view.squeeze * 0.6 * np.sqrt(np.clip(np.sin(np.pi * t), 0, 1)))
    factor = cv2.GaussianBlur(factor.astype(np.float32)[:, None], (1, 0), sigmaX=0, sigmaY=max(1.0, seal * 0.3))[:, 0]
    xs = np.arange(lw, dtype=np.float32)
    map_x = (((xs[None, :] - cx) / factor[:, None] + bw / 2) * (tex.shape[1] / bw)).astype(np.float32)
    map_y = np.broadcast_to(((rows - y0) * (tex.shape[0] / bh))[:, None], map_x.shape).astype(np.float32)
    rgba = np.dstack([tex, np.full(tex.shape[:2], 255, np.uint8)])
    bent = cv2.remap(rgba, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    layer.rgb[...] = bent[..., :3]
    layer.alpha[...] = bent[..., 3]
    _seals(layer, d, cx, bw, y0, y1, seal)
    _film_shading(layer, view, cx, bw, factor, y0, y1, seal)
    surface = np.zeros(layer.shape, bool)
    inner = np.abs(xs[None, :] - cx) < (bw / 2) * factor[:, None] * 0.8
    surface[:] = inner
    surface[: int(y0 + seal * 1.8)] = False
    surface[int(y1 - seal * 1.8) :] = False
    layer.surface = surface
    layer.quads["bag"] = np.array(
        [[cx - bw / 2, y0], [cx + bw / 2, y0], [cx + bw / 2, y1], [cx - bw / 2, y1]], np.float32
    )
    return layer


def _seals(layer: Layer, d: PackageDesign, cx: float, bw: float, y0: float, y1: float, seal: float) -> None:
    """Crimped seals: dense vertical ridges and a serrated outer edge."""
    colour = shade(d.scheme.main, 0.8)
    step = max(2.0, seal * 0.25)
    for top, outer in ((y0, y0), (y1 - seal, y1)):
        region = layer.rgb[int(top) : int(np.ceil(top + seal))]
        for x in np.arange(cx - bw / 2, cx + bw / 2, step):
            cv2.line(region, (int(x), 0), (int(x), region.shape[0]), colour, max(1, int(step * 0.35)), cv2.LINE_AA)
        teeth = np.arange(cx - bw / 2, cx + bw / 2 + step, step)
        depth = step * 0.6 * (1 if outer == y0 else -1)
        zig = np.stack([teeth, outer + depth * (np.arange(teeth.size) % 2)], 1)
        cut = np.concatenate([zig, [[teeth[-1], outer - depth * 3], [teeth[0], outer - depth * 3]]])
        cv2.fillPoly(layer.alpha, poly(cut), 0, cv2.LINE_AA)


def _film_shading(
    layer: Layer, view: PackageView, cx: float, bw: float, factor: np.ndarray, y0: float, y1: float, seal: float
) -> None:
    """Rounded-pillow shading, two glossy streaks and crinkle lines near the seals."""
    lh, lw = layer.shape
    xs = np.arange(lw, dtype=np.float32)[None, :]
    half = (bw / 2) * factor[:, None]
    xn = np.clip((xs - cx) / np.maximum(half, 1), -1, 1)
    gain = 1.0 - 0.32 * np.abs(xn) ** 2.2 + 0.06 * view.light * xn
    rows = np.arange(lh, dtype=np.float32)[:, None]
    yn = np.clip((rows - (y0 + y1) / 2) / ((y1 - y0) / 2), -1, 1)
    gain = gain - 0.12 * np.abs(yn) ** 6
    gloss = np.zeros((lh, lw), np.float32)
    for offset, strength in ((view.gloss, 0.32), (view.gloss + 0.28, 0.16)):
        centre = cx - bw / 2 + bw * (offset % 1.0)
        diagonal = (xs - centre) + (rows - (y0 + y1) / 2) * 0.35
        gloss += strength * np.exp(-((diagonal / (bw * 0.05)) ** 2))
    out = layer.rgb.astype(np.float32) * gain[..., None]
    out += (255 - out) * gloss[..., None]
    layer.rgb[...] = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    rng = np.random.default_rng(int(view.gloss * 1e6))
    folds: np.ndarray = np.zeros((lh, lw), np.uint8)
    for edge, direction in ((y0 + seal, 1), (y1 - seal, -1)):
        for _ in range(5):
            x = cx + rng.uniform(-0.42, 0.42) * bw
            length = seal * rng.uniform(0.6, 1.6)
            end = (x + rng.uniform(-0.4, 0.4) * length, edge + direction * length)
            cv2.line(folds, (int(x), int(edge)), (int(end[0]), int(end[1])), 255, px(2, layer.unit), cv2.LINE_AA)
    folds = cv2.GaussianBlur(folds, (0, 0), max(0.6, layer.unit * 1.2))
    shift = max(1, int(round(layer.unit * 1.5)))
    dark = np.roll(folds, shift, axis=1).astype(np.float32) / 255 * 0.25
    blend_into(layer.rgb, np.zeros_like(layer.rgb), dark)
    blend_into(layer.rgb, np.full_like(layer.rgb, 255), folds.astype(np.float32) / 255 * 0.22)
