"""The triage list: images whose masks disagree most with the shown method (defective images with the lowest
pixel AP, good images with the highest scores), found by ``engine.inspect.triage`` in a job, on the masks as they
are being edited (unsaved edits included). Click to open."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from goodsad_studio.engine.inspect import TriageItem, cached_results, triage
from goodsad_studio.gui.jobs import JobState


class TriagePanel(QWidget):
    open_image = Signal(str)

    def __init__(self, window, analysis, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_, self.analysis = window, analysis
        self.button = QPushButton("Find likely annotation mistakes")
        self.button.clicked.connect(self.start)
        self.note = QLabel("Uses the shown method's cached results of the current category.")
        self.note.setWordWrap(True)
        self.list = QListWidget()
        self.list.itemClicked.connect(lambda item: self.open_image.emit(item.data(Qt.ItemDataRole.UserRole)))
        layout = QVBoxLayout(self)
        layout.addWidget(self.button)
        layout.addWidget(self.note)
        layout.addWidget(self.list, 1)
        self.items: list[TriageItem] = []

    def start(self):
        record = self.window_.current
        if record is None or self.analysis.result_set(record.category) is None:
            self.note.setText("No results for this category yet: predict or evaluate it first.")
            return None
        result_set = self.analysis.result_set(record.category)
        records = self.analysis.workspace.test_records(record.category)
        edited = self._edited_masks(record.category)

        def work(progress, cancel):
            return triage(records, cached_results(result_set, records), edited=edited)

        self.note.setText(f"Looking through {len(records)} test images of {record.category}...")
        return self.analysis.runner.start(f"Triage {record.category} ({result_set.method})", work, self._done)

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

    def _done(self, job) -> None:
        if job.state != JobState.DONE:
            self.note.setText(f"Triage {job.state}: {job.error}")
            return
        self.items = job.result
        self.list.clear()
        for item in self.items:
            value = f"AP {100 * item.value:.1f} %" if "AP" in item.reason else f"score {item.value:.4g}"
            row = QListWidgetItem(f"{item.key}\n    {item.reason} ({value})")
            row.setData(Qt.ItemDataRole.UserRole, item.key)
            self.list.addItem(row)
        self.note.setText(f"{len(self.items)} images, the most suspicious first.")
