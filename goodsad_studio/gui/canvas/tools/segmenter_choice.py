"""Which segmenter the GrabCut tool asks: the built-in GrabCut, or a SAM-style ONNX encoder/decoder pair on disk.

The Settings dialog's "Segmenter" group (:class:`SegmenterGroup`) chooses it. A pair is opened when its files are
chosen, so a file that is not a usable model is refused then, with a message naming the file; once accepted the
opened model is the canvas's :attr:`~goodsad_studio.gui.canvas.view.Canvas.segmenter`. At the studio's next start
the stored pair is opened on its first use (:class:`LazyOnnxSegmenter`, on the worker pool), not at start, so a
large encoder costs nothing until the tool needs it. The prompts are the tool's clicks and box.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from goodsad_studio.annotation.assist.prompts import BoxPrompt, Point
from goodsad_studio.annotation.assist.segmenter import OnnxSegmenter, Segmenter
from goodsad_studio.errors import StudioError
from goodsad_studio.gui.settings import StudioSettings

ROLES = ("encoder", "decoder")


class LazyOnnxSegmenter:
    """The stored ONNX pair, opened on the first :meth:`segment` (which runs on the worker pool)."""

    def __init__(self, encoder: Path, decoder: Path, opened: OnnxSegmenter | None = None) -> None:
        self.files = (Path(encoder), Path(decoder))
        self._model = opened
        self._lock = threading.Lock()

    def segment(self, image: np.ndarray, points: Sequence[Point], box: BoxPrompt | None) -> np.ndarray:
        with self._lock:
            if self._model is None:
                self._model = OnnxSegmenter(*self.files)
        return self._model.segment(image, points, box)


def segmenter_of(settings: StudioSettings) -> Segmenter | None:
    """The segmenter the settings choose (None: the built-in GrabCut; also when the pair is not complete)."""
    encoder, decoder = settings.onnx_files
    if settings.segmenter != "onnx" or encoder is None or decoder is None:
        return None
    return LazyOnnxSegmenter(encoder, decoder)


class SegmenterGroup(QGroupBox):
    """The Settings dialog's "Segmenter" group: the choice and the two ONNX files (see the module docstring)."""

    def __init__(self, settings: StudioSettings, parent: QWidget | None = None) -> None:
        super().__init__("Segmenter", parent)
        self.choice = QComboBox()
        self.choice.setObjectName("settings-segmenter")
        self.choice.addItem("built-in GrabCut", "grabcut")
        self.choice.addItem("SAM-style ONNX model (encoder + decoder files)", "onnx")
        self.choice.setToolTip("What the GrabCut box tool (G) asks for the region its box and clicks point at")
        self.files: dict[str, QLineEdit] = {}
        form = QFormLayout(self)
        form.addRow("Segment with", self.choice)
        for role in ROLES:
            line = QLineEdit()
            line.setObjectName(f"settings-onnx-{role}")
            line.setPlaceholderText(
                f"the model's image {role}, .onnx" if role == "encoder" else "its mask decoder, .onnx"
            )
            line.editingFinished.connect(self._edited)
            browse = QPushButton("Browse...")
            browse.clicked.connect(lambda _checked=False, r=role: self._browse(r))
            row = QHBoxLayout()
            row.addWidget(line, 1)
            row.addWidget(browse)
            form.addRow(f"ONNX {role}", row)
            self.files[role] = line
        self.status = QLabel()
        self.status.setObjectName("settings-segmenter-status")
        self.status.setWordWrap(True)
        form.addRow(self.status)
        self.opened: tuple[tuple[Path, Path], OnnxSegmenter] | None = None  # the pair last opened, and its model
        self.choice.currentIndexChanged.connect(lambda _i: self._follow_choice())
        self.choice.setCurrentIndex(max(0, self.choice.findData(settings.segmenter)))
        for role, path in zip(ROLES, settings.onnx_files, strict=True):
            self.files[role].setText(str(path) if path is not None else "")
        self._follow_choice()

    def chosen(self) -> str:
        return str(self.choice.currentData())

    def paths(self) -> tuple[Path | None, Path | None]:
        found = tuple(Path(self.files[r].text().strip()) if self.files[r].text().strip() else None for r in ROLES)
        return found[0], found[1]

    def _follow_choice(self) -> None:
        onnx = self.chosen() == "onnx"
        for line in self.files.values():
            line.setEnabled(onnx)
        if not onnx:
            self.status.setText("GrabCut on a crop around the box: no model needed.")
            self.status.setStyleSheet("")
        else:
            self._edited()

    def _browse(self, role: str) -> None:
        start = self.files[role].text() or str(Path.home())
        name, _filter = QFileDialog.getOpenFileName(
            self, f"The ONNX {role}", start, "ONNX models (*.onnx);;All files (*)"
        )
        if name:
            self.files[role].setText(name)
            self._edited()

    def _edited(self) -> None:
        """Open the pair as soon as both files are named, and say whether it can be used."""
        if self.chosen() != "onnx":
            return
        encoder, decoder = self.paths()
        if encoder is None or decoder is None:
            self._say("Choose the encoder and the decoder file (SAM, MobileSAM, EfficientSAM exported to ONNX).")
            return
        try:
            self.check()
        except StudioError as exc:
            self._say(str(exc), problem=True)
            return
        self._say(f"Ready: {encoder.name} + {decoder.name}; the GrabCut box tool's clicks and box go to this model.")

    def _say(self, text: str, problem: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c62828;" if problem else "")

    def check(self) -> Segmenter | None:
        """The segmenter chosen, opened (None: the built-in GrabCut); raises a :class:`StudioError` naming the file
        that cannot be used."""
        if self.chosen() != "onnx":
            return None
        encoder, decoder = self.paths()
        for role, path in zip(ROLES, (encoder, decoder), strict=True):
            if path is None:
                raise StudioError(f"Segmenter: choose the ONNX {role} file (or choose the built-in GrabCut)")
        assert encoder is not None and decoder is not None
        pair = (encoder, decoder)
        if self.opened is None or self.opened[0] != pair:
            self.opened = (pair, OnnxSegmenter(encoder, decoder))
        return LazyOnnxSegmenter(encoder, decoder, self.opened[1])

    def store(self, settings: StudioSettings) -> None:
        settings.segmenter = self.chosen()
        settings.onnx_files = self.paths()
