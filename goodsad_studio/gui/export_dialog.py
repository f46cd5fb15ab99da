"""The export dialog: an MVTec-format subset (categories, goods ids, defect types, optional resize), COCO JSON, the
heatmaps of the shown method (PNG with colormap and raw .npy) and the metrics report (markdown / CSV / JSON).
Every export is a background job over the core's own functions; the dialog only collects the choices."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
)

from goodsad_studio.dataset.export_coco import export_coco
from goodsad_studio.dataset.export_mvtec import export_mvtec
from goodsad_studio.dataset.selection import Selection
from goodsad_studio.engine.export_maps import write_predictions
from goodsad_studio.engine.inspect import cached_results
from goodsad_studio.errors import StudioError
from goodsad_studio.metrics.report import write_report

KINDS = (
    ("mvtec", "MVTec-AD subset (folder)"),
    ("coco", "COCO JSON (file)"),
    ("heatmaps", "Heatmaps: PNG + raw .npy (folder)"),
    ("report", "Metrics report: md / CSV / JSON (folder)"),
)


def _names(text: str) -> list[str] | None:
    names = [part.strip() for part in text.split(",") if part.strip()]
    return names or None


def export_work(
    kind: str, analysis, dest: Path, selection: Selection, *, size: int | None, polygons: bool, overwrite: bool
):
    """The job body for ``kind`` (runs in a worker; takes ``progress`` and ``cancel`` like every job)."""
    index = analysis.workspace.index

    def work(progress, cancel):
        if kind == "mvtec":
            return export_mvtec(index, dest, selection, size=size, overwrite=overwrite, cancel=cancel)
        if kind == "coco":
            return export_coco(index, dest, selection, polygons=polygons, overwrite=overwrite, cancel=cancel)
        if kind == "heatmaps":
            records = [r for r in selection.apply(index)]
            results = {}
            for category in sorted({r.category for r in records}):
                result_set = analysis.result_set(category)
                if result_set is not None:
                    results.update(cached_results(result_set, [r for r in records if r.category == category]))
            chosen = [r for r in records if r.key in results]
            if not chosen:
                raise StudioError(f"no {analysis.method} results for the selection: predict them first", dest)
            return write_predictions(chosen, results, dest)
        rows = [row for outcome in analysis.outcomes.values() for row in outcome.rows]
        if not rows:
            raise StudioError("no evaluation yet: evaluate a category first (Methods panel)", dest)
        return write_report(rows, dest)

    return work


class ExportDialog(QDialog):
    size: QSpinBox  # type: ignore[assignment]  # shadows QWidget.size(); the tests drive the spin box by this name

    def __init__(self, analysis, category: str | None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.analysis = analysis
        self.kind = QComboBox()
        for value, text in KINDS:
            self.kind.addItem(text, value)
        self.categories = QLineEdit(category or "")
        self.categories.setPlaceholderText("all (comma-separated)")
        self.goods = QLineEdit()
        self.goods.setPlaceholderText("all goods ids")
        self.defects = QLineEdit()
        self.defects.setPlaceholderText("all defect types (good included)")
        self.size = QSpinBox()
        self.size.setRange(0, 10000)
        self.size.setSpecialValueText("original size")
        self.polygons = QCheckBox("COCO polygons instead of RLE")
        self.overwrite = QCheckBox("Overwrite")
        self.dest = QLineEdit()
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        where = QHBoxLayout()
        where.addWidget(self.dest, 1)
        where.addWidget(browse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        for label, widget in (
            ("Export", self.kind),
            ("Categories", self.categories),
            ("Goods ids", self.goods),
            ("Defect types", self.defects),
            ("Resize (MVTec)", self.size),
        ):
            form.addRow(label, widget)
        form.addRow(self.polygons)
        form.addRow(self.overwrite)
        form.addRow("Destination", where)
        form.addRow(buttons)

    def _browse(self) -> None:
        if self.kind.currentData() == "coco":
            path, _ = QFileDialog.getSaveFileName(self, "COCO JSON file", "", "JSON (*.json)")
        else:
            path = QFileDialog.getExistingDirectory(self, "Export folder")
        if path:
            self.dest.setText(path)

    def selection(self) -> Selection:
        return Selection.of(
            categories=_names(self.categories.text()),
            goods_ids=_names(self.goods.text()),
            defects=_names(self.defects.text()),
        )

    def start(self):
        """Start the chosen export as a job; raises a StudioError for a missing destination."""
        if not self.dest.text().strip():
            raise StudioError("choose a destination for the export")
        kind = self.kind.currentData()
        work = export_work(
            kind,
            self.analysis,
            Path(self.dest.text().strip()),
            self.selection(),
            size=self.size.value() or None,
            polygons=self.polygons.isChecked(),
            overwrite=self.overwrite.isChecked(),
        )
        return self.analysis.runner.start(f"Export {self.kind.currentText()} to {self.dest.text()}", work)
