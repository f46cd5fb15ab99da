"""Annotation speed at GoodsAD's native 3000x3000: rasterise, trace, brush, polygon edits, undo/redo.

Every figure is the median of repeated runs, printed with its ratio to a baseline measured in the same run: one
full ``np.copy`` of the 3000x3000 mask (the cost of the crudest undo, a whole-mask snapshot). Goals:
polygons -> mask and one brush stroke well under 20 ms; mask -> polygons of a typical GoodsAD mask (a few regions,
< 2% of the pixels) under 50 ms; undo/redo of a stroke under 20 ms.

    .venv/bin/python benchmarks/bench_annotation.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from shapely.geometry import Polygon

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from goodsad_studio.annotation.document import MaskDocument
from goodsad_studio.geometry import rasterize, trace

SIZE = 3000


def typical_mask(seed: int = 1) -> np.ndarray:
    """A few irregular defect regions (one with a hole), about 1-2% of a 3000x3000 image."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    for _ in range(4):
        cx, cy = rng.integers(300, SIZE - 300, 2)
        angles = np.linspace(0, 2 * np.pi, 240, endpoint=False)
        radius = rng.uniform(60, 130) * (1 + 0.3 * np.sin(rng.integers(3, 7) * angles + rng.uniform(0, 6)))
        radius *= 1 + 0.05 * rng.standard_normal(len(angles))  # ragged, as hand-drawn or thresholded masks are
        points = np.stack([cx + radius * np.cos(angles), cy + radius * np.sin(angles)], axis=1)
        cv2.fillPoly(mask, [points.astype(np.int32)], 1)
    cv2.circle(mask, (int(cx), int(cy)), 25, 0, -1)
    return mask.astype(bool)


def timed(fn, repeat: int = 15, setup=None) -> float:
    """Median milliseconds of ``fn()`` (``setup()`` runs untimed before each call)."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    mask = typical_mask()
    print(f"image {SIZE}x{SIZE}; typical mask: {mask.mean():.2%} of the pixels, {len(trace(mask).geoms)} regions")
    rows: list[tuple[str, float, float | None]] = []
    baseline = timed(lambda: np.copy(mask), repeat=31)
    rows.append(("baseline: np.copy of the 3000x3000 mask", baseline, None))

    traced = trace(mask)
    rows.append(("mask -> polygons (trace, typical mask)", timed(lambda: trace(mask)), 50))
    rows.append(("polygons -> mask (rasterize the traced polygons)", timed(lambda: rasterize(traced, mask.shape)), 20))
    angles = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    drawn = Polygon(
        np.stack([1500 + 900 * np.cos(angles) * (1 + 0.2 * np.sin(7 * angles)), 1500 + 700 * np.sin(angles)], axis=1)
    )
    rows.append(
        ("polygons -> mask (user polygon, 400 vertices, 20% of image)", timed(lambda: rasterize(drawn, mask.shape)), 20)
    )
    whole = Polygon([(0.3, 0.2), (2999.6, 0.4), (2999.8, 2999.9), (0.1, 2999.5)])
    rows.append(
        ("polygons -> mask (worst case: quad over the whole image)", timed(lambda: rasterize(whole, mask.shape)), 20)
    )

    doc = MaskDocument(mask)
    doc.polygons  # noqa: B018  (trace once, as opening in the GUI does)
    stroke_points = [(1000 + 6 * i, 1200 + 3 * i + 20 * np.sin(i / 5)) for i in range(50)]
    rows.append(
        (
            "brush stroke (50 points, radius 25, one undo step)",
            timed(lambda: doc.paint(stroke_points, 25), setup=lambda: doc.undo() if len(doc.history) else None),
            20,
        )
    )
    rows.append(
        (
            "eraser stroke (50 points, radius 25)",
            timed(
                lambda: doc.paint(stroke_points, 25, erase=True), setup=lambda: doc.undo() if len(doc.history) else None
            ),
            20,
        )
    )
    while doc.undo():
        pass
    doc.paint(stroke_points, 25)
    undo_redo = []
    for _ in range(15):
        start = time.perf_counter()
        doc.undo()
        middle = time.perf_counter()
        doc.redo()
        end = time.perf_counter()
        undo_redo.append(((middle - start) * 1000, (end - middle) * 1000))
    rows.append(("undo of the stroke", statistics.median(u for u, _ in undo_redo), 20))
    rows.append(("redo of the stroke", statistics.median(r for _, r in undo_redo), 20))
    rows.append(
        (
            "polygon view refresh after the stroke (lazy trace near it)",
            timed(lambda: doc.polygons, setup=lambda: (doc.undo(), doc.redo())),
            None,
        )
    )

    shapes = doc.polygons
    index = max(range(len(shapes)), key=lambda i: shapes[i].area)
    x, y = shapes[index].exterior.coords[0]
    rows.append(
        (
            "move one vertex of a traced region (one undo step)",
            timed(
                lambda: doc.move_vertex(index, 0, 0, (x - 30, y - 30)),
                setup=lambda: doc.undo() if doc.history.undo_label == "Move vertex" else None,
            ),
            20,
        )
    )
    drag = doc.drag_vertex(index, 0, 0)
    moves = iter([(x - 3 * i, y - 2 * i) for i in range(1, 200)])
    rows.append(("vertex drag, one pointer move", timed(lambda: drag.move(next(moves)), repeat=40), 20))
    drag.finish()
    rows.append(("undo history memory after these edits (KiB)", doc.history.nbytes / 1024, None))

    width = max(len(name) for name, _, _ in rows)
    print(f"{'operation':<{width}}  {'ms':>8}  {'x copy':>7}  goal")
    failures = 0
    for name, value, goal in rows:
        if name.startswith("undo history memory"):
            print(f"{name:<{width}}  {value:8.1f}")
            continue
        ratio = f"{value / baseline:7.1f}" if name != rows[0][0] else "    1.0"
        verdict = "" if goal is None else (f"< {goal} ms ok" if value < goal else f"< {goal} ms MISSED")
        failures += goal is not None and value >= goal
        print(f"{name:<{width}}  {value:8.2f}  {ratio}  {verdict}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
