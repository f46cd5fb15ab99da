"""Canvas tools, one class per file; :data:`TOOLS` maps a tool name to its class."""

from goodsad_studio.gui.canvas.tools.base import PointerEvent, Tool, ToolHost
from goodsad_studio.gui.canvas.tools.brush_tool import BrushTool, EraserTool
from goodsad_studio.gui.canvas.tools.polygon_tool import HoleTool, PolygonTool
from goodsad_studio.gui.canvas.tools.select_tool import SelectTool

TOOLS: dict[str, type[Tool]] = {tool.name: tool for tool in (SelectTool, PolygonTool, HoleTool, BrushTool, EraserTool)}

__all__ = ["TOOLS", "PointerEvent", "Tool", "ToolHost"]
