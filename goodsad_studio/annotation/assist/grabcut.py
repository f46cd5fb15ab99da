"""GrabCut from a box, clicks, scribbles or a seed mask, on the work crop only.

The prompts become GrabCut's trimap on the crop: outside a box is sure background, inside it probable foreground
(or, when a ``previous`` result or a ``seed`` is given, probable foreground where they are set and probable
background elsewhere, so a correction click refines the last answer instead of starting over); clicks and
scribbles are sure foreground or background discs and strokes, a correction click's disc as wide as half its
distance to the previous answer's boundary (:data:`CLICK_REACH_MAX` at most). Without a box the whole crop is probable
background except the seed and previous result.

GrabCut's cost grows with the pixels it sees (about 2 s for 1024x1024 at five iterations on this CPU, 0.1 s for
170x170 at three), so a crop with more than :data:`WORK_PIXELS` pixels is segmented at a reduced scale and the
boundary is then decided again at full resolution in a band a few reduced pixels wide: each band pixel goes to
the side whose local mean colour (box-filtered over the confident pixels nearby) is nearer. The answer is
therefore pixel-precise along colour edges while a step's cost is bounded by the reduced size (the 150 ms goal
at 3000x3000 is measured by benchmarks/bench_outlining.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from goodsad_studio.annotation.assist.crop import WorkCrop
from goodsad_studio.annotation.assist.image_input import check_mask, image_shape, rgb_crop
from goodsad_studio.annotation.assist.prompts import BoxPrompt, Point, Scribble

#: largest crop (in pixels) segmented at full resolution; bigger crops are reduced to about this many pixels
WORK_PIXELS = 170 * 170
#: crops smaller than this many pixels are enlarged before GrabCut (see ``_grabcut_enlarged``)
SMALL_PIXELS = 160 * 160
#: radius in pixels of the sure disc a click marks, and half the width of a scribble's stroke
PROMPT_RADIUS = 2.0
#: a correction click (one with a previous answer) marks a disc of half its distance to that answer's boundary
#: (a click in the middle of a wrong area says the area around it is wrong too), at most this radius
CLICK_REACH_MAX = 24.0
_PAD = 8  # a positive click outside the box grows the box to hold it, plus this many pixels

Region = tuple[float, float, float, float]


def grabcut(
    image: np.ndarray,
    *,
    box: BoxPrompt | None = None,
    points: Sequence[Point] = (),
    scribbles: Sequence[Scribble] = (),
    seed: np.ndarray | None = None,
    previous: np.ndarray | None = None,
    iterations: int = 3,
    margin: int = 64,
    max_side: int = 1024,
) -> np.ndarray:
    """The object the prompts point at, as a full-size bool mask (only the work crop is computed).

    ``seed`` is a bool prior of the image's size (e.g. a heatmap above a threshold), ``previous`` the last result
    being corrected. At least one prompt or a non-empty seed/previous is needed.
    """
    shape = image_shape(image)
    seed = check_mask(seed, shape, "seed mask")
    previous = check_mask(previous, shape, "previous mask")
    if iterations < 1:
        raise ValueError(f"GrabCut needs at least one iteration, got {iterations}")
    box = _box_holding_clicks(box.ordered(), points) if box is not None else None
    region = _interaction_region(box, points, scribbles, seed, previous)
    if region is None:
        raise ValueError("GrabCut needs a box, a click, a scribble or a non-empty seed")
    crop = WorkCrop.around(region, shape, context_margin(region, margin), max_side)
    labels = trimap(crop, box, points, scribbles, seed, previous)
    return crop.paste(segment_trimap(rgb_crop(image, crop), labels, iterations), shape)


def context_margin(region: Region, margin: int) -> int:
    """The crop margin for a prompt box: ``margin``, but no more than the box's longest side (at least 16 px).

    GrabCut learns the background's colours from the whole crop outside the box; around a small defect on a
    textured surface a wide margin brings in enough dark or bright texture to look like the defect, and GrabCut
    then drops it. A ring about the defect's own size keeps the background model local.
    """
    side = max(region[2] - region[0], region[3] - region[1])
    return int(min(margin, max(16, math.ceil(side))))


def trimap(
    crop: WorkCrop,
    box: BoxPrompt | None,
    points: Sequence[Point],
    scribbles: Sequence[Scribble],
    seed: np.ndarray | None,
    previous: np.ndarray | None,
) -> np.ndarray:
    """GrabCut's labels (``cv2.GC_*``) on the crop for these prompts."""
    prior = previous if previous is not None else seed
    if box is not None:
        labels = np.full(crop.shape, cv2.GC_BGD, np.uint8)
        r0, c0, r1, c1 = box.pixel_bounds()
        r0, r1 = max(r0 - crop.y0, 0), min(r1 - crop.y0, crop.height)
        c0, c1 = max(c0 - crop.x0, 0), min(c1 - crop.x0, crop.width)
        if r1 > r0 and c1 > c0:
            if prior is None:
                labels[r0:r1, c0:c1] = cv2.GC_PR_FGD
            else:
                inside = crop.cut(prior)[r0:r1, c0:c1]
                labels[r0:r1, c0:c1] = np.where(inside, cv2.GC_PR_FGD, cv2.GC_PR_BGD)
    else:
        labels = np.full(crop.shape, cv2.GC_PR_BGD, np.uint8)
        if prior is not None:
            labels[crop.cut(prior)] = cv2.GC_PR_FGD
    if previous is not None and seed is not None:
        labels[crop.cut(seed) & (labels == cv2.GC_PR_BGD)] = cv2.GC_PR_FGD
    for scribble in scribbles:
        draw_stroke(labels, crop, scribble.points, cv2.GC_FGD if scribble.positive else cv2.GC_BGD)
    reach = _reach(crop, previous) if previous is not None else None
    for point in points:
        radius = PROMPT_RADIUS
        row, col = point.pixel()
        if reach is not None and 0 <= row - crop.y0 < crop.height and 0 <= col - crop.x0 < crop.width:
            radius = max(PROMPT_RADIUS, min(CLICK_REACH_MAX, 0.5 * float(reach[row - crop.y0, col - crop.x0])))
        draw_stroke(labels, crop, ((point.x, point.y),), cv2.GC_FGD if point.positive else cv2.GC_BGD, radius)
    return labels


def _reach(crop: WorkCrop, previous: np.ndarray) -> np.ndarray:
    """For each crop pixel, its distance to the nearest pixel on the other side of the previous answer."""
    inside = crop.cut(previous).astype(np.uint8)
    to_outside = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    to_inside = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 3)
    return np.where(inside > 0, to_outside, to_inside)


def draw_stroke(
    labels: np.ndarray, crop: WorkCrop, points: Sequence[tuple[float, float]], value: int, radius: float = PROMPT_RADIUS
) -> None:
    """Mark with ``value`` the crop pixels whose centres lie within ``radius`` of the polyline ``points`` (image
    coordinates), plus the pixel under each point (the brush rule of docs/adr/0003-pixel-convention.md)."""
    if not points:
        return
    xy = np.array([crop.to_crop(x, y) for x, y in points], dtype=np.float64)
    segments = zip(xy, xy[1:], strict=False) if len(xy) > 1 else [(xy[0], xy[0])]
    for a, b in segments:
        c0 = max(0, math.floor(min(a[0], b[0]) - radius))
        r0 = max(0, math.floor(min(a[1], b[1]) - radius))
        c1 = min(crop.width, math.floor(max(a[0], b[0]) + radius) + 1)
        r1 = min(crop.height, math.floor(max(a[1], b[1]) + radius) + 1)
        if c0 >= c1 or r0 >= r1:
            continue
        px = np.arange(c0, c1, dtype=np.float64)[None, :] + 0.5 - a[0]
        py = np.arange(r0, r1, dtype=np.float64)[:, None] + 0.5 - a[1]
        d = b - a
        length2 = float(d @ d)
        t = np.clip((px * d[0] + py * d[1]) / length2, 0.0, 1.0) if length2 > 0 else np.zeros_like(px * py)
        near = (px - t * d[0]) ** 2 + (py - t * d[1]) ** 2 <= radius * radius
        labels[r0:r1, c0:c1][near] = value
    for x, y in xy:
        row, col = math.floor(y), math.floor(x)
        if 0 <= row < crop.height and 0 <= col < crop.width:
            labels[row, col] = value


def segment_trimap(rgb: np.ndarray, labels: np.ndarray, iterations: int) -> np.ndarray:
    """Foreground of GrabCut on ``rgb`` with trimap ``labels``; large crops via a reduced scale (module doc)."""
    if not _has_both(labels):
        return np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD))
    height, width = labels.shape
    if height * width < SMALL_PIXELS:
        return _grabcut_enlarged(rgb, labels, iterations)
    if height * width <= WORK_PIXELS:
        return _grabcut_full(rgb, labels, iterations)
    scale = math.sqrt(WORK_PIXELS / (height * width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = _grabcut_full(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), _reduce(labels, size), iterations)
    return _refine(rgb, labels, small, 1.0 / scale)


def _grabcut_enlarged(rgb: np.ndarray, labels: np.ndarray, iterations: int) -> np.ndarray:
    """GrabCut on a small crop enlarged (up to 4x) to about :data:`SMALL_PIXELS`, the answer reduced back by the
    majority of each pixel's enlarged copies. GrabCut's smoothness term costs per boundary pixel, so on a small
    defect it outweighs the colour evidence and the defect vanishes; enlarging weakens it relative to the area."""
    height, width = labels.shape
    factor = min(4, max(1, int(math.sqrt(SMALL_PIXELS / (height * width)))))
    if factor == 1:
        return _grabcut_full(rgb, labels, iterations)
    size = (width * factor, height * factor)
    big_rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR)
    big_labels = cv2.resize(labels, size, interpolation=cv2.INTER_NEAREST)
    found = _grabcut_full(big_rgb, big_labels, iterations)
    share = cv2.resize(found.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)
    mask = share >= 0.5
    mask[labels == cv2.GC_FGD] = True
    mask[labels == cv2.GC_BGD] = False
    return mask


def _grabcut_full(rgb: np.ndarray, labels: np.ndarray, iterations: int) -> np.ndarray:
    if not _has_both(labels):
        return np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD))
    work = labels.copy()
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    cv2.grabCut(bgr, work, (0, 0, 1, 1), bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)  # rect unused with a mask
    return np.isin(work, (cv2.GC_FGD, cv2.GC_PR_FGD))


def _has_both(labels: np.ndarray) -> bool:
    """GrabCut needs pixels on both sides to learn its colour models from."""
    counts = np.bincount(labels.ravel(), minlength=4)
    return bool(counts[cv2.GC_BGD] + counts[cv2.GC_PR_BGD]) and bool(counts[cv2.GC_FGD] + counts[cv2.GC_PR_FGD])


def _reduce(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The trimap at a reduced size: a reduced pixel holding any sure pixel is sure (foreground wins a tie, as a
    click is smaller than a pixel there), otherwise probable by the majority."""

    def share(values: tuple[int, ...]) -> np.ndarray:
        return cv2.resize(np.isin(labels, values).astype(np.float32), size, interpolation=cv2.INTER_AREA)

    out = np.where(share((cv2.GC_FGD, cv2.GC_PR_FGD)) >= 0.5, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    out[share((cv2.GC_BGD,)) > 0.999] = cv2.GC_BGD
    out[share((cv2.GC_FGD,)) > 0] = cv2.GC_FGD
    return out


def _refine(rgb: np.ndarray, labels: np.ndarray, small: np.ndarray, factor: float) -> np.ndarray:
    """The reduced answer at full size, its boundary band decided again by local mean colour (module doc)."""
    height, width = labels.shape
    soft = cv2.resize(small.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    mask = soft >= 0.5
    reach = max(1, int(math.ceil(factor)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    sure_fg = cv2.erode(mask.astype(np.uint8), kernel).astype(bool)
    sure_bg = ~cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)
    band = ~(sure_fg | sure_bg)
    if band.any():
        image = rgb.astype(np.float32)
        window = (4 * reach + 1, 4 * reach + 1)

        def local_mean(where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            weight = cv2.boxFilter(where.astype(np.float32), -1, window, normalize=False)
            total = cv2.boxFilter(image * where[..., None], -1, window, normalize=False)
            return total / np.maximum(weight, 1e-6)[..., None], weight

        fg_mean, fg_weight = local_mean(sure_fg)
        bg_mean, bg_weight = local_mean(sure_bg)
        to_fg = np.square(image - fg_mean).sum(axis=2)
        to_bg = np.square(image - bg_mean).sum(axis=2)
        decided = band & (fg_weight > 0) & (bg_weight > 0)
        mask = np.where(decided, to_fg < to_bg, mask)
    mask[labels == cv2.GC_FGD] = True
    mask[labels == cv2.GC_BGD] = False
    return mask


def _box_holding_clicks(box: BoxPrompt, points: Sequence[Point]) -> BoxPrompt:
    """The box grown to hold every positive click (a click outside it says the object reaches there)."""
    x0, y0, x1, y1 = box.x0, box.y0, box.x1, box.y1
    for p in points:
        if p.positive and not (x0 <= p.x <= x1 and y0 <= p.y <= y1):
            x0, y0 = min(x0, p.x - _PAD), min(y0, p.y - _PAD)
            x1, y1 = max(x1, p.x + _PAD), max(y1, p.y + _PAD)
    return BoxPrompt(x0, y0, x1, y1)


def _interaction_region(
    box: BoxPrompt | None,
    points: Sequence[Point],
    scribbles: Sequence[Scribble],
    seed: np.ndarray | None,
    previous: np.ndarray | None,
) -> Region | None:
    """The bounding box, in image coordinates, of every prompt and of the set pixels of seed and previous."""
    boxes: list[Region] = []
    if box is not None:
        boxes.append((box.x0, box.y0, box.x1, box.y1))
    coords = [(p.x, p.y) for p in points] + [xy for s in scribbles for xy in s.points]
    if coords:
        xy = np.asarray(coords, dtype=np.float64)
        boxes.append((float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max())))
    for mask in (seed, previous):
        found = mask_bounds(mask) if mask is not None else None
        if found is not None:
            boxes.append(found)
    if not boxes:
        return None
    array = np.asarray(boxes)
    return float(array[:, 0].min()), float(array[:, 1].min()), float(array[:, 2].max()), float(array[:, 3].max())


def mask_bounds(mask: np.ndarray) -> Region | None:
    """The box ``(x0, y0, x1, y1)`` along the outer edges of a mask's set pixels, or None when none is set."""
    rows = np.flatnonzero(mask.any(axis=1))
    if len(rows) == 0:
        return None
    cols = np.flatnonzero(mask[rows[0] : rows[-1] + 1].any(axis=0))
    return float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)
