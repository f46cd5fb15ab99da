"""The hardest goods of an evaluation: per category and method, the goods ids whose test photos the method tells
apart worst (lowest image AUROC first), taken from the report's per-goods rows.

A goods id's image AUROC is undefined when its test photos hold one class only (all good, or all defective): such
goods cannot be ranked and are listed apart, each with its reason. Photos whose names carry no goods id form one
group (:data:`~goodsad_studio.dataset.names.NO_GOODS_ID`) that is no goods; it is listed apart too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from goodsad_studio.dataset.names import NO_GOODS_ID
from goodsad_studio.metrics.results import CategoryResult

if TYPE_CHECKING:  # report.py renders this module's lists: a run-time import would be a cycle
    from goodsad_studio.metrics.report import ReportRow

HARDEST_COUNT = 5
"""How many goods a report ranks per category and method."""
NO_GOODS_ID_REASON = "photos whose names carry no goods id"


@dataclass(frozen=True)
class Unranked:
    """A per-goods row left out of the ranking, and why."""

    row: ReportRow
    reason: str


@dataclass(frozen=True)
class HardestGoods:
    """One category under one method: ``ranked`` holds the rows of the (at most ``count``) goods with the lowest
    image AUROC, lowest first (ties by goods id); ``n_ranked`` how many goods had an AUROC at all; ``unranked`` the
    rows whose AUROC is undefined, by goods id."""

    category: str
    method: str
    ranked: list[ReportRow]
    n_ranked: int
    unranked: list[Unranked]


def unranked_reason(result: CategoryResult) -> str:
    """Why a goods id's image AUROC is undefined, from the photos it was computed on."""
    counts = result.counts
    if counts.n_images == 0:
        return "no test photos"
    if counts.n_anomalous_images == 0:
        return f"image AUROC undefined: only good photos ({counts.n_images})"
    if counts.n_normal_images == 0:
        return f"image AUROC undefined: only defective photos ({counts.n_images})"
    return "image AUROC undefined"


def hardest_goods(rows: Iterable[ReportRow], count: int = HARDEST_COUNT) -> list[HardestGoods]:
    """The hardest goods of every (category, method) that has per-goods rows, in the order the rows come; rows
    without a goods id (whole categories) are ignored."""
    groups: dict[tuple[str, str], list[ReportRow]] = {}
    for row in rows:
        if row.goods_id is not None:
            groups.setdefault((row.category, row.method), []).append(row)
    return [_rank(category, method, goods, count) for (category, method), goods in groups.items()]


def _rank(category: str, method: str, rows: list[ReportRow], count: int) -> HardestGoods:
    ranked: list[ReportRow] = []
    unranked: list[Unranked] = []
    for row in sorted(rows, key=lambda r: str(r.goods_id)):
        if row.goods_id == NO_GOODS_ID:
            unranked.append(Unranked(row, NO_GOODS_ID_REASON))
        elif not math.isfinite(row.result.image_auroc):
            unranked.append(Unranked(row, unranked_reason(row.result)))
        else:
            ranked.append(row)
    ranked.sort(key=lambda r: r.result.image_auroc)  # stable: equal values stay in goods id order
    return HardestGoods(category, method, ranked[:count], len(ranked), unranked)
