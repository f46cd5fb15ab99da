"""Per-goods calibration: each goods' normal image scores (leave-one-out scores of its training photos) give a
centre and a scale; a photo's score and map become ``(value - centre) / scale`` — a z-score of its goods' normal
variation, so one threshold and one colour scale mean the same for every goods.

With a handful of training photos per goods (GoodsAD: about 7), a goods' own spread is a noisy estimate: its
variance is shrunk towards the category's pooled within-goods variance with the weight of ``PRIOR_PHOTOS`` photos
(relative to each goods' level, for scores that are distances: a goods scoring twice as high varies twice as much).
A goods with fewer than two training photos, or a photo whose goods id is unknown, takes the category's figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from goodsad_studio.errors import ParamError

PRIOR_PHOTOS = 3.0
MIN_SCALE = 1e-6


@dataclass(frozen=True)
class Calibration:
    """``goods``: goods id -> (centre, scale); ``overall``: the category's (centre, scale)."""

    goods: Mapping[str, tuple[float, float]]
    overall: tuple[float, float]

    @classmethod
    def fit(cls, scores: Sequence[float], goods: Sequence[str | None]) -> Calibration:
        """From the leave-one-out ``scores`` of the training photos and their ``goods`` ids."""
        values = np.asarray(scores, np.float64)
        if len(values) != len(goods) or len(values) == 0 or not np.all(np.isfinite(values)):
            raise ParamError(f"calibration needs one finite score per training photo ({len(values)} for {len(goods)})")
        groups: dict[str, np.ndarray] = {}
        for g in sorted({g for g in goods if g is not None}):
            groups[g] = values[[i for i, h in enumerate(goods) if h == g]]
        sizable = [v for v in groups.values() if len(v) >= 2]
        relative = bool(sizable) and all(v.mean() > 0 for v in sizable)
        # the prior a small goods' spread is shrunk to: the pooled within-goods spread, relative to each goods'
        # level where scores are distances (positive; their spread grows with their level), else absolute
        if relative:
            prior = _pooled([v / v.mean() for v in sizable])
        elif sizable:
            prior = _pooled(sizable)
        else:
            prior = float(values.var(ddof=1)) if len(values) >= 2 else 1.0
        level = float(values.mean())
        overall_variance = prior * level**2 if relative else prior
        overall = (level, max(float(np.sqrt(overall_variance)), MIN_SCALE))
        table: dict[str, tuple[float, float]] = {}
        for g, v in groups.items():
            if len(v) < 2:
                continue
            centre = float(v.mean())
            own = float(((v - centre) ** 2).sum())
            expected = prior * centre**2 if relative else prior
            variance = (own + PRIOR_PHOTOS * expected) / (len(v) - 1 + PRIOR_PHOTOS)
            table[g] = (centre, max(float(np.sqrt(variance)), MIN_SCALE))
        return cls(table, overall)

    def of(self, goods: str | None) -> tuple[float, float]:
        """(centre, scale) for a photo of ``goods``."""
        return self.goods.get(goods, self.overall) if goods is not None else self.overall

    def apply(self, value: float | np.ndarray, goods: str | None) -> Any:
        centre, scale = self.of(goods)
        return (value - centre) / scale

    def config(self) -> dict[str, Any]:
        return {"overall": list(self.overall), "goods": {g: list(v) for g, v in self.goods.items()}}

    @classmethod
    def from_config(cls, config: Any) -> Calibration:
        try:
            overall = tuple(float(x) for x in config["overall"])
            table = {str(g): tuple(float(x) for x in v) for g, v in config["goods"].items()}
            if len(overall) != 2 or any(len(v) != 2 for v in table.values()):
                raise ValueError("pairs expected")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ParamError(f"not a per-goods calibration ({exc})") from exc
        return cls({g: (v[0], v[1]) for g, v in table.items()}, (overall[0], overall[1]))


def _pooled(groups: Sequence[np.ndarray]) -> float:
    """The pooled within-group variance of groups of at least two values."""
    return sum(float(((v - v.mean()) ** 2).sum()) for v in groups) / sum(len(v) - 1 for v in groups)
