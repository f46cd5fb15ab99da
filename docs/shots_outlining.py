"""Screenshot steps of the assisted outlining tools (issue 22), for docs/take_screenshots.py (after its "open a
dataset" step: the window is shown, the demo set open; the heatmap-seeded step evaluates PatchCore on the category
first where the session has no PatchCore results yet). The prompts are placed from the photo's ground-truth mask,
as a user aims at the defect they see; the mask and (but for the heatmap-seeded step) the heatmap layer with its
threshold contour and TP/FP/FN overlay are hidden meanwhile, so only the tool's draft is tinted.

27-grabcut-box: the GrabCut box tool zoomed on a defect: the dashed box dragged around it, a green click on it, and
the draft region GrabCut found tinted cyan with its rim.
28-live-wire: the live wire part-way round a defect: green anchors, the fixed outline along the edge, and the
yellow path from the last anchor to the pointer.
29-magic-wand: the magic wand's click on the defect and the flooded draft; the tool bar shows its tolerance and
colour space.
30-heatmap-seeded: PatchCore's heatmap shown with its threshold raised until the contour hugs the defect (its
evaluation's F1-max threshold draws a blob twice the defect's size on this photo); the pointer over the blob and
the GrabCut region that blob seeds as the draft.
"""

from __future__ import annotations

import cv2
import numpy as np
from screenshot_driver import Shooter, StepFailed, box_of, zoom_to

from goodsad_studio.dataset.imageio import read_mask

OUTLINE_KEY = "drink_can/test/surface_anomaly/001008"  # a defective photo with a mask
FAST_PATCHCORE = {"coreset_ratio": 0.25}


def _defect(s: Shooter) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """Show :data:`OUTLINE_KEY` with its mask, fill and heatmap hidden; its ground truth and the box around it."""
    s.select(OUTLINE_KEY)
    record = s.window.current
    if record is None or record.mask_path is None:
        raise StepFailed(f"{OUTLINE_KEY} has no ground-truth mask to aim the prompts at")
    truth = read_mask(record.mask_path)
    for command in ("overlay", "outline"):
        s.window.actions_by_id[command].setChecked(False)
    s.ui.overlay.layer.setVisible(False)
    box = box_of(truth)
    zoom_to(s, _grown(box, 0.6), 0.8)
    s.settle()
    return truth, box


def _grown(box: tuple[float, float, float, float], by: float) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) * by / 2, (y1 - y0) * by / 2
    return x0 - dx, y0 - dy, x1 + dx, y1 + dy


def _inside(truth: np.ndarray) -> tuple[float, float]:
    """A pixel centre well inside the ground truth (its deepest point)."""
    distance = cv2.distanceTransform(np.pad(truth, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    row, col = np.unravel_index(int(np.argmax(distance)), distance.shape)
    return float(col) + 0.5, float(row) + 0.5


def _draft(s: Shooter, what: str) -> None:
    tool = s.window.canvas.tool
    s.wait(lambda: not tool.pending and tool.draft is not None, f"the {what} draft", 60)


def _done(s: Shooter) -> None:
    """Drop the draft (Esc) and put the view back as the other steps expect it."""
    s.window.canvas.tool.cancel()
    for command in ("overlay", "outline"):
        s.window.actions_by_id[command].setChecked(True)
    s.ui.overlay.layer.setVisible(True)
    s.command("tool_select")
    s.window.canvas.fit()
    s.idle()


def grabcut_box(s: Shooter) -> None:
    truth, box = _defect(s)
    s.command("tool_grabcut")
    x0, y0, x1, y1 = _grown(box, 0.3)
    s.drag([(x0, y0), ((x0 + x1) / 2, (y0 + y1) / 2), (x1, y1)])
    _draft(s, "GrabCut")
    s.click(*_inside(truth))  # a click on the defect: the draft is computed again with it
    _draft(s, "GrabCut")
    s.hover(x1 + (x1 - x0) * 0.1, y0)
    s.shot("27-grabcut-box")
    _done(s)


def live_wire(s: Shooter) -> None:
    truth, _box = _defect(s)
    s.command("tool_live_wire")
    contours, _ = cv2.findContours(truth.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    ring = max(contours, key=cv2.contourArea).reshape(-1, 2)
    points = [(float(x) + 0.5, float(y) + 0.5) for x, y in ring[:: max(1, len(ring) // 10)]]
    tool = s.window.canvas.tool
    shown = points[:7]
    for x, y in shown:
        s.click(x, y)
    s.wait(lambda: not tool.pending and len(tool.pieces) == len(shown) - 1, "the live wire's fixed outline", 60)
    s.hover(*points[8])  # the path from the last anchor follows the edge to the pointer
    s.wait(lambda: not tool.pending and tool.preview is not None, "the live wire's path to the pointer", 60)
    s.shot("28-live-wire")
    _done(s)


def magic_wand(s: Shooter) -> None:
    truth, _box = _defect(s)
    s.command("tool_wand")
    options = s.window.controls.wand
    options.colour_space.setCurrentIndex(options.colour_space.findData("lab"))
    options.tolerance.setValue(14.0)
    x, y = _inside(truth)
    s.click(x, y)
    _draft(s, "magic wand")
    s.hover(x + 6, y - 6)
    s.shot("29-magic-wand")
    _done(s)


def heatmap_seeded(s: Shooter) -> None:
    truth, _box = _defect(s)
    category = s.window.current.category
    if s.ui.analysis.result(s.window.current, "patchcore") is None:
        s.choose_method("patchcore", FAST_PATCHCORE)
        s.wait_job(s.start("evaluate"))
    s.ui.analysis.show(category, "patchcore")
    s.ui.overlay.layer.setVisible(True)
    s.idle()
    shown = s.window.shown_heatmap()
    if shown is None:
        raise StepFailed(f"{OUTLINE_KEY}: no PatchCore heatmap is shown")
    result, evaluated = shown
    heat = result.native_map()
    controls = s.ui.controls
    controls.set_threshold(float(np.quantile(heat[truth], 0.2)))  # as a user drags the threshold slider up
    s.idle()
    s.command("tool_heat_seed")
    threshold = controls.threshold()
    row, col = np.unravel_index(int(np.argmax(np.where(truth, heat, -np.inf))), heat.shape)
    if heat[row, col] < threshold:
        raise StepFailed(f"{OUTLINE_KEY}: PatchCore's heatmap does not reach the threshold {threshold:.4g} on it")
    s.hover(float(col) + 0.5, float(row) + 0.5)
    _draft(s, "heatmap-seeded")
    s.shot("30-heatmap-seeded")
    controls.set_threshold(evaluated)
    _done(s)
