"""The dataset dock's tree: category -> goods id -> image, each node with its counts, each image with badges.

The tree shows the records that pass the current :class:`TreeFilter`; counts on a node are of what it shows
("12 of 40 images" while a filter hides some). Session facts (edited, unsaved, problems) come from a callable the
window supplies, so the tree holds no state of its own beyond the items. Image rows are made when their goods node
is first expanded (or one of its images is selected): GoodsAD's 6124 images would otherwise cost a few hundred
milliseconds of item creation on every filter change.

Images are in :func:`record_order` everywhere a list of them is shown (goods rows, image rows, the thumbnail
strip, the compare view's list): goods id, then serial, both as numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem

from goodsad_studio.dataset.index import DatasetIndex, ImageRecord
from goodsad_studio.gui.badges import BADGES_ROLE, BadgeDelegate, badges_for
from goodsad_studio.gui.tree_filter import RecordFlags, TreeFilter

KEY_ROLE = Qt.ItemDataRole.UserRole
Group = tuple[str, str]  # (category, goods id)


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """``text`` with its runs of digits compared as numbers ("img9" before "img10"; "042" and "42" alike)."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in _DIGITS.split(text) if part)


def record_order(record: ImageRecord) -> tuple:
    """Goods id, then serial (both numerically; a name without a serial by its stem), then train before test and
    good before the defect types, so photos of one goods read in the order they were taken."""
    serial = record.serial if record.serial is not None else record.stem
    return (
        natural_key(record.group),
        natural_key(serial),
        record.split != "train",
        record.defect != "good",
        record.defect,
        record.stem,
    )


def count_text(records: list[ImageRecord], total: int, filtered: bool) -> str:
    """ "12 images · 3 defective · 1 missing mask" (or "12 of 40 images ..." when a filter hides some)."""
    shown = len(records)
    parts = [f"{shown} of {total} images" if filtered and shown != total else f"{shown} images"]
    defective = sum(r.is_anomalous for r in records)
    if defective:
        parts.append(f"{defective} defective")
    missing = sum(r.is_anomalous and r.mask_path is None for r in records)
    if missing:
        parts.append(f"{missing} missing mask{'s' if missing != 1 else ''}")
    return " · ".join(parts)


class DatasetTree(QTreeWidget):
    """The tree (see the module docstring); emits :attr:`image_selected` with a record key."""

    image_selected = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["image", "badges"])
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setItemDelegateForColumn(1, BadgeDelegate(self))
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.header().setStretchLastSection(True)
        self.setColumnWidth(0, 165)
        self.index: DatasetIndex | None = None
        self.filter = TreeFilter()
        self.flags_for: Callable[[ImageRecord], RecordFlags] = lambda record: RecordFlags()
        self.tooltip_for: Callable[[ImageRecord], str] = lambda record: str(record.image_path)
        self._items: dict[str, QTreeWidgetItem] = {}  # image rows made so far
        self._groups: dict[tuple[str, str | None], QTreeWidgetItem] = {}  # category and goods rows
        self._members: dict[Group, list[ImageRecord]] = {}  # what each goods row shows, in order
        self._group_of: dict[str, Group] = {}
        self._unfilled: set[Group] = set()
        self._order: list[str] = []
        self.currentItemChanged.connect(self._on_current)
        self.itemExpanded.connect(self._on_expanded)

    # ------------------------------------------------------------------------------------ building
    def set_index(self, index: DatasetIndex | None) -> None:
        self.index = index
        self._groups.clear()
        self.rebuild()

    def set_filter(self, tree_filter: TreeFilter) -> None:
        self.filter = tree_filter
        self.rebuild()

    def rebuild(self) -> None:
        """Fill the tree again from the index and the filter, keeping the current image selected."""
        current = self.current_key()
        expanded = {group for group, item in self._groups.items() if item.isExpanded()}
        first_build = not self._groups
        self.blockSignals(True)
        self.setUpdatesEnabled(False)
        try:
            self.clear()
            for table in (self._items, self._groups, self._members, self._group_of, self._unfilled):
                table.clear()
            self._order = []
            if self.index is not None:
                self._fill(self.index, expanded, first_build)
            item = self.item_for(current) if current is not None else None
            if item is not None:
                self.setCurrentItem(item)
        finally:
            self.setUpdatesEnabled(True)
            self.blockSignals(False)

    def _fill(self, index: DatasetIndex, expanded: set, first_build: bool) -> None:
        by_category: dict[str, list[ImageRecord]] = {}
        for record in index.records:
            by_category.setdefault(record.category, []).append(record)
        for category in index.categories:
            every = by_category.get(category, [])
            shown = [r for r in every if self.filter.matches(r, self.flags_for(r))]
            if not shown and self.filter.active:
                continue
            cat_item = QTreeWidgetItem(self, [category, count_text(shown, len(every), self.filter.active)])
            self._groups[(category, None)] = cat_item
            totals: dict[str, int] = {}
            for record in every:
                totals[record.group] = totals.get(record.group, 0) + 1
            visible: dict[str, list[ImageRecord]] = {}
            for record in shown:
                visible.setdefault(record.group, []).append(record)
            for goods_id in sorted(visible, key=natural_key):
                group, records = (category, goods_id), sorted(visible[goods_id], key=record_order)
                goods_item = QTreeWidgetItem(
                    cat_item, [f"goods {goods_id}", count_text(records, totals[goods_id], self.filter.active)]
                )
                goods_item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
                self._groups[group] = goods_item
                self._members[group] = records
                self._unfilled.add(group)
                for record in records:
                    self._group_of[record.key] = group
                    self._order.append(record.key)
                if group in expanded:
                    self._fill_group(group)
                    goods_item.setExpanded(True)
            cat_item.setExpanded(first_build or (category, None) in expanded)

    def _fill_group(self, group: Group) -> None:
        """Make the image rows of a goods node (once)."""
        if group not in self._unfilled:
            return
        self._unfilled.discard(group)
        parent = self._groups[group]
        for record in self._members[group]:
            item = QTreeWidgetItem(parent, [record.file_name, ""])
            item.setData(0, KEY_ROLE, record.key)
            self._decorate(item, record)
            self._items[record.key] = item

    def _on_expanded(self, item: QTreeWidgetItem) -> None:
        for (category, goods), goods_item in self._groups.items():
            if goods_item is item and goods is not None:  # a goods row (category rows have no goods id)
                self._fill_group((category, goods))
                return

    def _decorate(self, item: QTreeWidgetItem, record: ImageRecord) -> None:
        item.setData(1, BADGES_ROLE, badges_for(record, self.flags_for(record)))
        tip = self.tooltip_for(record)
        item.setToolTip(0, tip)
        item.setToolTip(1, tip)

    def refresh_record(self, key: str) -> None:
        """Redraw one image's badges (after an edit, a save or a validation pass)."""
        item = self._items.get(key)
        record = self.index.get(key) if self.index is not None else None
        if item is not None and record is not None:
            self._decorate(item, record)

    def refresh_all(self) -> None:
        for key in self._items:
            self.refresh_record(key)

    # ------------------------------------------------------------------------------------ selection
    def item_for(self, key: str) -> QTreeWidgetItem | None:
        """The row of image ``key`` (made now when its goods node was never expanded); None when filtered out."""
        group = self._group_of.get(key)
        if group is None:
            return None
        self._fill_group(group)
        return self._items.get(key)

    def select_key(self, key: str) -> bool:
        """Select the image ``key`` (its goods node is expanded); False when the filter hides it."""
        item = self.item_for(key)
        if item is None:
            return False
        parent = item.parent()
        while parent is not None:
            parent.setExpanded(True)
            parent = parent.parent()
        if self.currentItem() is item:
            self.image_selected.emit(key)
        else:
            self.setCurrentItem(item)
        self.scrollToItem(item, QAbstractItemView.ScrollHint.EnsureVisible)
        return True

    def follow(self, key: str) -> bool:
        """Make image ``key`` the current row without announcing it (the window shows it already: it was opened
        from the thumbnails, triage, the compare or metrics view), its parents expanded and scrolled to. When the
        filter hides it, no row stays current (none would be the image shown) and False is returned."""
        if self.current_key() == key:
            return True
        item = self.item_for(key)
        self.blockSignals(True)
        try:
            if item is None:
                self.setCurrentIndex(QModelIndex())
                self.clearSelection()
            else:
                parent = item.parent()
                while parent is not None:
                    parent.setExpanded(True)
                    parent = parent.parent()
                self.setCurrentItem(item)
        finally:
            self.blockSignals(False)
        if item is not None:
            self.scrollToItem(item, QAbstractItemView.ScrollHint.EnsureVisible)
        return item is not None

    def is_shown(self, key: str) -> bool:
        """Whether the filter lets image ``key`` through."""
        return key in self._group_of

    def current_key(self) -> str | None:
        item = self.currentItem()
        return item.data(0, KEY_ROLE) if item is not None else None

    def visible_keys(self) -> list[str]:
        """Every image the filter lets through, in tree order (for next/previous)."""
        return list(self._order)

    def goods_records(self, key: str) -> list[ImageRecord]:
        """Every image of the goods of ``key`` (its category and goods id), every split and defect type, whether
        the filter shows it or not, in :func:`record_order`."""
        record = self.index.get(key) if self.index is not None else None
        if self.index is None or record is None:
            return []
        same = (r for r in self.index.records if r.category == record.category and r.group == record.group)
        return sorted(same, key=record_order)

    def group_item(self, category: str, goods_id: str | None = None) -> QTreeWidgetItem | None:
        return self._groups.get((category, goods_id))

    def _on_current(self, current: QTreeWidgetItem | None, _previous) -> None:
        if current is not None and current.data(0, KEY_ROLE):
            self.image_selected.emit(current.data(0, KEY_ROLE))
