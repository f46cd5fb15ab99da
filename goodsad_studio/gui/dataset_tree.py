"""The dataset dock: category -> goods id -> image, each node with its counts."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from goodsad_studio.dataset.index import DatasetIndex, ImageRecord

KEY_ROLE = Qt.ItemDataRole.UserRole


class DatasetTree(QTreeWidget):
    """A tree of the index; emits :attr:`image_selected` with the record key when an image is chosen."""

    image_selected = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["image", "split", "defect", "mask"])
        self.setUniformRowHeights(True)
        self.setColumnWidth(0, 190)
        self._items: dict[str, QTreeWidgetItem] = {}
        self.currentItemChanged.connect(self._on_current)

    def set_index(self, index: DatasetIndex) -> None:
        self.clear()
        self._items.clear()
        for category in index.categories:
            records = index.filter(category=category)
            defective = sum(record.is_anomalous for record in records)
            cat_item = QTreeWidgetItem(self, [f"{category}  ({len(records)} images, {defective} defective)"])
            for goods_id in index.goods_ids(category):
                goods_records = index.filter(category=category, goods_id=goods_id)
                goods_item = QTreeWidgetItem(cat_item, [f"goods {goods_id}  ({len(goods_records)})"])
                for record in sorted(goods_records, key=lambda r: (r.split != "train", r.defect, r.stem)):
                    self._items[record.key] = self._image_item(goods_item, record)
            cat_item.setExpanded(True)

    def _image_item(self, parent: QTreeWidgetItem, record: ImageRecord) -> QTreeWidgetItem:
        item = QTreeWidgetItem(parent, [record.file_name, record.split, record.defect,
                                        "yes" if record.mask_path else ("missing" if record.is_anomalous else "")])
        item.setData(0, KEY_ROLE, record.key)
        item.setToolTip(0, str(record.image_path))
        return item

    def select_key(self, key: str) -> bool:
        item = self._items.get(key)
        if item is None:
            return False
        self.setCurrentItem(item)
        self.scrollToItem(item, QTreeWidget.ScrollHint.PositionAtCenter)
        return True

    def _on_current(self, current: QTreeWidgetItem | None, _previous) -> None:
        if current is not None and current.data(0, KEY_ROLE):
            self.image_selected.emit(current.data(0, KEY_ROLE))
