"""Dataset metrics: the GoodsAD paper's numbers per category x method (and per goods id) from the evaluation's
``CategoryResult``s, the hardest goods of the chosen row's evaluation (lowest image AUROC, from
``metrics.hardest``), the image ROC and PR curves, and the histogram of image scores (good vs defective) with the
F1-max threshold. Clicking a table row of an image, or a point of the score strip, opens that image; clicking a
hardest goods shows its row."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from goodsad_studio.engine.inspect import score_table
from goodsad_studio.metrics.hardest import HARDEST_COUNT, HardestGoods, hardest_goods
from goodsad_studio.metrics.report import (
    HARDEST_COLUMNS,
    NO_MASKS,
    PIXEL_METRIC_NAMES,
    ReportRow,
    format_value,
    hardest_cells,
)

COLUMNS = (
    ("image_auroc", "I-AUROC"),
    ("image_aupr", "I-AUPR"),
    ("pixel_auroc", "P-AUROC"),
    ("pixel_aupr", "P-AUPR"),
    ("pro", "PRO"),
)
GOOD, DEFECTIVE = (76, 175, 80), (229, 57, 53)
HARDEST_SHOWN = HARDEST_COLUMNS[2:]  # rank, goods id, metrics, photos: the title names category and method


def _table(columns: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    return table


def _fill(table: QTableWidget, lines: list[list[str]]) -> None:
    table.setRowCount(len(lines))
    for r, line in enumerate(lines):
        for c, text in enumerate(line):
            table.setItem(r, c, QTableWidgetItem(text))
    table.resizeColumnsToContents()


class MetricsView(QWidget):
    open_image = Signal(str)

    def __init__(self, window, analysis, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Dataset metrics")
        self.window_, self.analysis = window, analysis
        self.table = _table(["category", "goods id", "method"] + [t for _, t in COLUMNS])
        self.hardest_title = QLabel("Hardest goods: the goods ids of lowest image AUROC show here after an evaluation.")
        self.hardest = _table(list(HARDEST_SHOWN))
        rows_high = self.hardest.horizontalHeader().sizeHint().height() + 4
        rows_high += HARDEST_COUNT * self.hardest.verticalHeader().defaultSectionSize()
        self.hardest.setFixedHeight(rows_high)  # every ranked goods in sight, no scrolling
        self.hardest.cellClicked.connect(lambda row, _c: self._show_goods(row))
        self.unranked = QLabel()
        self.unranked.setWordWrap(True)
        self.images = _table(["image", "score", "label"])
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
        tables = QVBoxLayout()
        tables.addWidget(self.table, 2)
        tables.addWidget(self.hardest_title)
        tables.addWidget(self.hardest)
        tables.addWidget(self.unranked)
        grid = QGridLayout(self)
        grid.addLayout(tables, 0, 0, 1, 2)
        grid.addWidget(self.images, 0, 2)
        grid.addWidget(self.roc, 1, 0)
        grid.addWidget(self.pr, 1, 1)
        grid.addWidget(self.hist, 1, 2)
        grid.addWidget(self.note, 2, 0, 1, 3)
        grid.setRowStretch(0, 2)
        grid.setRowStretch(1, 3)
        self.rows: list[tuple[str, str, ReportRow]] = []
        self.shown_hardest: HardestGoods | None = None
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
        self._show_hardest(category, method)
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

    def _show_hardest(self, category: str, method: str) -> None:
        """The hardest goods of the evaluation of ``method`` on ``category``, and the goods it could not rank."""
        outcome = self.analysis.outcomes.get((category, method))
        groups = hardest_goods(outcome.rows if outcome is not None else [])
        self.shown_hardest = groups[0] if groups else None
        if self.shown_hardest is None:
            self.hardest_title.setText(f"Hardest goods of {category} / {method}: no per-goods rows (one goods id)")
            _fill(self.hardest, [])
            self.unranked.setText("")
            return
        group = self.shown_hardest
        self.hardest_title.setText(
            f"Hardest goods of {category} / {method}: the {len(group.ranked)} lowest image AUROCs of "
            f"{group.n_ranked} goods ids"
        )
        _fill(self.hardest, [line[2:] for line in hardest_cells(group)])
        unranked = "; ".join(f"{item.row.goods_id}: {item.reason}" for item in group.unranked)
        self.unranked.setText(f"Not ranked — {unranked}" if unranked else "")

    def _show_goods(self, hardest_row: int) -> None:
        """A hardest goods was clicked: select and show its row of the per-goods table."""
        if self.shown_hardest is None:
            return
        wanted = self.shown_hardest.ranked[hardest_row]
        for index, (_category, _method, row) in enumerate(self.rows):
            if row is wanted:
                self.table.selectRow(index)
                self.show_row(index)
                return

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
