"""Compare view: the same image in N panes (the ground truth, then each chosen method's heatmap) with zoom and pan
linked and one colour scale shared by every heatmap, so methods are compared on equal terms.

Methods score on unrelated scales, so the shared scale is relative by default: each method's map is drawn against
its own category range (or its own image range), and a colour means the same fraction of that method's range in
every pane. Only the "fixed range" normalisation shares raw values (``engine.inspect.compare_ranges``).

Beside the panes, the test photos of the current category, restricted by a goods filter: a click compares that
photo; choosing a goods id while another goods' photo is shown opens the first photo of the chosen one.

Each method pane also draws the ground truth's outline over its heatmap (a thin cyan line, switchable, so a heatmap
is read against the defect without flipping to the ground-truth pane), and has a colour bar under it with the raw
score range its colours span, the threshold (on the pane of the method the main view shows, in whose units it is)
and how many of this image's pixels lie outside the range: those are clipped to the end colours
(``colour_bar.ClippedPixels``)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPixmap, QPolygonF, QTransform
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGraphicsPathItem,
    QGraphicsScene,
    QGraphicsView,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from goodsad_studio.dataset.index import ImageRecord
from goodsad_studio.engine.inspect import compare_ranges, threshold_contours
from goodsad_studio.gui.canvas.heatmap_layer import HeatmapLayer
from goodsad_studio.gui.canvas.image_layer import ImageLayer
from goodsad_studio.gui.canvas.mask_layer import MaskLayer
from goodsad_studio.gui.colour_bar import ScaleLegend
from goodsad_studio.gui.dataset_tree import record_order
from goodsad_studio.gui.goods_filter import NO_GOODS_ID_TEXT, GoodsFilter, choice_text

WHEEL_STEP = 1.25
OUTLINE = QColor(0, 229, 255)
SCALE_TEXT = {
    "category": "shared colour scale: 0 to 100 % of each method's score range over its category",
    "image": "shared colour scale: 0 to 100 % of each method's score range on this image",
    "fixed": "shared colour scale: one fixed raw range for every method",
}


def colour_bar(lut, height: int = 160, width: int = 18) -> QPixmap:
    """A vertical bar of the colormap, its high end at the top."""
    column = np.ascontiguousarray(np.asarray(lut, dtype=np.uint8)[::-1, :3])
    image = QImage(column.data, 1, len(column), column.strides[0], QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(image).scaled(width, height)


def mask_outline(mask: np.ndarray | None) -> QPainterPath:
    """The outline of a bool mask along its pixel edges, in image pixels (odd-even filled, so holes stay holes)."""
    path = QPainterPath()
    path.setFillRule(Qt.FillRule.OddEvenFill)
    if mask is None or not mask.any():
        return path
    for contour in threshold_contours(np.asarray(mask, dtype=np.uint8), 1):
        # traced through the centres of half-pixels (a quarter pixel inside the edge): the nearest pixel corner
        # is the edge itself
        polygon = QPolygonF([QPointF(x, y) for x, y in np.round(contour)])
        polygon.append(polygon.first())
        path.addPolygon(polygon)
    return path


class ComparePane(QGraphicsView):
    """One pane: the photo plus either the ground truth fill or a heatmap; emits ``view_changed`` on zoom/pan."""

    view_changed = Signal(object)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.method = ""  # the method whose heatmap this pane shows ("" for the ground truth)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QColor(32, 33, 36))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # not ``self.mask``: that would shadow QWidget.mask()
        self.image, self.mask_layer, self.heat = ImageLayer(), MaskLayer(), HeatmapLayer()
        for item in (self.image, self.heat, self.mask_layer):
            self.scene().addItem(item)
        self.outline = QGraphicsPathItem()  # the ground truth's outline over a method's heatmap
        pen = QPen(OUTLINE, 1.5)
        pen.setCosmetic(True)  # the same thin line at any zoom; a path, so it stays sharp
        self.outline.setPen(pen)
        self.outline.setZValue(2)
        self.scene().addItem(self.outline)
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
            bar.valueChanged.connect(lambda _v: self.view_changed.emit(self))
        self.setMinimumSize(160, 160)
        self._auto_fit: tuple[int, int] | None = None  # fit to the pane until the user zooms

    def set_scene_size(self, width: int, height: int) -> None:
        margin = max(width, height)
        self.setSceneRect(QRectF(-margin, -margin, width + 2 * margin, height + 2 * margin))

    def fit(self, width: int, height: int) -> None:
        self._auto_fit = (width, height)
        view = self.viewport().rect()
        scale = max(0.01, min((view.width() - 4) / width, (view.height() - 4) / height))
        self.setTransform(QTransform.fromScale(scale, scale))
        self.centerOn(width / 2, height / 2)

    def centre(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    def follow(self, other: ComparePane) -> None:
        """Take ``other``'s zoom and centre, and whether it still fits the whole image (the user has not zoomed), so
        that a pane resized by the layout after the sync fits itself again rather than keep a stale view."""
        self.setTransform(other.transform())
        self.centerOn(other.centre())
        self._auto_fit = other._auto_fit

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self._auto_fit is not None:
            self.fit(*self._auto_fit)

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt override
        steps = (event.angleDelta().y() or event.angleDelta().x()) / 120.0
        if not steps:
            return
        self._auto_fit = None
        anchor = event.position()
        fixed = self.mapToScene(anchor.toPoint())
        scale = min(128.0, max(0.01, self.transform().m11() * WHEEL_STEP**steps))
        self.setTransform(QTransform.fromScale(scale, scale))
        drift = self.mapFromScene(fixed) - anchor.toPoint()
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + drift.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + drift.y())
        self.view_changed.emit(self)
        event.accept()

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:  # noqa: N802 - Qt override
        painter.save()
        painter.resetTransform()
        painter.fillRect(0, 0, painter.fontMetrics().horizontalAdvance(self.title) + 12, 22, QColor(0, 0, 0, 170))
        painter.setPen(QColor(240, 240, 240))
        painter.drawText(6, 16, self.title)
        painter.restore()


def _cell(pane: ComparePane, legend: QWidget) -> QWidget:
    """A pane with its colour bar and clipping note (or, for the ground truth, a note) under it."""
    cell = QWidget()
    column = QVBoxLayout(cell)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    column.addWidget(pane, 1)
    column.addWidget(legend)
    return cell


class CompareView(QWidget):
    """The panes, the photos to compare and the list of methods to show (see the module docstring)."""

    open_image = Signal(str)

    def __init__(self, window, analysis, controls, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Compare methods")
        self.window_, self.analysis, self.controls = window, analysis, controls
        self.goods = GoodsFilter()
        self.goods.goods_changed.connect(self._goods_chosen)
        self.photos = QListWidget()
        self.photos.setMaximumWidth(180)
        self.photos.itemClicked.connect(lambda item: self.open_image.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.photos_note = QLabel()
        self.photos_note.setWordWrap(True)
        self.photos_note.setMaximumWidth(180)
        self.methods = QListWidget()
        self.methods.setMaximumWidth(180)
        self.methods.itemChanged.connect(lambda _i: self.rebuild())
        self.show_outline = QCheckBox("Ground-truth outline")
        self.show_outline.setObjectName("show-outline")
        self.show_outline.setToolTip("Draw the ground-truth mask's outline (cyan) over each method's heatmap")
        self.show_outline.setChecked(True)
        self.show_outline.toggled.connect(self._outline_shown)
        self.scale = QLabel()
        self.scale.setObjectName("shared-scale")
        self.scale.setWordWrap(True)
        self.bar, self.bar_high, self.bar_low = QLabel(), QLabel(), QLabel()
        self.grid = QGridLayout()
        self.grid.setSpacing(2)
        self.panes: list[ComparePane] = []
        self.legends: dict[str, ScaleLegend] = {}  # each method pane's colour bar and clipping note
        self._cells: list[QWidget] = []  # a pane with its legend under it
        self.ranges: dict[str, tuple[float, float]] = {}  # the raw (low, high) each method's pane spans
        self._syncing = False
        side = QVBoxLayout()
        side.addWidget(QLabel("Goods"))
        side.addWidget(self.goods)
        side.addWidget(self.photos_note)
        side.addWidget(self.photos, 2)
        side.addWidget(QLabel("Methods"))
        side.addWidget(self.methods, 1)
        side.addWidget(self.show_outline)
        side.addWidget(self.scale)
        bar = QGridLayout()
        bar.addWidget(self.bar, 0, 0, 2, 1)
        bar.addWidget(self.bar_high, 0, 1, Qt.AlignmentFlag.AlignTop)
        bar.addWidget(self.bar_low, 1, 1, Qt.AlignmentFlag.AlignBottom)
        bar.setColumnStretch(1, 1)
        side.addLayout(bar)
        layout = QHBoxLayout(self)
        layout.addLayout(side)
        layout.addLayout(self.grid, 1)
        window.canvas.content_changed.connect(self.refresh)
        analysis.results_changed.connect(lambda _c: self.refresh())
        controls.changed.connect(self.refresh)
        self.resize(1200, 700)

    def _fill_methods(self) -> None:
        record = self.window_.current
        available = self.analysis.methods_with_results(record.category) if record is not None else []
        shown = [self.methods.item(i).text() for i in range(self.methods.count())]
        if shown == available:
            return
        checked = {
            self.methods.item(i).text()
            for i in range(self.methods.count())
            if self.methods.item(i).checkState() == Qt.CheckState.Checked
        }
        self.methods.blockSignals(True)
        self.methods.clear()
        for name in available:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if (name in checked or not checked) else Qt.CheckState.Unchecked)
            self.methods.addItem(item)
        self.methods.blockSignals(False)

    def chosen(self) -> list[str]:
        return [
            self.methods.item(i).text()
            for i in range(self.methods.count())
            if self.methods.item(i).checkState() == Qt.CheckState.Checked
        ]

    def _fill_photos(self) -> None:
        """List the current category's test photos that the goods filter passes, the shown one selected."""
        record, workspace = self.window_.current, self.analysis.workspace
        category = record.category if record is not None else None
        records = workspace.test_records(category) if workspace is not None and category is not None else []
        self.goods.set_records(category, records, workspace)
        shown = sorted((r for r in records if self.goods.matches(r)), key=record_order)
        keys = [r.key for r in shown]
        if keys != [self.photos.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.photos.count())]:
            self.photos.clear()
            for r in shown:
                item = QListWidgetItem(f"{r.defect}/{r.stem}")
                item.setData(Qt.ItemDataRole.UserRole, r.key)
                self.photos.addItem(item)
        current = keys.index(record.key) if record is not None and record.key in keys else -1
        self.photos.setCurrentRow(current)
        self.photos_note.setText(self._photos_text(record, len(shown)))

    def _photos_text(self, record: ImageRecord | None, count: int) -> str:
        text = f"{count} test photos of {choice_text(self.goods.choice)}"
        if record is not None and not self.goods.matches(record):
            text += f"; the shown photo is of {f'goods {record.goods_id}' if record.goods_id else NO_GOODS_ID_TEXT}"
        return text

    def _goods_chosen(self) -> None:
        """The user chose a goods id: list its photos, and compare its first one unless one of them is shown."""
        self._fill_photos()
        record = self.window_.current
        if record is not None and not self.goods.matches(record) and self.photos.count():
            self.open_image.emit(self.photos.item(0).data(Qt.ItemDataRole.UserRole))

    def refresh(self) -> None:
        if self.isVisible():
            self._fill_methods()
            self._fill_photos()
            self.rebuild()

    def rebuild(self) -> None:
        """Lay out GT + one pane per chosen method for the current image, each on its method's range of the shared
        (relative) colour scale."""
        for cell in self._cells:
            cell.setParent(None)
            cell.deleteLater()
        self.panes, self.legends, self._cells = [], {}, []
        record, display = self.window_.current, self.window_.canvas.display
        if record is None or display is None:
            return
        width, height = display.size
        results = {name: self.analysis.result(record, name) for name in self.chosen()}
        results = {name: result for name, result in results.items() if result is not None}
        mode = self.controls.normalisation()
        category_ranges = {
            name: [(s.low, s.high) for s in self.analysis.summary(record.category, name).values()] for name in results
        }
        self.ranges = compare_ranges(mode, results, category_ranges, self.controls.fixed_range())
        self._show_scale(mode)
        gt = ComparePane("ground truth")
        document = self.window_.canvas.document
        mask = document.mask if document is not None and document.shape == (height, width) else None
        if mask is not None:
            gt.mask_layer.set_mask(mask)
        self.panes.append(gt)
        gt_note = QLabel("The ground-truth mask, filled; its outline is drawn in cyan over each heatmap.")
        gt_note.setWordWrap(True)
        gt_note.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._cells.append(_cell(gt, gt_note))
        outline = mask_outline(mask)
        lut = self.controls.lut()
        for name, result in results.items():
            low, high = self.ranges[name]
            pane = ComparePane(f"{name}  score {result.score:.4g}  (colours span {low:.4g} … {high:.4g})")
            pane.method = name
            pane.heat.set_heatmap(result.anomaly_map, (width, height), low, high, lut, 0.65)
            pane.outline.setPath(outline)
            pane.outline.setVisible(self.show_outline.isChecked())
            legend = ScaleLegend()
            # the threshold is in the units of the method the main view shows: drawn on that method's bar only
            threshold = self.controls.threshold() if name == self.analysis.shown_method(record.category) else None
            legend.show_map(lut, low, high, result.anomaly_map, threshold)
            self.panes.append(pane)
            self.legends[name] = legend
            self._cells.append(_cell(pane, legend))
        under = max((legend.sizeHint().height() for legend in self.legends.values()), default=0)
        for widget in [gt_note, *self.legends.values()]:  # the same height under every pane: one pane size
            widget.setFixedHeight(under)
        columns = 2 if len(self.panes) <= 4 else 3
        rows = -(-len(self.panes) // columns)
        # equal cells: without stretch a rebuilt grid leaves some panes at their minimum size
        for column in range(max(3, self.grid.columnCount())):
            self.grid.setColumnStretch(column, 1 if column < columns else 0)
        for row in range(max(rows, self.grid.rowCount())):
            self.grid.setRowStretch(row, 1 if row < rows else 0)
        for position, (pane, cell) in enumerate(zip(self.panes, self._cells, strict=True)):
            pane.image.set_display(display)
            pane.set_scene_size(width, height)
            pane.view_changed.connect(self._sync)
            self.grid.addWidget(cell, position // columns, position % columns)
        for pane, cell in zip(self.panes, self._cells, strict=True):
            cell.show()
            pane.fit(width, height)

    def _outline_shown(self, shown: bool) -> None:
        for pane in self.panes[1:]:
            pane.outline.setVisible(shown)

    def _show_scale(self, mode: str) -> None:
        self.scale.setText(f"{SCALE_TEXT[mode]} ({self.controls.colormap.currentText()})")
        self.bar.setPixmap(colour_bar(self.controls.lut()))
        if mode == "fixed":
            low, high = self.controls.fixed_range()
            self.bar_high.setText(f"{high:.4g}")
            self.bar_low.setText(f"{low:.4g}")
        else:
            self.bar_high.setText("100 %")
            self.bar_low.setText("0 %")

    def _sync(self, source: ComparePane) -> None:
        """Linked zoom and pan: every other pane takes the source pane's zoom and centre."""
        if self._syncing:
            return
        self._syncing = True
        try:
            for pane in self.panes:
                if pane is not source:
                    pane.follow(source)
        finally:
            self._syncing = False

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._fill_methods()
        self._fill_photos()
        self.rebuild()
