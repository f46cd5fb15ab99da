"""Heatmap-seeded outlining: the anomaly heatmap above a threshold seeds GrabCut; the region under the cursor is
the draft.

The heatmap (the current method's anomaly map, at the image's size or smaller) is thresholded at its own
resolution and split into 8-connected regions; the region under the cursor (or the nearest one) is taken. Its box
plus ``box_margin`` pixels becomes GrabCut's box and the region, sampled at the image's pixel centres inside the
work crop only, its probable foreground, so GrabCut snaps the coarse heatmap blob to the defect's real edges.
The GrabCut region under the cursor (or, if the cursor is on none, the one overlapping the seed most) is returned.
"""

from __future__ import annotations

import cv2
import numpy as np

from goodsad_studio.annotation.assist.crop import WorkCrop
from goodsad_studio.annotation.assist.grabcut import segment_trimap, trimap
from goodsad_studio.annotation.assist.image_input import image_shape, rgb_crop
from goodsad_studio.annotation.assist.prompts import BoxPrompt, Point


class NoHeatmapRegion(ValueError):
    """No heatmap pixel reaches the threshold: there is nothing to seed from."""


def heatmap_seeded(
    image: np.ndarray,
    heatmap: np.ndarray,
    threshold: float,
    point: Point,
    *,
    box_margin: int = 16,
    iterations: int = 3,
    margin: int = 64,
    max_side: int = 1024,
) -> np.ndarray:
    """The draft region for the heatmap blob under (or nearest) ``point``, a full-size bool mask."""
    shape = image_shape(image)
    heat = np.asarray(heatmap)
    if heat.ndim != 2 or heat.size == 0 or not np.issubdtype(heat.dtype, np.number):
        raise ValueError(f"the heatmap must be a 2-D array of numbers, got {heat.dtype} {heat.shape}")
    if heat.shape[0] > shape[0] or heat.shape[1] > shape[1]:
        raise ValueError(f"the heatmap is {heat.shape[1]}x{heat.shape[0]}, larger than the {shape[1]}x{shape[0]} image")
    heat = heat.astype(np.float32, copy=False)
    above = np.nan_to_num(heat, nan=-np.inf) >= threshold
    count, labels = cv2.connectedComponents(above.astype(np.uint8), connectivity=8)
    if count <= 1:
        raise NoHeatmapRegion(
            f"no heatmap pixel reaches the threshold {threshold:g} (its maximum is {np.nanmax(heat):g})"
        )
    sx, sy = heat.shape[1] / shape[1], heat.shape[0] / shape[0]  # heatmap pixels per image pixel
    label = _region_near(labels, point.x * sx, point.y * sy)
    rows, cols = np.nonzero(labels == label)
    box = BoxPrompt(
        cols.min() / sx - box_margin,
        rows.min() / sy - box_margin,
        (cols.max() + 1) / sx + box_margin,
        (rows.max() + 1) / sy + box_margin,
    )
    box = BoxPrompt(max(box.x0, 0.0), max(box.y0, 0.0), min(box.x1, float(shape[1])), min(box.y1, float(shape[0])))
    crop = WorkCrop.around((box.x0, box.y0, box.x1, box.y1), shape, margin, max_side)
    seed = _sample(heat, crop, sx, sy, cv2.INTER_LINEAR) >= threshold
    seed &= _sample((labels == label).astype(np.float32), crop, sx, sy, cv2.INTER_NEAREST) > 0.5
    full_seed = crop.paste(seed, shape) if seed.any() else None
    tri = trimap(crop, box, (), (), full_seed, None)
    found = segment_trimap(rgb_crop(image, crop), tri, iterations)
    return crop.paste(_part_under(found, seed, crop, point), shape)


def _region_near(labels: np.ndarray, x: float, y: float) -> int:
    """The label under heatmap position ``(x, y)``, or the label of the nearest labelled pixel."""
    row, col = int(np.floor(y)), int(np.floor(x))
    if 0 <= row < labels.shape[0] and 0 <= col < labels.shape[1] and labels[row, col] > 0:
        return int(labels[row, col])
    rows, cols = np.nonzero(labels)
    nearest = np.argmin((rows + 0.5 - y) ** 2 + (cols + 0.5 - x) ** 2)
    return int(labels[rows[nearest], cols[nearest]])


def _sample(values: np.ndarray, crop: WorkCrop, sx: float, sy: float, interpolation: int) -> np.ndarray:
    """``values`` (heatmap resolution) at the image pixel centres of the crop."""
    xs = ((np.arange(crop.x0, crop.x1, dtype=np.float32) + 0.5) * sx - 0.5).astype(np.float32)
    ys = ((np.arange(crop.y0, crop.y1, dtype=np.float32) + 0.5) * sy - 0.5).astype(np.float32)
    map_x = np.broadcast_to(xs[None, :], crop.shape).astype(np.float32)
    map_y = np.broadcast_to(ys[:, None], crop.shape).astype(np.float32)
    return cv2.remap(values, map_x, map_y, interpolation, borderMode=cv2.BORDER_REPLICATE)


def _part_under(found: np.ndarray, seed: np.ndarray, crop: WorkCrop, point: Point) -> np.ndarray:
    """The 8-connected part of ``found`` under the point, else the one overlapping the seed most."""
    count, parts = cv2.connectedComponents(found.astype(np.uint8), connectivity=8)
    if count <= 1:
        return found
    row, col = point.pixel()
    row, col = row - crop.y0, col - crop.x0
    if 0 <= row < crop.height and 0 <= col < crop.width and parts[row, col] > 0:
        return np.asarray(parts == parts[row, col])
    overlap = np.bincount(parts[seed].ravel(), minlength=count)
    overlap[0] = 0
    if overlap.max() == 0:
        overlap = np.bincount(parts.ravel(), minlength=count)
        overlap[0] = 0
    return np.asarray(parts == int(np.argmax(overlap)))
