"""The triage list: images whose masks disagree most with the shown method (defective images with the lowest
pixel AP, good images with the highest scores), found by ``engine.inspect.triage`` in a job, on the masks as they
are being edited (unsaved edits included). Click to open.

A goods filter shows one goods id's images: the job ranks every test image of the category once, and the list
shows the first of those that the filter passes, in triage order again (``engine.inspect.triage_order``). The
list follows the current image's category; what was found in a category shows again on returning to it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from goodsad_studio.dataset.index import ImageRecord
from goodsad_studio.engine.inspect import TriageItem, cached_results, triage, triage_order
from goodsad_studio.gui.goods_filter import ALL_GOODS, GoodsFilter, choice_text
from goodsad_studio.gui.jobs import JobState

START_NOTE = "Uses the shown method's cached results of the current category."


class TriagePanel(QWidget):
    open_image = Signal(str)

    def __init__(self, window, analysis, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_, self.analysis = window, analysis
        self.button = QPushButton("Find likely annotation mistakes")
        self.button.clicked.connect(self.start)
        self.note = QLabel(START_NOTE)
        self.note.setWordWrap(True)
        self.goods = GoodsFilter()
        self.goods.goods_changed.connect(self._show)
        self.list = QListWidget()
        self.list.itemClicked.connect(lambda item: self.open_image.emit(item.data(Qt.ItemDataRole.UserRole)))
        goods_row = QHBoxLayout()
        goods_row.addWidget(QLabel("Goods"))
        goods_row.addWidget(self.goods, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.button)
        layout.addLayout(goods_row)
        layout.addWidget(self.note)
        layout.addWidget(self.list, 1)
        self.items: list[TriageItem] = []  # the shown ones, in order
        self.found: dict[str, list[tuple[TriageItem, ImageRecord]]] = {}  # every ranked image, by category
        self._workspace: object | None = None
        window.canvas.content_changed.connect(self._follow_category)

    def _follow_category(self) -> None:
        """Another image is shown: offer its category's goods ids, and that category's list (when it changed)."""
        record, workspace = self.window_.current, self.analysis.workspace
        category = record.category if record is not None else None
        if workspace is not self._workspace:  # another dataset: what was found belongs to the old one
            self.found, self._workspace = {}, workspace
        elif category == self.goods.category:
            return
        records = workspace.test_records(category) if workspace is not None and category is not None else []
        self.goods.set_records(category, records, workspace)
        self._show()
        if category not in self.found:
            self.note.setText(START_NOTE)

    def start(self):
        record = self.window_.current
        if record is None or self.analysis.result_set(record.category) is None:
            self.note.setText("No results for this category yet: predict or evaluate it first.")
            return None
        category = record.category
        result_set = self.analysis.result_set(category)
        records = self.analysis.workspace.test_records(category)
        edited = self._edited_masks(category)

        def work(progress, cancel):  # every image ranked: the goods filter picks from them without a new job
            return triage(records, cached_results(result_set, records), limit=len(records), edited=edited)

        self.note.setText(f"Looking through {len(records)} test images of {category}...")
        by_key = {r.key: r for r in records}
        return self.analysis.runner.start(
            f"Triage {category} ({result_set.method})", work, lambda job: self._done(job, category, by_key)
        )

    def _edited_masks(self, category: str) -> dict:
        """Copies of the masks with unsaved edits in ``category``: triage judges the masks as the annotator has
        them now, not as last saved."""
        store = self.window_.store
        if store is None:
            return {}
        masks = {}
        for key in store.modified_keys():
            document = store.get(key)
            if key.split("/", 1)[0] == category and document is not None:
                masks[key] = document.mask.copy()
        return masks

    def _done(self, job, category: str, by_key: dict[str, ImageRecord]) -> None:
        if job.state != JobState.DONE:
            self.note.setText(f"Triage {job.state}: {job.error}")
            return
        self.found[category] = [(item, by_key[item.key]) for item in job.result]
        if category == self.goods.category:
            self._show()
        else:
            self.note.setText(f"Triage of {category} done: its list shows when one of its images is open.")

    def _show(self) -> None:
        """Fill the list with the found images of the shown category that the goods filter passes."""
        found = self.found.get(self.goods.category or "", [])
        self.items = triage_order([item for item, record in found if self.goods.matches(record)])
        self.list.clear()
        for item in self.items:
            value = f"AP {100 * item.value:.1f} %" if "AP" in item.reason else f"score {item.value:.4g}"
            row = QListWidgetItem(f"{item.key}\n    {item.reason} ({value})")
            row.setData(Qt.ItemDataRole.UserRole, item.key)
            self.list.addItem(row)
        if not found:
            return
        of = "" if self.goods.choice is ALL_GOODS else f" of {choice_text(self.goods.choice)}"
        if self.items:
            self.note.setText(f"{len(self.items)} images{of}, the most suspicious first.")
        else:
            self.note.setText(f"No test image{of} has a result to judge.")
