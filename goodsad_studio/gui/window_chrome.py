"""Menus and the tool bar of the main window, laid out from the command table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QDoubleSpinBox, QLabel, QMainWindow, QMenu, QSlider, QToolBar

from goodsad_studio.gui.canvas.tools.wand_options import WandOptions
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
# the assisted outlining tools: a second row (the first is full at the guide's 1500 px), with the wand's options
OUTLINING_TOOLBAR = ("tool_grabcut", "tool_live_wire", "tool_wand", "tool_heat_seed")
# the commands that change or save one mask: off while the canvas locks mask editing (a good image has no mask)
MASK_EDIT_COMMANDS = (
    "save",
    "tool_select",
    "tool_polygon",
    "tool_hole",
    "tool_brush",
    "tool_eraser",
    "tool_grabcut",
    "tool_live_wire",
    "tool_wand",
    "tool_heat_seed",
    "undo",
    "redo",
    "delete",
    "propose",
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


def list_panels(window: QMainWindow, windows: list[QAction]) -> QMenu:
    """Add every dock and tool bar of ``window`` (their show/hide toggles, so a closed one can be reopened) and
    the ``windows`` actions (compare, metrics) to the View menu, which it returns. Called once every dock exists."""
    view = next(menu for menu in window.menuBar().findChildren(QMenu) if menu.title() == MENU_TITLES["View"])
    view.addSeparator()
    view.addSection("Panels")
    for dock in window.findChildren(QDockWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
        toggle = dock.toggleViewAction()
        toggle.setStatusTip(f"Show or hide the {dock.windowTitle()} panel")
        view.addAction(toggle)
    for bar in window.findChildren(QToolBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
        toggle = bar.toggleViewAction()
        toggle.setText(f"{bar.windowTitle()} tool bar")
        toggle.setStatusTip("Show or hide the tool bar")
        view.addAction(toggle)
    view.addSection("Windows")
    for action in windows:
        view.addAction(action)
    return view


def fill_recent(menu: QMenu, recent: list[Path], open_root: Callable[[Path], object]) -> None:
    menu.clear()
    for root in recent:

        def open_recent(r: Path = root) -> object:
            return open_root(r)

        menu.addAction(str(root), open_recent)
    menu.setEnabled(bool(recent))


class ToolControls:
    """The tool bars: commands, the mask fill opacity slider and the brush radius box; below, the outlining tools
    and the magic wand's options. :meth:`set_mask_editing` turns the mask-changing commands off and on (in the
    menus too: they share the actions)."""

    def __init__(self, window: QMainWindow, actions: dict[str, QAction]) -> None:
        self.mask_actions = [actions[command_id] for command_id in MASK_EDIT_COMMANDS]
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
        window.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        self.outlining = QToolBar("Outlining", window)
        self.outlining.setObjectName("outlining-toolbar")
        self.outlining.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for command_id in OUTLINING_TOOLBAR:
            self.outlining.addAction(actions[command_id])
        self.outlining.addSeparator()
        self.wand = WandOptions(self.outlining)
        self.outlining.addWidget(self.wand)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.outlining)

    def set_mask_editing(self, enabled: bool) -> None:
        """Enable or disable Save, the tools, undo, redo, delete and propose-from-heatmap (and the brush radius
        box and the wand's options); Save all stays, for the other images' edits."""
        for action in self.mask_actions:
            action.setEnabled(enabled)
        self.radius.setEnabled(enabled)
        self.wand.setEnabled(enabled)
