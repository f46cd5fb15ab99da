"""Screenshots of the real studio window for docs/user-guide.md: one PNG per step of the guide.

Run by ``docs/take_screenshots.sh`` (it starts a virtual X display and makes the demo set); by hand::

    DISPLAY=:91 .venv/bin/python docs/take_screenshots.py WORKING_COPY_OF_THE_DEMO docs/screenshots

The dataset must be a throw-away copy of the demo set (``goodsad-studio demo DIR``): the steps fit models into it
and save an edited mask. Each step does what the guide tells a user to do, through the real widgets (see
``screenshot_driver.py``), and saves the picture its caption describes.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QPointF, Qt
from screenshot_driver import Shooter, StepFailed, box_of, mask_box, wheel_on, zoom_to
from shots_compare_depth import compare_outline, main_colour_bar, overlaid_curves
from shots_furniture import about, goods_strip, settings, view_menu
from shots_good_images import good_images
from shots_mask_repair import mask_repair
from shots_methods_panel import methods_panel, showing_method
from shots_outlining import grabcut_box, heatmap_seeded, live_wire, magic_wand

from goodsad_studio.dataset.imageio import read_mask, write_mask
from goodsad_studio.gui.jobs import JobState

CANCELLED, RUNNING = JobState.CANCELLED, JobState.RUNNING

WINDOW_SIZE = (1500, 940)
BROWSE_KEY = "drink_can/test/surface_anomaly/002008"  # shown while browsing goods 002
EDIT_KEY = "drink_can/test/deformation/001009"  # the mask the "fix a mask" step repairs
INSPECT_KEY = "drink_can/test/surface_anomaly/001008"  # compare view, per-image metrics, propose mask
FAST = {"patchcore": {"coreset_ratio": 0.25}, "padim": {}, "spade": {"k_images": 10}}  # short fits on the demo
CANCELLED_METHOD = "draem"  # a trained method: slow enough to be cancelled mid-fit


# ---------------------------------------------------------------------------------------------- set-up
def cut_mask(root: Path, key: str) -> np.ndarray:
    """Take the lower 45 % of ``key``'s mask away (saved), so the guide has a mask to repair; returns the part cut."""
    category, _split, defect, stem = key.split("/")
    path = root / category / "ground_truth" / defect / f"{stem}_mask.png"
    mask = read_mask(path)
    rows = np.nonzero(mask.any(axis=1))[0]
    cut = rows[0] + int(0.55 * (rows[-1] - rows[0] + 1))
    missing = np.zeros_like(mask)
    missing[cut:] = mask[cut:]
    mask[cut:] = False
    write_mask(path, mask)
    return missing


def outline(region: np.ndarray, vertices: int = 8) -> list[tuple[float, float]]:
    """About ``vertices`` corner points around a region (image coordinates), as a user would click them."""
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=cv2.contourArea).reshape(-1, 2)
    step = max(1, len(contour) // vertices)
    return [(float(x) + 0.5, float(y) + 0.5) for x, y in contour[::step]]


# ---------------------------------------------------------------------------------------------- the steps
def open_dataset(s: Shooter) -> None:
    window = s.window
    window.resize(*WINDOW_SIZE)
    window.move(0, 0)
    window.show()
    if not window.open_dataset(s.root):  # File > Open dataset... ends here; the first image with a mask shows
        raise StepFailed(f"cannot open {s.root}")
    s.wait(lambda: s.ui.methods.description is not None, "the methods panel's description", 180)
    s.idle()
    s.shot("01-open-dataset")


def browse(s: Shooter) -> None:
    filters, tree = s.window.panel.filters, s.window.tree
    filters.split.setCurrentIndex(filters.split.findData("test"))
    filters.search.setText("002")
    s.wait(lambda: tree.filter.text == "002" and tree.filter.split == "test", "the tree filter")
    s.select(BROWSE_KEY)
    s.shot("02-browse-goods")
    filters.search.clear()
    filters.split.setCurrentIndex(0)
    s.wait(lambda: not tree.filter.active, "the filter to clear")


def fix_mask(s: Shooter, missing: np.ndarray) -> None:
    window, canvas = s.window, s.window.canvas
    window.resizeDocks([s.dock("dataset-dock")], [470], Qt.Orientation.Horizontal)  # room for every badge
    window.controls.opacity.setValue(25)  # the Fill slider: the dent shows through the mask
    s.select(EDIT_KEY)
    x0, y0, x1, y1 = mask_box(window.current.mask_path)
    mx0, my0, mx1, my1 = box_of(missing)
    box = (min(x0, mx0), min(y0, my0), max(x1, mx1), max(y1, my1))
    zoom_to(s, box, 0.55)
    s.command("tool_select")
    ys, xs = np.nonzero(canvas.document.mask)
    s.click(float(xs[len(xs) // 2]) + 0.5, float(ys[len(ys) // 2]) + 0.5)  # select the shape: vertices show
    if canvas.selected is None:
        raise StepFailed("clicking the mask did not select its shape")
    s.hover(box[2] + 4, box[1] - 4)
    s.shot("03-mask-before")

    s.command("tool_polygon")
    points = outline(missing)
    for x, y in points[:-2]:
        s.click(x, y)
    s.hover(*points[-2])  # the rubber band follows the pointer to the next vertex
    s.shot("04-mask-polygon")
    for x, y in points[-2:]:
        s.click(x, y)
    s.click(*points[0])  # back on the first vertex: the polygon closes and joins the mask
    if canvas.tool.busy:
        raise StepFailed("the polygon did not close")

    s.command("tool_brush")
    window.controls.radius.setValue(1.5)
    left = [
        (float(x) + 0.5, float(y) + 0.5) for y, x in zip(*np.nonzero(missing & ~canvas.document.mask), strict=False)
    ]
    if left:  # touch up what the polygon's straight edges left out, one dab per pixel
        for x, y in left[:40]:
            s.drag([(x, y), (x, y)])
    bx, by = (box[0] + box[2]) / 2, box[3] + 3
    s.hover(bx, by)  # the brush circle shows the pixels a click would paint
    if not window.store.is_modified(EDIT_KEY):
        raise StepFailed("the edits did not register")
    s.shot("05-mask-after")
    window.save_current()  # Ctrl+S: the repaired mask goes to disk; the badge becomes "edited"
    window.controls.opacity.setValue(45)
    s.command("tool_select")
    window.resizeDocks([s.dock("dataset-dock")], [400], Qt.Orientation.Horizontal)
    s.idle()


def run_methods(s: Shooter) -> None:
    s.select(INSPECT_KEY)
    s.share_right_column(900, 1)
    s.choose_method("patchcore", FAST["patchcore"])
    s.wait_job(s.start("evaluate"))

    s.choose_method(CANCELLED_METHOD, {"image_size": 128})
    job = s.start("fit")
    s.wait(lambda: job.state == RUNNING and job.done > 0, f"{CANCELLED_METHOD}'s first progress", 300)
    row = next(r for r in s.ui.methods.jobs.rows if r.job is job)
    row.cancel.click()  # the job's Cancel button
    s.wait_job(job, CANCELLED)

    s.choose_method("spade", FAST["spade"])
    running = s.start("evaluate")
    s.choose_method("padim", FAST["padim"])
    queued = s.start("evaluate")
    s.wait(
        lambda: running.state == RUNNING and running.stage == "predict" and 0 < running.done < running.total,
        "the SPADE evaluation to be part-way through its predictions",
        300,
    )
    if queued.state == RUNNING:
        raise StepFailed("the second evaluation started before the first ended")
    s.scroll_dock("methods-dock", to_end=True)  # the job list is at the end of the panel
    s.shot("06-run-methods")
    s.wait_job(running)
    s.wait_job(queued)
    s.scroll_dock("methods-dock", to_end=False)
    s.idle()


def compare(s: Shooter) -> None:
    s.select(INSPECT_KEY)
    s.command("compare")  # Analysis > Compare methods...
    view = s.ui.compare
    view.resize(1400, 800)
    view.move(0, 0)
    s.wait(lambda: len(view.panes) >= 4, "the compare view's ground truth + 3 method panes")
    s.idle()
    s.shot("07-compare", view)
    pane = view.panes[1]
    x0, y0, x1, y1 = mask_box(s.window.current.mask_path)
    at = pane.mapFromScene(QPointF((x0 + x1) / 2, (y0 + y1) / 2))
    wheel_on(pane.viewport(), QPointF(at), 5)  # zoom one pane: the others follow
    s.settle()
    scales = {round(p.transform().m11(), 4) for p in view.panes}
    if len(scales) != 1:
        raise StepFailed(f"the panes' zooms differ after a linked zoom: {scales}")
    s.shot("08-compare-zoomed", view)
    view.close()


def read_metrics(s: Shooter) -> None:
    ui, window = s.ui, s.window
    s.choose_method("patchcore", FAST["patchcore"])  # the shown heatmap follows the method chosen here
    s.select(INSPECT_KEY)
    s.share_right_column(250, 610)
    zoom_to(s, mask_box(window.current.mask_path), 0.3)  # TP / FP / FN pixels and the threshold contour show
    s.idle()
    if ui.metrics.inspection is None:
        raise StepFailed("no per-image metrics for the image")
    s.shot("09-image-metrics")

    s.dock("triage-dock").raise_()
    jobs = ui.analysis.runner.jobs
    before = len(jobs)
    ui.triage.button.click()  # "Find likely annotation mistakes"
    if len(jobs) != before + 1:
        raise StepFailed(f"triage started no job: {ui.triage.note.text()}")
    s.wait_job(jobs[-1])
    s.idle()
    s.shot("10-triage")
    s.dock("inspect-dock").raise_()

    s.command("propose")  # Analysis > Propose mask from heatmap (the panel's button does the same)
    s.idle()
    if not window.canvas.document.mask.any():
        raise StepFailed("the proposed mask is empty: no heatmap pixel reaches the threshold")
    s.shot("11-propose-mask")
    window.canvas.undo()  # Ctrl+Z: the proposal was one undo step
    s.idle()

    s.command("metrics")  # Analysis > Dataset metrics...
    view = ui.metrics_view
    view.resize(1400, 860)
    view.move(0, 0)
    s.wait(lambda: view.table.rowCount() > 0 and view.images.rowCount() > 0, "the dataset metrics tables")
    rows = [
        r
        for r in range(view.table.rowCount())
        if view.table.item(r, 2).text() == "patchcore" and view.table.item(r, 1).text() == "all"
    ]
    if not rows:
        raise StepFailed("no PatchCore row for the whole category in the metrics table")
    view.table.selectRow(rows[0])
    view.table.cellClicked.emit(rows[0], 0)  # a click on the row: its curves and histogram show
    s.shot("12-metrics-view", view)
    view.close()


def export(s: Shooter) -> None:
    def prepare(dialog) -> None:
        dialog.kind.setCurrentIndex(dialog.kind.findData("mvtec"))
        dialog.goods.setText("001,002")
        dialog.defects.setText("good,surface_damage")
        dialog.size.setValue(256)
        dialog.dest.setText("/data/exports/drink_can-goods-001-002")  # never written: the dialog is cancelled
        dialog.resize(620, dialog.sizeHint().height())

    s.shot_modal("13-export", lambda: s.command("export"), prepare)


def shortcuts(s: Shooter) -> None:
    s.shot_modal("14-shortcuts", lambda: s.command("help"), lambda dialog: dialog.resize(720, 1270))


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    root, out = Path(argv[1]), Path(argv[2])
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    missing = cut_mask(root, EDIT_KEY)
    with tempfile.TemporaryDirectory() as config:
        s = Shooter(root, out, Path(config))
        steps = (
            ("open a dataset", open_dataset),
            ("browse by goods id", browse),
            ("fix a mask", lambda s: fix_mask(s, missing)),
            ("run methods", run_methods),
            ("compare heatmaps", compare),
            ("read metrics", read_metrics),
            ("export", export),
            ("shortcuts", shortcuts),
            ("a good image's locked tools", good_images),
            ("masks the studio cannot use", mask_repair),
            ("the methods panel's fixed run section", methods_panel),
            ("what is shown and what is set up", showing_method),
            ("the ground-truth outline in the compare view", compare_outline),
            ("curves of several methods overlaid", overlaid_curves),
            ("the main view's colour bar", main_colour_bar),
            ("settings", settings),
            ("about", about),
            ("the view menu", view_menu),
            ("the goods strip", goods_strip),
            ("outlining with a GrabCut box", grabcut_box),
            ("outlining with the live wire", live_wire),
            ("outlining with the magic wand", magic_wand),
            ("outlining from the heatmap", heatmap_seeded),
        )
        for title, step in steps:
            began = time.monotonic()
            print(f"{title}...", flush=True)
            step(s)
            print(f"  ({time.monotonic() - began:.1f} s)", flush=True)
        s.window.close()
    print(f"{len(s.saved)} screenshots in {out} ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
