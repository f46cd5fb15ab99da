"""Printed labels of bottles and cans, drawn flat (unrolled) so they can be wrapped around a cylinder.

The brand sits at the middle of the texture (seen from the front at azimuth pi); the back carries fine print and a
barcode, which come into view when a photo is taken from another angle.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from goodsad_studio.dataset.demo.layer import frozen, fruit, pattern, poly, px
from goodsad_studio.dataset.demo.palette import (
    FONTS,
    Scheme,
    barcode,
    brand_name,
    fine_print,
    flavour_word,
    mix,
    put_text,
    shade,
)


@dataclass(frozen=True)
class LabelDesign:
    """What is printed on a label; the same design draws at any resolution."""

    scheme: Scheme
    pattern: int
    brand: str
    flavour: str
    font: int
    volume: str
    fruit: bool
    fruit_hue: tuple[int, int, int]
    vertical_brand: bool
    coverage: float
    """Fraction of the circumference the label covers (1 = all round; jars have partial labels)."""
    seed: int


def random_label(
    rng: np.random.Generator, *, volumes: tuple[str, ...], coverage: float = 1.0, allow_vertical: bool = False
) -> LabelDesign:
    scheme = Scheme(rng)
    return LabelDesign(
        scheme=scheme,
        pattern=int(rng.integers(0, 5)),
        brand=brand_name(rng),
        flavour=flavour_word(rng),
        font=int(rng.choice(FONTS[:5])),
        volume=str(rng.choice(volumes)),
        fruit=bool(rng.random() < 0.55),
        fruit_hue=scheme.accent,
        vertical_brand=bool(allow_vertical and rng.random() < 0.35),
        coverage=coverage,
        seed=int(rng.integers(0, 2**31)),
    )


@functools.lru_cache(maxsize=12)
def label_texture(design: LabelDesign, tex_w: int, tex_h: int, unit: float) -> np.ndarray:
    """The unrolled label as RGBA ``(tex_h, tex_w, 4)``; alpha is 0 where a partial label leaves the glass bare.

    Cached (read-only): every photo of a goods wraps the same label.
    """
    rng = np.random.default_rng(design.seed)  # same drawing decisions at every resolution
    rgba = np.zeros((tex_h, tex_w, 4), np.uint8)
    covered = int(round(tex_w * design.coverage))
    x0 = (tex_w - covered) // 2
    canvas = np.ascontiguousarray(rgba[:, x0 : x0 + covered, :3])
    pattern(canvas, design.scheme, design.pattern, rng, unit)
    w, h = canvas.shape[1], tex_h
    centre = w / 2  # the front of the label
    front = min(w * 0.24, tex_w * 0.24)
    scheme = design.scheme
    if design.vertical_brand:
        band_w = front * 0.55
        rotated = np.ascontiguousarray(np.rot90(canvas[:, int(centre - band_w / 2) : int(centre + band_w / 2)]))
        put_text(
            rotated,
            design.brand,
            (rotated.shape[1] * 0.06, 0, rotated.shape[1] * 0.94, rotated.shape[0]),
            scheme.text_on_main,
            font=design.font,
            weight=1.3,
        )
        canvas[:, int(centre - band_w / 2) : int(centre + band_w / 2)] = np.rot90(rotated, -1)
    else:
        put_text(
            canvas,
            design.brand,
            (centre - front / 2, h * 0.22, centre + front / 2, h * 0.5),
            scheme.text_on_main,
            font=design.font,
            weight=1.3,
        )
        ribbon_y0, ribbon_y1 = h * 0.56, h * 0.72
        ribbon = [
            (centre - front * 0.42, ribbon_y0),
            (centre + front * 0.42, ribbon_y0),
            (centre + front * 0.38, ribbon_y1),
            (centre - front * 0.38, ribbon_y1),
        ]
        cv2.fillPoly(canvas, poly(ribbon), scheme.second, cv2.LINE_AA)
        put_text(
            canvas,
            design.flavour,
            (
                centre - front * 0.34,
                ribbon_y0 + (ribbon_y1 - ribbon_y0) * 0.18,
                centre + front * 0.34,
                ribbon_y1 - (ribbon_y1 - ribbon_y0) * 0.18,
            ),
            scheme.text_on_second,
            font=FONTS[2],
            weight=0.9,
        )
    if design.fruit and not design.vertical_brand:
        fruit(canvas, (centre + front * 0.72, h * 0.62), min(h * 0.2, front * 0.25), design.fruit_hue, unit)
    volume_x = centre + front * 0.75 if design.vertical_brand else centre
    put_text(
        canvas,
        design.volume,
        (volume_x - front * 0.3, h * 0.8, volume_x + front * 0.3, h * 0.93),
        scheme.text_on_main,
        font=FONTS[2],
        weight=0.8,
    )
    if design.coverage >= 1.0:  # the back of the label, seen when the product is turned round
        fine_print(
            canvas, (front * 0.1, h * 0.15, front * 0.65, h * 0.7), mix(scheme.text_on_main, scheme.main, 0.35), rng, 7
        )
        barcode(canvas, (w - front * 0.5, h * 0.25, w - front * 0.12, h * 0.55), rng)
    edge = px(2, unit)
    canvas[:edge] = shade(scheme.main, 0.7)
    canvas[-edge:] = shade(scheme.main, 0.7)
    rgba[:, x0 : x0 + covered, :3] = canvas
    rgba[:, x0 : x0 + covered, 3] = 255
    return frozen(rgba)
