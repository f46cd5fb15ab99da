"""Canvas tools, one class per file; :data:`TOOLS` maps a tool name to its class."""

from goodsad_studio.gui.canvas.tools.base import PointerEvent, Tool, ToolHost
from goodsad_studio.gui.canvas.tools.brush_tool import BrushTool, EraserTool
from goodsad_studio.gui.canvas.tools.grabcut_tool import GrabCutTool
from goodsad_studio.gui.canvas.tools.heatmap_seed_tool import HeatmapSeedTool
from goodsad_studio.gui.canvas.tools.live_wire_tool import LiveWireTool
from goodsad_studio.gui.canvas.tools.polygon_tool import HoleTool, PolygonTool
from goodsad_studio.gui.canvas.tools.select_tool import SelectTool
from goodsad_studio.gui.canvas.tools.wand_tool import WandTool

TOOLS: dict[str, type[Tool]] = {
    tool.name: tool
    for tool in (
        SelectTool,
        PolygonTool,
        HoleTool,
        BrushTool,
        EraserTool,
        GrabCutTool,
        LiveWireTool,
        WandTool,
        HeatmapSeedTool,
    )
}

__all__ = ["TOOLS", "PointerEvent", "Tool", "ToolHost"]
