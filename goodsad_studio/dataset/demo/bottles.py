"""Bottles: PET drink bottles (drink_bottle) and sauce bottles and jars (food_bottle).

A bottle is a body of revolution (radius profile), transparent where it holds air, coloured by its contents below
the fill line, with a wrapped label and a cap. The cap has three states, which are GoodsAD defect types:
``closed`` (normal), ``open`` (cap missing: the threaded neck and its opening show) and ``half`` (cap tilted up on
one side, threads visible under it).
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
    cylinder_shading,
    nominal,
    paste_rgba,
    poly,
    profile_outline,
    px,
    revolve_shading,
    ridges,
    wrap_cylinder,
)
from goodsad_studio.dataset.demo.palette import RGB, hsv, mix, shade

CLOSED, OPEN, HALF = "closed", "open", "half"


@dataclass(frozen=True)
class BottleDesign:
    """Proportions (fractions of the total height) and colours of one bottle product."""

    width: float  # body diameter / height
    neck: float  # neck radius / body radius
    shoulder_top: float  # where the shoulder meets the neck, from the base
    shoulder_bottom: float
    shoulder_power: float
    finish: float  # threaded part height
    cap_height: float
    cap_scale: float  # cap radius / neck radius
    cap_color: RGB
    flat_lid: bool  # jar lid (wide, with a top rim) rather than a screw cap
    contents: RGB
    contents_alpha: int
    fill: float  # fill line, from the base
    air: RGB
    grooves: tuple[float, ...]
    label_bottom: float
    label_top: float
    label: LabelDesign


def design_drink_bottle(rng: np.random.Generator) -> BottleDesign:
    drinks = [
        ((60, 30, 20), 240),
        ((235, 150, 40), 215),
        ((205, 225, 235), 90),
        ((200, 60, 60), 220),
        ((150, 200, 90), 200),
        ((240, 220, 120), 190),
    ]
    contents, alpha = drinks[int(rng.integers(0, len(drinks)))]
    label = random_label(rng, volumes=("500ml", "330ml", "600ml", "1.25L", "450ml"))
    shoulder_top = rng.uniform(0.8, 0.86)
    label_bottom = rng.uniform(0.18, 0.3)
    return BottleDesign(
        width=rng.uniform(0.27, 0.35),
        neck=rng.uniform(0.36, 0.44),
        shoulder_top=shoulder_top,
        shoulder_bottom=shoulder_top - rng.uniform(0.14, 0.24),
        shoulder_power=rng.uniform(0.7, 1.6),
        finish=0.045,
        cap_height=rng.uniform(0.06, 0.08),
        cap_scale=1.14,
        cap_color=hsv(rng.random(), rng.uniform(0.4, 0.95), rng.uniform(0.5, 0.98))
        if rng.random() < 0.8
        else (245, 245, 245),
        flat_lid=False,
        contents=contents,
        contents_alpha=alpha,
        fill=shoulder_top - rng.uniform(0.0, 0.1),
        air=(225, 232, 238),
        grooves=tuple(rng.uniform(0.08, label_bottom - 0.03, size=int(rng.integers(0, 3)))),
        label_bottom=label_bottom,
        label_top=label_bottom + rng.uniform(0.22, 0.32),
        label=label,
    )


def design_food_bottle(rng: np.random.Generator) -> BottleDesign:
    foods = [
        ((170, 30, 25), 245),
        ((70, 35, 20), 245),
        ((215, 150, 40), 230),
        ((95, 120, 40), 240),
        ((235, 200, 120), 240),
        ((120, 20, 40), 245),
    ]
    contents, alpha = foods[int(rng.integers(0, len(foods)))]
    jar = rng.random() < 0.5
    lid = [(200, 160, 60), (190, 30, 30), (240, 240, 238), (40, 110, 60), (30, 30, 30)][int(rng.integers(0, 5))]
    if jar:
        label = random_label(rng, volumes=("350g", "280g", "500g", "410g"), coverage=rng.uniform(0.55, 0.8))
        shoulder_top = rng.uniform(0.83, 0.87)
        return BottleDesign(
            width=rng.uniform(0.62, 0.78),
            neck=rng.uniform(0.78, 0.86),
            shoulder_top=shoulder_top,
            shoulder_bottom=shoulder_top - rng.uniform(0.05, 0.09),
            shoulder_power=0.8,
            finish=0.04,
            cap_height=rng.uniform(0.1, 0.13),
            cap_scale=1.06,
            cap_color=lid,
            flat_lid=True,
            contents=contents,
            contents_alpha=alpha,
            fill=shoulder_top - 0.04,
            air=(228, 232, 232),
            grooves=(),
            label_bottom=rng.uniform(0.18, 0.25),
            label_top=rng.uniform(0.62, 0.72),
            label=label,
        )
    label = random_label(rng, volumes=("500ml", "250ml", "410g", "1L"), coverage=1.0)
    shoulder_top = rng.uniform(0.7, 0.8)
    return BottleDesign(
        width=rng.uniform(0.3, 0.4),
        neck=rng.uniform(0.3, 0.4),
        shoulder_top=shoulder_top,
        shoulder_bottom=shoulder_top - rng.uniform(0.1, 0.2),
        shoulder_power=rng.uniform(0.6, 1.2),
        finish=0.05,
        cap_height=rng.uniform(0.08, 0.1),
        cap_scale=1.25,
        cap_color=lid,
        flat_lid=False,
        contents=contents,
        contents_alpha=alpha,
        fill=rng.uniform(0.75, 0.85),
        air=(228, 232, 232),
        grooves=(),
        label_bottom=rng.uniform(0.12, 0.2),
        label_top=rng.uniform(0.45, 0.55),
        label=label,
    )


@dataclass(frozen=True)
class BottleView:
    azimuth: float
    tilt: float
    light: float


def draw_bottle(
    design: BottleDesign, view: BottleView, height: float, unit: float, state: DrawState | None = None
) -> Layer:
    """Draw the bottle ``height`` pixels tall (base to cap top). ``state`` may hold ``cap`` (closed/open/half),
    ``cap_angle`` (degrees), ``cap_side`` (+1 hinge on the right, -1 left) and ``cap_lift`` (fraction of cap height).
    """
    state = state or {}
    d = design
    radius = d.width * height / 2
    lw, lh = int(np.ceil(radius * 2 * 1.6)) + 4, int(np.ceil(height * 1.3)) + 4
    layer = blank_layer(lh, lw, unit)
    cx, base = lw / 2, lh - max(4, height * 0.04)
    layer.points["base"] = (cx, base)
    neck_r = radius * d.neck
    y_neck = base - height * (1 - d.cap_height - d.finish)  # bottom of the threaded finish
    y_finish_top = y_neck - height * d.finish
    y_sh0, y_sh1 = base - height * d.shoulder_top, base - height * d.shoulder_bottom

    rows = np.arange(np.floor(y_neck), np.ceil(base) + 1, dtype=np.float32)
    radii: np.ndarray = np.full(rows.shape, radius, np.float32)
    t = np.clip((rows - y_sh0) / max(y_sh1 - y_sh0, 1), 0, 1)
    radii = neck_r + (radius - neck_r) * np.sin(t * np.pi / 2) ** d.shoulder_power
    foot = height * 0.035
    s = np.clip((rows - (base - foot)) / foot, 0, 1)
    radii *= 0.88 + 0.12 * np.sqrt(1 - s**2)
    for groove in d.grooves:
        radii -= radius * 0.04 * np.exp(-(((rows - (base - height * groove)) / (height * 0.008)) ** 2))

    body = np.zeros(layer.shape, np.uint8)
    cv2.fillPoly(body, poly(profile_outline(cx, rows, radii)), 255, cv2.LINE_AA)
    y_fill = base - height * d.fill
    yy = np.arange(lh, dtype=np.float32)[:, None]
    below = np.clip(yy - y_fill + 0.5, 0, 1)  # anti-aliased fill line
    colour = np.array(d.contents, np.float32) * below[..., None] + np.array(d.air, np.float32) * (1 - below[..., None])
    layer.rgb[...] = np.broadcast_to(colour, layer.rgb.shape).astype(np.uint8)
    opacity = d.contents_alpha * below + 95 * (1 - below)
    layer.alpha[...] = (body.astype(np.float32) * opacity / 255).astype(np.uint8)
    cv2.line(
        layer.rgb,
        (int(cx - radius), int(y_fill)),
        (int(cx + radius), int(y_fill)),
        shade(d.contents, 1.35),
        px(1.5, unit),
        cv2.LINE_AA,
    )
    revolve_shading(layer, cx, rows, radii, view.light, 0.15)

    label_y0, label_y1 = base - height * d.label_top, base - height * d.label_bottom
    label_h = int(round(label_y1 - label_y0))
    label_r = float(np.interp(label_y0 + label_h / 2, rows, radii)) * 1.01
    tex = label_texture(d.label, nominal(np.pi * d.width, unit), nominal(d.label_top - d.label_bottom, unit), unit)
    wrapped = wrap_cylinder(tex, int(round(2 * label_r)), label_h, view.azimuth, view.tilt)
    gain, spec = cylinder_shading(wrapped.shape[1], view.light, 0.1)
    rgb = wrapped[..., :3].astype(np.float32) * gain[None, :, None]
    rgb += (255 - rgb) * spec[None, :, None]
    wrapped[..., :3] = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    paste_rgba(layer, wrapped, int(round(cx - label_r)), int(round(label_y0 - view.tilt * label_r * 0.5)))

    surface = (body > 128) & (np.abs(np.arange(lw)[None, :] - cx) < radius * 0.72)
    surface[: int(y_sh1)] = False
    surface[int(base - foot * 1.5) :] = False
    layer.surface = surface

    _draw_finish(layer, d, view, cx, neck_r, y_neck, y_finish_top, state.get("cap", CLOSED))
    cap_r = neck_r * d.cap_scale
    cap_h = height * d.cap_height
    cap_bottom = y_neck - _ring_height(y_neck, y_finish_top) * (0.5 if d.flat_lid else 2.3)
    cap = cap_patch(d, cap_r, cap_h, view, unit)
    kind = state.get("cap", CLOSED)
    bow = max(view.tilt * cap_r, 1.5)
    if kind == CLOSED:
        paste_rgba(layer, cap, int(round(cx - cap.shape[1] / 2)), int(round(cap_bottom - cap_h - bow - 1)))
    elif kind == HALF:
        _paste_tilted_cap(layer, cap, cx, cap_r, cap_h, cap_bottom, view, state)
    return layer


def _ring_height(y_neck: float, y_top: float) -> float:
    return max(2.0, (y_neck - y_top) * 0.22)


def _draw_finish(
    layer: Layer,
    d: BottleDesign,
    view: BottleView,
    cx: float,
    neck_r: float,
    y_neck: float,
    y_top: float,
    cap_state: str,
) -> None:
    """The threaded neck above the support ring; its opening shows as a dark ellipse when seen from above."""
    unit = layer.unit
    glass = mix(d.air, (200, 210, 215), 0.5)
    ring_h = _ring_height(y_neck, y_top)
    finish = [
        (cx - neck_r * 0.92, y_top),
        (cx + neck_r * 0.92, y_top),
        (cx + neck_r * 0.92, y_neck),
        (cx - neck_r * 0.92, y_neck),
    ]
    cv2.fillPoly(layer.rgb, poly(finish), glass, cv2.LINE_AA)
    cv2.fillPoly(layer.alpha, poly(finish), 215, cv2.LINE_AA)
    ring = [
        (cx - neck_r * 1.28, y_neck - ring_h * 0.5),
        (cx + neck_r * 1.28, y_neck - ring_h * 0.5),
        (cx + neck_r * 1.22, y_neck + ring_h * 0.6),
        (cx - neck_r * 1.22, y_neck + ring_h * 0.6),
    ]
    cv2.fillPoly(layer.rgb, poly(ring), shade(glass, 0.85), cv2.LINE_AA)
    cv2.fillPoly(layer.alpha, poly(ring), 235, cv2.LINE_AA)
    if not d.flat_lid:  # tamper band: stays on the neck when the cap is unscrewed
        band = [
            (cx - neck_r * 1.1, y_neck - ring_h * 2.2),
            (cx + neck_r * 1.1, y_neck - ring_h * 2.2),
            (cx + neck_r * 1.1, y_neck - ring_h * 0.5),
            (cx - neck_r * 1.1, y_neck - ring_h * 0.5),
        ]
        cv2.fillPoly(layer.rgb, poly(band), shade(d.cap_color, 0.9), cv2.LINE_AA)
        cv2.fillPoly(layer.alpha, poly(band), 255, cv2.LINE_AA)
    threads = 3
    for i in range(threads):
        y = y_top + (y_neck - y_top) * (0.2 + 0.2 * i)
        cv2.line(
            layer.rgb,
            (int(cx - neck_r * 0.92), int(y + neck_r * 0.12)),
            (int(cx + neck_r * 0.92), int(y - neck_r * 0.12)),
            shade(glass, 0.7),
            px(1.5, unit),
            cv2.LINE_AA,
        )
    bow = max(view.tilt * neck_r, 1.5)
    cv2.ellipse(
        layer.rgb, (int(cx), int(y_top)), (int(neck_r * 0.93), int(bow)), 0, 0, 360, shade(glass, 1.2), -1, cv2.LINE_AA
    )
    cv2.ellipse(layer.alpha, (int(cx), int(y_top)), (int(neck_r * 0.93), int(bow)), 0, 0, 360, 235, -1, cv2.LINE_AA)
    hole = mix(d.contents, (15, 15, 15), 0.7) if cap_state == OPEN or d.fill > 0.9 else (40, 40, 42)
    cv2.ellipse(
        layer.rgb,
        (int(cx), int(y_top)),
        (max(1, int(neck_r * 0.72)), max(1, int(bow * 0.7))),
        0,
        0,
        360,
        hole,
        -1,
        cv2.LINE_AA,
    )


def cap_patch(d: BottleDesign, cap_r: float, cap_h: float, view: BottleView, unit: float) -> np.ndarray:
    """The cap as an upright RGBA patch: ridged screw cap, or a jar lid with a rolled rim; top ellipse visible."""
    bow = max(view.tilt * cap_r, 1.5)
    w, h = int(np.ceil(cap_r * 2)) + 2, int(np.ceil(cap_h + bow * 2)) + 2
    rgba = np.zeros((h, w, 4), np.uint8)
    cx, top = w / 2, bow + 1
    body = [(cx - cap_r, top), (cx + cap_r, top), (cx + cap_r, top + cap_h), (cx - cap_r, top + cap_h)]
    rgb = np.ascontiguousarray(rgba[..., :3])
    cv2.fillPoly(rgb, poly(body), d.cap_color, cv2.LINE_AA)
    cv2.ellipse(rgb, (int(cx), int(top + cap_h)), (int(cap_r), int(bow)), 0, 0, 180, d.cap_color, -1, cv2.LINE_AA)
    if d.flat_lid:
        cv2.line(
            rgb,
            (int(cx - cap_r), int(top + cap_h * 0.2)),
            (int(cx + cap_r), int(top + cap_h * 0.2)),
            shade(d.cap_color, 0.7),
            px(1.5, unit),
            cv2.LINE_AA,
        )
        cv2.line(
            rgb,
            (int(cx - cap_r), int(top + cap_h * 0.85)),
            (int(cx + cap_r), int(top + cap_h * 0.85)),
            shade(d.cap_color, 0.7),
            px(1.5, unit),
            cv2.LINE_AA,
        )
    else:
        tmp = Layer(rgb, np.zeros((h, w), np.uint8), unit, np.zeros((h, w), bool))
        ridges(
            tmp,
            cx - cap_r,
            cx + cap_r,
            top + cap_h * 0.12,
            top + cap_h * 0.95,
            shade(d.cap_color, 0.72),
            max(8, int(cap_r / max(unit, 0.25) / 1.2)),
        )
    gain, spec = cylinder_shading(w, view.light, 0.5 if d.flat_lid else 0.2)
    out = rgb.astype(np.float32) * gain[None, :, None]
    out += (255 - out) * spec[None, :, None]
    rgb[...] = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    cv2.ellipse(rgb, (int(cx), int(top)), (int(cap_r), int(bow)), 0, 0, 360, shade(d.cap_color, 1.25), -1, cv2.LINE_AA)
    cv2.ellipse(
        rgb,
        (int(cx), int(top)),
        (int(cap_r * 0.86), max(1, int(bow * 0.82))),
        0,
        0,
        360,
        shade(d.cap_color, 1.1),
        -1,
        cv2.LINE_AA,
    )
    alpha = np.zeros((h, w), np.uint8)
    cv2.fillPoly(alpha, poly(body), 255, cv2.LINE_AA)
    cv2.ellipse(alpha, (int(cx), int(top)), (int(cap_r), int(bow)), 0, 0, 360, 255, -1, cv2.LINE_AA)
    cv2.ellipse(alpha, (int(cx), int(top + cap_h)), (int(cap_r), int(bow)), 0, 0, 180, 255, -1, cv2.LINE_AA)
    rgba[..., :3] = rgb
    rgba[..., 3] = alpha
    return rgba


def _paste_tilted_cap(
    layer: Layer,
    cap: np.ndarray,
    cx: float,
    cap_r: float,
    cap_h: float,
    cap_bottom: float,
    view: BottleView,
    state: DrawState,
) -> None:
    """A cap unscrewed half-way and tipped over one side: rotated about its lower corner on the hinge side."""
    side = state.get("cap_side", 1)
    angle = state.get("cap_angle", 25.0)
    lift = state.get("cap_lift", 0.3) * cap_h
    h, w = cap.shape[:2]
    bow = max(view.tilt * cap_r, 1.5)
    hinge_patch = (w / 2 + side * cap_r, bow + 1 + cap_h)  # lower corner of the cap on the hinge side
    hinge_layer = (cx + side * cap_r, cap_bottom - lift)
    matrix = cv2.getRotationMatrix2D(hinge_patch, side * angle, 1.0)  # positive angle turns counter-clockwise
    matrix[:, 2] += np.array(hinge_layer) - np.array(hinge_patch)
    lh, lw = layer.shape
    warped = cv2.warpAffine(
        cap, matrix, (lw, lh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    paste_rgba(layer, warped, 0, 0)
