"""Screenshot step of the mask repairs, for docs/take_screenshots.py (after its "open a dataset" step: the window is
shown, the demo set open).

Two masks of a category the other steps do not visit are spoiled the way masks from other tools often are: one
blurred (a soft mask, values between 0 and 255), one saved at half its image's size. Then:

18-binarise-preview: Edit > Binarise mask... on the soft mask: the mask as its file holds it beside the binarised
result (green: becomes foreground, red: becomes background), the threshold, the count of changed pixels, Apply.
19-wrong-size-mask: the question the studio asks when it opens the half-size mask: Resize the mask to the image...,
Open the mask's folder, Cancel.

Both are closed with Cancel (nothing is repaired) and the two masks are put back as they were.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PySide6.QtWidgets import QMessageBox, QWidget
from screenshot_driver import Shooter, StepFailed

from goodsad_studio.dataset.index import ImageRecord
from goodsad_studio.gui.mask_repair_dialog import MaskRepairDialog
from goodsad_studio.gui.prompts import Prompts, SilentPrompts

PREVIEW_THRESHOLD = 127
BLUR_SIGMA = 3.0  # pixels of a 512 px demo photo: a soft edge a few pixels wide, as an anti-aliased export gives


def spoil_masks(s: Shooter) -> tuple[ImageRecord, ImageRecord, dict[Path, bytes]]:
    """Blur one mask and halve another (in the last category); returns both records and the files' old bytes."""
    index = s.window.index
    if index is None:
        raise StepFailed("no dataset is open")
    category = index.categories[-1]
    masked = [r for r in index.records if r.category == category and r.mask_path is not None]
    if len(masked) < 2:
        raise StepFailed(f"{category} has fewer than two masks to spoil")
    soft, small = masked[0], masked[1]
    assert soft.mask_path is not None and small.mask_path is not None
    kept = {path: path.read_bytes() for path in (soft.mask_path, small.mask_path)}
    mask = cv2.imread(str(soft.mask_path), cv2.IMREAD_UNCHANGED)
    cv2.imwrite(str(soft.mask_path), cv2.GaussianBlur(mask, (0, 0), BLUR_SIGMA))
    mask = cv2.imread(str(small.mask_path), cv2.IMREAD_UNCHANGED)
    half = (mask.shape[1] // 2, mask.shape[0] // 2)
    cv2.imwrite(str(small.mask_path), cv2.resize(mask, half, interpolation=cv2.INTER_NEAREST))
    if len(np.unique(cv2.imread(str(soft.mask_path), cv2.IMREAD_UNCHANGED))) <= 2:
        raise StepFailed(f"blurring {soft.mask_path} left it binary")
    return soft, small, kept


def mask_repair(s: Shooter) -> None:
    window = s.window
    soft, small, kept = spoil_masks(s)
    try:
        s.select(soft.key)  # the silent prompts leave the refused mask alone; the status bar says why
        if "not binary" not in window.status.currentMessage():
            raise StepFailed(f"{soft.key}: the studio did not refuse the soft mask ({window.status.currentMessage()})")
        window.prompts = Prompts(window)

        def preview(dialog: QWidget) -> None:
            if not isinstance(dialog, MaskRepairDialog):
                raise StepFailed(f"Edit > Binarise mask... opened {type(dialog).__name__}, not the preview")
            dialog.set_threshold(PREVIEW_THRESHOLD)
            if not dialog.apply_button.isEnabled():
                raise StepFailed(f"{soft.key}: the preview finds nothing to change")
            dialog.adjustSize()

        s.shot_modal("18-binarise-preview", lambda: s.command("binarise_mask"), preview)

        def wrong_size(dialog: QWidget) -> None:
            if not isinstance(dialog, QMessageBox):
                raise StepFailed(f"opening {small.key} showed {type(dialog).__name__}, not the question")
            shown = {button.text() for button in dialog.buttons()}
            wanted = {"Resize the mask to the image...", "Open the mask's folder", "Cancel"}
            if shown != wanted:
                raise StepFailed(f"the wrong-size question offers {sorted(shown)}, not {sorted(wanted)}")

        s.shot_modal("19-wrong-size-mask", lambda: window.select_image(small.key), wrong_size)
        s.idle()
    finally:
        window.prompts = SilentPrompts(window)
        for path, data in kept.items():
            path.write_bytes(data)
        window.loader.forget(soft.image_path)
        window.loader.forget(small.image_path)
