"""The goods filter of the triage list and the compare view: a combo "All goods / 001 / 002 ... / no goods id" over
the goods ids of one category's test photos ("no goods id" only when some names carry none).

The choice stays while the images change within a category and goes back to all goods when the category changes:
goods ids are per category (goods 001 of drink_can is another product than goods 001 of food_box)."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from goodsad_studio.dataset.index import ImageRecord

ALL_GOODS = None
"""The choice that shows every photo."""
NO_GOODS_ID = "no-goods-id"
"""The choice of the photos whose names carry no goods id (never a goods id: those are three digits)."""
ALL_TEXT, NO_GOODS_ID_TEXT = "All goods", "no goods id"


def goods_entries(records: Iterable[ImageRecord]) -> list[tuple[str, str | None]]:
    """(text, choice) of every entry the combo offers for ``records``: all goods, each goods id in order, then
    "no goods id" when some record has none."""
    records = list(records)
    ids = sorted({record.goods_id for record in records if record.goods_id is not None})
    entries: list[tuple[str, str | None]] = [(ALL_TEXT, ALL_GOODS), *((goods_id, goods_id) for goods_id in ids)]
    if any(record.goods_id is None for record in records):
        entries.append((NO_GOODS_ID_TEXT, NO_GOODS_ID))
    return entries


def goods_matches(record: ImageRecord, choice: str | None) -> bool:
    """Whether ``record`` is shown under ``choice`` (:data:`ALL_GOODS`, :data:`NO_GOODS_ID` or a goods id)."""
    if choice is ALL_GOODS:
        return True
    if choice == NO_GOODS_ID:
        return record.goods_id is None
    return record.goods_id == choice


def choice_text(choice: str | None) -> str:
    """The choice in a sentence: "all goods", "goods 002", "photos without a goods id"."""
    if choice is ALL_GOODS:
        return "all goods"
    return "photos without a goods id" if choice == NO_GOODS_ID else f"goods {choice}"


class GoodsFilter(QComboBox):
    """See the module docstring. :attr:`goods_changed` is emitted when the user picks another entry, never when
    :meth:`set_records` fills the combo."""

    goods_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("goods-filter")
        self.setToolTip("Show only the test photos of one goods id")
        self.category: str | None = None
        self.dataset: object | None = None
        self.entries: list[tuple[str, str | None]] = []
        self.set_records(None, [])
        self.currentIndexChanged.connect(lambda _index: self.goods_changed.emit())

    @property
    def choice(self) -> str | None:
        return self.itemData(self.currentIndex()) if self.currentIndex() > 0 else ALL_GOODS

    def matches(self, record: ImageRecord) -> bool:
        return goods_matches(record, self.choice)

    def set_records(self, category: str | None, records: Iterable[ImageRecord], dataset: object = None) -> None:
        """Offer the goods ids of ``records``, the test photos of ``category`` in ``dataset`` (any object that
        stands for the open dataset): the choice stays within the same category of the same dataset (while it is
        still offered) and goes back to all goods in another one."""
        entries = goods_entries(records)
        same = category == self.category and dataset is self.dataset
        if same and entries == self.entries:
            return
        keep = self.choice if same else ALL_GOODS
        self.blockSignals(True)
        self.clear()
        for text, choice in entries:
            self.addItem(text, choice)
        choices = [choice for _, choice in entries]
        self.setCurrentIndex(choices.index(keep) if keep in choices else 0)
        self.blockSignals(False)
        self.category, self.dataset, self.entries = category, dataset, entries
