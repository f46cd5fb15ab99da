"""Dataset metrics: the GoodsAD paper's numbers per category x method (and per goods id) from the evaluation's
``CategoryResult``s, the image ROC and PR curves, and the histogram of image scores (good vs defective) with the
F1-max threshold. Clicking a table row of an image, or a point of the score strip, opens that image."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QTableWidget, QTableWidgetItem, QWidget

from goodsad_studio.engine.inspect import score_table
from goodsad_studio.metrics.report import NO_MASKS, PIXEL_METRIC_NAMES, ReportRow, format_value

COLUMNS = (
    ("image_auroc", "I-AUROC"),
    ("image_aupr", "I-AUPR"),
    ("pixel_auroc", "P-AUROC"),
    ("pixel_aupr", "P-AUPR"),
    ("pro", "PRO"),
)
GOOD, DEFECTIVE = (76, 175, 80), (229, 57, 53)


class MetricsView(QWidget):
    open_image = Signal(str)

    def __init__(self, window, analysis, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Dataset metrics")
        self.window_, self.analysis = window, analysis
        self.table = QTableWidget(0, 3 + len(COLUMNS))
        self.table.setHorizontalHeaderLabels(["category", "goods id", "method"] + [t for _, t in COLUMNS])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.images = QTableWidget(0, 3)
        self.images.setHorizontalHeaderLabels(["image", "score", "label"])
        self.images.verticalHeader().hide()
        self.images.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.images.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.images.cellClicked.connect(self._open_image_row)
        self.roc, self.pr, self.hist = (pg.PlotWidget(background="w") for _ in range(3))
        for plot, title, x, y in (
            (self.roc, "Image ROC", "false positive rate", "true positive rate"),
            (self.pr, "Image PR", "recall", "precision"),
            (self.hist, "Image scores", "score", "images"),
        ):
            plot.setTitle(title, color="k")
            plot.setLabel("bottom", x)
            plot.setLabel("left", y)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.addLegend(offset=(-10, 10))
            for axis in ("left", "bottom"):
                plot.getAxis(axis).enableAutoSIPrefix(False)
        self.note = QLabel("Evaluate a category (Methods panel) to fill this view.")
        self.note.setWordWrap(True)
        self.table.cellClicked.connect(lambda row, _c: self.show_row(row))
        grid = QGridLayout(self)
        grid.addWidget(self.table, 0, 0, 1, 2)
        grid.addWidget(self.images, 0, 2)
        grid.addWidget(self.roc, 1, 0)
        grid.addWidget(self.pr, 1, 1)
        grid.addWidget(self.hist, 1, 2)
        grid.addWidget(self.note, 2, 0, 1, 3)
        grid.setRowStretch(0, 2)
        grid.setRowStretch(1, 3)
        self.rows: list[tuple[str, str, ReportRow]] = []
        self.points: list[str] = []
        analysis.outcome_ready.connect(lambda _o: self.refresh())
        self.resize(1300, 800)

    def _open_image_row(self, row: int, _column: int) -> None:
        item = self.images.item(row, 0)
        assert item is not None  # _histogram fills every cell of the rows it sets
        self.open_image.emit(item.text())

    def refresh(self) -> None:
        """Rebuild the table from every evaluation outcome of the session and show the first row."""
        self.rows = []
        for (category, method), outcome in sorted(self.analysis.outcomes.items()):
            for row in outcome.rows:
                self.rows.append((category, method, row))
        self.table.setRowCount(len(self.rows))
        for r, (category, _method, row) in enumerate(self.rows):
            no_masks = row.result.pixel_mode == "none"  # an image-level-only dataset
            cells = [category, row.goods_id or "all", row.method] + [
                NO_MASKS if no_masks and name in PIXEL_METRIC_NAMES else format_value(row.result.metric(name))
                for name, _ in COLUMNS
            ]
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        if self.rows:
            self.show_row(0)

    def show_row(self, index: int) -> None:
        category, method, row = self.rows[index]
        result = row.result
        self.note.setText(
            f"{category} / {row.goods_id or 'all goods'} / {method}: {row.weights}   "
            f"image F1-max {format_value(result.image_f1max)} at score "
            f"{result.image_f1_threshold:.4g}"
        )
        for plot, name in ((self.roc, "image_roc"), (self.pr, "image_pr")):
            plot.clear()
            curve = result.curves.get(name)
            if curve is not None:
                plot.plot(curve.x, curve.y, pen=pg.mkPen((33, 150, 243), width=2), name=method)
        self._histogram(category, method, row.goods_id, result.image_f1_threshold)

    def _histogram(self, category: str, method: str, goods_id: str | None, threshold: float) -> None:
        """Scores of good and defective test images, with the F1-max threshold as a line."""
        self.hist.clear()
        records = [r for r in self.analysis.workspace.test_records(category) if goods_id in (None, r.group)]
        summary = self.analysis.summary(category, method)
        table = score_table(records, {key: s for key, s in summary.items()})
        if not table.keys:
            return
        edges = np.histogram_bin_edges(table.scores, bins=min(30, max(5, len(table.keys) // 2)))
        for anomalous, colour, label in ((False, GOOD, "good"), (True, DEFECTIVE, "defective")):
            counts, _ = np.histogram(table.scores[table.anomalous == anomalous], bins=edges)
            self.hist.plot(
                edges,
                counts,
                stepMode="center",
                fillLevel=0,
                brush=(*colour, 90),
                pen=pg.mkPen(colour, width=1.5),
                name=label,
            )
        jitter = -0.3 - 0.4 * np.random.default_rng(0).random(len(table.keys))
        points = pg.ScatterPlotItem(
            table.scores,
            jitter,
            data=table.keys,
            size=8,
            brush=[pg.mkBrush(*(DEFECTIVE if a else GOOD)) for a in table.anomalous],
        )

        def open_spot(_item: object, spots: list, _ev: object) -> None:
            if spots:
                self.open_image.emit(spots[0].data())

        points.sigClicked.connect(open_spot)
        self.hist.addItem(points)
        if math.isfinite(threshold):
            self.hist.addItem(
                pg.InfiniteLine(
                    threshold,
                    angle=90,
                    pen=pg.mkPen((0, 0, 0), width=2, style=Qt.PenStyle.DashLine),
                    label=f"F1-max {threshold:.3g}",
                    labelOpts={"color": "k"},
                )
            )
        order = np.argsort(-table.scores)
        self.images.setRowCount(len(order))
        for r, i in enumerate(order):
            for c, text in enumerate(
                (table.keys[i], f"{table.scores[i]:.4g}", "defective" if table.anomalous[i] else "good")
            ):
                self.images.setItem(r, c, QTableWidgetItem(text))
        self.images.resizeColumnsToContents()
