"""The thumbnail strip: every photo of the current goods id, in every split and defect folder (in the tree's
``record_order``: by serial), decoded in the background and cached. Photos the tree's filter hides are shown too,
dimmed, with a tooltip saying so: the strip is the whole goods, the tree the filtered walk through the dataset."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QListWidgetItem

from goodsad_studio.dataset.index import ImageRecord
from goodsad_studio.gui.image_loader import THUMBNAIL_SIDE, ImageLoader

KEY_ROLE = Qt.ItemDataRole.UserRole
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
HIDDEN_ROLE = Qt.ItemDataRole.UserRole + 2
DIMMED_OPACITY = 0.3
HIDDEN_TEXT = QColor(130, 130, 130)


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
        self._hidden: frozenset[str] = frozenset()
        loader.thumbnail_ready.connect(self._on_thumbnail)
        self.itemClicked.connect(self._on_clicked)

    def show_group(self, records: list[ImageRecord], current: str | None, hidden: Collection[str] = ()) -> None:
        """Show ``records`` (one goods id), the keys in ``hidden`` dimmed (the tree's filter hides them);
        thumbnails not cached yet are requested."""
        keys = tuple(record.key for record in records)
        if keys != self._group:
            self._group = keys
            self._hidden = frozenset()
            self.clear()
            self._items.clear()
            for record in records:
                item = QListWidgetItem(self._icon(record.image_path), f"{record.stem} {record.defect}")
                item.setData(KEY_ROLE, record.key)
                item.setData(PATH_ROLE, str(record.image_path))
                item.setData(HIDDEN_ROLE, False)
                item.setToolTip(record.key)
                item.setSizeHint(self.gridSize())
                self.addItem(item)
                self._items[str(record.image_path)] = item
                if self.loader.thumbnail(record.image_path) is None:
                    self.loader.request_thumbnail(record.image_path)
        self._mark_hidden(frozenset(hidden) & frozenset(keys))
        self.blockSignals(True)
        for item in self._items.values():
            if item.data(KEY_ROLE) == current:
                self.setCurrentItem(item)
                self.scrollToItem(item)
        self.blockSignals(False)

    def _mark_hidden(self, hidden: frozenset[str]) -> None:
        if hidden == self._hidden:
            return
        self._hidden = hidden
        for path, item in self._items.items():
            key = item.data(KEY_ROLE)
            item.setData(HIDDEN_ROLE, key in hidden)
            item.setIcon(self._icon(Path(path)))
            item.setData(Qt.ItemDataRole.ForegroundRole, HIDDEN_TEXT if key in hidden else None)
            item.setToolTip(f"{key}\n(hidden by the tree's filter)" if key in hidden else key)

    def hidden_keys(self) -> list[str]:
        """The shown photos the tree's filter hides (dimmed), in strip order."""
        return [self.item(i).data(KEY_ROLE) for i in range(self.count()) if self.item(i).data(HIDDEN_ROLE)]

    def _icon(self, path: Path) -> QIcon:
        image = self.loader.thumbnail(path)
        pixmap = QPixmap.fromImage(image) if image is not None else self._placeholder
        item = self._items.get(str(path))
        if item is not None and item.data(KEY_ROLE) in self._hidden:
            pixmap = _dimmed(pixmap)
        return QIcon(pixmap)

    def _on_thumbnail(self, path: str) -> None:
        item = self._items.get(path)
        if item is not None:
            item.setIcon(self._icon(Path(path)))

    def _on_clicked(self, item: QListWidgetItem) -> None:
        self.image_selected.emit(item.data(KEY_ROLE))

    def loaded_count(self) -> int:
        """How many thumbnails of the strip are decoded (for tests and the screenshot mode)."""
        return sum(self.loader.thumbnail(Path(p)) is not None for p in self._items)


def _dimmed(pixmap: QPixmap) -> QPixmap:
    """``pixmap`` faded into the strip's dark background."""
    out = QPixmap(pixmap.size())
    out.fill(QColor(40, 41, 44))
    painter = QPainter(out)
    painter.setOpacity(DIMMED_OPACITY)
    painter.drawPixmap(0, 0, pixmap)
    painter.end()
    return out
