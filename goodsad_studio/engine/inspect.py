"""What the studio's analysis views ask of the engine about results already computed: which result sets are on
disk, one image's metrics and rank, colour ranges, a mask proposed from a heatmap, and the triage list.

Kept apart from the GUI (no Qt here) so every number a view shows comes from the core and can be checked in a
script: the views only draw what these functions return.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from goodsad_studio import strict_json
from goodsad_studio.dataset.imageio import read_mask
from goodsad_studio.dataset.index import ImageRecord
from goodsad_studio.engine.cache import CachedResult, ResultsCache
from goodsad_studio.engine.contract import ModelSummary
from goodsad_studio.engine.layout import StateLayout
from goodsad_studio.metrics.per_image import ImageMetrics, per_image_metrics

NORMALISATIONS = ("image", "category", "calibrated", "fixed")
CALIBRATED_THRESHOLD = 3.0
"""The default threshold of a calibrated map (a z-score of its goods' normal photos): three spreads above the most
anomalous spot of a typical normal photo of the goods, the same for every goods."""
CALIBRATED_RANGE = (0.0, 2 * CALIBRATED_THRESHOLD)
"""The ``"calibrated"`` colour range: from a typical normal photo's maximum to twice the default threshold."""


@dataclass(frozen=True)
class ResultSet:
    """The cached results of one fitted model: its cache key, method name, the line shown to users
    (method, backbone, weights, device), and the category / goods id it was fitted on."""

    key: str
    method: str
    label: str
    category: str
    goods_id: str | None
    cache_dir: Path

    @property
    def cache(self) -> ResultsCache:
        return ResultsCache(self.cache_dir, self.key)

    def get(self, record: ImageRecord) -> CachedResult | None:
        return self.cache.get(record)


def saved_result_sets(cache_dir: str | Path) -> list[ResultSet]:
    """Every result set under a workspace's cache folder (``<state dir>/cache``), newest first, so that reopening
    a dataset shows earlier heatmaps without loading any model. Unreadable descriptions are skipped."""
    cache_dir = Path(cache_dir)
    found = []
    for description in cache_dir.glob("*/model.json"):
        try:
            data = strict_json.loads(description.read_text(encoding="utf-8"), finite=False)
            folder = StateLayout.parse_model_dir(Path(data["model"]))
            method = str(data.get("method") or data.get("config", {}).get("method") or folder.method)
            found.append(
                (
                    description.stat().st_mtime,
                    ResultSet(
                        description.parent.name,
                        method,
                        str(data.get("info", method)),
                        folder.category,
                        folder.goods_id,
                        cache_dir,
                    ),
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return [item for _, item in sorted(found, key=lambda pair: -pair[0])]


def result_set_for(model: ModelSummary, cache_dir: str | Path) -> ResultSet:
    """The :class:`ResultSet` of a fitted model."""
    return ResultSet(model.key, model.method, model.label, model.category, model.goods_id, Path(cache_dir))


def cached_results(result_set: ResultSet, records: Sequence[ImageRecord]) -> dict[str, CachedResult]:
    """The results of ``records`` found in the cache (missing or stale ones are left out)."""
    cache = result_set.cache
    found = {}
    for record in records:
        result = cache.get(record)
        if result is not None:
            found[record.key] = result
    return found


def score_rank(score: float, scores: Sequence[float]) -> tuple[int, int]:
    """``(rank, of)``: 1 is the most anomalous of ``scores`` (ties share the better rank)."""
    values = np.asarray(scores, dtype=np.float64)
    return int(np.count_nonzero(values > score)) + 1, len(values)


@dataclass(frozen=True)
class ImageInspection:
    """One image under one method: its score, rank in its category's test images, and the per-image metrics."""

    score: float
    rank: int
    of: int
    metrics: ImageMetrics


def inspect_image(
    result: CachedResult,
    gt_mask: np.ndarray | None,
    threshold: float,
    category_scores: Sequence[float],
    *,
    name: str | Path | None = None,
) -> ImageInspection:
    """Metrics of one image at ``threshold`` against ``gt_mask`` (the mask being edited, or None for a good image),
    at the image's native resolution."""
    rank, of = score_rank(result.score, category_scores) if len(category_scores) else (1, 1)
    metrics = per_image_metrics(
        result.native_map(), gt_mask, threshold, protocol="native", image_shape=result.native_shape, name=name
    )
    return ImageInspection(result.score, rank, of, metrics)


@dataclass(frozen=True)
class ResultSummary:
    """What views need of a result without holding its map: the score and the map's value range."""

    score: float
    low: float
    high: float


def summarise(result_set: ResultSet, records: Sequence[ImageRecord]) -> dict[str, ResultSummary]:
    """Score and map range of every cached result of ``records`` (read once, in a worker, for ranks, per-category
    colour ranges and histograms)."""
    return {
        key: ResultSummary(result.score, float(result.anomaly_map.min()), float(result.anomaly_map.max()))
        for key, result in cached_results(result_set, records).items()
    }


def colour_range(
    mode: str,
    result: CachedResult | None,
    ranges: Sequence[tuple[float, float]] = (),
    fixed: tuple[float, float] = (0.0, 1.0),
) -> tuple[float, float]:
    """The (low, high) map values that span the colormap: per ``"image"`` (this map's range), per ``"category"``
    (the union of ``ranges``, the (low, high) of every map of the category or of every compared map),
    ``"calibrated"`` (:data:`CALIBRATED_RANGE` for a calibrated result, one scale for every goods; per category
    for a raw one) or ``"fixed"``. Never an empty span."""
    if mode not in NORMALISATIONS:
        raise ValueError(f"unknown normalisation {mode!r}: use one of {', '.join(NORMALISATIONS)}")
    if mode == "calibrated":
        if result is not None and result.calibrated is not None:
            return CALIBRATED_RANGE
        mode = "category"
    if mode == "fixed":
        low, high = float(fixed[0]), float(fixed[1])
    else:
        spans = list(ranges) if mode == "category" and ranges else []
        if not spans and result is not None:
            spans = [(float(result.anomaly_map.min()), float(result.anomaly_map.max()))]
        if not spans:
            return 0.0, 1.0
        low, high = min(span[0] for span in spans), max(span[1] for span in spans)
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        high = low + 1e-6 if math.isfinite(low) else 1.0
    return low, high


def compare_ranges(
    mode: str,
    results: Mapping[str, CachedResult],
    category_ranges: Mapping[str, Sequence[tuple[float, float]]] | None = None,
    fixed: tuple[float, float] = (0.0, 1.0),
) -> dict[str, tuple[float, float]]:
    """The (low, high) raw map values that span the colormap for each compared method.

    Methods score on unrelated scales (PatchCore's distances against PaDiM's Mahalanobis values), so one raw range
    shared by all makes some panes a flat colour. Comparing them on equal terms means comparing each map against
    its own method's yardstick: ``"category"`` maps each method's category range (the union of ``category_ranges``
    of that method, the (low, high) of each of its maps) onto the colormap, ``"image"`` each map's own range.
    Either way the shared colour scale reads "0 to 100 % of the method's range". ``"fixed"`` is the one case where
    a raw range is shared by every method (for methods whose scores share units)."""
    category_ranges = category_ranges or {}
    return {
        method: colour_range(mode, result, category_ranges.get(method, ()), fixed) for method, result in results.items()
    }


def propose_mask(result: CachedResult, threshold: float, *, min_area: int = 0) -> np.ndarray:
    """A mask at the image's native size: every pixel whose (upsampled) score is ``>= threshold``, without
    connected regions smaller than ``min_area`` pixels. The annotator then refines it with the drawing tools."""
    mask = result.native_map() >= float(threshold)
    if min_area > 1 and mask.any():
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
        small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < min_area)
        small = small[small != 0]
        if len(small):
            mask &= ~np.isin(labels, small)
    return mask


def threshold_contours(anomaly_map: np.ndarray, threshold: float) -> list[np.ndarray]:
    """Outlines of ``anomaly_map >= threshold`` as float (x, y) point arrays in the map's pixel-corner coordinates
    (multiply by native/map size to draw them over the image)."""
    binary = (anomaly_map >= float(threshold)).astype(np.uint8)
    if not binary.any():
        return []
    # Trace on a 2x grid so that the outline follows pixel edges rather than pixel centres.
    grown = cv2.resize(binary, (binary.shape[1] * 2, binary.shape[0] * 2), interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(grown, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    return [(contour.reshape(-1, 2).astype(np.float64) + 0.5) / 2.0 for contour in contours if len(contour) >= 2]


@dataclass(frozen=True)
class ScoreTable:
    """The image scores of a category's test images under one method, for histograms and click-to-open."""

    keys: list[str]
    scores: np.ndarray
    anomalous: np.ndarray


def score_table(records: Sequence[ImageRecord], results: Mapping[str, CachedResult]) -> ScoreTable:
    chosen = [record for record in records if record.key in results]
    return ScoreTable(
        [record.key for record in chosen],
        np.asarray([results[record.key].score for record in chosen], dtype=np.float64),
        np.asarray([record.is_anomalous for record in chosen], dtype=bool),
    )


TRIAGE_LIMIT = 50
"""How many images the triage list holds."""
NO_MASK = "defective image without a mask"
LOW_PIXEL_AP = "defective: low pixel AP"
HIGH_GOOD_SCORE = "good: high image score"


@dataclass(frozen=True)
class TriageItem:
    """An image whose mask may disagree with the methods: ``reason`` says how, ``value`` by how much."""

    key: str
    reason: str
    value: float

    @property
    def is_defective(self) -> bool:
        return self.reason != HIGH_GOOD_SCORE


def triage(
    records: Sequence[ImageRecord],
    results: Mapping[str, CachedResult],
    *,
    limit: int = TRIAGE_LIMIT,
    read: Callable[[ImageRecord, tuple[int, int]], np.ndarray | None] | None = None,
    edited: Mapping[str, np.ndarray] | None = None,
) -> list[TriageItem]:
    """Images to look at first when hunting annotation mistakes: defective images whose mask the heatmap explains
    worst (lowest pixel AP; a mask on the wrong spot, or a missed region), then good images the method scores
    highest (a defect nobody masked), in :func:`triage_order`. ``read(record, shape)`` gives a mask (default: the
    mask file); ``edited`` holds masks by record key as the annotator has them now (unsaved edits), which win over
    ``read``."""
    read = read or (lambda record, shape: read_mask(record.mask_path, shape=shape) if record.mask_path else None)
    if edited:
        read_saved = read

        def read(record: ImageRecord, shape: tuple[int, int]) -> np.ndarray | None:
            mask = edited.get(record.key)
            return mask if mask is not None and mask.shape == tuple(shape) else read_saved(record, shape)

    items = []
    for record in records:
        result = results.get(record.key)
        if result is None:
            continue
        if record.is_anomalous:
            mask = read(record, result.native_shape)
            if mask is None or not mask.any():
                items.append(TriageItem(record.key, NO_MASK, 0.0))
                continue
            metrics = per_image_metrics(
                result.native_map(), mask, math.inf, image_shape=result.native_shape, name=record.image_path
            )
            if math.isfinite(metrics.pixel_ap):
                items.append(TriageItem(record.key, LOW_PIXEL_AP, metrics.pixel_ap))
        else:
            items.append(TriageItem(record.key, HIGH_GOOD_SCORE, result.score))
    return triage_order(items, limit)


def triage_order(items: Sequence[TriageItem], limit: int = TRIAGE_LIMIT) -> list[TriageItem]:
    """The first ``limit`` of ``items`` in triage order: half the places for the defective images, lowest pixel AP
    first (one without a mask counts as AP 0), half for the good images, highest score first; places one side leaves
    free go to the other. Any subset of a triage list (one goods id's images, say) is put in order again by this."""
    defective = sorted((item for item in items if item.is_defective), key=lambda item: item.value)
    good = sorted((item for item in items if not item.is_defective), key=lambda item: -item.value)
    half = max(1, limit // 2)
    return (defective[:half] + good[:half] + defective[half:] + good[half:])[:limit]
