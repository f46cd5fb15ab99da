"""Raw anomaly maps and heatmaps out of the studio: what users of other tools complain they cannot get.

For each image: ``<category>/<split>/<defect>/<stem>.npy`` (float32 at the image's native size, the values the
method produced) and ``<stem>_heatmap.png`` (colour-mapped with one shared range over the whole export, so
heatmaps of different images compare), plus ``scores.csv`` with every image score.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np

from goodsad_studio.dataset.imageio import write_image
from goodsad_studio.dataset.index import ImageRecord
from goodsad_studio.engine.cache import CachedResult
from goodsad_studio.fsutil import atomic_write_bytes, atomic_write_text
from goodsad_studio.progress import NO_MONITOR, Monitor, Stage


def heatmap_rgb(anomaly_map: np.ndarray, low: float, high: float, colormap: int = cv2.COLORMAP_INFERNO) -> np.ndarray:
    """An RGB heatmap of ``anomaly_map`` with values mapped linearly from [low, high] to the colormap."""
    span = max(high - low, 1e-12)
    scaled = np.clip((anomaly_map - low) / span * 255.0, 0, 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(scaled, colormap), cv2.COLOR_BGR2RGB)


def write_predictions(
    records: Sequence[ImageRecord],
    results: Mapping[str, CachedResult],
    out_dir: str | Path,
    monitor: Monitor = NO_MONITOR,
) -> list[Path]:
    """Write every record's map and heatmap (stage ``export``, checked for cancel between images), then
    ``scores.csv``; returns the paths written. A cancelled export leaves the images written so far and no
    ``scores.csv``."""
    out_dir = Path(out_dir)
    low = min(float(results[r.key].anomaly_map.min()) for r in records) if records else 0.0
    high = max(float(results[r.key].anomaly_map.max()) for r in records) if records else 1.0
    written = []
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["key", "category", "split", "defect", "goods_id", "image", "score"])
    monitor.stage(Stage.EXPORT, len(records) or None, f"heatmaps to {out_dir}")
    for done, record in enumerate(records, start=1):
        monitor.check("the heatmaps export")
        result = results[record.key]
        native = result.native_map().astype(np.float32)
        folder = out_dir / record.category / record.split / record.defect
        buffer = io.BytesIO()
        np.save(buffer, native, allow_pickle=False)
        atomic_write_bytes(folder / f"{record.stem}.npy", buffer.getvalue())
        write_image(folder / f"{record.stem}_heatmap.png", heatmap_rgb(native, low, high))
        written += [folder / f"{record.stem}.npy", folder / f"{record.stem}_heatmap.png"]
        writer.writerow(
            [
                record.key,
                record.category,
                record.split,
                record.defect,
                record.goods_id or "",
                str(record.image_path),
                f"{result.score:.6g}",
            ]
        )
        monitor.advance(done)
    atomic_write_text(out_dir / "scores.csv", table.getvalue())
    atomic_write_text(out_dir / "heatmap_range.txt", f"heatmap colours span [{low:.6g}, {high:.6g}] (inferno)\n")
    return [*written, out_dir / "scores.csv"]
