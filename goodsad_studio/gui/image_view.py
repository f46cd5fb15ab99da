"""A zoomable image view with a mask outline overlay, on pyqtgraph (pixels stay sharp at any zoom)."""

from __future__ import annotations

import cv2
import numpy as np
import pyqtgraph as pg

MASK_FILL = (0, 230, 255, 90)  # cyan: stays visible on the red, orange and brown packaging of goods
MASK_OUTLINE = (0, 230, 255, 255)


class ImageView(pg.GraphicsLayoutWidget):
    """Shows one RGB image and its mask (translucent cyan fill, opaque outline). Wheel zooms around the cursor."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground("#202124")
        self.view = self.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.mask_item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image_item)
        self.view.addItem(self.mask_item)

    def show_image(self, image: np.ndarray, mask: np.ndarray | None = None) -> None:
        self.image_item.setImage(image, autoLevels=False, levels=(0, 255))
        if mask is not None and mask.any():
            overlay = np.zeros((*mask.shape, 4), np.uint8)
            overlay[mask] = MASK_FILL
            outline = mask & ~cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
            overlay[outline] = MASK_OUTLINE
            self.mask_item.setImage(overlay, autoLevels=False, levels=(0, 255))
            self.mask_item.setVisible(True)
        else:
            self.mask_item.setVisible(False)
        self.view.autoRange(padding=0.02)
