"""The export dialog: an MVTec-format subset (categories, goods ids, defect types, optional resize), COCO JSON, the
heatmaps of the shown method (PNG with colormap and raw .npy) and the metrics report (markdown / CSV / JSON).
Every export is a job in the engine's worker (an ``Export`` request; the kinds are the engine's table
``EXPORT_KINDS``); the dialog only collects the choices."""

from __future__ import annotations

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

from goodsad_studio.engine.contract import (
    EXPORT_KINDS,
    Destination,
    Export,
    ExportKind,
    ExportOptions,
    SelectionSpec,
)
from goodsad_studio.errors import StudioError


def _names(text: str) -> tuple[str, ...] | None:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    return names or None


class ExportDialog(QDialog):
    size: QSpinBox  # type: ignore[assignment]  # shadows QWidget.size(); the tests drive the spin box by this name

    def __init__(self, analysis, category: str | None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.analysis = analysis
        self.kind = QComboBox()
        for kind, info in EXPORT_KINDS.items():
            self.kind.addItem(info.label, kind)
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
        if EXPORT_KINDS[ExportKind(self.kind.currentData())].destination == Destination.FILE:
            path, _ = QFileDialog.getSaveFileName(self, "COCO JSON file", "", "JSON (*.json)")
        else:
            path = QFileDialog.getExistingDirectory(self, "Export folder")
        if path:
            self.dest.setText(path)

    def selection(self) -> SelectionSpec:
        return SelectionSpec(_names(self.categories.text()), _names(self.goods.text()), _names(self.defects.text()))

    def request(self) -> Export:
        """The export as set in the dialog; raises a StudioError for a missing destination."""
        dest = self.dest.text().strip()
        if not dest:
            raise StudioError("choose a destination for the export")
        kind = ExportKind(self.kind.currentData())
        workspace = self.analysis.workspace
        results: tuple[tuple[str, str], ...] = ()
        if EXPORT_KINDS[kind].needs == "results":  # the shown method's results, per category
            categories = self.selection().categories or tuple(workspace.index.categories)
            found = (self.analysis.result_set(category) for category in categories)
            results = tuple((s.category, s.key) for s in found if s is not None)
        options = ExportOptions(
            self.size.value() or None, self.polygons.isChecked(), self.overwrite.isChecked(), results
        )
        return Export(workspace.ref(), kind, dest, self.selection(), options)

    def start(self):
        """Start the chosen export as a job in the worker; raises a StudioError for a missing destination."""
        request = self.request()
        return self.analysis.export(f"Export {self.kind.currentText()} to {request.dest}", request)
