"""Which images of a dataset an export takes: categories, goods ids, defect types and splits.

A :class:`Selection` leaves a criterion open with ``None`` (take everything). Goods ids are per category in
GoodsAD (goods ``042`` of drink_can is not goods ``042`` of food_box): a plain ``"042"`` matches that id in every
selected category, ``"drink_can/042"`` only in drink_can. Names the dataset does not have are refused with the
list of names it has, so a typo never produces a silently empty export.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.dataset.names import SPLITS
from goodsad_studio.errors import DatasetError


def _frozen(values: Iterable[str] | None) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    return frozenset(str(value) for value in values)


def _shown(names: Iterable[str], limit: int = 12) -> str:
    names = sorted(names)
    text = ", ".join(names[:limit])
    return text + (f", ... ({len(names)} in all)" if len(names) > limit else "") if names else "(none)"


@dataclass(frozen=True)
class Selection:
    """A subset of a dataset by category, goods id, defect type (``good`` included) and split."""

    categories: frozenset[str] | None = None
    goods_ids: frozenset[str] | None = None
    defects: frozenset[str] | None = None
    splits: frozenset[str] | None = None

    @classmethod
    def of(
        cls,
        *,
        categories: Iterable[str] | None = None,
        goods_ids: Iterable[str] | None = None,
        defects: Iterable[str] | None = None,
        splits: Iterable[str] | None = None,
    ) -> Selection:
        """Build a selection from any iterables (lists from a CLI or a dialog); ``None`` means all."""
        return cls(_frozen(categories), _frozen(goods_ids), _frozen(defects), _frozen(splits))

    def matches(self, record: ImageRecord) -> bool:
        if self.categories is not None and record.category not in self.categories:
            return False
        if self.splits is not None and record.split not in self.splits:
            return False
        if self.defects is not None and record.defect not in self.defects:
            return False
        if (
            self.goods_ids is not None
            and record.group not in self.goods_ids
            and f"{record.category}/{record.group}" not in self.goods_ids
        ):
            return False
        return True

    def validate(self, index: DatasetIndex) -> None:
        """Raise :class:`DatasetError` naming the dataset root when a name in the selection is not in the dataset."""
        root = index.root
        if self.categories is not None:
            unknown = self.categories - set(index.categories)
            if unknown:
                raise DatasetError(
                    f"no category {_shown(unknown)} in this dataset (it has: {_shown(index.categories)})", root
                )
        categories = sorted(self.categories) if self.categories is not None else index.categories
        if self.splits is not None:
            unknown = self.splits - set(SPLITS)
            if unknown:
                raise DatasetError(f"unknown split {_shown(unknown)} (splits are: {', '.join(SPLITS)})", root)
        if self.defects is not None:
            known = {defect for category in categories for defect in index.defects(category)}
            unknown = self.defects - known
            if unknown:
                raise DatasetError(
                    f"no defect type {_shown(unknown)} in the selected categories (they have: {_shown(known)})", root
                )
        if self.goods_ids is not None:
            known = set()
            for category in categories:
                for goods in index.goods_ids(category):
                    known.update((goods, f"{category}/{goods}"))
            unknown = self.goods_ids - known
            if unknown:
                plain = {name for name in known if "/" not in name}
                raise DatasetError(
                    f"no goods id {_shown(unknown)} in the selected categories (they have: {_shown(plain)})", root
                )

    def apply(self, index: DatasetIndex) -> list[ImageRecord]:
        """The records of ``index`` in this selection, in index order; refuses unknown names and an empty result."""
        self.validate(index)
        records = [record for record in index.records if self.matches(record)]
        if not records:
            raise DatasetError(f"the selection ({self.describe()}) matches no image of this dataset", index.root)
        return records

    def describe(self) -> str:
        parts = []
        for name in ("categories", "goods_ids", "defects", "splits"):
            values = getattr(self, name)
            parts.append(f"{name}: {'all' if values is None else _shown(values)}")
        return "; ".join(parts)

    def to_json(self) -> dict[str, list[str] | None]:
        """A JSON-ready form (sorted lists; ``null`` means all), as manifests record it."""
        return {
            name: None if getattr(self, name) is None else sorted(getattr(self, name))
            for name in ("categories", "goods_ids", "defects", "splits")
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Iterable[str] | None]) -> Selection:
        return cls.of(**{name: data.get(name) for name in ("categories", "goods_ids", "defects", "splits")})


ALL = Selection()
"""Every image of the dataset."""
