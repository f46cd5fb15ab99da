"""The strip across the top of the canvas that says why the mask tools are off for this image (a good image has no
mask to save), with a one-click "Mark as defective..." where that is the way out."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

MARGIN = 10  # pixels between the banner and the canvas edges
STYLE = """
#mask-lock-banner { background: rgba(40, 42, 46, 235); border: 1px solid #f9a825; border-radius: 5px; }
#mask-lock-banner QLabel { color: #f1f3f4; }
"""


class LockBanner(QFrame):
    """Hidden while the mask can be edited; :meth:`show_lock` shows the reason and, when offered, the button whose
    click emits :attr:`mark_defective`."""

    mark_defective = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("mask-lock-banner")
        self.setStyleSheet(STYLE)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.button = QPushButton("Mark as defective...", self)
        self.button.setToolTip(
            "Move this image to test/<defect type> (pick a type or type a new one); then its mask can be drawn"
        )
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.clicked.connect(self.mark_defective.emit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        layout.setSpacing(12)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()

    def show_lock(self, reason: str | None, offer_mark_defective: bool = False) -> None:
        """Show ``reason`` (None hides the banner) and the Mark-as-defective button when it is offered."""
        if reason is None:
            self.hide()
            return
        self.label.setText(reason)
        self.button.setVisible(offer_mark_defective)
        self.show()
        self.raise_()
        self.place()

    def place(self) -> None:
        """Lay the banner across the top of the parent (called again on every resize of the canvas)."""
        parent = self.parentWidget()
        if parent is None or self.isHidden():
            return
        width = max(200, parent.width() - 2 * MARGIN)
        height = self.heightForWidth(width) if self.hasHeightForWidth() else self.sizeHint().height()
        self.setGeometry(MARGIN, MARGIN, width, max(height, self.minimumSizeHint().height()))
