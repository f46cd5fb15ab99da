"""Every command of the studio with its keyboard shortcuts, in one table.

The menus, the toolbar and the shortcuts help dialog are all built from :data:`COMMANDS`, so a shortcut cannot be
listed in one place and missing from another; :data:`POINTER_HELP` adds what the mouse does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence


@dataclass(frozen=True, slots=True)
class Command:
    id: str
    text: str
    keys: tuple[str, ...]
    group: str
    tip: str
    checkable: bool = False
    tool: bool = False  # one of the exclusive canvas tools


COMMANDS: tuple[Command, ...] = (
    Command("open", "&Open dataset...", ("Ctrl+O",), "File", "Open a dataset root in MVTec-AD layout"),
    Command("save", "&Save mask", ("Ctrl+S",), "File", "Save the mask of the current image (atomic)"),
    Command("save_all", "Save &all masks", ("Ctrl+Shift+S",), "File", "Save every mask with unsaved edits"),
    Command("quit", "&Quit", ("Ctrl+Q",), "File", "Close the studio (asks about unsaved edits)"),
    Command("undo", "&Undo", ("Ctrl+Z",), "Edit", "Undo the last mask edit of this image"),
    Command("redo", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Edit", "Redo the edit undone last"),
    Command(
        "delete", "&Delete vertex or shape", ("Delete",), "Edit", "Delete the chosen vertex, or the selected shape"
    ),
    Command(
        "settings",
        "Se&ttings...",
        ("Ctrl+,",),
        "Edit",
        "Device, default method and parameters, data folder, results cache limit, autosave interval",
    ),
    Command(
        "binarise_mask",
        "&Binarise mask...",
        ("Ctrl+Shift+B",),
        "Edit",
        "Make a mask holding values other than 0 and 255 binary: preview, threshold, apply (original to the trash)",
    ),
    Command(
        "resize_mask",
        "Resi&ze mask to image...",
        ("Ctrl+Shift+R",),
        "Edit",
        "Scale a mask of another size to its image by nearest neighbour: preview, apply (original to the trash)",
    ),
    Command(
        "tool_select",
        "&Select / edit vertices",
        ("V",),
        "Tools",
        "Click a shape to select it; drag its vertices; double-click an edge to insert one",
        True,
        True,
    ),
    Command(
        "tool_polygon",
        "Draw &polygon",
        ("P",),
        "Tools",
        "Click vertices; close on the first vertex, double-click or Enter",
        True,
        True,
    ),
    Command("tool_hole", "Cut &hole", ("H",), "Tools", "Draw a ring to cut out of the shape that holds it", True, True),
    Command("tool_brush", "&Brush", ("B",), "Tools", "Paint mask pixels (right button erases)", True, True),
    Command("tool_eraser", "&Eraser", ("E",), "Tools", "Clear mask pixels (right button paints)", True, True),
    Command(
        "tool_grabcut",
        "&GrabCut box",
        ("G",),
        "Tools",
        "Drag a box around the defect, click or scribble on it (Shift/right: background); Enter adds the region",
        True,
        True,
    ),
    Command(
        "tool_live_wire",
        "&Live wire",
        ("I",),
        "Tools",
        "Click along the defect's edge, the outline follows it; Enter or double-click closes and adds the region",
        True,
        True,
    ),
    Command(
        "tool_wand",
        "Magic &wand",
        ("W",),
        "Tools",
        "Click to flood similar colours (tolerance and colour space in the tool bar); Enter adds the region",
        True,
        True,
    ),
    Command(
        "tool_heat_seed",
        "Heat&map-seeded",
        ("T",),
        "Tools",
        "The shown heatmap above the threshold seeds GrabCut: hover a blob, click to pin it, Enter adds the region",
        True,
        True,
    ),
    Command("radius_up", "Larger brush", ("]",), "Tools", "Grow the brush radius (also Shift+wheel)"),
    Command("radius_down", "Smaller brush", ("[",), "Tools", "Shrink the brush radius (also Shift+wheel)"),
    Command(
        "snap",
        "Snap vertices to pixel corners",
        ("S",),
        "Tools",
        "Polygon vertices land on pixel corners, so a polygon covers whole pixels exactly",
        True,
    ),
    Command("fit", "&Fit image", ("F",), "View", "Show the whole image"),
    Command("actual", "&1:1 pixels", ("1",), "View", "One image pixel per screen pixel"),
    Command("zoom_in", "Zoom &in", ("+", "="), "View", "Zoom in around the centre (the wheel zooms at the cursor)"),
    Command("zoom_out", "Zoom &out", ("-",), "View", "Zoom out around the centre"),
    Command("overlay", "Show mask &fill", ("O",), "View", "Show or hide the translucent mask fill", True),
    Command("outline", "Show mask out&line", ("L",), "View", "Show or hide the shape outlines", True),
    Command("next", "&Next image", ("D", "PgDown"), "Navigate", "The next image in the tree (prefetched)"),
    Command("prev", "&Previous image", ("A", "PgUp"), "Navigate", "The previous image in the tree (prefetched)"),
    Command("find", "&Find image...", ("Ctrl+F",), "Navigate", "Jump to the name search of the dataset tree"),
    Command(
        "mark_good",
        "Mark image &good",
        ("Ctrl+G",),
        "Image",
        "Move this test image to test/good (its mask goes to the studio's trash)",
    ),
    Command(
        "mark_defective",
        "Mark &defective / set defect type...",
        ("Ctrl+D",),
        "Image",
        "Move this test image to test/<defect> (a new defect type can be typed in)",
    ),
    Command(
        "rename_goods",
        "&Rename to goods id...",
        ("F2",),
        "Image",
        "Rename this photo (and its mask) to <goods id><next serial>; the engine suggests the goods id",
    ),
    Command("undo_rename", "&Undo rename", ("Ctrl+Alt+Z",), "Image", "Give the photo renamed last its old name back"),
    Command("redo_rename", "Redo re&name", ("Ctrl+Alt+Shift+Z",), "Image", "Rename the photo again, as undone last"),
    Command(
        "compare",
        "&Compare methods...",
        ("Ctrl+M",),
        "Analysis",
        "The current image in one pane per method, zoom and pan linked, one colour scale",
    ),
    Command(
        "metrics",
        "Dataset &metrics...",
        ("Ctrl+Shift+M",),
        "Analysis",
        "The GoodsAD paper's tables per category and method, curves, the score histogram",
    ),
    Command(
        "export",
        "&Export...",
        ("Ctrl+E",),
        "Analysis",
        "Export an MVTec-layout subset, COCO JSON, heatmaps or the metrics report",
    ),
    Command(
        "propose",
        "&Propose mask from heatmap",
        ("Ctrl+Shift+P",),
        "Analysis",
        "Replace the mask by the heatmap's pixels at or above the threshold (undoable)",
    ),
    Command("help", "&Keyboard shortcuts", ("F1", "?"), "Help", "This list"),
    Command("about", "&About goodsad-studio", (), "Help", "Versions, the weights source and the device in use"),
)

POINTER_HELP: tuple[tuple[str, str], ...] = (
    ("Wheel", "Zoom around the cursor (up to 12800 %, pixels stay sharp)"),
    ("Middle drag, or Space + drag", "Pan"),
    ("Shift + wheel, Ctrl + wheel", "Brush radius"),
    ("Brush / eraser: right drag", "The opposite of the tool (erase / paint)"),
    ("Polygon: Backspace / Esc", "Take back the last vertex / abandon the polygon"),
    ("Select: click a vertex, then Delete", "Delete that vertex"),
    ("Select: double-click an edge", "Insert a vertex there"),
    ("Outlining tools: Enter or double-click / Esc", "Commit the draft region (one undo step) / drop it"),
    ("Outlining tools: Shift + click, right click", "A background prompt (red) instead of an object one (green)"),
    ("Outlining tools: Alt at the first click or at Enter", "Subtract the draft from the mask instead of adding it"),
    ("Outlining tools: Backspace", "Take back the last prompt (GrabCut, magic wand)"),
    ("Esc", "Clear the selection"),
)

GROUPS = ("File", "Edit", "Tools", "View", "Navigate", "Image", "Analysis", "Help")


def build_actions(parent: QObject, handlers: dict[str, Callable[..., object]]) -> dict[str, QAction]:
    """A ``QAction`` per command (shortcuts, tips, handler); tools form one exclusive group."""
    actions: dict[str, QAction] = {}
    tools = QActionGroup(parent)
    tools.setExclusive(True)
    for command in COMMANDS:
        action = QAction(command.text, parent)
        action.setShortcuts([QKeySequence(key) for key in command.keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        keys = ", ".join(command.keys)
        action.setToolTip(f"{command.text.replace('&', '').rstrip('.')} ({keys})\n{command.tip}")
        action.setStatusTip(command.tip)
        action.setCheckable(command.checkable)
        if command.tool:
            tools.addAction(action)
        handler = handlers.get(command.id)
        if handler is None:
            raise KeyError(f"no handler for the command {command.id!r}")
        if command.checkable and not command.tool:
            action.toggled.connect(handler)
        else:
            action.triggered.connect(lambda _checked=False, h=handler: h())
        actions[command.id] = action
    return actions
