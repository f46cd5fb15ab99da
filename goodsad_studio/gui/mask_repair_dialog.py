"""The preview of a mask repair: the mask as its file holds it beside the repaired mask, the threshold to binarise
at, what changes, and Apply / Cancel.

It repairs the mask the studio refused, with the core's rules (:mod:`goodsad_studio.dataset.mask_repair`): a mask
that is not binary is binarised at the threshold chosen here (every value above it becomes foreground); a mask of
another size is scaled to its image by nearest neighbour (and binarised too when it is not binary either). The file
is read once; each threshold is tried in memory. The repaired pixels are drawn in colours that say how they
changed: white stays foreground, black stays background, green became foreground, red became background. Apply
writes through :func:`~goodsad_studio.dataset.mask_repair.apply_repair` (atomic, the original kept in the dataset's
trash); a refusal (read-only, changed on disk since) shows in the dialog, which stays open.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from goodsad_studio.dataset.edits import trash_root
from goodsad_studio.dataset.imageio import read_mask_values
from goodsad_studio.dataset.index import DatasetIndex
from goodsad_studio.dataset.mask_repair import (
    DEFAULT_THRESHOLD,
    MAX_THRESHOLD,
    NOT_BINARY,
    MaskProblem,
    MaskRepair,
    apply_repair,
    file_digest,
    repair_values,
    shown_values,
)
from goodsad_studio.errors import StudioError

PREVIEW_SIDE = 340  # pixels of the longer side of each preview
ERROR_STYLE = "color: #c62828;"
STAYS_FOREGROUND = (255, 255, 255)
STAYS_BACKGROUND = (0, 0, 0)
TO_FOREGROUND = (67, 200, 90)
TO_BACKGROUND = (214, 48, 49)


Box = tuple[float, float, float, float]  # left, top, right, bottom as fractions of the width and height
WHOLE: Box = (0.0, 0.0, 1.0, 1.0)
FOCUS_MARGIN = 0.35  # of the foreground's extent, on each side, when zoomed to the mask


def focus_box(values: np.ndarray) -> Box:
    """The part of the picture around the mask's non-zero pixels (a square, with a margin), as fractions: the same
    fractions show the same place in a mask of another size. The whole picture when it is empty."""
    rows = np.flatnonzero(values.any(axis=1))
    cols = np.flatnonzero(values.any(axis=0))
    if not len(rows):
        return WHOLE
    height, width = values.shape
    side = max(rows[-1] + 1 - rows[0], cols[-1] + 1 - cols[0]) * (1 + 2 * FOCUS_MARGIN)
    side = min(max(side, 16), height, width)
    centre_y, centre_x = (rows[0] + rows[-1] + 1) / 2, (cols[0] + cols[-1] + 1) / 2
    top = min(max(centre_y - side / 2, 0), height - side)
    left = min(max(centre_x - side / 2, 0), width - side)
    return (left / width, top / height, (left + side) / width, (top + side) / height)


def _crop(array: np.ndarray, box: Box) -> np.ndarray:
    height, width = array.shape[:2]
    left, top = int(np.floor(box[0] * width)), int(np.floor(box[1] * height))
    right, bottom = max(int(np.ceil(box[2] * width)), left + 1), max(int(np.ceil(box[3] * height)), top + 1)
    return np.ascontiguousarray(array[top:bottom, left:right])


def gray_pixmap(values: np.ndarray, box: Box = WHOLE, side: int = PREVIEW_SIDE) -> QPixmap:
    """``uint8`` values (the part in ``box``) as a grey picture whose longer side is ``side``, pixels kept sharp."""
    values = _crop(values, box)
    height, width = values.shape
    image = QImage(values.data, width, height, values.strides[0], QImage.Format.Format_Grayscale8).copy()
    return _fit(image, side)


def change_pixmap(repair: MaskRepair, box: Box = WHOLE, side: int = PREVIEW_SIDE) -> QPixmap:
    """The repaired mask (the part in ``box``) in colours saying how each pixel changed (see the module
    docstring); at another size than the file's every pixel is new, so it is drawn white on black."""
    mask = repair.mask
    rgb = np.zeros((*mask.shape, 3), np.uint8)
    rgb[mask] = STAYS_FOREGROUND
    if repair.resized is None:
        was = repair.original
        rgb[mask & (was != 255)] = TO_FOREGROUND
        rgb[~mask & (was != 0)] = TO_BACKGROUND
    rgb = _crop(rgb, box)
    height, width = rgb.shape[:2]
    image = QImage(rgb.data, width, height, rgb.strides[0], QImage.Format.Format_RGB888).copy()
    return _fit(image, side)


def _fit(image: QImage, side: int) -> QPixmap:
    return QPixmap.fromImage(image).scaled(
        side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
    )


class MaskRepairDialog(QDialog):
    """Preview and apply the repair of ``problem``'s mask (binarise or resize, from its ``kind``)."""

    def __init__(
        self,
        index: DatasetIndex,
        problem: MaskProblem,
        parent: QWidget | None = None,
        *,
        threshold: int = DEFAULT_THRESHOLD,
    ) -> None:
        super().__init__(parent)
        self.index = index
        self.problem = problem
        self.path = problem.path
        self.kept: Path | None = None  # where the original went once applied
        self.digest = file_digest(self.path)  # raises the core's error naming the file: the caller reports it
        self.original = read_mask_values(self.path)
        self.binarising = problem.kind == NOT_BINARY or bool(np.any((self.original != 0) & (self.original != 255)))
        self.repair: MaskRepair | None = None
        binarise = problem.kind == NOT_BINARY
        self.setWindowTitle("Binarise mask" if binarise else "Resize the mask to the image")
        self._build(threshold)
        self._update()

    def _build(self, threshold: int) -> None:
        height, width = self.original.shape
        target_h, target_w = self.problem.image_shape
        heading = QLabel(f"{self.path}\n{self.problem.message}", self)
        heading.setWordWrap(True)
        heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.before = QLabel(self)
        self.after = QLabel(self)
        for label in (self.before, self.after):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setMinimumSize(PREVIEW_SIDE, PREVIEW_SIDE)
            label.setStyleSheet("background: #3a3a3a;")
        self.focus = focus_box(self.original)
        self.zoom = QCheckBox("Zoom to the mask", self)
        self.zoom.setToolTip("Show only the part around the mask's non-zero pixels, so single pixels can be seen")
        self.zoom.setChecked(self.focus != WHOLE)
        self.zoom.setEnabled(self.focus != WHOLE)
        self.zoom.toggled.connect(lambda _on: self._update())
        self.before_title = QLabel(self)
        self.after_title = QLabel(self)
        panes = QGridLayout()
        panes.addWidget(self.before_title, 0, 0)
        panes.addWidget(self.after_title, 0, 1)
        panes.addWidget(self.before, 1, 0)
        panes.addWidget(self.after, 1, 1)

        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, MAX_THRESHOLD)
        self.spin = QSpinBox(self)
        self.spin.setRange(0, MAX_THRESHOLD)
        self.spin.setToolTip("Foreground is every value above this (0: every non-zero pixel)")
        self.slider.setValue(threshold)
        self.spin.setValue(threshold)
        self.slider.valueChanged.connect(self.spin.setValue)
        self.spin.valueChanged.connect(self.slider.setValue)
        self.spin.valueChanged.connect(lambda _value: self._update())
        self.threshold_row = QWidget(self)
        row = QHBoxLayout(self.threshold_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Foreground is every value above", self.threshold_row))
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        self.threshold_row.setVisible(self.binarising)

        legend = (
            "white: stays foreground, black: stays background, green: becomes foreground, red: becomes background"
            if self.problem.kind == NOT_BINARY
            else f"Scaled to the image's {target_w}x{target_h}: white is foreground"
        )
        self.legend = QLabel(legend, self)
        self.legend.setWordWrap(True)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        trash = QLabel(
            f"Apply rewrites the mask file; the original is first copied into the dataset's trash "
            f"({trash_root(self.index)}), from where it can be put back by hand.",
            self,
        )
        trash.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setVisible(False)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, parent=self)
        self.apply_button = self.buttons.addButton("Apply", QDialogButtonBox.ButtonRole.AcceptRole)
        self.apply_button.setDefault(True)
        self.buttons.accepted.connect(self.apply)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(panes)
        layout.addWidget(self.zoom)
        layout.addWidget(self.threshold_row)
        layout.addWidget(self.legend)
        layout.addWidget(self.summary)
        layout.addWidget(trash)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    @property
    def threshold(self) -> int | None:
        """The threshold the repair binarises at, or None when the mask is binary already (a resize only)."""
        return self.spin.value() if self.binarising else None

    def set_threshold(self, value: int) -> None:
        self.spin.setValue(value)

    def _update(self) -> None:
        try:
            repair = repair_values(
                self.path,
                self.digest,
                self.original,
                image_shape=self.problem.image_shape,
                threshold=self.threshold,
            )
        except StudioError as exc:  # not expected (a threshold is always given to a non-binary mask): say it
            self.repair = None
            self._show_error(str(exc))
            self.apply_button.setEnabled(False)
            return
        self.repair = repair
        box = self.focus if self.zoom.isChecked() else WHOLE
        zoomed = " (zoomed)" if box != WHOLE else ""
        original_h, original_w = self.original.shape
        height, width = repair.mask.shape
        self.before_title.setText(f"As it is: {original_w}x{original_h}{zoomed}")
        if self.threshold is not None and repair.resized is None:
            self.after_title.setText(f"Binarised above {self.threshold}: {width}x{height}{zoomed}")
        elif self.threshold is not None:
            self.after_title.setText(f"Resized and binarised above {self.threshold}: {width}x{height}{zoomed}")
        else:
            self.after_title.setText(f"Resized: {width}x{height}{zoomed}")
        self.before.setPixmap(gray_pixmap(self.original, box))
        self.after.setPixmap(change_pixmap(repair, box))
        self.summary.setText(self._summary(repair))
        self.apply_button.setEnabled(repair.changes)

    def _summary(self, repair: MaskRepair) -> str:
        """What Apply changes, changed pixels first; then the values found and the foreground before and after."""
        before, after = int(np.count_nonzero(repair.original)), int(np.count_nonzero(repair.mask))
        values = f"Values found: {shown_values(repair.values)}"
        area = f"foreground {before} of {repair.original.size} pixels before, {after} of {repair.mask.size} after"
        binarised = repair.binarised
        if repair.resized is not None:
            head = f"{repair.resized.summary[:1].upper()}{repair.resized.summary[1:]}."
            if binarised is not None and binarised.changed_pixels:
                head += f" Then {binarised.changed_pixels} of its pixels are binarised."
            return f"{head}\n{values}; {area}."
        if binarised is None or not binarised.changed_pixels:
            return f"Nothing to change: the mask is binary already. {values}."
        return (
            f"{binarised.changed_pixels} pixels change: {binarised.to_foreground} become foreground (255), "
            f"{binarised.to_background} background (0).\n{values}; {area}."
        )

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)

    def apply(self) -> None:
        """Write the repaired mask (the original to the trash) and close; a refusal shows here, the dialog stays."""
        if self.repair is None:
            return
        try:
            self.kept = apply_repair(self.index, self.repair)
        except StudioError as exc:
            self._show_error(str(exc))
            return
        self.accept()
