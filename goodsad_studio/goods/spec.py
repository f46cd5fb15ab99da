"""How a goods-aware model compares a photo: ``--compare-with all|goods|K|goods:K`` and ``--calibrate``.

* ``all`` — with every training photo of the model (the plain method; nothing goods-aware);
* ``goods`` — with the training photos of its own goods id (from its 6-digit name; photos whose id is unknown, or
  not among the training photos, are compared with all);
* ``K`` — with its ``K`` nearest training photos by global descriptor (retrieval of look-alike photos);
* ``goods:K`` — with its ``K`` nearest training photos of its own goods id.

``--calibrate`` turns each score and map into a z-score of its goods' normal scores (leave-one-out scores of the
goods' training photos), so one threshold and one colour scale mean the same for every goods. The spec is part of
the model's config (so of its key and its ``method.json``) whenever it is not the plain one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from goodsad_studio.errors import ParamError

ALL = "all"
GOODS = "goods"
MAX_NEIGHBOURS = 10000


@dataclass(frozen=True)
class GoodsSpec:
    """``same_goods``: only photos of the photo's own goods id; ``neighbours``: only its nearest ``K`` of those by
    descriptor (0: all of them); ``calibrate``: per-goods z-scores."""

    same_goods: bool = False
    neighbours: int = 0
    calibrate: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.neighbours <= MAX_NEIGHBOURS:
            raise ParamError(f"a photo is compared with 1 to {MAX_NEIGHBOURS} neighbours, got {self.neighbours}")

    @property
    def active(self) -> bool:
        return self.same_goods or self.neighbours > 0 or self.calibrate

    @property
    def compare_with(self) -> str:
        """The ``--compare-with`` text of this spec."""
        if self.neighbours:
            return f"{GOODS}:{self.neighbours}" if self.same_goods else str(self.neighbours)
        return GOODS if self.same_goods else ALL

    def config(self) -> dict[str, Any]:
        return {"same_goods": self.same_goods, "neighbours": self.neighbours, "calibrate": self.calibrate}

    @classmethod
    def from_config(cls, config: Any) -> GoodsSpec:
        if not isinstance(config, dict) or set(config) != {"same_goods", "neighbours", "calibrate"}:
            raise ParamError(f"not a goods-aware comparison: {config!r}")
        same, neighbours, calibrate = config["same_goods"], config["neighbours"], config["calibrate"]
        if not isinstance(same, bool) or not isinstance(calibrate, bool) or type(neighbours) is not int:
            raise ParamError(f"not a goods-aware comparison: {config!r}")
        return cls(same, neighbours, calibrate)

    @classmethod
    def parse(cls, compare_with: str, calibrate: bool = False) -> GoodsSpec:
        """``all``, ``goods``, ``K`` or ``goods:K`` (see the module docstring)."""
        text = compare_with.strip().lower()
        if text in (ALL, GOODS):
            return cls(text == GOODS, 0, calibrate)
        same, _, count = text.rpartition(":")
        if same not in ("", GOODS) or not count.isdigit() or int(count) < 1:
            raise ParamError(
                f"compare with 'all', 'goods', a number K of neighbours or 'goods:K', not {compare_with!r}"
            )
        return cls(same == GOODS, int(count), calibrate)

    def __str__(self) -> str:
        if not self.active:
            return "compared with all training photos"
        if self.neighbours:
            whom = f"its {self.neighbours} nearest training photos" + (" of its goods" if self.same_goods else "")
        else:
            whom = "the training photos of its goods" if self.same_goods else "all training photos"
        return f"compared with {whom}" + (", calibrated per goods" if self.calibrate else "")
