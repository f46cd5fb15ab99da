"""Colours, made-up brand names and text drawing for the demo goods.

Everything here draws on ``uint8`` RGB arrays with OpenCV (anti-aliased lines need 8-bit images) and scales with
the size it is given, so a label looks the same at 128 px and at 3000 px.
"""

from __future__ import annotations

import colorsys
from typing import cast

import cv2
import numpy as np

RGB = tuple[int, int, int]

FONTS = (
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_DUPLEX | cv2.FONT_ITALIC,
    cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
)
"""Fonts a brand name may use (Hershey fonts are the ones OpenCV draws)."""

SMALL_FONT = cv2.FONT_HERSHEY_SIMPLEX

_ONSETS = (
    "b",
    "c",
    "d",
    "f",
    "g",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "z",
    "br",
    "cr",
    "fr",
    "gl",
    "pl",
    "st",
    "tr",
    "sn",
    "ch",
    "qu",
)
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "oo", "y")
_CODAS = ("", "", "", "n", "r", "x", "s", "l", "k", "m")
_WORDS = (
    "FRESH",
    "CLASSIC",
    "ORIGINAL",
    "LIGHT",
    "ZERO",
    "GOLD",
    "NATURAL",
    "CRISPY",
    "ORANGE",
    "LEMON",
    "COLA",
    "GREEN TEA",
    "BERRY",
    "SPICY",
    "HONEY",
    "MILK",
    "SOY",
    "CHILI",
    "GRAIN",
    "CHOCO",
    "MINT",
    "PEACH",
)


def hsv(hue: float, saturation: float, value: float) -> RGB:
    """An RGB colour from hue in [0, 1), saturation and value in [0, 1]."""
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, min(max(saturation, 0.0), 1.0), min(max(value, 0.0), 1.0))
    return int(round(r * 255)), int(round(g * 255)), int(round(b * 255))


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """``a`` blended towards ``b`` by ``t``."""
    # cast: one channel out per channel in, so two RGB colours give an RGB colour
    return cast(RGB, tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b, strict=False)))


def shade(color: RGB, factor: float) -> RGB:
    """``color`` darkened (factor < 1) or lightened towards white (factor > 1)."""
    if factor <= 1.0:
        # cast: one channel out per channel in, so an RGB colour gives an RGB colour
        return cast(RGB, tuple(int(round(c * factor)) for c in color))
    return mix(color, (255, 255, 255), min(factor - 1.0, 1.0))


def luminance(color: RGB) -> float:
    r, g, b = color
    return (0.299 * r + 0.587 * g + 0.114 * b) / 255.0


def contrast_text(background: RGB, rng: np.random.Generator, accent: RGB | None = None) -> RGB:
    """A colour readable on ``background``: the accent when it contrasts enough, else near-black or white."""
    if accent is not None and abs(luminance(accent) - luminance(background)) > 0.35:
        return accent
    if luminance(background) > 0.55:
        return hsv(rng.random(), 0.5, 0.18)
    return (250, 250, 246)


class Scheme:
    """A product's colours: a main colour, a second one, an accent and the colour of text on each."""

    def __init__(self, rng: np.random.Generator):
        hue = rng.random()
        style = rng.integers(0, 4)
        if style == 0:  # bright and saturated
            self.main = hsv(hue, rng.uniform(0.65, 0.95), rng.uniform(0.7, 0.95))
        elif style == 1:  # dark premium
            self.main = hsv(hue, rng.uniform(0.5, 0.9), rng.uniform(0.18, 0.4))
        elif style == 2:  # white with colour
            self.main = hsv(hue, rng.uniform(0.0, 0.08), rng.uniform(0.9, 0.98))
        else:  # pastel
            self.main = hsv(hue, rng.uniform(0.25, 0.45), rng.uniform(0.85, 0.97))
        offset = rng.choice([0.5, 0.33, -0.33, 0.08, 0.15])
        self.second = hsv(hue + offset, rng.uniform(0.6, 1.0), rng.uniform(0.55, 0.95))
        self.accent = hsv(hue + rng.choice([0.5, 0.12, -0.12]), rng.uniform(0.7, 1.0), rng.uniform(0.8, 1.0))
        self.text_on_main = contrast_text(self.main, rng, self.second)
        self.text_on_second = contrast_text(self.second, rng)


def brand_name(rng: np.random.Generator) -> str:
    """A pronounceable made-up brand name of 2-3 syllables, e.g. ``KOLAVI``."""
    syllables = int(rng.integers(2, 4))
    word = "".join(str(rng.choice(_ONSETS)) + str(rng.choice(_VOWELS)) for _ in range(syllables))
    word += str(rng.choice(_CODAS))
    return word[:9].upper()


def flavour_word(rng: np.random.Generator) -> str:
    return str(rng.choice(_WORDS))


def fit_font_scale(text: str, font: int, width: float, height: float, thickness_per_scale: float) -> float:
    """The largest font scale at which ``text`` fits ``width`` x ``height`` pixels."""
    (w, h), base = cv2.getTextSize(text, font, 1.0, max(1, round(thickness_per_scale)))
    return max(0.05, min(width / max(w, 1), height / max(h + base * 0.5, 1)))


def put_text(
    image: np.ndarray,
    text: str,
    box: tuple[float, float, float, float],
    color: RGB,
    *,
    font: int = cv2.FONT_HERSHEY_DUPLEX,
    weight: float = 1.0,
    align: str = "center",
) -> None:
    """Draw ``text`` as large as fits ``box`` (x0, y0, x1, y1), stroke weight scaling with the font size."""
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    if width < 2 or height < 2 or not text:
        return
    scale = fit_font_scale(text, font, width, height, 1.0)
    thickness = max(1, int(round(scale * 1.6 * weight)))
    (w, h), base = cv2.getTextSize(text, font, scale, thickness)
    if w > width:  # thicker strokes made it wider: shrink once more
        scale *= width / w
        (w, h), base = cv2.getTextSize(text, font, scale, thickness)
    if align == "left":
        x = x0
    elif align == "right":
        x = x1 - w
    else:
        x = x0 + (width - w) / 2
    y = y0 + (height + h) / 2 - base * 0.15
    cv2.putText(image, text, (int(round(x)), int(round(y))), font, scale, color, thickness, cv2.LINE_AA)


def fine_print(
    image: np.ndarray, box: tuple[float, float, float, float], color: RGB, rng: np.random.Generator, lines: int
) -> None:
    """Rows of small text (ingredients, a warning) filling ``box``; rows too small to read become grey bars."""
    x0, y0, x1, y1 = box
    row = (y1 - y0) / max(lines, 1)
    for i in range(lines):
        top = y0 + i * row
        length = (x1 - x0) * (rng.uniform(0.55, 1.0) if i == lines - 1 else 1.0)
        if row >= 7:
            words = " ".join(brand_name(rng).lower() for _ in range(int(rng.integers(3, 7))))
            put_text(
                image,
                words,
                (x0, top + row * 0.1, x0 + length, top + row * 0.9),
                color,
                font=SMALL_FONT,
                weight=0.6,
                align="left",
            )
        else:
            cv2.line(
                image,
                (int(x0), int(top + row * 0.5)),
                (int(x0 + length), int(top + row * 0.5)),
                color,
                max(1, int(row * 0.3)),
                cv2.LINE_AA,
            )


def barcode(image: np.ndarray, box: tuple[float, float, float, float], rng: np.random.Generator) -> None:
    """A white patch with black bars, as on every product's back or side."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return
    cv2.rectangle(image, (x0, y0), (x1, y1), (250, 250, 250), -1)
    bars = rng.integers(1, 4, size=40)
    step = (x1 - x0) * 0.88 / bars.sum()
    x = x0 + (x1 - x0) * 0.06
    top, bottom = int(y0 + (y1 - y0) * 0.1), int(y1 - (y1 - y0) * 0.1)
    for i, width in enumerate(bars):  # alternate bars and gaps
        if i % 2 == 0:
            cv2.rectangle(image, (int(x), top), (int(x + width * step), bottom), (20, 20, 20), -1)
        x += width * step
