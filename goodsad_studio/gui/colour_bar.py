"""A colour bar for heatmaps: the colormap's gradient with the raw score range it spans (low and high ticks) and,
optionally, the threshold's tick; and a legend that adds what happens to scores outside that range.

A heatmap is drawn by clipping each score to the [low, high] range and looking its colour up
(``canvas.heatmap_layer.colourise``): a score above ``high`` shows at the top colour, one below ``low`` at the
bottom colour, so a bright patch may be "at least high" rather than "high". :class:`ScaleLegend` says how many of
the shown map's pixels are clipped that way (each map pixel covers the same share of the photo, so this is also the
share of the photo's area).

:class:`HeatmapScaleLegend` follows the main window's heatmap (range, colormap, threshold) for the
"Heatmap and image metrics" dock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

BAR_HEIGHT = 12
TICK = 4
THRESHOLD_COLOUR = QColor(0, 188, 212)


def number(value: float) -> str:
    return f"{value:.4g}"


@dataclass(frozen=True)
class ClippedPixels:
    """How many of a map's ``total`` pixels lie ``below`` / ``above`` the colour range (drawn at the end colours)."""

    below: int
    above: int
    total: int

    @classmethod
    def of(cls, values: np.ndarray, low: float, high: float) -> ClippedPixels:
        values = np.asarray(values)
        return cls(int(np.count_nonzero(values < low)), int(np.count_nonzero(values > high)), int(values.size))

    def note(self) -> str:
        """One sentence: what clipping does, and how much of this image it affects."""
        if self.total == 0 or (self.below == 0 and self.above == 0):
            return "Every pixel of this image lies inside the range shown."
        parts = []
        if self.above:
            parts.append(f"{_percent(self.above, self.total)} of this image's pixels lie above it (at the top colour)")
        if self.below:
            whose = "" if self.above else " of this image's pixels"
            parts.append(f"{_percent(self.below, self.total)}{whose} lie below it (at the bottom colour)")
        return "Scores outside the range are clipped to the end colours: " + "; ".join(parts) + "."


def _percent(count: int, total: int) -> str:
    share = 100.0 * count / total
    return "< 0.1 %" if share < 0.05 else f"{share:.1f} %"


class ColourBar(QWidget):
    """A horizontal gradient of a 256-entry LUT from ``low`` (left) to ``high`` (right), their values under it and,
    when set, the threshold as a tick with its value above the bar (at the bar's end, with an arrow, when it lies
    outside the range)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.low, self.high = 0.0, 1.0
        self.threshold: float | None = None
        self._image: QImage | None = None
        self._lut: np.ndarray | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(120)
        line = self.fontMetrics().height()
        self.setFixedHeight(2 * line + BAR_HEIGHT + 2 * TICK)

    def set_scale(self, lut: np.ndarray, low: float, high: float, threshold: float | None = None) -> None:
        self.low, self.high, self.threshold = float(low), float(high), threshold
        self._lut = np.ascontiguousarray(np.asarray(lut, dtype=np.uint8)[:, :3])
        row = self._lut.reshape(1, -1, 3)  # one row of 256 colours
        self._image = QImage(row.data, row.shape[1], 1, row.strides[0], QImage.Format.Format_RGB888).copy()
        self.update()

    def clear(self) -> None:
        self._image = self._lut = None
        self.threshold = None
        self.update()

    def tick_texts(self) -> dict[str, str]:
        """The texts the bar shows: ``low``, ``high`` and (when set) ``threshold``; empty without a scale."""
        if self._image is None:
            return {}
        texts = {"low": number(self.low), "high": number(self.high)}
        if self.threshold is not None:
            texts["threshold"] = f"threshold {self._threshold_text()}"
        return texts

    def _threshold_text(self) -> str:
        assert self.threshold is not None
        text = number(self.threshold)
        if self.threshold > self.high:
            return f"{text} ▸"
        if self.threshold < self.low:
            return f"◂ {text}"
        return text

    def threshold_fraction(self) -> float | None:
        """Where the threshold tick sits along the bar, 0 (low) to 1 (high), clamped to the bar."""
        if self.threshold is None:
            return None
        return min(1.0, max(0.0, (self.threshold - self.low) / max(self.high - self.low, 1e-12)))

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        line = self.fontMetrics().height()
        bar = QRectF(4, line + TICK, self.width() - 8, BAR_HEIGHT)
        texts = self.tick_texts()
        if self._image is None:
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(bar, Qt.AlignmentFlag.AlignCenter, "no heatmap shown")
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(bar, self._image)
        painter.setPen(QPen(self.palette().windowText().color(), 1))
        painter.drawRect(bar)
        below = QRectF(0, bar.bottom() + TICK, self.width(), line)
        painter.drawText(below, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, texts["low"])
        painter.drawText(below, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, texts["high"])
        fraction = self.threshold_fraction()
        if fraction is not None:
            x = bar.left() + fraction * bar.width()
            painter.setPen(QPen(THRESHOLD_COLOUR, 2))
            painter.drawLine(round(x), round(bar.top() - TICK), round(x), round(bar.bottom() + 1))
            text = texts["threshold"]
            width = self.fontMetrics().horizontalAdvance(text) + 4
            left = min(max(0.0, x - width / 2), self.width() - width)
            painter.drawText(QRectF(left, 0, width, line), Qt.AlignmentFlag.AlignCenter, text)


class ScaleLegend(QWidget):
    """A :class:`ColourBar` and, under it, the note on the scores it clips (:meth:`ClippedPixels.note`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = ColourBar()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setObjectName("clipped-note")
        self.note.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.note.setMinimumHeight(3 * self.note.fontMetrics().lineSpacing())  # room to wrap in a narrow pane
        self.clipped: ClippedPixels | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.setSpacing(1)
        layout.addWidget(self.bar)
        layout.addWidget(self.note)

    def show_map(
        self, lut: np.ndarray, low: float, high: float, values: np.ndarray, threshold: float | None = None
    ) -> None:
        """Show the scale [low, high] of ``lut`` and the share of ``values`` (the map drawn) it clips."""
        self.bar.set_scale(lut, low, high, threshold)
        self.clipped = ClippedPixels.of(values, low, high)
        self.note.setText(self.clipped.note())

    def show_nothing(self, text: str = "") -> None:
        self.bar.clear()
        self.clipped = None
        self.note.setText(text)


class HeatmapScaleLegend(ScaleLegend):
    """The legend of the main view's heatmap: redrawn after the overlay redraws the heatmap (its signals are
    connected after the overlay's own, so the overlay has already taken the new range when this reads it)."""

    def __init__(self, window, analysis, controls, overlay, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("main-colour-bar")
        self.overlay, self.controls = overlay, controls
        window.canvas.content_changed.connect(self.refresh)
        controls.changed.connect(self.refresh)
        analysis.results_changed.connect(lambda _c: self.refresh())
        analysis.method_changed.connect(lambda _m: self.refresh())
        analysis.shown_changed.connect(lambda _c: self.refresh())
        analysis.outcome_ready.connect(lambda _o: self.refresh())
        overlay.inspected.connect(lambda _i: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        result = self.overlay.result
        if result is None or not self.controls.show_heat.isChecked():
            self.show_nothing("The colour scale of the heatmap shows here when one is drawn.")
            return
        low, high = self.overlay.layer.range
        self.show_map(self.controls.lut(), low, high, result.anomaly_map, self.controls.threshold())
