"""Result structures for a category's evaluation, and their JSON form.

Metric values are floats in [0, 1] (reports multiply by 100); ``nan`` marks a metric that is undefined for the
data (e.g. pixel metrics of a method without maps, AUROC without anomalous images) and becomes ``null`` in JSON.
Curves are decimated to at most :data:`MAX_CURVE_POINTS` points for plotting.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

MAX_CURVE_POINTS = 1000


def _json_float(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def decimate(x: np.ndarray, y: np.ndarray, max_points: int = MAX_CURVE_POINTS) -> np.ndarray:
    """Indices of at most ``max_points`` points spread evenly along the curve's length (in the plotted units),
    always keeping the first and last point, so steep and flat parts keep their shape."""
    n = len(x)
    if n <= max_points:
        return np.arange(n)
    step = np.abs(np.diff(x)) + np.abs(np.diff(y))
    length = np.concatenate([[0.0], np.cumsum(step)])
    if length[-1] <= 0:
        return np.array([0, n - 1])
    targets = np.linspace(0.0, length[-1], max_points)
    index = np.unique(np.clip(np.searchsorted(length, targets, side="left"), 0, n - 1))
    index[0], index[-1] = 0, n - 1
    return np.unique(index)


@dataclass(frozen=True)
class Curve:
    """A plotted curve: ``x``, ``y`` and the score threshold of each point (``inf`` for the (0, 0) start)."""

    x: np.ndarray
    y: np.ndarray
    thresholds: np.ndarray
    x_label: str
    y_label: str

    @classmethod
    def build(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        thresholds: np.ndarray,
        x_label: str,
        y_label: str,
        max_points: int = MAX_CURVE_POINTS,
    ) -> Curve:
        """A curve decimated to ``max_points``."""
        keep = decimate(np.asarray(x), np.asarray(y), max_points)
        return cls(
            np.asarray(x, dtype=np.float64)[keep],
            np.asarray(y, dtype=np.float64)[keep],
            np.asarray(thresholds, dtype=np.float64)[keep],
            x_label,
            y_label,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "x_label": self.x_label,
            "y_label": self.y_label,
            "x": self.x.tolist(),
            "y": self.y.tolist(),
            "thresholds": [_json_float(t) for t in self.thresholds],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Curve:
        return cls(
            np.asarray(data["x"], dtype=np.float64),
            np.asarray(data["y"], dtype=np.float64),
            np.asarray([np.inf if t is None else t for t in data["thresholds"]], dtype=np.float64),
            data["x_label"],
            data["y_label"],
        )


@dataclass(frozen=True)
class Counts:
    """What the metrics were computed on."""

    n_images: int = 0
    n_anomalous_images: int = 0
    n_normal_images: int = 0
    n_pixels: int = 0
    n_anomalous_pixels: int = 0
    n_regions: int = 0


METRIC_NAMES = ("image_auroc", "image_aupr", "image_f1max", "pixel_auroc", "pixel_aupr", "pixel_f1max", "pro")


@dataclass(frozen=True)
class CategoryResult:
    """Image- and pixel-level metrics of one method on one category (or one goods id).

    ``image_aupr`` / ``pixel_aupr`` are average precision (scikit-learn's definition, see
    :mod:`goodsad_studio.metrics.curves`); ``pro`` is AUPRO up to FPR ``pro_limit``, normalised to [0, 1];
    ``*_f1_threshold`` is the score at which F1 is best (``score >= threshold`` is anomalous; from binned counts it
    is a bin's lower edge, within one bin width of the exact one). ``pixel_mode`` is
    ``"exact"``, ``"binned"`` or ``"none"`` (no maps); ``error_bounds`` bounds the absolute error of the binned
    pixel metrics (all 0 when exact). Curves: ``image_roc``, ``image_pr``, ``pixel_roc``, ``pixel_pr``, ``pro``.
    """

    protocol: str
    image_auroc: float = float("nan")
    image_aupr: float = float("nan")
    image_f1max: float = float("nan")
    image_f1_threshold: float = float("nan")
    pixel_auroc: float = float("nan")
    pixel_aupr: float = float("nan")
    pixel_f1max: float = float("nan")
    pixel_f1_threshold: float = float("nan")
    pro: float = float("nan")
    pro_limit: float = 0.3
    counts: Counts = field(default_factory=Counts)
    pixel_mode: str = "none"
    error_bounds: dict[str, float] = field(default_factory=dict)
    curves: dict[str, Curve] = field(default_factory=dict)

    def metric(self, name: str) -> float:
        """A metric by name (one of :data:`METRIC_NAMES`)."""
        if name not in METRIC_NAMES:
            raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRIC_NAMES)}")
        return float(getattr(self, name))

    def to_dict(self, *, curves: bool = True) -> dict[str, Any]:
        """JSON-ready dict (``nan`` -> ``None``); ``curves=False`` leaves the curves out."""
        data: dict[str, Any] = {"protocol": self.protocol}
        for name in (
            "image_auroc",
            "image_aupr",
            "image_f1max",
            "image_f1_threshold",
            "pixel_auroc",
            "pixel_aupr",
            "pixel_f1max",
            "pixel_f1_threshold",
            "pro",
            "pro_limit",
        ):
            data[name] = _json_float(getattr(self, name))
        data["counts"] = asdict(self.counts)
        data["pixel_mode"] = self.pixel_mode
        data["error_bounds"] = {k: _json_float(v) for k, v in self.error_bounds.items()}
        if curves:
            data["curves"] = {k: c.to_dict() for k, c in self.curves.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoryResult:
        """Inverse of :meth:`to_dict` (missing curves give an empty dict)."""
        floats = {
            name: _float(data.get(name))
            for name in (
                "image_auroc",
                "image_aupr",
                "image_f1max",
                "image_f1_threshold",
                "pixel_auroc",
                "pixel_aupr",
                "pixel_f1max",
                "pixel_f1_threshold",
                "pro",
            )
        }
        return cls(
            protocol=str(data["protocol"]),
            pro_limit=_float(data.get("pro_limit", 0.3)),
            counts=Counts(**data.get("counts", {})),
            pixel_mode=str(data.get("pixel_mode", "none")),
            error_bounds={k: _float(v) for k, v in data.get("error_bounds", {}).items()},
            curves={k: Curve.from_dict(v) for k, v in data.get("curves", {}).items()},
            **floats,
        )
