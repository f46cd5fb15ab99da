"""The dataset dock's content: the filter bar above the tree, and a note under it while the image shown is one the
filter hides.

The tree follows the image the window shows, however it was opened (the tree itself, the thumbnails, triage, the
compare or metrics view): its row is selected and scrolled to, its parents expanded. When the filter hides it the
filter is kept (the user set it), no row stays selected, and the note names the image and the parts of the filter
that hide it, with a button that clears the filter so the tree shows it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from goodsad_studio.gui.dataset_tree import DatasetTree
from goodsad_studio.gui.filter_bar import FilterBar
from goodsad_studio.gui.tree_filter import TreeFilter


class DatasetPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filters = FilterBar(self)
        self.tree = DatasetTree(self)
        self.hidden_note = QLabel(self)
        self.hidden_note.setObjectName("hidden-note")
        self.hidden_note.setWordWrap(True)
        self.show_hidden = QPushButton("Clear filter", self)
        self.show_hidden.setToolTip("Clear every filter of the tree, so it shows the image on the canvas")
        self.show_hidden.clicked.connect(self.clear_filter)
        self.hidden_row = QWidget(self)
        row = QHBoxLayout(self.hidden_row)
        row.setContentsMargins(4, 0, 4, 2)
        row.addWidget(self.hidden_note, 1)
        row.addWidget(self.show_hidden)
        self.hidden_row.setStyleSheet("QWidget#hidden-note { color: #b26a00; }")
        self.hidden_row.hide()
        self.followed: str | None = None  # the key of the image the window shows
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.filters)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.hidden_row)
        self.filters.filter_changed.connect(self._filter_changed)

    def follow(self, key: str | None) -> bool:
        """The window shows image ``key`` (None: none): select it in the tree, or say why the tree hides it.
        Returns whether the tree shows it."""
        self.followed = key
        record = self.tree.index.get(key) if key is not None and self.tree.index is not None else None
        if record is None or self.tree.follow(record.key):
            self.hidden_row.hide()
            return record is not None
        reasons = self.tree.filter.hidden_by(record, self.tree.flags_for(record))
        why = ", ".join(reasons) if reasons else "the filter"
        self.hidden_note.setText(f"{record.file_name} ({record.split}/{record.defect}) is hidden by the filter: {why}")
        self.hidden_note.setToolTip(record.key)
        self.hidden_row.show()
        return False

    def _filter_changed(self, tree_filter: TreeFilter) -> None:
        self.tree.set_filter(tree_filter)
        if self.followed is not None:
            self.follow(self.followed)

    def clear_filter(self) -> None:
        """Every filter control back to "all", announced once (one rebuild of the tree, not one per control)."""
        bar = self.filters
        controls: list[QWidget] = [bar.search, bar.split, bar.defect, bar.mask, bar.edited, bar.problems]
        for control in controls:
            control.blockSignals(True)
        try:
            bar.search.clear()
            for control in controls:
                if isinstance(control, QComboBox):
                    control.setCurrentIndex(0)
                elif isinstance(control, QCheckBox):
                    control.setChecked(False)
        finally:
            for control in controls:
                control.blockSignals(False)
        bar.filter_changed.emit(bar.current())
