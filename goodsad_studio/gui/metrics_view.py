"""Dataset metrics: the GoodsAD paper's numbers per category x method (and per goods id) from the evaluation's
``CategoryResult``s, the hardest goods of the chosen row's evaluation (lowest image AUROC, from
``metrics.hardest``), the curves (image ROC and PR; pixel ROC, PR and PRO up to FPR 0.3) and the histogram of image
scores (good vs defective) with the F1-max threshold. Clicking a table row of an image, or a point of the score
strip, opens that image; clicking a hardest goods shows its row.

Selecting several rows of the table (Ctrl- or Shift-click) overlays their curves, one colour per row, each named in
the legend with its metric (AUROC, AP, AUPRO): the curves are the evaluation's own, kept with its result (no
recomputation), drawn as ``metrics.curve_plots`` defines them so that the area under each is the metric shown."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from goodsad_studio.engine.inspect import score_table
from goodsad_studio.gui.job_list import TOOLTIP_SKIPPED
from goodsad_studio.gui.jobs import skipped_line, skipped_list
from goodsad_studio.metrics.curve_plots import CURVE_PLOTS, CurvePlot, PlottedCurve, plotted_curve
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
CURVE_COLOURS = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
)
OVERLAY_HINT = "Select several rows (Ctrl- or Shift-click) to overlay their curves."


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
        self.curve_plots = {plot.key: pg.PlotWidget(background="w") for plot in CURVE_PLOTS}
        self.roc, self.pr = self.curve_plots["image_roc"], self.curve_plots["image_pr"]
        self.hist = pg.PlotWidget(background="w")
        for plot, title, x, y in (
            *((self.curve_plots[p.key], p.title, p.x_label, p.y_label) for p in CURVE_PLOTS),
            (self.hist, "Image scores", "score", "images"),
        ):
            plot.setTitle(title, color="k")
            plot.setLabel("bottom", x)
            plot.setLabel("left", y)
            plot.showGrid(x=True, y=True, alpha=0.2)
            # ROC and PRO curves climb to the top left: their legend goes bottom right, the others' top right
            bottom = title.endswith("ROC") or title == "PRO"
            plot.addLegend(offset=(-10, -10) if bottom else (-10, 10), labelTextColor="k", brush=(255, 255, 255, 210))
            for axis in ("left", "bottom"):
                plot.getAxis(axis).enableAutoSIPrefix(False)
        self.note = QLabel("Evaluate a category (Methods panel) to fill this view.")
        self.note.setWordWrap(True)
        self.skipped_note = QLabel()  # the images the shown evaluation left out: its figures are over the rest
        self.skipped_note.setObjectName("metrics-skipped")
        self.skipped_note.setWordWrap(True)
        self.skipped_note.setStyleSheet("color: #e65100;")
        self.skipped_note.hide()
        self.table.cellClicked.connect(lambda row, _c: self.show_row(row))
        self.table.setSelectionMode(QTableWidget.SelectionMode.ExtendedSelection)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.overlay_hint = QLabel(OVERLAY_HINT)
        self.overlay_hint.setWordWrap(True)
        tables = QVBoxLayout()
        tables.addWidget(self.table, 2)
        tables.addWidget(self.overlay_hint)
        tables.addWidget(self.hardest_title)
        tables.addWidget(self.hardest)
        tables.addWidget(self.unranked)
        grid = QGridLayout(self)
        grid.addLayout(tables, 0, 0, 1, 2)
        grid.addWidget(self.images, 0, 2)
        grid.addWidget(self.roc, 1, 0)
        grid.addWidget(self.pr, 1, 1)
        grid.addWidget(self.hist, 1, 2)
        for column, key in enumerate(("pixel_roc", "pixel_pr", "pro")):
            grid.addWidget(self.curve_plots[key], 2, column)
        grid.addWidget(self.note, 3, 0, 1, 3)
        grid.addWidget(self.skipped_note, 4, 0, 1, 3)
        grid.setRowStretch(0, 2)
        grid.setRowStretch(1, 3)
        grid.setRowStretch(2, 3)
        self.rows: list[tuple[str, str, ReportRow]] = []
        self.shown_row = -1  # the row whose hardest goods, note and histogram are shown
        self.overlaid: list[int] = []  # the rows whose curves are drawn
        self.drawn: dict[str, list[tuple[str, PlottedCurve]]] = {}  # per plot: (legend name, curve) as drawn
        self.shown_hardest: HardestGoods | None = None
        self.points: list[str] = []
        analysis.outcome_ready.connect(lambda _o: self.refresh())
        self.resize(1400, 1000)

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
        self._show_skipped(category, method)
        self.shown_row = index
        selected = self.selected_rows()
        self.overlay_rows(selected if index in selected and len(selected) > 1 else [index])
        self._histogram(category, method, row.goods_id, result.image_f1_threshold)

    def _show_skipped(self, category: str, method: str) -> None:
        """``N images skipped: PATH — reason`` of the evaluation shown (every one in the tooltip), else nothing."""
        outcome = self.analysis.outcomes.get((category, method))
        skipped = outcome.skipped if outcome is not None else ()
        self.skipped_note.setVisible(bool(skipped))
        if not skipped:
            self.skipped_note.setText("")
            self.skipped_note.setToolTip("")
            return
        index = self.window_.index if self.window_ is not None else None
        first = skipped_line(skipped[:1], index.root if index is not None else None).split(": ", 1)[1]
        count = len(skipped)
        more = f", and {count - 1} more (hover to list them)" if count > 1 else ""
        self.skipped_note.setText(
            f"{count} image{'s' if count != 1 else ''} skipped by this evaluation: {first}{more}. "
            "Its figures are over the other images."
        )
        self.skipped_note.setToolTip(skipped_list(skipped, TOOLTIP_SKIPPED))

    def selected_rows(self) -> list[int]:
        return sorted({item.row() for item in self.table.selectedIndexes()})

    def _selection_changed(self) -> None:
        selected = self.selected_rows()
        if len(selected) > 1:
            self.overlay_rows(selected)
        elif selected and (selected[0] != self.shown_row or self.overlaid != selected):
            self.show_row(selected[0])

    def overlay_rows(self, indices: list[int]) -> None:
        """Draw the curves of the table rows ``indices`` over each other, one colour per row."""
        self.overlaid = [i for i in indices if 0 <= i < len(self.rows)]
        names = _row_names([self.rows[i] for i in self.overlaid])
        self.drawn = {}
        for plot in CURVE_PLOTS:
            self._draw_curves(plot, names)
        if len(self.overlaid) > 1:
            self.overlay_hint.setText(f"Overlaid: {', '.join(names)}. {OVERLAY_HINT}")
        else:
            self.overlay_hint.setText(OVERLAY_HINT)

    def _draw_curves(self, plot: CurvePlot, names: list[str]) -> None:
        widget = self.curve_plots[plot.key]
        widget.clear()
        drawn = []
        for position, (index, name) in enumerate(zip(self.overlaid, names, strict=True)):
            curve = plotted_curve(self.rows[index][2].result, plot)
            if curve is None:
                continue
            colour = CURVE_COLOURS[position % len(CURVE_COLOURS)]
            widget.plot(curve.x, curve.y, pen=pg.mkPen(colour, width=2), name=f"{name}  {curve.legend}")
            drawn.append((name, curve))
        self.drawn[plot.key] = drawn
        missing = "" if drawn or not self.overlaid else "  (none: no masks, or one class absent)"
        widget.setTitle(plot.title + missing, color="k")
        limit = min((self.rows[i][2].result.pro_limit for i in self.overlaid), default=0.3)
        widget.setXRange(0.0, limit if plot.key == "pro" else 1.0, padding=0.02)
        widget.setYRange(0.0, 1.0, padding=0.02)

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


def _row_names(rows: list[tuple[str, str, ReportRow]]) -> list[str]:
    """Legend names of overlaid rows: the method, with the category and the goods id where the rows differ in them."""
    categories = {category for category, _m, _r in rows}
    goods = {row.goods_id for _c, _m, row in rows}
    names = []
    for category, _method, row in rows:
        parts = [row.method]
        if len(categories) > 1:
            parts.append(category)
        if len(goods) > 1:
            parts.append(f"goods {row.goods_id}" if row.goods_id else "all goods")
        names.append(" · ".join(parts))
    return names
