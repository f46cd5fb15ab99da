"""Object crop: the box of a shop photo that holds the goods, found from where the photo is in focus.

A photo of goods on a shelf has the photographed product in focus, near the middle, with the shelf and the
neighbouring products softer and at the sides. :func:`find_object` measures sharpness per pixel as how much of an
edge's gradient survives a Gaussian blur (a sharp edge loses most of it, a defocused one little), weights it by a
broad horizontal prior around the middle, and takes the box holding all but :data:`TAIL` of that sharp-edge mass
along each axis; a margin (more above, where caps and lids stand) follows. A box that would keep most of the photo
anyway is the whole photo, and so is a photo under :data:`MIN_SIDE`. About 30 ms for a 3000 x 3000 photo.

Boxes are ``(x0, y0, x1, y1)`` in pixels, ``x1``/``y1`` exclusive.
"""

from __future__ import annotations

import cv2
import numpy as np

Box = tuple[int, int, int, int]

MIN_SIDE = 1024
"""Photos whose shorter side is under this are kept whole: there the focus cue is too weak to trust (measured on
the demo at 512 px, the box kept 93-100 % of the photo anyway, and on MPDD it cut a plate's corner)."""
ANALYSIS_SIDE = 1536
"""Photos are analysed at most this large: the focus cue needs fine detail (a shop photo's defocus blur is a few
pixels at 3000 px)."""
CELLS = 128
"""The sharp-edge mass is summed on a grid of this many cells along the longer side."""
TAIL = 0.02
"""The share of the sharp-edge mass left outside the box at each end of each axis."""
MARGIN = 0.15
"""The margin around the found box, as a share of its longer side (twice this above it)."""
WHOLE_SHARE = 0.7
"""A box keeping more than this share of the photo's area is replaced by the whole photo."""
SNAP = 0.1
"""A side of the box nearer than this share of the photo's side to the photo's edge is moved onto the edge (goods
that reach that close usually reach the edge)."""


def whole(shape: tuple[int, ...]) -> Box:
    """The box of the whole image of ``shape`` (height, width, ...)."""
    return (0, 0, int(shape[1]), int(shape[0]))


def find_object(image: np.ndarray) -> Box:
    """The box of the goods in ``image`` (uint8 ``HxW`` or ``HxWx3``), margin included, within the image."""
    height, width = image.shape[:2]
    if min(height, width) < MIN_SIDE:
        return whole(image.shape)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    scale = min(1.0, ANALYSIS_SIDE / max(height, width))
    if scale < 1.0:
        grey = cv2.resize(grey, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    mass = _sharp_mass(grey.astype(np.float32))
    cell_w, cell_h = mass.shape[1], mass.shape[0]
    columns = np.arange(cell_w, dtype=np.float64) + 0.5 - cell_w / 2
    prior = np.exp(-0.5 * (columns / (0.3 * cell_w)) ** 2)
    weighted = mass * prior[None, :]
    if not np.isfinite(weighted).all() or weighted.sum() <= 0:
        return whole(image.shape)
    x0, x1 = _span(weighted.sum(axis=0))
    y0, y1 = _span(weighted.sum(axis=1))
    fx, fy = width / cell_w, height / cell_h
    box = (x0 * fx, y0 * fy, x1 * fx, y1 * fy)
    margin = MARGIN * max(box[2] - box[0], box[3] - box[1])
    found = (
        max(0, int(np.floor(box[0] - margin))),
        max(0, int(np.floor(box[1] - 2 * margin))),
        min(width, int(np.ceil(box[2] + margin))),
        min(height, int(np.ceil(box[3] + margin))),
    )
    found = _snap(found, width, height)
    if share(found, image.shape) > WHOLE_SHARE:
        return whole(image.shape)
    return found


def _snap(box: Box, width: int, height: int) -> Box:
    x0, y0, x1, y1 = box
    near_x, near_y = SNAP * width, SNAP * height
    return (
        0 if x0 < near_x else x0,
        0 if y0 < near_y else y0,
        width if width - x1 < near_x else x1,
        height if height - y1 < near_y else y1,
    )


def _sharp_mass(grey: np.ndarray) -> np.ndarray:
    """Per cell: the gradient of the edges that are sharp (lose most of it to a blur), the noise floor excluded."""
    fine = _gradient(grey)
    coarse = _gradient(cv2.GaussianBlur(grey, (0, 0), 2.0))
    sharp = np.clip(fine / (coarse + 8.0) - 1.2, 0.0, None) * coarse
    cell = max(1, max(grey.shape) // CELLS)
    size = (max(1, grey.shape[1] // cell), max(1, grey.shape[0] // cell))
    return np.asarray(cv2.resize(sharp, size, interpolation=cv2.INTER_AREA), np.float64)


def _gradient(grey: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    return np.asarray(cv2.magnitude(gx, gy))


def _span(profile: np.ndarray) -> tuple[int, int]:
    cumulative = np.cumsum(profile)
    cumulative /= cumulative[-1]
    return int(np.searchsorted(cumulative, TAIL)), int(np.searchsorted(cumulative, 1.0 - TAIL)) + 1


def square(box: Box, shape: tuple[int, ...]) -> Box:
    """``box`` grown to a square around its centre (a network input is square), kept within the image; where
    the image is too narrow, as square as it allows."""
    height, width = int(shape[0]), int(shape[1])
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0)
    nx0, nx1 = _grow(x0, x1, min(side, width), width)
    ny0, ny1 = _grow(y0, y1, min(side, height), height)
    return (nx0, ny0, nx1, ny1)


def _grow(start: int, stop: int, length: int, limit: int) -> tuple[int, int]:
    centre = (start + stop) / 2
    begin = int(round(centre - length / 2))
    begin = min(max(0, begin), limit - length)
    return begin, begin + length


def share(box: Box, shape: tuple[int, ...]) -> float:
    """The share of the image's area inside ``box``."""
    x0, y0, x1, y1 = box
    return (x1 - x0) * (y1 - y0) / float(int(shape[0]) * int(shape[1]))


def scale_box(box: Box, factor: float, shape: tuple[int, ...]) -> Box:
    """``box`` of a reduced decode in the pixels of the photo of ``shape`` (``factor`` = photo / decode)."""
    height, width = int(shape[0]), int(shape[1])
    x0, y0, x1, y1 = box
    return (
        max(0, int(np.floor(x0 * factor))),
        max(0, int(np.floor(y0 * factor))),
        min(width, int(np.ceil(x1 * factor))),
        min(height, int(np.ceil(y1 * factor))),
    )
