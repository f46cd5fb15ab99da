"""The status bar's permanent fields: the pixel under the cursor, the zoom, the tool and the save state; its
tooltip is the message shown now, in full."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from goodsad_studio.gui.canvas import PixelInfo
from goodsad_studio.gui.documents import SaveState

STATE_STYLE = {
    SaveState.SAVED: "background:#2e7d32; color:white;",
    SaveState.UNSAVED: "background:#f9a825; color:#202124;",
    SaveState.AUTOSAVED: "background:#1565c0; color:white;",
}


def pixel_text(info: PixelInfo | None) -> str:
    if info is None:
        return "x -, y -"
    text = f"x {info.x}, y {info.y}"
    if info.rgb is not None:
        r, g, b = info.rgb
        text += f"   RGB {r:3d} {g:3d} {b:3d}" if (r, g, b) != (r, r, r) else f"   value {r:3d}"
    if info.mask is not None:
        text += f"   mask {'1' if info.mask else '0'}"
    return text


class StudioStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.pixel = QLabel(pixel_text(None), self)
        self.pixel.setFont(fixed)
        self.pixel.setMinimumWidth(330)
        self.zoom = QLabel("100 %", self)
        self.zoom.setMinimumWidth(70)
        self.tool = QLabel("", self)
        self.state = QLabel("", self)
        self.state.setMargin(2)
        for label in (self.pixel, self.zoom, self.tool, self.state):
            self.addPermanentWidget(label)
        # a long message (a path, then a reason) is cut where the permanent fields begin: hovering shows it all
        self.messageChanged.connect(self.setToolTip)

    def show_pixel(self, info: PixelInfo | None) -> None:
        self.pixel.setText(pixel_text(info))

    def show_zoom(self, scale: float) -> None:
        self.zoom.setText(f"{scale * 100:.0f} %" if scale >= 0.1 else f"{scale * 100:.1f} %")

    def show_tool(self, label: str, radius: float | None = None) -> None:
        self.tool.setText(label if radius is None else f"{label}  r {radius:g} px")

    def show_state(self, state: SaveState | None, detail: str = "") -> None:
        if state is None:
            self.state.setText("")
            self.state.setStyleSheet("")
            return
        self.state.setText(f" {state.value}{(' ' + detail) if detail else ''} ")
        self.state.setStyleSheet(STATE_STYLE[state] + " border-radius:3px; padding:1px 4px;")
