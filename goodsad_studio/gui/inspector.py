"""Per-image metrics beside the image: score and rank, pixel AUROC / AP, PRO, IoU / Dice at the threshold and
the pixel counts. Shows only what ``engine.inspect.inspect_image`` returned."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from goodsad_studio.engine.cache import CATEGORY_SCALE
from goodsad_studio.engine.inspect import ImageInspection

FIELDS = (
    ("method", "Method"),
    ("score", "Image score"),
    ("rank", "Rank in category"),
    ("pixel_auroc", "Pixel AUROC"),
    ("pixel_ap", "Pixel AP"),
    ("pro", "PRO (AUPRO@0.3)"),
    ("threshold", "Threshold"),
    ("iou", "IoU"),
    ("dice", "Dice"),
    ("counts", "TP / FP / FN"),
)


def percent(value: float) -> str:
    return "—" if not math.isfinite(value) else f"{100 * value:.1f} %"


SHOWN_NEIGHBOURS = 5


def compared_text(neighbours: tuple[str, ...]) -> str:
    """``001003, 001007, … (+4 more)`` from record keys: the photos' names, most similar first."""
    if not neighbours:
        return "all training photos"
    names = [key.rsplit("/", 1)[-1] for key in neighbours]
    text = ", ".join(names[:SHOWN_NEIGHBOURS])
    return text + (f", … (+{len(names) - SHOWN_NEIGHBOURS} more)" if len(names) > SHOWN_NEIGHBOURS else "")


def scale_text(calibrated: str | None) -> str:
    """``z-score of goods 003's normal photos`` for a calibrated result, ``raw`` otherwise."""
    if calibrated is None:
        return "raw (uncalibrated)"
    if calibrated == CATEGORY_SCALE:
        return "z-score of the category's normal photos"
    return f"z-score of goods {calibrated}'s normal photos"


class ImageMetricsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.values: dict[str, QLabel] = {}
        for key, title in FIELDS:
            label = QLabel("—")
            label.setObjectName(f"metric-{key}")
            self.values[key] = label
            form.addRow(title, label)
        self.compared = QLabel("—")
        self.compared.setObjectName("metric-compared")
        self.compared.setWordWrap(True)
        self.compared.setToolTip(
            "The training photos a goods-aware model scored this photo against, most similar first"
        )
        form.addRow("Compared with", self.compared)
        self.scale = QLabel("—")
        self.scale.setObjectName("metric-scale")
        self.scale.setToolTip(
            "Calibrated models: whose normal scores the score and map are z-scores of (0: as anomalous as a typical "
            "normal photo of that goods at its most anomalous spot; 3 and more: unusual for it)"
        )
        form.addRow("Score scale", self.scale)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        form.addRow(self.note)
        self.inspection: ImageInspection | None = None

    def show_none(self, note: str) -> None:
        self.inspection = None
        for label in self.values.values():
            label.setText("—")
        self.compared.setText("—")
        self.scale.setText("—")
        self.note.setText(note)

    def show_compared(self, neighbours: tuple[str, ...], calibrated: str | None = None) -> None:
        """The training photos (record keys) the result was compared with (none: all of them), and the goods
        whose scale a calibrated result is on."""
        self.compared.setText(compared_text(neighbours))
        self.scale.setText(scale_text(calibrated))

    def display(self, inspection: ImageInspection, method: str) -> None:
        self.inspection = inspection
        m = inspection.metrics
        texts = {
            "method": method,
            "score": f"{inspection.score:.4g}",
            "rank": f"{inspection.rank} of {inspection.of}",
            "pixel_auroc": percent(m.pixel_auroc),
            "pixel_ap": percent(m.pixel_ap),
            "pro": percent(m.pro),
            "threshold": f"{m.threshold:.4g}",
            "iou": percent(m.iou),
            "dice": percent(m.dice),
            "counts": f"{m.tp} / {m.fp} / {m.fn}",
        }
        for key, text in texts.items():
            self.values[key].setText(text)
        self.note.setText(
            ""
            if math.isfinite(m.pixel_auroc)
            else "Pixel AUROC, AP and PRO need a mask with both anomalous and normal pixels."
        )
