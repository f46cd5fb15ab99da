"""Heatmap display settings: which method's results are shown (the Showing choice: any method with results in the
image's category, whatever the Methods panel is set up to run), colormap (pyqtgraph's), opacity, normalisation (per
image / per category / fixed range), the threshold (slider and exact value), the TP/FP/FN overlay switch, and
"propose mask from heatmap"."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QWidget,
)

COLORMAPS = ("inferno", "viridis", "turbo", "magma", "plasma", "cividis", "CET-L4")
MODES = (
    ("image", "per image"),
    ("category", "per category"),
    ("calibrated", "calibrated (z 0 to 6)"),
    ("fixed", "fixed range"),
)
SLIDER_STEPS = 1000


def lookup_table(name: str) -> np.ndarray:
    """A 256 x 3 ``uint8`` lookup table of a pyqtgraph colormap."""
    return np.asarray(pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=False), dtype=np.uint8)[:, :3]


def _number(decimals: int = 4) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(decimals)
    box.setRange(-1e9, 1e9)
    box.setKeyboardTracking(False)
    return box


class HeatmapControls(QWidget):
    """See the module docstring; ``changed`` fires on every display change, ``propose`` on the button,
    ``show_chosen(method)`` when the user picks another method to show."""

    changed = Signal()
    propose = Signal()
    show_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.showing = QComboBox()
        self.showing.setObjectName("showing")
        self.showing.setPlaceholderText("no results yet")
        self.showing.setToolTip(
            "Whose results the heatmap, the image metrics, triage and exports use for this category: any method "
            "with results here. The Methods panel sets up what the next job runs; it does not change this."
        )
        self.show_heat = QCheckBox("Show heatmap")
        self.show_heat.setChecked(True)
        self.colormap = QComboBox()
        self.colormap.addItems(COLORMAPS)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(55)
        self.mode = QComboBox()
        for value, text in MODES:
            self.mode.addItem(text, value)
        self.low, self.high = _number(), _number()
        self.high.setValue(1.0)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.threshold_box = _number()
        self.threshold_box.setObjectName("threshold")
        self.show_labels = QCheckBox("TP / FP / FN overlay (green / red / blue)")
        self.show_labels.setChecked(True)
        self.show_view = QCheckBox("Crop box and tiles (what the network saw)")
        self.show_view.setObjectName("show-view")
        self.show_view.setToolTip(
            "Draw the object crop (orange) and the tile grid (cyan) the method was given for this photo"
        )
        self.propose_button = QPushButton("Propose mask from heatmap")
        self.propose_button.setToolTip("Replace the mask with the pixels at or above the threshold (undoable)")
        self.span = (0.0, 1.0)
        fixed = QHBoxLayout()
        fixed.addWidget(self.low)
        fixed.addWidget(QLabel("to"))
        fixed.addWidget(self.high)
        threshold = QHBoxLayout()
        threshold.addWidget(self.slider, 1)
        threshold.addWidget(self.threshold_box)
        form = QFormLayout(self)
        form.addRow("Showing", self.showing)
        form.addRow(self.show_heat)
        form.addRow("Colormap", self.colormap)
        form.addRow("Opacity", self.opacity)
        form.addRow("Normalise", self.mode)
        form.addRow("Fixed range", fixed)
        form.addRow("Threshold", threshold)
        form.addRow(self.show_labels)
        form.addRow(self.show_view)
        form.addRow(self.propose_button)
        for signal in (
            self.show_heat.toggled,
            self.colormap.currentTextChanged,
            self.opacity.valueChanged,
            self.mode.currentIndexChanged,
            self.low.valueChanged,
            self.high.valueChanged,
            self.show_labels.toggled,
            self.show_view.toggled,
        ):
            signal.connect(lambda *_: self.changed.emit())
        self.mode.currentIndexChanged.connect(lambda _i: self._fixed_enabled())
        self.slider.valueChanged.connect(self._slid)
        self.threshold_box.valueChanged.connect(self._typed)
        self.propose_button.clicked.connect(self.propose.emit)
        self.showing.currentIndexChanged.connect(lambda _i: self.show_chosen.emit(self.showing.currentText()))
        self._fixed_enabled()

    def _fixed_enabled(self) -> None:
        for box in (self.low, self.high):
            box.setEnabled(self.mode.currentData() == "fixed")

    def set_showing(self, methods: list[str], current: str) -> None:
        """Offer ``methods`` (those with results in the image's category), ``current`` chosen ("" for none);
        ``show_chosen`` does not fire for this."""
        self.showing.blockSignals(True)
        if [self.showing.itemText(i) for i in range(self.showing.count())] != methods:
            self.showing.clear()
            self.showing.addItems(methods)
        self.showing.setCurrentIndex(self.showing.findText(current) if current else -1)
        self.showing.setEnabled(bool(methods))
        self.showing.blockSignals(False)

    # ------------------------------------------------------------------------------------ values
    def lut(self) -> np.ndarray:
        return lookup_table(self.colormap.currentText())

    def normalisation(self) -> str:
        return self.mode.currentData()

    def fixed_range(self) -> tuple[float, float]:
        return self.low.value(), self.high.value()

    def opacity_value(self) -> float:
        return self.opacity.value() / 100.0

    def threshold(self) -> float:
        return self.threshold_box.value()

    def set_threshold(self, value: float) -> None:
        self.threshold_box.setValue(float(value))

    def set_span(self, low: float, high: float) -> None:
        """The score range the slider covers (the threshold value itself is kept)."""
        self.span = (low, high)
        step = max((high - low) / SLIDER_STEPS, 1e-9)
        self.threshold_box.setSingleStep(step * 10)
        self._place_slider()

    def _place_slider(self) -> None:
        low, high = self.span
        position = round((self.threshold() - low) / max(high - low, 1e-12) * SLIDER_STEPS)
        self.slider.blockSignals(True)
        self.slider.setValue(max(0, min(SLIDER_STEPS, position)))
        self.slider.blockSignals(False)

    def _slid(self, position: int) -> None:
        low, high = self.span
        self.threshold_box.blockSignals(True)
        self.threshold_box.setValue(low + (high - low) * position / SLIDER_STEPS)
        self.threshold_box.blockSignals(False)
        self.changed.emit()

    def _typed(self, _value: float) -> None:
        self._place_slider()
        self.changed.emit()
