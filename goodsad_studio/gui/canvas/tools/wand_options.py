"""The magic wand's options in the tool bar: the colour tolerance and the colour space it is measured in.

Kept in the settings and handed to the :class:`WandTool`, which floods its clicks again when they change.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QWidget

from goodsad_studio.gui.canvas.tools.base import Tool
from goodsad_studio.gui.canvas.tools.wand_tool import COLOUR_SPACES, WandTool
from goodsad_studio.gui.settings import WAND_TOLERANCE_MAX, StudioSettings


class WandOptions(QWidget):
    """A tolerance box and a colour-space choice; :meth:`bind` connects them to the tool and the settings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tolerance = QDoubleSpinBox(self)
        self.tolerance.setObjectName("wand-tolerance")
        self.tolerance.setRange(0.0, WAND_TOLERANCE_MAX)
        self.tolerance.setDecimals(1)
        self.tolerance.setSingleStep(2.0)
        self.tolerance.setKeyboardTracking(False)
        self.tolerance.setToolTip(
            "Magic wand: how far a colour may be from the clicked one and still be flooded (a channel spans 0-255)"
        )
        self.colour_space = QComboBox(self)
        self.colour_space.setObjectName("wand-colour-space")
        for value, text in COLOUR_SPACES:
            self.colour_space.addItem(text, value)
        self.colour_space.setToolTip(
            "Magic wand: the colour space the tolerance is measured in (Lab follows what the eye sees)"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("  Wand tol ", self))
        layout.addWidget(self.tolerance)
        layout.addWidget(self.colour_space)

    def bind(self, tool: Tool, settings: StudioSettings) -> None:
        """Show the stored options, give them to ``tool`` (the canvas's wand), and keep both in step with every
        change."""
        if not isinstance(tool, WandTool):
            raise TypeError(f"the wand options drive a WandTool, not {type(tool).__name__}")
        self.tolerance.setValue(settings.wand_tolerance)
        self.colour_space.setCurrentIndex(max(0, self.colour_space.findData(settings.wand_colour_space)))

        def apply() -> None:
            space = str(self.colour_space.currentData())
            tool.set_options(self.tolerance.value(), space)
            settings.wand_tolerance = self.tolerance.value()
            settings.wand_colour_space = space

        self.tolerance.valueChanged.connect(lambda _v: apply())
        self.colour_space.currentIndexChanged.connect(lambda _i: apply())
        apply()
