"""The canvas's look and tool settings kept in step across the canvas, the tool bar, the status bar and QSettings:
fill opacity, fill and outline visibility, vertex snapping, brush radius, the active tool."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction

from goodsad_studio.gui.canvas import Canvas
from goodsad_studio.gui.canvas.view import step_radius
from goodsad_studio.gui.settings import StudioSettings
from goodsad_studio.gui.status_bar import StudioStatusBar
from goodsad_studio.gui.window_chrome import ToolControls


class CanvasPreferences:
    def __init__(self, settings: StudioSettings, canvas: Canvas, status: StudioStatusBar) -> None:
        self.settings, self.canvas, self.status = settings, canvas, status
        self.controls: ToolControls | None = None
        self.actions: dict[str, QAction] = {}

    def handlers(self) -> dict[str, Callable[..., object]]:
        """Handlers of the view and tool commands (see ``commands.COMMANDS``)."""
        canvas = self.canvas
        return {
            **{f"tool_{name}": (lambda n=name: canvas.set_tool(n)) for name in canvas.tools},
            "radius_up": lambda: canvas.set_brush_radius(step_radius(canvas.brush_radius, True)),
            "radius_down": lambda: canvas.set_brush_radius(step_radius(canvas.brush_radius, False)),
            "snap": self.set_snap,
            "fit": canvas.fit,
            "actual": canvas.actual_size,
            "zoom_in": lambda: canvas.zoom_by(1.25),
            "zoom_out": lambda: canvas.zoom_by(0.8),
            "overlay": self.set_overlay,
            "outline": self.set_outline,
            "undo": canvas.undo,
            "redo": canvas.redo,
            "delete": canvas.delete_selection,
        }

    def bind(self, controls: ToolControls, actions: dict[str, QAction]) -> None:
        """Connect the tool bar and the canvas, then apply the stored settings."""
        self.controls, self.actions = controls, actions
        controls.opacity.valueChanged.connect(self.set_opacity)
        controls.radius.valueChanged.connect(lambda value: self.canvas.set_brush_radius(value))
        self.canvas.tool_changed.connect(lambda _name: self.show_tool())
        self.canvas.radius_changed.connect(self._on_radius)
        s = self.settings
        controls.opacity.setValue(round(s.overlay_opacity * 100))
        self.set_opacity(controls.opacity.value())
        self.canvas.set_brush_radius(s.brush_radius)
        for command_id, value in (
            ("overlay", s.overlay_visible),
            ("outline", s.outline_visible),
            ("snap", s.snap_vertices),
        ):
            actions[command_id].setChecked(not value)  # toggled twice so that the handler always runs
            actions[command_id].setChecked(value)
        self.show_tool()

    def set_opacity(self, percent: int) -> None:
        self.canvas.mask_layer.set_fill(opacity=percent / 100)
        self.settings.overlay_opacity = percent / 100

    def set_overlay(self, visible: bool) -> None:
        self.canvas.mask_layer.setVisible(visible)
        self.settings.overlay_visible = visible

    def set_outline(self, visible: bool) -> None:
        self.canvas.shape_layer.set_outline_visible(visible)
        self.settings.outline_visible = visible

    def set_snap(self, on: bool) -> None:
        self.canvas.snap_vertices = on
        self.settings.snap_vertices = on

    def _on_radius(self, radius: float) -> None:
        self.settings.brush_radius = radius
        if self.controls is not None:
            self.controls.radius.blockSignals(True)
            self.controls.radius.setValue(radius)
            self.controls.radius.blockSignals(False)
        self.show_tool()

    def show_tool(self) -> None:
        tool = self.canvas.tool
        self.status.show_tool(tool.label, self.canvas.brush_radius if tool.name in ("brush", "eraser") else None)
        if f"tool_{tool.name}" in self.actions:
            self.actions[f"tool_{tool.name}"].setChecked(True)
