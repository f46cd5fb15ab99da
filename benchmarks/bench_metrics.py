"""Pixel-metric cost at GoodsAD's native 3000x3000: what evaluating one image adds to a method's prediction.

Baseline, measured in the same run: upsampling a 224x224 map to 3000x3000 (the least any native-resolution metric
must do). Prints the binned accumulator's per-image cost (the mode a 1000-image category uses), the exact mode's,
the per-image inspector metrics, and the error bounds the binned mode reports.

    .venv/bin/python benchmarks/bench_metrics.py
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from goodsad_studio.metrics import CategoryEvaluator, PixelAccumulator, per_image_metrics

SIDE = 3000
IMAGES = 6


def _median_ms(function, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main() -> None:
    rng = np.random.default_rng(0)
    mask = np.zeros((SIDE, SIDE), bool)
    mask[1000:1200, 1500:1600] = True
    mask[2000:2010, 100:900] = True
    maps = [cv2.GaussianBlur(rng.random((224, 224)).astype(np.float32), (0, 0), 4) for _ in range(IMAGES)]
    baseline = _median_ms(lambda: cv2.resize(maps[0], (SIDE, SIDE), interpolation=cv2.INTER_LINEAR))

    def binned():
        accumulator = PixelAccumulator(mode="binned")
        for i, anomaly_map in enumerate(maps):
            accumulator.update(anomaly_map, mask if i % 2 else None, image_shape=(SIDE, SIDE))
        return accumulator

    binned_ms = _median_ms(binned, 1) / IMAGES
    accumulator = binned()
    started = time.perf_counter()
    counts = accumulator.counts()
    bounds = accumulator.error_bounds(counts)
    counts_ms = 1000 * (time.perf_counter() - started)

    def evaluator():
        category = CategoryEvaluator()
        for i, anomaly_map in enumerate(maps):
            category.add(
                float(anomaly_map.max()), bool(i % 2), anomaly_map, mask if i % 2 else None, image_shape=(SIDE, SIDE)
            )
        return category.result()

    evaluator_ms = _median_ms(evaluator, 1) / IMAGES
    inspector_ms = _median_ms(lambda: per_image_metrics(maps[1], mask, 0.6))
    print(f"native {SIDE}x{SIDE}, {IMAGES} images, 224x224 maps")
    print(f"baseline: upsample one map            {baseline:8.1f} ms")
    print(f"binned accumulator, per image          {binned_ms:8.1f} ms  ({binned_ms / baseline:.1f}x baseline)")
    print(
        f"CategoryEvaluator incl. result, per img {evaluator_ms:8.1f} ms  ({evaluator_ms / baseline:.1f}x baseline)"
        f"  -> {evaluator_ms * 1000 / 1000 / 60:.1f} min for a 1000-image category"
    )
    print(f"counts + error bounds                  {counts_ms:8.1f} ms")
    print(f"per-image inspector metrics            {inspector_ms:8.1f} ms  ({inspector_ms / baseline:.1f}x baseline)")
    print("binned error bounds: " + ", ".join(f"{k} {v:.1e}" for k, v in bounds.items()))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
