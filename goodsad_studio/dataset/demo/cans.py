"""Drink cans: an aluminium cylinder with a printed body, a tapered neck, a rolled rim and a pull-tab lid.

The print is a flat label wrapped around the body, so photos from different angles show different parts of it;
the metal parts get strong, narrow highlights.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from goodsad_studio.dataset.demo.labels import LabelDesign, label_texture, random_label
from goodsad_studio.dataset.demo.layer import (
    DrawState,
    Layer,
    blank_layer,
    nominal,
    paste_rgba,
    poly,
    profile_outline,
    px,
    revolve_shading,
    wrap_cylinder,
)

SILVER = (198, 200, 204)


@dataclass(frozen=True)
class CanDesign:
    width: float  # diameter / height
    neck: float  # fraction of the height taken by the tapered neck
    label: LabelDesign
    lid: tuple[int, int, int]


@dataclass(frozen=True)
class CanView:
    azimuth: float
    tilt: float
    light: float


def design_drink_can(rng: np.random.Generator) -> CanDesign:
    slim = rng.random() < 0.3
    label = random_label(rng, volumes=("330ml", "355ml", "250ml", "500ml"), allow_vertical=True)
    lid = SILVER if rng.random() < 0.8 else (175, 150, 110)
    return CanDesign(
        width=rng.uniform(0.36, 0.44) if slim else rng.uniform(0.5, 0.58),
        neck=rng.uniform(0.06, 0.09),
        label=label,
        lid=lid,
    )


def draw_can(design: CanDesign, view: CanView, height: float, unit: float, state: DrawState | None = None) -> Layer:
    """Draw the can ``height`` pixels tall (rim top to base). Cans have no structural states here."""
    d = design
    radius = d.width * height / 2
    lw, lh = int(np.ceil(radius * 2 * 1.3)) + 4, int(np.ceil(height * 1.2)) + 4
    layer = blank_layer(lh, lw, unit)
    cx, base = lw / 2, lh - max(4, height * 0.05)
    layer.points["base"] = (cx, base)
    top = base - height
    rim_r = radius * 0.84
    neck_bottom = top + height * d.neck
    foot = height * 0.05
    rows = np.arange(np.floor(top), np.ceil(base) + 1, dtype=np.float32)
    t = np.clip((rows - top) / max(neck_bottom - top, 1), 0, 1)
    radii = rim_r + (radius - rim_r) * np.sin(t * np.pi / 2) ** 0.8
    s = np.clip((rows - (base - foot)) / foot, 0, 1)
    radii = radii * (1 - 0.16 * s**1.5)
    metal = np.zeros(layer.shape, np.uint8)
    cv2.fillPoly(metal, poly(profile_outline(cx, rows, radii)), 255, cv2.LINE_AA)
    layer.rgb[...] = SILVER
    layer.alpha[...] = metal

    body_top, body_bottom = neck_bottom + height * 0.01, base - foot * 1.05
    body_h = int(round(body_bottom - body_top))
    body_fraction = 1 - d.neck - 0.01 - 0.05 * 1.05  # (body_bottom - body_top) / height, exactly
    tex = label_texture(d.label, nominal(np.pi * d.width, unit), nominal(body_fraction, unit), unit)
    wrapped = wrap_cylinder(tex, int(round(2 * radius)), body_h, view.azimuth, view.tilt)
    paste_rgba(layer, wrapped, int(round(cx - radius)), int(round(body_top - view.tilt * radius * 0.5)), opaque=False)
    revolve_shading(layer, cx, rows, radii, view.light, 0.85)

    bow = max(view.tilt * rim_r, 2.0)
    rim_w = px(3, unit)
    cv2.ellipse(layer.rgb, (int(cx), int(top)), (int(rim_r), int(bow)), 0, 0, 360, (228, 230, 234), -1, cv2.LINE_AA)
    cv2.ellipse(layer.alpha, (int(cx), int(top)), (int(rim_r), int(bow)), 0, 0, 360, 255, -1, cv2.LINE_AA)
    inner = (max(1, int(rim_r) - rim_w), max(1, int(bow) - rim_w // 2))
    cv2.ellipse(
        layer.rgb,
        (int(cx), int(top + rim_w * 0.3)),
        inner,
        0,
        0,
        360,
        tuple(int(c * 0.78) for c in d.lid),
        -1,
        cv2.LINE_AA,
    )
    tab = (int(cx), int(top + bow * 0.1))
    cv2.ellipse(
        layer.rgb,
        tab,
        (max(1, int(rim_r * 0.28)), max(1, int(bow * 0.35))),
        0,
        0,
        360,
        (215, 217, 222),
        -1,
        cv2.LINE_AA,
    )
    cv2.ellipse(
        layer.rgb,
        (int(cx + rim_r * 0.35), int(top - bow * 0.2)),
        (max(1, int(rim_r * 0.25)), max(1, int(bow * 0.3))),
        0,
        0,
        360,
        (150, 152, 158),
        px(1, unit),
        cv2.LINE_AA,
    )
    for y in (neck_bottom, base - foot):
        r = float(np.interp(y, rows, radii))
        cv2.ellipse(
            layer.rgb,
            (int(cx), int(y)),
            (int(r), max(1, int(view.tilt * r))),
            0,
            0,
            180,
            (120, 122, 128),
            px(1, unit),
            cv2.LINE_AA,
        )

    surface = (metal > 128) & (np.abs(np.arange(lw)[None, :] - cx) < radius * 0.72)
    surface[: int(body_top + height * 0.03)] = False
    surface[int(body_bottom - height * 0.02) :] = False
    layer.surface = surface
    return layer
