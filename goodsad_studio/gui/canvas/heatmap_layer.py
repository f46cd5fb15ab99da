"""The heatmap over the photo: a colour-mapped anomaly map, the thresholded contour and the TP/FP/FN overlay.

The map is drawn at the resolution the cache stores (at most 512 px), stretched smoothly over the native image
rectangle; the contour arrives as outlines in map pixels and is scaled the same way; the TP/FP/FN labels are at
native resolution (they come from the per-image metrics) and are drawn with sharp pixels. Sits above the photo and
below the mask fill and the outlines, so the ground truth stays on top.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from goodsad_studio.metrics.per_image import LABEL_FN, LABEL_FP, LABEL_TP

LABEL_COLOURS = {LABEL_TP: (0, 200, 83), LABEL_FP: (229, 57, 53), LABEL_FN: (41, 121, 255)}
CONTOUR = QColor(255, 235, 59)


def colourise(anomaly_map: np.ndarray, low: float, high: float, lut: np.ndarray) -> np.ndarray:
    """``uint8`` RGB of ``anomaly_map`` through a 256-entry ``lut`` over [low, high]."""
    scaled = np.clip((anomaly_map - low) * (255.0 / max(high - low, 1e-12)), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(lut[scaled])


def label_image(labels: np.ndarray, opacity: float = 0.55) -> QImage:
    """An ARGB32 premultiplied image of a TP/FP/FN label map (TN transparent)."""
    alpha = round(opacity * 255)
    table = np.zeros(4, np.uint32)
    for label, (r, g, b) in LABEL_COLOURS.items():
        r, g, b = (round(c * alpha / 255) for c in (r, g, b))
        table[label] = (alpha << 24) | (r << 16) | (g << 8) | b
    pixels = np.ascontiguousarray(table[labels])
    image = QImage(
        pixels.data, pixels.shape[1], pixels.shape[0], pixels.strides[0], QImage.Format.Format_ARGB32_Premultiplied
    )
    return image.copy()


class HeatmapLayer(QGraphicsItem):
    def __init__(self) -> None:
        super().__init__()
        self.setZValue(0.5)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self._size = (0, 0)
        self._heat: QImage | None = None
        self._rgb: np.ndarray | None = None
        self._labels: QImage | None = None
        self._contour = QPainterPath()
        self.opacity_ = 0.5
        self.show_heat = True
        self.show_labels = True
        self.range = (0.0, 1.0)

    def set_heatmap(
        self,
        anomaly_map: np.ndarray | None,
        native_size: tuple[int, int],
        low: float,
        high: float,
        lut: np.ndarray,
        opacity: float,
    ) -> None:
        """Show ``anomaly_map`` (any resolution) over an image of ``native_size`` (width, height); None hides it."""
        if native_size != self._size:
            self.prepareGeometryChange()
            self._size = native_size
        self.opacity_, self.range = opacity, (low, high)
        if anomaly_map is None:
            self._heat = self._rgb = None
            self._contour = QPainterPath()
            self._labels = None
        else:
            self._rgb = colourise(anomaly_map, low, high, lut)
            h, w = self._rgb.shape[:2]
            self._heat = QImage(self._rgb.data, w, h, self._rgb.strides[0], QImage.Format.Format_RGB888)
        self.update()

    def set_contours(self, contours: list[np.ndarray], map_shape: tuple[int, int]) -> None:
        """Outlines in map pixels (from ``engine.inspect.threshold_contours``) of a map of ``map_shape``."""
        path = QPainterPath()
        if contours and self._size[0]:
            sx, sy = self._size[0] / map_shape[1], self._size[1] / map_shape[0]
            for contour in contours:
                path.addPolygon(QPolygonF([QPointF(x * sx, y * sy) for x, y in contour]))
                path.closeSubpath()
        self._contour = path
        self.update()

    @property
    def contour(self) -> QPainterPath:
        return self._contour

    def set_labels(self, labels: np.ndarray | None) -> None:
        self._labels = label_image(labels) if labels is not None else None
        self.update()

    @property
    def native_size(self) -> tuple[int, int]:
        """(width, height) of the image the heatmap lies over."""
        return self._size

    @property
    def has_heatmap(self) -> bool:
        return self._heat is not None

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(0, 0, *self._size)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        rect = QRectF(0, 0, *self._size)
        if self._heat is not None and self.show_heat:
            painter.save()
            painter.setOpacity(self.opacity_)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(rect, self._heat)
            painter.restore()
        if self._labels is not None and self.show_labels:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.drawImage(rect, self._labels)
        if not self._contour.isEmpty():
            pen = QPen(CONTOUR, 2)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(self._contour)
