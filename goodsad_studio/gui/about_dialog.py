"""Help > About: the studio's version, the versions of what it runs on, and the weights and device of its methods.

The studio's own process never imports torch (the engine's worker does), so the versions of torch and
torchvision are read from the installed packages' metadata (the worker runs the same Python), and the backbone,
the weights file and the device are the ones the Methods panel's description from the engine names.
"""

from __future__ import annotations

import importlib.metadata
import platform
import sys

import cv2
import numpy
import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

import goodsad_studio
from goodsad_studio.engine.contract import MethodDescription
from goodsad_studio.paths import user_data_dir

NOT_DESCRIBED = "not known yet: the Methods panel is asking the engine"


def installed_version(distribution: str) -> str:
    """The installed version of ``distribution`` from its metadata (nothing is imported), or "not installed"."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def about_rows(description: MethodDescription | None, settings_file: str = "") -> list[tuple[str, str]]:
    """(what, value) for every line of the dialog; ``description`` is the Methods panel's (None: not in yet)."""
    rows = [
        ("goodsad-studio", goodsad_studio.__version__),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()}, {sys.executable})"),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("torch", installed_version("torch")),
        ("torchvision", installed_version("torchvision")),
        ("numpy", numpy.__version__),
        ("OpenCV", cv2.__version__),
    ]
    if description is None:
        rows += [("Method", NOT_DESCRIBED), ("Weights source", NOT_DESCRIBED), ("Device", NOT_DESCRIBED)]
    elif description.problem:
        rows += [("Method", description.name), ("Weights source", f"cannot be set up: {description.problem}")]
        rows.append(("Device", description.device or "unknown"))
    else:
        rows += [
            ("Method", f"{description.name} on {description.backbone}"),
            ("Weights source", description.weights_source),
            ("Device", description.device),
        ]
    rows.append(("Data folder", str(user_data_dir())))
    if settings_file:
        rows.append(("Settings file", settings_file))
    return rows


class AboutDialog(QDialog):
    """The table of :func:`about_rows` under the studio's name; Copy puts its lines on the clipboard (for a bug
    report)."""

    def __init__(self, description: MethodDescription | None, settings_file: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About goodsad-studio")
        title = QLabel(
            f"<h2>goodsad-studio {goodsad_studio.__version__}</h2>"
            "<p>Unsupervised visual anomaly detection on supermarket goods: annotate masks, run the methods, "
            "compare them on the GoodsAD paper's metrics.</p>"
        )
        title.setWordWrap(True)
        self.rows = about_rows(description, settings_file)
        self.table = QTableWidget(len(self.rows), 2, self)
        self.table.setObjectName("about-table")
        self.table.horizontalHeader().setVisible(False)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        for row, (what, value) in enumerate(self.rows):
            self.table.setItem(row, 0, QTableWidgetItem(what))
            item = QTableWidgetItem(value)
            item.setToolTip(value)
            self.table.setItem(row, 1, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        buttons.rejected.connect(self.reject)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.setToolTip("Copy these lines to the clipboard (for a bug report)")
        copy.clicked.connect(self.copy)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(780, 420)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.table.resizeRowsToContents()  # once the columns have their widths: a long path wraps, a short not
        rows = self.table.verticalHeader().length() + 2 * self.table.frameWidth()
        self.table.setFixedHeight(min(rows, 640))
        self.resize(self.width(), self.sizeHint().height())

    def value(self, what: str) -> str:
        return dict(self.rows)[what]

    def text(self) -> str:
        """The rows as "what: value" lines."""
        return "\n".join(f"{what}: {value}" for what, value in self.rows)

    def copy(self) -> None:
        QApplication.clipboard().setText(self.text())
