"""The dataset dock's content: the filter bar above the tree."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from goodsad_studio.gui.dataset_tree import DatasetTree
from goodsad_studio.gui.filter_bar import FilterBar


class DatasetPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filters = FilterBar(self)
        self.tree = DatasetTree(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.filters)
        layout.addWidget(self.tree, 1)
        self.filters.filter_changed.connect(self.tree.set_filter)
