"""The image canvas: layers (photo, mask fill, outlines, tool feedback), zoom and pan, and the editing tools."""

from goodsad_studio.gui.canvas.view import Canvas, PixelInfo

__all__ = ["Canvas", "PixelInfo"]
