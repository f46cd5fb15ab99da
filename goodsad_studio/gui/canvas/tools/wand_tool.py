"""The magic wand: a click floods the similar-coloured pixels around it into the draft.

A left click adds the connected pixels within the tolerance of the clicked colour (in the chosen colour space:
Lab, RGB or gray; the tool bar's wand options) to the draft; Shift+click or a right click takes such a region out of
it again. Changing the tolerance or the colour space floods every click again. Backspace takes back the last click,
Enter or a double click commits the draft as one undoable edit (Alt subtracts it), Esc drops it.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter

from goodsad_studio.annotation.assist.magic_wand import magic_wand
from goodsad_studio.annotation.assist.prompts import Point as Click
from goodsad_studio.gui.canvas.tools.assist_tool import AssistTool, paint_points
from goodsad_studio.gui.canvas.tools.base import PointerEvent

COLOUR_SPACES = (("lab", "Lab"), ("rgb", "RGB"), ("gray", "gray"))
DEFAULT_TOLERANCE = 12.0


class WandTool(AssistTool):
    name = "wand"
    label = "Magic wand"
    undo_label = "Magic wand region"

    def __init__(self, host) -> None:
        super().__init__(host)
        self.clicks: list[Click] = []
        self.tolerance = DEFAULT_TOLERANCE
        self.colour_space = "lab"

    @property
    def has_prompts(self) -> bool:
        return bool(self.clicks)

    def clear_prompts(self) -> None:
        self.clicks = []

    def set_options(self, tolerance: float, colour_space: str) -> None:
        """The tool bar's tolerance and colour space; a draft on screen is flooded again with them."""
        if colour_space not in dict(COLOUR_SPACES):
            raise ValueError(f"unknown colour space {colour_space!r}: one of {', '.join(dict(COLOUR_SPACES))}")
        changed = (float(tolerance), colour_space) != (self.tolerance, self.colour_space)
        self.tolerance, self.colour_space = float(tolerance), colour_space
        if changed and self.clicks:
            self.flood()

    def press(self, event: PointerEvent) -> None:
        if event.button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        self.start_prompt(event)
        self.clicks.append(Click(event.x, event.y, not self.negative(event)))
        self.host.overlay_changed()
        self.flood()

    def key(self, key: int, modifiers: Qt.KeyboardModifier) -> bool:
        if key == Qt.Key.Key_Backspace and self.clicks:
            self.clicks.pop()
            if self.clicks:
                self.flood()
            else:
                self.cancel()
            self.host.overlay_changed()
            return True
        return super().key(key, modifiers)

    def flood(self) -> None:
        """The draft: the union of the positive clicks' regions less the negative ones' (in the worker)."""
        image = self.image()
        if image is None:
            return
        clicks, tolerance, space = tuple(self.clicks), self.tolerance, self.colour_space

        def region() -> np.ndarray:
            mask = np.zeros(image.shape[:2], bool)
            for click in clicks:
                found = magic_wand(image, click, tolerance=tolerance, colour_space=space)
                if click.positive:
                    mask |= found
                else:
                    mask &= ~found
            return mask

        self.request(region)

    def paint_prompts(self, painter: QPainter, scale: float) -> None:
        paint_points(painter, scale, [(c.x, c.y, c.positive) for c in self.clicks])
