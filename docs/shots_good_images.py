"""Screenshot step of a good image's locked mask tools, for docs/take_screenshots.py (after its "open a dataset"
step: the window is shown, the demo set open).

15-good-image-tools: a test/good photo open; the mask tools are greyed out in the tool bar and the banner across
the top of the canvas says why (a good image has no mask to save), with its "Mark as defective..." button.
"""

from __future__ import annotations

from screenshot_driver import Shooter, StepFailed

LOCKED_COMMANDS = ("tool_select", "tool_polygon", "tool_hole", "tool_brush", "tool_eraser", "propose")


def good_images(s: Shooter) -> None:
    window = s.window
    index = window.index
    if index is None:
        raise StepFailed("no dataset is open")
    good = next((r for r in index.records if r.split == "test" and r.defect == "good"), None)
    if good is None:
        raise StepFailed(f"{index.root} has no test/good image")
    s.select(good.key)
    banner = window.canvas.lock_banner
    if not (banner.isVisible() and banner.button.isVisible()):
        raise StepFailed(f"{good.key}: the mask-tools banner with its Mark as defective button is not shown")
    enabled = [c for c in LOCKED_COMMANDS if window.actions_by_id[c].isEnabled()]
    if enabled:
        raise StepFailed(f"{good.key}: the mask commands {enabled} are still enabled on a good image")
    s.shot("15-good-image-tools")
