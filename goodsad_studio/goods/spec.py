"""How a goods-aware model compares a photo: ``--compare-with all|goods|K|goods:K`` and ``--calibrate``.

* ``all`` — with every training photo of the model (the plain method; nothing goods-aware);
* ``goods`` — with the training photos of its own goods id (from its 6-digit name; photos whose id is unknown, or
  not among the training photos, are compared with all);
* ``K`` — with its ``K`` nearest training photos by global descriptor (retrieval of look-alike photos);
* ``goods:K`` — with its ``K`` nearest training photos of its own goods id.

``--calibrate on`` turns each score and map into a z-score of its goods' normal scores (leave-one-out scores of the
goods' training photos), so one threshold and one colour scale mean the same for every goods; ``auto`` (the
default) calibrates a goods-aware method scoring whole photos (ADR 10: on the multi-goods benchmark it lifts
category image AUROC by 9.5 points and AUPRO by 5.8); ``on`` calibrates tiled and cropped views too (their
leave-one-out scores predict every training photo through its tiles, its own tiles left out: a costly fit, so
not automatic). A spec is resolved (``auto`` made on or
off) before a model is built; the resolved spec is part of the model's config (so of its key and its
``method.json``) whenever it is not the plain one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from goodsad_studio.errors import ParamError

ALL = "all"
GOODS = "goods"
CALIBRATE = {"auto": None, "on": True, "off": False}
"""``--calibrate``'s words."""
MAX_NEIGHBOURS = 10000


@dataclass(frozen=True)
class GoodsSpec:
    """``same_goods``: only photos of the photo's own goods id; ``neighbours``: only its nearest ``K`` of those by
    descriptor (0: all of them); ``calibrate``: per-goods z-scores (None: ``auto``, see :meth:`resolved`)."""

    same_goods: bool = False
    neighbours: int = 0
    calibrate: bool | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.neighbours <= MAX_NEIGHBOURS:
            raise ParamError(f"a photo is compared with 1 to {MAX_NEIGHBOURS} neighbours, got {self.neighbours}")

    @property
    def active(self) -> bool:
        """Anything goods-aware asked for (``auto`` calibration not counted until it is resolved)."""
        return self.restricted or self.calibrate is True

    @property
    def restricted(self) -> bool:
        """Compared with chosen training photos rather than all of them."""
        return self.same_goods or self.neighbours > 0

    def resolved(self, goods_aware: bool, whole_photo: bool) -> GoodsSpec:
        """``auto`` calibration made on for a goods-aware method that scores whole photos, off otherwise."""
        if self.calibrate is not None:
            return self
        return GoodsSpec(self.same_goods, self.neighbours, goods_aware and whole_photo)

    @property
    def compare_with(self) -> str:
        """The ``--compare-with`` text of this spec."""
        if self.neighbours:
            return f"{GOODS}:{self.neighbours}" if self.same_goods else str(self.neighbours)
        return GOODS if self.same_goods else ALL

    def config(self) -> dict[str, Any]:
        if self.calibrate is None:
            raise ParamError("resolve auto calibration before the comparison is saved")
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
    def parse(cls, compare_with: str, calibrate: bool | str | None = None) -> GoodsSpec:
        """``all``, ``goods``, ``K`` or ``goods:K``, and ``calibrate`` as a flag or ``auto``/``on``/``off`` (see the
        module docstring)."""
        if isinstance(calibrate, str):
            if calibrate.strip().lower() not in CALIBRATE:
                raise ParamError(f"calibrate is auto, on or off, not {calibrate!r}")
            calibrate = CALIBRATE[calibrate.strip().lower()]
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
        if not self.active and self.calibrate is False:
            return "compared with all training photos"
        if self.neighbours:
            whom = f"its {self.neighbours} nearest training photos" + (" of its goods" if self.same_goods else "")
        else:
            whom = "the training photos of its goods" if self.same_goods else "all training photos"
        how = {True: ", calibrated per goods", None: ", calibrated per goods where it can be (auto)", False: ""}
        return f"compared with {whom}" + how[self.calibrate]
