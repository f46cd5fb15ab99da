"""The thumbnail strip: every image of the current goods id, decoded in the background and cached."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem

from goodsad_studio.dataset.index import ImageRecord
from goodsad_studio.gui.image_loader import THUMBNAIL_SIDE, ImageLoader

KEY_ROLE = Qt.ItemDataRole.UserRole
PATH_ROLE = Qt.ItemDataRole.UserRole + 1


class ThumbnailStrip(QListWidget):
    """A horizontal list of thumbnails; emits :attr:`image_selected` with a record key when one is clicked."""

    image_selected = Signal(str)

    def __init__(self, loader: ImageLoader, parent=None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setIconSize(QSize(THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        self.setGridSize(QSize(THUMBNAIL_SIDE + 16, THUMBNAIL_SIDE + 22))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumHeight(THUMBNAIL_SIDE + 40)
        self.setMaximumHeight(THUMBNAIL_SIDE + 52)
        self._items: dict[str, QListWidgetItem] = {}
        self._placeholder = QPixmap(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
        self._placeholder.fill(QColor(60, 62, 66))
        self._group: tuple[str, ...] = ()
        loader.thumbnail_ready.connect(self._on_thumbnail)
        self.itemClicked.connect(self._on_clicked)

    def show_group(self, records: list[ImageRecord], current: str | None) -> None:
        """Show ``records`` (one goods id); thumbnails not cached yet are requested."""
        keys = tuple(record.key for record in records)
        if keys != self._group:
            self._group = keys
            self.clear()
            self._items.clear()
            for record in records:
                item = QListWidgetItem(self._icon(record.image_path), f"{record.stem} {record.defect}")
                item.setData(KEY_ROLE, record.key)
                item.setData(PATH_ROLE, str(record.image_path))
                item.setToolTip(record.key)
                item.setSizeHint(self.gridSize())
                self.addItem(item)
                self._items[str(record.image_path)] = item
                if self.loader.thumbnail(record.image_path) is None:
                    self.loader.request_thumbnail(record.image_path)
        self.blockSignals(True)
        for item in self._items.values():
            if item.data(KEY_ROLE) == current:
                self.setCurrentItem(item)
                self.scrollToItem(item)
        self.blockSignals(False)

    def _icon(self, path: Path) -> QIcon:
        image = self.loader.thumbnail(path)
        return QIcon(QPixmap.fromImage(image) if image is not None else self._placeholder)

    def _on_thumbnail(self, path: str) -> None:
        item = self._items.get(path)
        if item is not None:
            item.setIcon(self._icon(Path(path)))

    def _on_clicked(self, item: QListWidgetItem) -> None:
        self.image_selected.emit(item.data(KEY_ROLE))

    def loaded_count(self) -> int:
        """How many thumbnails of the strip are decoded (for tests and the screenshot mode)."""
        return sum(self.loader.thumbnail(Path(p)) is not None for p in self._items)
