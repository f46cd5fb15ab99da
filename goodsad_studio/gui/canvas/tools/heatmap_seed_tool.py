"""Heatmap-seeded outlining: the shown method's heatmap above its threshold seeds GrabCut, and the region under the
cursor becomes the draft.

The heatmap and threshold are what the Heatmap dock shows (the Showing method, the threshold slider), read through
the canvas's :attr:`heatmap_source` at each step. Hovering over a heatmap blob above the threshold previews its
region; a click pins the region of the blob under (or nearest to) it, so the draft stays when the pointer moves on
(another click pins another one). Enter or a double click commits the draft as one undoable edit (Alt subtracts
it), Esc drops it.

Each region is a GrabCut run, so the hover asks again only when the pointer enters another blob: the blobs of the
thresholded map (at its stored resolution) are labelled once per map and threshold, a cheap cache key.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter

from goodsad_studio.annotation.assist.heatmap_seeded import heatmap_seeded
from goodsad_studio.annotation.assist.prompts import Point as Click
from goodsad_studio.gui.canvas.tools.assist_tool import AssistTool, paint_points
from goodsad_studio.gui.canvas.tools.base import PointerEvent


class HeatmapSeedTool(AssistTool):
    name = "heat_seed"
    label = "Heatmap-seeded"
    undo_label = "Heatmap-seeded region"

    def __init__(self, host) -> None:
        super().__init__(host)
        self.pinned: Click | None = None  # the click whose region is the draft; None: the draft follows the cursor
        self._asked: int | None = None  # the blob the draft (or the request in flight) is of
        self._blobs: tuple[int, float, np.ndarray] | None = None  # (id of the map, threshold, labels)

    @property
    def has_prompts(self) -> bool:
        return self.pinned is not None

    def clear_prompts(self) -> None:
        self.pinned = None
        self._asked = None

    def hover(self, event: PointerEvent | None) -> None:
        if event is None or self.pinned is not None or not self._inside(event) or self.host.image_rgb() is None:
            return  # (while the full image loads, hovering says nothing; a click says why nothing happens)
        shown = self._shown(quiet=True)
        if shown is None:
            return
        blob = self._blob_under(event, *shown)
        if blob and blob != self._asked:
            self.seed(Click(event.x, event.y), shown, blob)

    def press(self, event: PointerEvent) -> None:
        if event.button != Qt.MouseButton.LeftButton or not self._inside(event):
            return
        shown = self._shown(quiet=False)
        if shown is None:
            return
        self.start_prompt(event)
        self.pinned = Click(event.x, event.y)
        self.host.overlay_changed()
        blob = self._blob_under(event, *shown)
        if not blob or blob != self._asked:
            self.seed(self.pinned, shown, blob)

    def _inside(self, event: PointerEvent) -> bool:
        document = self.host.document
        return document is not None and 0 <= event.x < document.shape[1] and 0 <= event.y < document.shape[0]

    def _shown(self, quiet: bool):
        """The shown result and threshold, or None (said unless ``quiet``) when this image has no heatmap shown."""
        shown = self.host.heatmap_source() if self.host.heatmap_source is not None else None
        if shown is None and not quiet:
            self.host.message.emit(
                f"{self.label}: no heatmap is shown for this image: predict it (Methods panel) first"
            )
        return shown

    def _blob_under(self, event: PointerEvent, result, threshold: float) -> int:
        """The label of the thresholded heatmap's 8-connected blob under the pointer (0: below the threshold)."""
        heat = result.anomaly_map
        if self._blobs is None or self._blobs[:2] != (id(heat), threshold):
            above = np.nan_to_num(np.asarray(heat, np.float32), nan=-np.inf) >= threshold
            self._blobs = (id(heat), threshold, cv2.connectedComponents(above.astype(np.uint8), connectivity=8)[1])
        labels = self._blobs[2]
        height, width = result.native_shape
        row = min(labels.shape[0] - 1, int(event.y * labels.shape[0] / height))
        col = min(labels.shape[1] - 1, int(event.x * labels.shape[1] / width))
        return int(labels[row, col])

    def seed(self, click: Click, shown, blob: int) -> None:
        """Ask for the region of the blob under (or nearest to) ``click``, seeded by the shown heatmap."""
        image = self.image()
        if image is None:
            return
        result, threshold = shown
        heat = result.anomaly_map
        self._asked = blob or None
        self.request(lambda: heatmap_seeded(image, heat, threshold, click))

    def no_region(self) -> None:
        if self.pinned is not None:  # hovering over pixels below the threshold says nothing
            super().no_region()

    def paint_prompts(self, painter: QPainter, scale: float) -> None:
        if self.pinned is not None:
            paint_points(painter, scale, [(self.pinned.x, self.pinned.y, True)])
