"""Counts of a dataset index in the shapes users know: category x split x defect, and the GoodsAD paper's table
(train good / test good / test defective / goods types per category), and per goods id."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.dataset.names import GOOD


@dataclass(frozen=True, slots=True)
class GroupCounts:
    """Counts of one category, or of one goods id inside a category."""

    category: str
    goods_id: str | None
    train_good: int
    test_good: int
    test_defective: int
    with_mask: int
    goods_types: int


def _counts(records: Iterable[ImageRecord], category: str, goods_id: str | None) -> GroupCounts:
    train_good = test_good = test_defective = with_mask = 0
    groups: set[str] = set()
    for record in records:
        groups.add(record.group)
        if record.split == "train":
            train_good += record.defect == GOOD
        elif record.defect == GOOD:
            test_good += 1
        else:
            test_defective += 1
        with_mask += record.mask_path is not None
    return GroupCounts(category, goods_id, train_good, test_good, test_defective, with_mask, len(groups))


def category_table(index: DatasetIndex) -> list[GroupCounts]:
    """One row per category, as in the GoodsAD paper's dataset table."""
    return [_counts(index.filter(category=category), category, None) for category in index.categories]


def goods_table(index: DatasetIndex) -> list[GroupCounts]:
    """One row per (category, goods id)."""
    rows = []
    for category in index.categories:
        for goods_id in index.goods_ids(category):
            rows.append(_counts(index.filter(category=category, goods_id=goods_id), category, goods_id))
    return rows


def split_defect_counts(index: DatasetIndex) -> Counter[tuple[str, str, str]]:
    """Counts by (category, split, defect)."""
    return Counter((record.category, record.split, record.defect) for record in index.records)


def summary_dict(index: DatasetIndex) -> dict[str, object]:
    """Everything ``goodsad-studio info --json`` prints about counts."""
    return {
        "root": str(index.root),
        "images": len(index.records),
        "categories": [asdict(row) for row in category_table(index)],
        "goods": [asdict(row) for row in goods_table(index)],
        "by_split_defect": [
            {"category": category, "split": split, "defect": defect, "images": count}
            for (category, split, defect), count in sorted(split_defect_counts(index).items())
        ],
    }
