"""The assisted outlining tools on the canvas (issue 22): GrabCut box, live wire, magic wand and heatmap-seeded.

On a synthetic photo with a clear object (a red ring: an ellipse with a hole) each tool's interaction gives a draft
that matches the object (IoU >= 0.9), Enter or a double click commits it as one undo step (Ctrl+Z restores the
mask), Esc drops it, Alt subtracts it, and the tools are off on a good image (the lock). The heatmap-seeded tool
follows the heatmap the overlay shows: the same click gives the region of whichever blob that heatmap has. The
GrabCut tool's clicks and box go to the segmenter chosen in the settings, whose ONNX files are judged when chosen.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from goodsad_studio.engine.cache import CachedResult
from goodsad_studio.gui.settings_dialog import SettingsDialog
from gui.helpers import UI_WAIT_MS, click, double_click, drag, hover, key, write_rgb, zoom_on

HEIGHT, WIDTH = 120, 160
DEFECT = "drink_can/test/scratch/001003"
GOOD = "drink_can/test/good/001002"
ELLIPSE = (80.0, 62.0, 30.0, 22.0)  # centre x, y and half axes of the red object
HOLE = 6.0  # radius of the hole in its middle
SQUARE = (12, 14, 36, 38)  # x0, y0, x1, y1 of a blue patch elsewhere


def _grid() -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    return cols + 0.5, rows + 0.5  # pixel centres


def ring() -> np.ndarray:
    """The red object's pixels: inside the ellipse, outside the hole."""
    x, y = _grid()
    cx, cy, ax, ay = ELLIPSE
    inside = ((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2 <= 1.0
    return inside & ((x - cx) ** 2 + (y - cy) ** 2 > HOLE**2)


def square() -> np.ndarray:
    x0, y0, x1, y1 = SQUARE
    mask = np.zeros((HEIGHT, WIDTH), bool)
    mask[y0:y1, x0:x1] = True
    return mask


def photo() -> np.ndarray:
    """A light, slightly noisy background with a gradient, the red ring and the blue square."""
    rng = np.random.default_rng(22)
    x, _y = _grid()
    image = np.empty((HEIGHT, WIDTH, 3), np.float64)
    image[...] = (196.0, 192.0, 184.0)
    image += (x / WIDTH * 14.0)[..., None]
    image[ring()] = (172.0, 38.0, 44.0)
    image[square()] = (40.0, 70.0, 170.0)
    image += rng.normal(0.0, 2.0, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


@pytest.fixture
def root(tmp_path) -> Path:
    """One category: a training image, a good test image and a defective one (no mask yet), all the photo."""
    root = tmp_path / "data"
    category = root / "drink_can"
    for name in ("train/good/001000", "test/good/001002", "test/scratch/001003"):
        write_rgb(category / f"{name}.png", photo())
    (category / "ground_truth" / "scratch").mkdir(parents=True)
    return root


def _open(make_window, root, select=DEFECT):
    window = make_window(root, select=select)
    zoom_on(window, 4.0, WIDTH / 2, HEIGHT / 2)
    return window


def _draft(qtbot, tool):
    qtbot.waitUntil(lambda: not tool.pending and tool.draft is not None, timeout=UI_WAIT_MS)
    return tool.draft.mask


def _committed(qtbot, window, expected: np.ndarray, label: str, before=None, steps: int = 0) -> None:
    """The mask now holds the region (IoU >= 0.9, or ``expected`` is the mask after a subtraction), as one undo
    step that Ctrl+Z takes back whole to ``before`` (default: the empty mask) and ``steps`` earlier steps."""
    canvas = window.canvas
    before = np.zeros((HEIGHT, WIDTH), bool) if before is None else before
    qtbot.waitUntil(
        lambda: not np.array_equal(canvas.document.mask, before) and not canvas.tool.busy, timeout=UI_WAIT_MS
    )
    assert iou(canvas.document.mask, expected) >= 0.9
    assert canvas.document.history.undo_label == label and len(canvas.document.history) == steps + 1
    assert canvas.shapes, "the region is an ordinary editable shape"
    key(qtbot, window, "Ctrl+Z")  # one step takes the whole region back
    assert np.array_equal(canvas.document.mask, before) and len(canvas.document.history) == steps


def test_a_box_around_the_object_gives_its_region_and_enter_commits_it_as_one_step(qtbot, make_window, root):
    window = _open(make_window, root)
    key(qtbot, window, "G")
    tool = window.canvas.tool
    assert tool.name == "grabcut"
    cx, cy, ax, ay = ELLIPSE
    drag(window, [(cx - ax - 8, cy - ay - 8), (cx, cy), (cx + ax + 8, cy + ay + 8)])
    assert iou(_draft(qtbot, tool), ring()) >= 0.9
    assert not window.canvas.document.mask.any()  # a draft changes nothing until it is committed
    key(qtbot, window, "Return")
    _committed(qtbot, window, ring(), "GrabCut region")


def test_a_background_click_and_backspace_change_the_grabcut_draft(qtbot, make_window, root):
    window = _open(make_window, root)
    key(qtbot, window, "G")
    tool = window.canvas.tool
    cx, cy, ax, ay = ELLIPSE
    drag(window, [(cx - ax - 8, cy - ay - 8), (cx + ax + 8, cy + ay + 8)])
    first = _draft(qtbot, tool).copy()
    click(window, cx + ax - 4, cy, Qt.MouseButton.RightButton)  # the object's right end is background now
    assert tool.points[-1].positive is False
    qtbot.waitUntil(lambda: not tool.pending and not np.array_equal(tool.draft.mask, first), timeout=UI_WAIT_MS)
    assert not tool.draft.mask[math.floor(cy), math.floor(cx + ax - 4)]
    key(qtbot, window, "Backspace")
    qtbot.waitUntil(lambda: not tool.pending and np.array_equal(tool.draft.mask, first), timeout=UI_WAIT_MS)
    key(qtbot, window, "Escape")
    assert tool.draft is None and tool.box is None and not tool.busy
    key(qtbot, window, "Return")
    assert not window.canvas.document.mask.any()  # Esc dropped the draft: Enter has nothing to commit


def test_clicks_along_the_edge_close_into_the_object_with_a_double_click(qtbot, make_window, root):
    window = _open(make_window, root)
    key(qtbot, window, "I")
    tool = window.canvas.tool
    assert tool.name == "live_wire"
    cx, cy, ax, ay = ELLIPSE
    edge = [(cx + ax * math.cos(t), cy + ay * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 7)[:-1]]
    for x, y in edge[:-1]:
        click(window, x, y)
        hover(window, x + 1, y + 1)
    qtbot.waitUntil(lambda: not tool.pending and len(tool.pieces) == len(edge) - 2, timeout=UI_WAIT_MS)
    assert tool.preview is not None  # the path to the pointer is drawn
    double_click(window, *edge[-1])
    filled = ring() | (((_grid()[0] - cx) ** 2 + (_grid()[1] - cy) ** 2) <= HOLE**2)  # an outline has no hole
    _committed(qtbot, window, filled, "Live wire region")


def test_the_magic_wand_floods_the_ring_with_its_hole_and_follows_the_tolerance(qtbot, make_window, root):
    window = _open(make_window, root)
    key(qtbot, window, "W")
    tool = window.canvas.tool
    assert tool.name == "wand"
    options = window.controls.wand
    options.colour_space.setCurrentIndex(options.colour_space.findData("lab"))
    options.tolerance.setValue(20.0)
    assert (tool.tolerance, tool.colour_space) == (20.0, "lab")
    cx, cy, ax, _ay = ELLIPSE
    click(window, cx + ax - 6, cy)
    assert iou(_draft(qtbot, tool), ring()) >= 0.9
    options.tolerance.setValue(0.0)  # a draft on screen is flooded again with the new tolerance
    qtbot.waitUntil(lambda: not tool.pending and tool.draft.mask.sum() < ring().sum() / 2, timeout=UI_WAIT_MS)
    options.tolerance.setValue(20.0)
    qtbot.waitUntil(lambda: not tool.pending and iou(tool.draft.mask, ring()) >= 0.9, timeout=UI_WAIT_MS)
    key(qtbot, window, "Return")
    qtbot.waitUntil(lambda: window.canvas.document.mask.any(), timeout=UI_WAIT_MS)
    shapes = window.canvas.document.polygons
    assert len(shapes) == 1 and len(shapes[0].interiors) == 1  # pixel-exact, the hole included
    assert window.settings.wand_tolerance == 20.0
    _committed(qtbot, window, ring(), "Magic wand region")


def test_alt_at_enter_subtracts_the_draft(qtbot, make_window, root):
    window = _open(make_window, root)
    canvas = window.canvas
    full = np.ones((HEIGHT, WIDTH), bool)
    canvas.edit_done(canvas.document.add_region(full, "everything"))
    key(qtbot, window, "W")
    window.controls.wand.tolerance.setValue(20.0)
    click(window, ELLIPSE[0] + ELLIPSE[2] - 6, ELLIPSE[1])
    _draft(qtbot, canvas.tool)
    key(qtbot, window, "Alt+Return")
    _committed(qtbot, window, ~ring(), "Magic wand region", before=full, steps=1)


def _show_heatmap(qtbot, window, heat: np.ndarray, threshold: float) -> None:
    """Give the overlay a result for the image shown (what a prediction's result does) and set the threshold."""
    ui = window.analysis_ui
    ui.controls.set_threshold(threshold)
    qtbot.waitUntil(lambda: not ui.busy, timeout=UI_WAIT_MS)
    ui.overlay.result = CachedResult(1.0, heat.astype(np.float32), (HEIGHT, WIDTH))
    assert window.shown_heatmap()[1] == threshold


def _blob(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """A coarse (40 x 30) heatmap that is 1 over the box given in image pixels and 0 elsewhere."""
    heat = np.zeros((30, 40), np.float32)
    heat[round(y0 / 4) : round(y1 / 4), round(x0 / 4) : round(x1 / 4)] = 1.0
    return heat


def test_the_heatmap_seeded_tool_outlines_the_shown_heatmaps_blob(qtbot, make_window, root):
    window = _open(make_window, root)
    key(qtbot, window, "T")
    tool = window.canvas.tool
    assert tool.name == "heat_seed"
    click(window, 100, 100)
    assert tool.draft is None and "no heatmap" in window.status.currentMessage()
    cx, cy, ax, ay = ELLIPSE
    _show_heatmap(qtbot, window, _blob(cx - ax + 6, cy - ay + 4, cx + ax - 6, cy + ay - 4), 0.5)
    hover(window, cx + 10, cy)  # over the blob: its region is previewed
    assert iou(_draft(qtbot, tool), ring()) >= 0.9
    key(qtbot, window, "Escape")
    assert tool.draft is None
    _show_heatmap(qtbot, window, _blob(*SQUARE), 0.5)  # another heatmap shown: the same click, another region
    click(window, 60, 20)  # on no blob: the nearest one, the square's
    assert iou(_draft(qtbot, tool), square()) >= 0.9
    hover(window, cx, cy)  # the pinned draft stays
    assert iou(tool.draft.mask, square()) >= 0.9
    double_click(window, 60, 20)
    _committed(qtbot, window, square(), "Heatmap-seeded region")


def test_the_outlining_tools_are_off_on_a_good_image(qtbot, make_window, root):
    window = _open(make_window, root, select=GOOD)
    canvas = window.canvas
    assert canvas.locked is not None
    for command in ("tool_grabcut", "tool_live_wire", "tool_wand", "tool_heat_seed"):
        assert not window.actions_by_id[command].isEnabled()
    assert not window.controls.wand.isEnabled()
    cx, cy, ax, ay = ELLIPSE
    for name in ("grabcut", "wand", "live_wire", "heat_seed"):  # even a tool chosen by code reaches nothing
        canvas.set_tool(name)
        drag(window, [(cx - ax - 8, cy - ay - 8), (cx + ax + 8, cy + ay + 8)])
        click(window, cx + ax - 6, cy)
        key(qtbot, window, "Return")
        assert not canvas.tool.busy
    assert not canvas.document.mask.any() and not canvas.document.modified


def test_a_draft_being_computed_when_the_image_changes_is_dropped(qtbot, make_window, root):
    window = _open(make_window, root)
    key(qtbot, window, "G")
    tool = window.canvas.tool
    cx, cy, ax, ay = ELLIPSE
    drag(window, [(cx - ax - 8, cy - ay - 8), (cx + ax + 8, cy + ay + 8)])
    window.canvas.set_document(window.canvas.document)  # as showing another image does: the tool is cancelled
    qtbot.waitUntil(lambda: not window.canvas.assist_pool.busy, timeout=UI_WAIT_MS)
    assert tool.draft is None and not tool.busy


class RecordingSegmenter:
    """A segmenter (the protocol an ONNX model implements) that answers the ring and records its prompts."""

    def __init__(self) -> None:
        self.calls: list = []

    def segment(self, image, points, box):
        self.calls.append((image.shape, tuple(points), box))
        return ring()


def test_the_grabcut_tool_sends_its_clicks_and_box_to_the_chosen_segmenter(qtbot, make_window, root):
    window = _open(make_window, root)
    segmenter = window.canvas.segmenter = RecordingSegmenter()
    key(qtbot, window, "G")
    tool = window.canvas.tool
    cx, cy, ax, ay = ELLIPSE
    drag(window, [(cx + ax + 8, cy + ay + 8), (cx - ax - 8, cy - ay - 8)])  # dragged up and left
    assert np.array_equal(_draft(qtbot, tool), ring())
    click(window, cx, cy, modifiers=Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: len(segmenter.calls) == 2 and not tool.pending, timeout=UI_WAIT_MS)
    shape, points, box = segmenter.calls[-1]
    assert shape == (HEIGHT, WIDTH, 3)
    assert (box.x0, box.y0) < (box.x1, box.y1) and box.x0 == pytest.approx(cx - ax - 8, abs=0.5)
    assert [(round(p.x), round(p.y), p.positive) for p in points] == [(round(cx), round(cy), False)]
    key(qtbot, window, "Return")
    _committed(qtbot, window, ring(), "GrabCut region")


def test_the_segmenter_setting_refuses_a_file_that_is_no_model_naming_it(qtbot, make_window, root, tmp_path, settings):
    window = _open(make_window, root)
    dialog = SettingsDialog(window)
    qtbot.addWidget(dialog)
    group = dialog.segmenter
    assert group.chosen() == "grabcut" and window.canvas.segmenter is None
    group.choice.setCurrentIndex(group.choice.findData("onnx"))
    assert "Choose the encoder and the decoder" in group.status.text()
    dialog.accept()
    assert dialog.result() != QDialog.DialogCode.Accepted and "choose the ONNX encoder" in dialog.problem.text()
    bad = tmp_path / "encoder.onnx"
    bad.write_bytes(b"not a model")
    group.files["encoder"].setText(str(bad))
    group.files["decoder"].setText(str(tmp_path / "decoder.onnx"))
    group.files["decoder"].editingFinished.emit()  # chosen: opened and judged at once
    assert str(bad) in group.status.text() and "not a readable ONNX model" in group.status.text()
    dialog.accept()
    assert dialog.result() != QDialog.DialogCode.Accepted and str(bad) in dialog.problem.text()
    assert settings.segmenter == "grabcut"  # nothing was stored
    group.choice.setCurrentIndex(group.choice.findData("grabcut"))
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert settings.segmenter == "grabcut" and window.canvas.segmenter is None
    assert settings.onnx_files == (bad, tmp_path / "decoder.onnx")  # kept for when ONNX is chosen again
