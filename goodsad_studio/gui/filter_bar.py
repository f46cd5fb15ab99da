"""The filter controls above the dataset tree: split, defect type, mask state, edited, problems, name search."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QLineEdit, QWidget

from goodsad_studio.gui.tree_filter import HAS_MASK, MISSING_MASK, TreeFilter

ANY = None


class FilterBar(QWidget):
    """Emits :attr:`filter_changed` with a :class:`TreeFilter` whenever a control changes (the search waits for
    a short pause in typing)."""

    filter_changed = Signal(object)
    mask: QComboBox  # type: ignore[assignment]  # shadows QWidget.mask(); the tests drive the combo by this name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search names (e.g. 042 or 042017)")
        self.search.setClearButtonEnabled(True)
        self.split = self._combo([("All splits", ANY), ("train", "train"), ("test", "test")])
        self.defect = self._combo([("All defect types", ANY)])
        self.mask = self._combo([("Any mask state", ANY), ("Has mask", HAS_MASK), ("Missing mask", MISSING_MASK)])
        self.edited = QCheckBox("Edited", self)
        self.edited.setToolTip("Only images changed in this session (saved or not)")
        self.problems = QCheckBox("Problems", self)
        self.problems.setToolTip("Only images with validation findings (unreadable, wrong size, missing mask...)")
        layout = QGridLayout(self)
        layout.setContentsMargins(4, 4, 4, 2)
        layout.setSpacing(4)
        layout.addWidget(self.search, 0, 0, 1, 3)
        layout.addWidget(self.split, 1, 0)
        layout.addWidget(self.defect, 1, 1, 1, 2)
        layout.addWidget(self.mask, 2, 0)
        layout.addWidget(self.edited, 2, 1)
        layout.addWidget(self.problems, 2, 2)
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(200)
        self._typing.timeout.connect(self._emit)
        self.search.textChanged.connect(self._typing.start)
        for combo in (self.split, self.defect, self.mask):
            combo.currentIndexChanged.connect(self._emit)
        for box in (self.edited, self.problems):
            box.toggled.connect(self._emit)

    def _combo(self, entries: list[tuple[str, str | None]]) -> QComboBox:
        combo = QComboBox(self)
        for text, value in entries:
            combo.addItem(text, value)
        return combo

    def set_defects(self, defects: list[str]) -> None:
        """Offer these defect types (``good`` included) in the defect filter, keeping the current choice."""
        current = self.defect.currentData()
        self.defect.blockSignals(True)
        self.defect.clear()
        self.defect.addItem("All defect types", ANY)
        for name in defects:
            self.defect.addItem(name, name)
        found = self.defect.findData(current) if current is not None else 0
        self.defect.setCurrentIndex(max(0, found))
        self.defect.blockSignals(False)

    def current(self) -> TreeFilter:
        return TreeFilter(
            split=self.split.currentData(),
            defect=self.defect.currentData(),
            mask=self.mask.currentData(),
            edited_only=self.edited.isChecked(),
            problems_only=self.problems.isChecked(),
            text=self.search.text(),
        )

    def _emit(self) -> None:
        self.filter_changed.emit(self.current())

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Escape and self.search.text():
            self.search.clear()
            return
        super().keyPressEvent(event)
