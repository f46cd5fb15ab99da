"""An image ready to draw: BGRA ``QImage`` levels (full resolution and halvings), built off the UI thread.

Qt's raster engine draws ``Format_RGB32`` fastest, and a transformed draw only touches the destination pixels, so
a 3000x3000 photo repaints in a few milliseconds at any zoom. Zoomed out, the canvas draws the coarsest level that
still has at least one source pixel per screen pixel (smooth); zoomed in past 100 % it draws the native level with
nearest-neighbour sampling, so single pixels stay sharp squares.

A *preview* is a reduced decode (JPEG's 1/2, 1/4, 1/8 modes, see ``imageio.read_preview``) shown at once while the
full decode runs in the background; it is drawn stretched over the native image rectangle.

Each level's pixels live in the ``QImage`` itself; a numpy view of them (``QImage.bits()``) is kept beside it for the
pixel readout. ``QImage`` is reentrant, so levels are built in worker threads (never ``QPixmap``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtGui import QImage

from goodsad_studio.dataset.imageio import probe_image, read_image, read_preview

PREVIEW_SIDE = 750
"""Longest side of a preview: a 3000px JPEG decodes at 1/4 straight to this size (a few ms)."""

MIN_LEVEL_SIDE = 512
"""Halvings stop once the longer side would drop below this."""


@dataclass(frozen=True, slots=True)
class Level:
    """One resolution of the image: the ``QImage`` and a numpy view (H, W, 4) BGRA of its pixels."""

    image: QImage
    pixels: np.ndarray
    scale: float  # level pixels per native image pixel


def _bgra_level(rgb: np.ndarray, scale: float) -> Level:
    """Copy an RGB array into a new ``Format_RGB32`` QImage (byte order B, G, R, 255 on little-endian)."""
    height, width = rgb.shape[:2]
    image = QImage(width, height, QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.bits(), np.uint8).reshape(height, image.bytesPerLine() // 4, 4)[:, :width]
    cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGRA, dst=pixels)
    return Level(image, pixels, scale)


def _halve(level: Level) -> Level:
    height, width = level.pixels.shape[:2]
    size = (max(1, width // 2), max(1, height // 2))
    image = QImage(size[0], size[1], QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.bits(), np.uint8).reshape(size[1], image.bytesPerLine() // 4, 4)[:, : size[0]]
    cv2.resize(level.pixels, size, dst=pixels, interpolation=cv2.INTER_AREA)
    return Level(image, pixels, level.scale * size[0] / width)


class DisplayImage:
    """The drawable form of one image file (see the module docstring)."""

    def __init__(self, path: Path, width: int, height: int, levels: list[Level], full: bool) -> None:
        self.path = path
        self.width = width
        self.height = height
        self.levels = levels
        self.full = full

    @classmethod
    def from_rgb(cls, path: Path, rgb: np.ndarray, native: tuple[int, int] | None = None) -> DisplayImage:
        """Levels from an RGB array; ``native`` (width, height) when ``rgb`` is a reduced copy."""
        height, width = rgb.shape[:2]
        native_w, native_h = native or (width, height)
        levels = [_bgra_level(rgb, width / native_w)]
        while max(levels[-1].pixels.shape[:2]) // 2 >= MIN_LEVEL_SIDE:
            levels.append(_halve(levels[-1]))
        return cls(path, native_w, native_h, levels, full=native is None or (native_w, native_h) == (width, height))

    @classmethod
    def load_full(cls, path: Path) -> DisplayImage:
        """Decode the whole file (slow for 3000px photos: call it off the UI thread)."""
        return cls.from_rgb(path, read_image(path))

    @classmethod
    def load_preview(cls, path: Path, side: int = PREVIEW_SIDE) -> DisplayImage:
        """A reduced decode for the first paint (the full image when it is small anyway)."""
        info = probe_image(path)
        if max(info.width, info.height) <= side:
            return cls.load_full(path)
        rgb, _scale = read_preview(path, side)
        return cls.from_rgb(path, rgb, (info.width, info.height))

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in native pixels."""
        return self.width, self.height

    def level_for(self, view_scale: float) -> Level:
        """The coarsest level with at least one pixel per screen pixel at ``view_scale`` (screen px per image px)."""
        chosen = self.levels[0]
        for level in self.levels[1:]:
            if level.scale >= view_scale:
                chosen = level
        return chosen

    def pixel(self, x: int, y: int) -> tuple[int, int, int] | None:
        """RGB of native pixel (x, y) (from the preview while the full image is loading), None outside."""
        if not (0 <= x < self.width and 0 <= y < self.height):
            return None
        level = self.levels[0]
        row = min(level.pixels.shape[0] - 1, int(y * level.scale))
        col = min(level.pixels.shape[1] - 1, int(x * level.scale))
        b, g, r, _ = level.pixels[row, col]
        return int(r), int(g), int(b)
