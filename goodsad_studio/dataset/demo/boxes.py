"""Boxes: cereal-style food boxes (food_box) and cigarette packs (cigarette_box).

A box is seen a little from above and from one side: its printed front face, a darker side face and a lighter top
face, each a flat texture mapped onto its face. The faces are recorded in ``layer.quads`` so that openings (a raised
flap, a torn corner, an open lid) can be drawn onto the right face later.
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
    frozen,
    fruit,
    nominal,
    pattern,
    poly,
    px,
    warp_quad,
)
from goodsad_studio.dataset.demo.palette import (
    FONTS,
    SMALL_FONT,
    Scheme,
    barcode,
    brand_name,
    fine_print,
    flavour_word,
    hsv,
    mix,
    put_text,
    shade,
)

WARNINGS = ("SMOKING KILLS", "SMOKING SERIOUSLY HARMS YOU", "SMOKING CAUSES CANCER", "QUIT NOW")


@dataclass(frozen=True)
class BoxDesign:
    kind: str  # "food" or "cigarette"
    width: float  # front width / height
    depth: float  # depth / front width
    scheme: Scheme
    pattern: int
    brand: str
    flavour: str
    font: int
    weight: str
    lid: float  # cigarette lid height / box height
    warning: str
    photo: int  # food: 0 bowl, 1 fruit, 2 biscuits
    seed: int


@dataclass(frozen=True)
class BoxView:
    side: int  # +1 the right side face shows, -1 the left one
    foreshortening: float  # how much of the depth shows (0..1)
    elevation: float  # angle of the receding edges, radians
    light: float  # gain of the side face


def design_food_box(rng: np.random.Generator) -> BoxDesign:
    return BoxDesign(
        "food",
        rng.uniform(0.62, 0.82),
        rng.uniform(0.22, 0.35),
        Scheme(rng),
        int(rng.integers(0, 5)),
        brand_name(rng),
        flavour_word(rng),
        int(rng.choice(FONTS[:5])),
        str(rng.choice(["NET WT 375g", "500g", "NET WT 250g", "750g", "1kg"])),
        0.0,
        "",
        int(rng.integers(0, 3)),
        int(rng.integers(0, 2**31)),
    )


def design_cigarette_box(rng: np.random.Generator) -> BoxDesign:
    scheme = Scheme(rng)
    if rng.random() < 0.5:  # white packs with a coloured band are common
        scheme.main = (246, 246, 242)
        scheme.text_on_main = shade(scheme.second, 0.8)
    return BoxDesign(
        "cigarette",
        rng.uniform(0.58, 0.66),
        rng.uniform(0.36, 0.44),
        scheme,
        int(rng.integers(0, 2)),
        brand_name(rng)[:7],
        str(rng.choice(["LIGHTS", "RED", "BLUE", "MENTHOL", "GOLD", "SILVER"])),
        int(rng.choice(FONTS)),
        "20 CIGARETTES",
        rng.uniform(0.2, 0.25),
        str(rng.choice(WARNINGS)),
        0,
        int(rng.integers(0, 2**31)),
    )


@functools.lru_cache(maxsize=8)
def front_texture(d: BoxDesign, w: int, h: int, unit: float) -> np.ndarray:
    """The printed front face (cached, read-only)."""
    rng = np.random.default_rng(d.seed)
    tex = np.zeros((h, w, 3), np.uint8)
    pattern(tex, d.scheme, d.pattern, rng, unit)
    s = d.scheme
    if d.kind == "cigarette":
        cv2.rectangle(tex, (0, int(h * 0.28)), (w, int(h * 0.34)), s.second, -1)
        crest = (int(w * 0.5), int(h * 0.14))
        cv2.circle(tex, crest, max(2, int(w * 0.09)), s.second, -1, cv2.LINE_AA)
        cv2.circle(tex, crest, max(1, int(w * 0.06)), s.main, max(1, int(w * 0.012)), cv2.LINE_AA)
        put_text(tex, d.brand, (w * 0.08, h * 0.36, w * 0.92, h * 0.5), s.text_on_main, font=d.font, weight=1.2)
        put_text(tex, d.flavour, (w * 0.25, h * 0.51, w * 0.75, h * 0.57), shade(s.second, 0.85), font=SMALL_FONT)
        top = int(h * 0.62)
        cv2.rectangle(tex, (0, top), (w, h), (18, 18, 18), -1)
        inset = max(1, int(w * 0.04))
        cv2.rectangle(tex, (inset, top + inset), (w - inset, h - inset), (245, 245, 245), max(1, int(w * 0.012)))
        words = d.warning.split()
        rows = [" ".join(words[i : i + 2]) for i in range(0, len(words), 2)]
        row_h = (h - top - 4 * inset) / max(len(rows), 1)
        for i, row in enumerate(rows):
            put_text(
                tex,
                row,
                (2 * inset, top + 2 * inset + i * row_h, w - 2 * inset, top + 2 * inset + (i + 0.85) * row_h),
                (250, 250, 250),
                font=cv2.FONT_HERSHEY_DUPLEX,
                weight=1.4,
            )
        return frozen(tex)
    put_text(tex, d.brand, (w * 0.08, h * 0.05, w * 0.92, h * 0.24), s.text_on_main, font=d.font, weight=1.4)
    band = [(0, h * 0.27), (w, h * 0.24), (w, h * 0.33), (0, h * 0.36)]
    cv2.fillPoly(tex, poly(band), s.second, cv2.LINE_AA)
    put_text(tex, d.flavour, (w * 0.15, h * 0.265, w * 0.85, h * 0.335), s.text_on_second, font=FONTS[2])
    centre = (w * 0.5, h * 0.64)
    if d.photo == 0:  # a bowl of cereal
        cx, cy = centre
        cv2.ellipse(
            tex, (int(cx), int(cy)), (int(w * 0.36), int(h * 0.12)), 0, 0, 180, (240, 240, 236), -1, cv2.LINE_AA
        )
        cv2.ellipse(
            tex, (int(cx), int(cy)), (int(w * 0.36), int(h * 0.035)), 0, 0, 360, (225, 190, 110), -1, cv2.LINE_AA
        )
        for _ in range(26):
            x = cx + rng.uniform(-0.3, 0.3) * w
            y = cy + rng.uniform(-0.045, 0.01) * h
            cv2.circle(
                tex,
                (int(x), int(y)),
                max(1, int(w * rng.uniform(0.02, 0.035))),
                hsv(rng.uniform(0.05, 0.12), 0.7, rng.uniform(0.6, 0.9)),
                -1,
                cv2.LINE_AA,
            )
        cv2.ellipse(
            tex,
            (int(cx), int(cy)),
            (int(w * 0.36), int(h * 0.12)),
            0,
            0,
            180,
            (200, 200, 196),
            px(2, unit),
            cv2.LINE_AA,
        )
    elif d.photo == 1:
        for dx, dy, r in ((-0.16, 0.02, 0.14), (0.14, 0.03, 0.13), (0.0, -0.05, 0.15)):
            fruit(tex, (centre[0] + dx * w, centre[1] + dy * h), r * w, s.accent, unit)
    else:  # biscuits
        for i in range(4):
            x, y = centre[0] + (i - 1.5) * w * 0.17, centre[1] + (i % 2) * h * 0.04
            cv2.circle(tex, (int(x), int(y)), int(w * 0.1), (196, 140, 70), -1, cv2.LINE_AA)
            cv2.circle(tex, (int(x), int(y)), int(w * 0.075), (170, 110, 50), px(1.5, unit), cv2.LINE_AA)
    burst = (int(w * 0.8), int(h * 0.44))
    cv2.circle(tex, burst, max(2, int(w * 0.1)), s.accent, -1, cv2.LINE_AA)
    put_text(
        tex,
        "NEW",
        (burst[0] - w * 0.07, burst[1] - w * 0.04, burst[0] + w * 0.07, burst[1] + w * 0.04),
        shade(s.accent, 0.3),
        font=FONTS[2],
    )
    cv2.rectangle(tex, (0, int(h * 0.88)), (w, h), shade(s.main, 0.75), -1)
    put_text(tex, d.weight, (w * 0.05, h * 0.9, w * 0.45, h * 0.98), s.text_on_main, font=SMALL_FONT, align="left")
    return frozen(tex)


@functools.lru_cache(maxsize=8)
def side_texture(d: BoxDesign, w: int, h: int, unit: float) -> np.ndarray:
    """The printed side face: nutrition table and barcode, or the pack's side (cached, read-only)."""
    rng = np.random.default_rng(d.seed + 1)
    tex = np.empty((max(h, 2), max(w, 2), 3), np.uint8)
    tex[...] = d.scheme.main
    h, w = tex.shape[:2]
    if d.kind == "cigarette":
        put_text(tex, d.brand, (w * 0.1, h * 0.1, w * 0.9, h * 0.22), d.scheme.text_on_main, font=SMALL_FONT)
        cv2.rectangle(tex, (0, int(h * 0.62)), (w, h), (18, 18, 18), -1)
        return frozen(tex)
    cv2.rectangle(tex, (int(w * 0.1), int(h * 0.15)), (int(w * 0.9), int(h * 0.6)), (250, 250, 248), -1)
    fine_print(tex, (w * 0.15, h * 0.18, w * 0.85, h * 0.57), (40, 40, 40), rng, 10)
    barcode(tex, (w * 0.15, h * 0.7, w * 0.85, h * 0.85), rng)
    return frozen(tex)


def draw_box(design: BoxDesign, view: BoxView, height: float, unit: float, state: DrawState | None = None) -> Layer:
    """Draw the box ``height`` pixels tall (front face). Openings are added afterwards by ``openings``."""
    d = design
    fw, fh = d.width * height, height
    depth = d.depth * fw * view.foreshortening
    dx, dy = depth * np.cos(view.elevation) * view.side, depth * np.sin(view.elevation)
    lw = int(np.ceil((fw + abs(dx)) * 1.15)) + 4
    lh = int(np.ceil((fh + dy) * 1.45)) + 4
    layer = blank_layer(lh, lw, unit)
    base = lh - max(4, height * 0.04)
    x0 = (lw - fw - abs(dx)) / 2 + (abs(dx) if view.side < 0 else 0)
    y1 = base
    y0 = y1 - fh
    front = np.array([[x0, y0], [x0 + fw, y0], [x0 + fw, y1], [x0, y1]], np.float32)
    top = np.array([[x0 + dx, y0 - dy], [x0 + fw + dx, y0 - dy], [x0 + fw, y0], [x0, y0]], np.float32)
    edge_x = x0 + fw if view.side > 0 else x0
    side = np.array([[edge_x, y0], [edge_x + dx, y0 - dy], [edge_x + dx, y1 - dy], [edge_x, y1]], np.float32)
    if view.side < 0:
        side = side[[1, 0, 3, 2]]
    layer.quads.update(front=front, top=top, side=side)
    layer.points["base"] = (x0 + fw / 2 + dx / 2, base)
    hull = cv2.convexHull(np.concatenate([front, top, side]).astype(np.float32))
    edge_colour = shade(d.scheme.main, 0.55)
    cv2.fillPoly(layer.rgb, poly(hull), edge_colour, cv2.LINE_AA)
    cv2.fillPoly(layer.alpha, poly(hull), 255, cv2.LINE_AA)

    warp_quad(layer, front_texture(d, nominal(d.width, unit), nominal(1.0, unit), unit), front)
    warp_quad(layer, side_texture(d, nominal(d.width * d.depth, unit), nominal(1.0, unit), unit), side, gain=view.light)
    top_tex = np.empty((max(2, int(d.depth * fw)), max(2, int(fw)), 3), np.uint8)
    top_tex[...] = shade(d.scheme.main, 1.12)
    cv2.line(
        top_tex,
        (0, top_tex.shape[0] // 2),
        (top_tex.shape[1], top_tex.shape[0] // 2),
        shade(d.scheme.main, 0.85),
        px(1, unit),
        cv2.LINE_AA,
    )
    warp_quad(layer, top_tex, top)
    _front_sheen(layer, front)
    highlight = mix(d.scheme.main, (255, 255, 255), 0.6)
    cv2.line(
        layer.rgb,
        tuple(front[0].astype(np.int32)),
        tuple(front[1].astype(np.int32)),
        highlight,
        px(1, unit),
        cv2.LINE_AA,
    )
    edge = front[1:3] if view.side > 0 else front[[0, 3]]
    cv2.line(
        layer.rgb, tuple(edge[0].astype(np.int32)), tuple(edge[1].astype(np.int32)), highlight, px(1, unit), cv2.LINE_AA
    )
    if d.kind == "cigarette":
        lid_y = y0 + fh * d.lid
        layer.points["lid"] = (x0, lid_y)
        cv2.line(
            layer.rgb,
            (int(x0), int(lid_y)),
            (int(x0 + fw), int(lid_y)),
            shade(d.scheme.main, 0.6),
            px(1, unit),
            cv2.LINE_AA,
        )
        cv2.line(
            layer.rgb,
            (int(edge_x), int(lid_y)),
            (int(edge_x + dx), int(lid_y - dy)),
            shade(d.scheme.main, 0.5),
            px(1, unit),
            cv2.LINE_AA,
        )

    surface = np.zeros(layer.shape, bool)
    inset = fw * 0.04
    surface[int(y0 + inset) : int(y1 - inset), int(x0 + inset) : int(x0 + fw - inset)] = True
    layer.surface = surface
    return layer


def _front_sheen(layer: Layer, front: np.ndarray) -> None:
    """A soft diagonal reflection on the glossy front print and darker lower corners."""
    x0, y0 = front[0]
    x1, y1 = front[2]
    xa, ya, xb, yb = int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1))
    h, w = yb - ya, xb - xa
    if h < 2 or w < 2:
        return
    u = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    v = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    diagonal = u * 0.7 + v * 0.3
    gain = 1.04 - 0.1 * diagonal
    sheen = 0.12 * np.exp(-(((diagonal - 0.35) / 0.08) ** 2))
    region = layer.rgb[ya:yb, xa:xb].astype(np.float32) * gain[..., None]
    region += (255 - region) * sheen[..., None]
    layer.rgb[ya:yb, xa:xb] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
