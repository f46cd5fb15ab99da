"""The results cache: every image's score and anomaly map, keyed by the model that made it, so nothing is computed
twice and reopening a dataset shows earlier heatmaps at once.

Layout: ``<cache dir>/<model key>/model.json`` (the model's config, for people) and
``<cache dir>/<model key>/<category>/<split>/<defect>/<stem>.npz`` with ``map`` (float16), ``score`` and the image
file's signature (size and modification time: an edited image is recomputed). Maps are stored at the resolution the
method saw (a 3000px JPEG bound for a 224 network is decoded at 1/8), at most :data:`MAX_STORED_SIDE` on the longer
side; they are smooth at that scale, and :meth:`CachedResult.map_at` upsamples them to any size. Files are written
atomically and read with ``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from goodsad_studio.dataset.index import ImageRecord
from goodsad_studio.fsutil import atomic_write_bytes, atomic_write_text

MAX_STORED_SIDE = 512
NATIVE_STORED_SIDE = 1024
"""The stored side of maps made at native resolution (tiles or crop): their detail is the point of them."""
CACHE_FORMAT = 1


def model_key(config: dict[str, Any]) -> str:
    """A short stable hash of everything that determines a model's outputs."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def file_signature(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}-{stat.st_mtime_ns}"


CATEGORY_SCALE = "category"
"""A calibrated result of a photo whose goods has no calibration of its own: on the category's scale."""


@dataclass(frozen=True)
class CachedResult:
    """One image's result: the image score and the anomaly map (float32) with the image's native height/width."""

    score: float
    anomaly_map: np.ndarray
    native_shape: tuple[int, int]
    crop: tuple[int, int, int, int] | None = None
    """The object crop the method saw, in the photo's pixels (None: the whole photo)."""
    tiles: tuple[tuple[int, int, int, int], ...] = ()
    """The tiles the method saw, in the photo's pixels (empty without tiling)."""
    neighbours: tuple[str, ...] = ()
    """A goods-aware model's training photos (record keys) the photo was compared with, most similar first."""
    calibrated: str | None = None
    """A calibrated model's result: the goods id whose normal scores its score and map are z-scores of
    (:data:`CATEGORY_SCALE` for the category's); None for raw scores."""

    def map_at(self, shape: tuple[int, int]) -> np.ndarray:
        """The anomaly map resized (bilinear) to ``shape`` (height, width)."""
        if self.anomaly_map.shape == tuple(shape):
            return self.anomaly_map
        return cv2.resize(self.anomaly_map, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)

    def native_map(self) -> np.ndarray:
        return self.map_at(self.native_shape)


def shrink_map(anomaly_map: np.ndarray, max_side: int = MAX_STORED_SIDE) -> np.ndarray:
    height, width = anomaly_map.shape
    if max(height, width) <= max_side:
        return anomaly_map
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(anomaly_map, size, interpolation=cv2.INTER_AREA)


def _box(values: tuple[int, ...] | None) -> tuple[int, int, int, int] | None:
    if values is None or len(values) != 4:
        return None
    return (values[0], values[1], values[2], values[3])


class ResultsCache:
    """Results of one model (identified by ``key``) under ``directory``."""

    def __init__(self, directory: str | Path, key: str, description: dict[str, Any] | None = None):
        self.directory = Path(directory) / key
        self.key = key
        if description is not None and not (self.directory / "model.json").exists():
            atomic_write_text(self.directory / "model.json", json.dumps(description, indent=2, default=str))

    def _path(self, record: ImageRecord) -> Path:
        return self.directory / record.category / record.split / record.defect / f"{record.stem}.npz"

    def get(self, record: ImageRecord) -> CachedResult | None:
        """The cached result of ``record``, or None when absent, stale (the image changed) or unreadable."""
        path = self._path(record)
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["signature"]) != file_signature(record.image_path):
                    return None
                if int(data["format"]) != CACHE_FORMAT:
                    return None
                crop = _box(tuple(int(v) for v in data["crop"])) if "crop" in data else None
                rows = data["tiles"] if "tiles" in data else np.zeros((0, 4), np.int64)
                tiles = tuple(box for box in (_box(tuple(int(v) for v in row)) for row in rows) if box is not None)
                neighbours = tuple(str(key) for key in data["neighbours"]) if "neighbours" in data else ()
                calibrated = str(data["calibrated"]) if "calibrated" in data else None
                return CachedResult(
                    float(data["score"]),
                    data["map"].astype(np.float32),
                    (int(data["native_shape"][0]), int(data["native_shape"][1])),
                    crop,
                    tiles,
                    neighbours,
                    calibrated,
                )
        except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError):
            return None

    def put(
        self,
        record: ImageRecord,
        score: float,
        anomaly_map: np.ndarray,
        native_shape: tuple[int, int],
        *,
        crop: tuple[int, int, int, int] | None = None,
        tiles: tuple[tuple[int, int, int, int], ...] = (),
        max_side: int = MAX_STORED_SIDE,
        neighbours: tuple[str, ...] = (),
        calibrated: str | None = None,
    ) -> CachedResult:
        stored = shrink_map(np.asarray(anomaly_map, np.float32), max_side).astype(np.float16)
        views: dict[str, np.ndarray] = {}
        if crop is not None:
            views["crop"] = np.asarray(crop, np.int64)
        if tiles:
            views["tiles"] = np.asarray(tiles, np.int64).reshape(-1, 4)
        if neighbours:
            views["neighbours"] = np.asarray(neighbours, np.str_)
        if calibrated is not None:
            views["calibrated"] = np.asarray(calibrated, np.str_)
        arrays: dict[str, Any] = {
            "map": stored,
            "score": np.float64(score),
            "native_shape": np.asarray(native_shape, np.int64),
            "signature": np.str_(file_signature(record.image_path)),
            "format": np.int64(CACHE_FORMAT),
            **views,
        }
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        atomic_write_bytes(self._path(record), buffer.getvalue())
        return CachedResult(
            float(score),
            stored.astype(np.float32),
            (native_shape[0], native_shape[1]),
            crop,
            tuple(tiles),
            tuple(neighbours),
            calibrated,
        )

    def __contains__(self, record: ImageRecord) -> bool:
        return self.get(record) is not None
