"""Compare view: the same image in N panes (the ground truth, then each chosen method's heatmap) with zoom and pan
linked and one colour scale shared by every heatmap, so methods are compared on equal terms."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QTransform
from PySide6.QtWidgets import (
    QFrame,
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

from goodsad_studio.engine.inspect import colour_range
from goodsad_studio.gui.canvas.heatmap_layer import HeatmapLayer
from goodsad_studio.gui.canvas.image_layer import ImageLayer
from goodsad_studio.gui.canvas.mask_layer import MaskLayer

WHEEL_STEP = 1.25


class ComparePane(QGraphicsView):
    """One pane: the photo plus either the ground truth fill or a heatmap; emits ``view_changed`` on zoom/pan."""

    view_changed = Signal(object)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QColor(32, 33, 36))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.image, self.mask, self.heat = ImageLayer(), MaskLayer(), HeatmapLayer()
        for item in (self.image, self.heat, self.mask):
            self.scene().addItem(item)
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
        """Take ``other``'s zoom and centre."""
        self._auto_fit = None
        self.setTransform(other.transform())
        self.centerOn(other.centre())

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
        scale = min(128.0, max(0.01, self.transform().m11() * WHEEL_STEP ** steps))
        self.setTransform(QTransform.fromScale(scale, scale))
        drift = self.mapFromScene(fixed) - anchor.toPoint()
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + drift.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + drift.y())
        self.view_changed.emit(self)
        event.accept()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 - Qt override
        painter.save()
        painter.resetTransform()
        painter.fillRect(0, 0, painter.fontMetrics().horizontalAdvance(self.title) + 12, 22, QColor(0, 0, 0, 170))
        painter.setPen(QColor(240, 240, 240))
        painter.drawText(6, 16, self.title)
        painter.restore()


class CompareView(QWidget):
    """The panes and the list of methods to show (see the module docstring)."""

    def __init__(self, window, analysis, controls, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Compare methods")
        self.window_, self.analysis, self.controls = window, analysis, controls
        self.methods = QListWidget()
        self.methods.setMaximumWidth(180)
        self.methods.itemChanged.connect(lambda _i: self.rebuild())
        self.scale = QLabel()
        self.scale.setObjectName("shared-scale")
        self.grid = QGridLayout()
        self.grid.setSpacing(2)
        self.panes: list[ComparePane] = []
        self.range = (0.0, 1.0)
        self._syncing = False
        side = QVBoxLayout()
        side.addWidget(QLabel("Methods"))
        side.addWidget(self.methods, 1)
        side.addWidget(self.scale)
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
        checked = {self.methods.item(i).text() for i in range(self.methods.count())
                   if self.methods.item(i).checkState() == Qt.CheckState.Checked}
        self.methods.blockSignals(True)
        self.methods.clear()
        for name in available:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if (name in checked or not checked) else Qt.CheckState.Unchecked)
            self.methods.addItem(item)
        self.methods.blockSignals(False)

    def chosen(self) -> list[str]:
        return [self.methods.item(i).text() for i in range(self.methods.count())
                if self.methods.item(i).checkState() == Qt.CheckState.Checked]

    def refresh(self) -> None:
        if self.isVisible():
            self._fill_methods()
            self.rebuild()

    def rebuild(self) -> None:
        """Lay out GT + one pane per chosen method for the current image, on one shared colour range."""
        for pane in self.panes:
            pane.setParent(None)
            pane.deleteLater()
        self.panes = []
        record, display = self.window_.current, self.window_.canvas.display
        if record is None or display is None:
            return
        width, height = display.size
        results = {name: self.analysis.result(record, name) for name in self.chosen()}
        results = {name: result for name, result in results.items() if result is not None}
        ranges = [(float(r.anomaly_map.min()), float(r.anomaly_map.max())) for r in results.values()]
        mode = self.controls.normalisation()
        self.range = colour_range("fixed" if mode == "fixed" else "category", None, ranges,
                                  self.controls.fixed_range())
        self.scale.setText(f"shared colour scale\n{self.range[0]:.4g} … {self.range[1]:.4g}\n"
                           f"({self.controls.colormap.currentText()})")
        gt = ComparePane("ground truth")
        document = self.window_.canvas.document
        if document is not None:
            gt.mask.set_mask(document.mask)
        self.panes.append(gt)
        lut = self.controls.lut()
        for name, result in results.items():
            pane = ComparePane(f"{name}  score {result.score:.4g}")
            pane.heat.set_heatmap(result.anomaly_map, (width, height), *self.range, lut, 0.65)
            self.panes.append(pane)
        columns = 2 if len(self.panes) <= 4 else 3
        for position, pane in enumerate(self.panes):
            pane.image.set_display(display)
            pane.set_scene_size(width, height)
            pane.view_changed.connect(self._sync)
            self.grid.addWidget(pane, position // columns, position % columns)
        for pane in self.panes:
            pane.show()
            pane.fit(width, height)

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
        self.rebuild()
