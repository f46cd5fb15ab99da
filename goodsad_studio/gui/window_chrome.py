"""Menus and the tool bar of the main window, laid out from the command table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QMainWindow, QMenu, QSlider, QToolBar

from goodsad_studio.gui.commands import COMMANDS, GROUPS

MENU_TITLES = {
    "File": "&File",
    "Edit": "&Edit",
    "Tools": "&Tools",
    "View": "&View",
    "Navigate": "&Navigate",
    "Image": "&Image",
    "Analysis": "&Analysis",
    "Help": "&Help",
}
TOOLBAR = (
    "save",
    "undo",
    "redo",
    None,
    "tool_select",
    "tool_polygon",
    "tool_hole",
    "tool_brush",
    "tool_eraser",
    None,
    "fit",
    "actual",
    None,
    "overlay",
    "outline",
)


def build_menus(window: QMainWindow, actions: dict[str, QAction]) -> QMenu:
    """One menu per command group; returns the (empty) File > Open recent submenu for the caller to fill."""
    recent = None
    for group in GROUPS:
        menu = window.menuBar().addMenu(MENU_TITLES[group])
        for command in COMMANDS:
            if command.group != group:
                continue
            if command.id == "quit":
                recent = menu.addMenu("Open &recent")
                menu.addSeparator()
            menu.addAction(actions[command.id])
        window.addActions(menu.actions())
    assert recent is not None  # the File group always holds "quit"
    return recent


def fill_recent(menu: QMenu, recent: list[Path], open_root: Callable[[Path], object]) -> None:
    menu.clear()
    for root in recent:

        def open_recent(r: Path = root) -> object:
            return open_root(r)

        menu.addAction(str(root), open_recent)
    menu.setEnabled(bool(recent))


class ToolControls:
    """The tool bar: commands, the mask fill opacity slider and the brush radius box."""

    def __init__(self, window: QMainWindow, actions: dict[str, QAction]) -> None:
        self.bar = QToolBar("Tools", window)
        self.bar.setObjectName("tools-toolbar")
        self.bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for command_id in TOOLBAR:
            if command_id is None:
                self.bar.addSeparator()
            else:
                self.bar.addAction(actions[command_id])
        self.bar.addSeparator()
        self.bar.addWidget(QLabel(" Fill ", self.bar))
        self.opacity = QSlider(Qt.Orientation.Horizontal, self.bar)
        self.opacity.setRange(0, 100)
        self.opacity.setFixedWidth(110)
        self.opacity.setToolTip("Opacity of the mask fill")
        self.bar.addWidget(self.opacity)
        self.bar.addWidget(QLabel("  Brush r ", self.bar))
        self.radius = QDoubleSpinBox(self.bar)
        self.radius.setRange(0.0, 500.0)
        self.radius.setDecimals(1)
        self.radius.setSuffix(" px")
        self.radius.setToolTip("Brush and eraser radius in image pixels ([ and ], or Shift+wheel)")
        self.bar.addWidget(self.radius)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.bar)
