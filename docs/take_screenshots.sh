#!/usr/bin/env bash
# Screenshots of the real studio window for the docs, taken under Xvfb (a virtual X display) with ImageMagick's
# `import`. Needs Xvfb, ImageMagick and the xcb libraries (libxcb-cursor0); no desktop is involved.
#
#   docs/take_screenshots.sh [DEMO_DIR]
#
# DEMO_DIR holds a 3000x3000 demo set (made here on first use: `goodsad-studio demo DIR --size 3000`, about a
# minute). Writes docs/screenshots/studio-overview.png (tree, a 3000px photo with its mask, thumbnails) and
# docs/screenshots/studio-pixels.png (the same mask at 1600 %, a polygon selected, the brush circle).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DATA=${1:-/tmp/goodsad-demo3000}
OUT=docs/screenshots
SCREEN=${SCREEN:-:99}
KEY=${KEY:-food_box/test/deformation/001008}
mkdir -p "$OUT"
if [ ! -f "$DATA/DEMO.json" ]; then
    "$PY" -m goodsad_studio demo "$DATA" --size 3000 --goods 2 --categories food_box,drink_bottle,drink_can
fi

Xvfb "$SCREEN" -screen 0 1500x940x24 -nolisten tcp >/dev/null 2>&1 &
XVFB=$!
CONFIG=$(mktemp -d)  # fresh settings: default layout, nothing recent
trap 'kill $XVFB 2>/dev/null; rm -rf "$CONFIG"' EXIT
sleep 1
export DISPLAY=$SCREEN XDG_CONFIG_HOME=$CONFIG

# 1. the studio as a user sees it after choosing an image in the tree
"$PY" -m goodsad_studio gui "$DATA" --select "$KEY" &
APP=$!
sleep 8
import -window root "$OUT/studio-overview.png"
kill $APP
wait $APP 2>/dev/null || true

# 2. pixel-level editing: zoomed to 1600 % on the mask's edge, the traced shape selected with its vertices,
#    the brush tool's circle cursor over the pixels it would paint
"$PY" - "$DATA" "$KEY" "$OUT/studio-pixels.png" <<'PYTHON'
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from goodsad_studio.gui.main_window import MainWindow

root, key, out = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
app = QApplication(sys.argv[:1])
window = MainWindow(interactive=False)
window.resize(1500, 940)
window.open_dataset(root, select=key)
window.show()
window.wait_until_loaded()
canvas = window.canvas
shape = canvas.shapes[0]
minx, miny, maxx, maxy = shape.bounds
canvas.select(0)
canvas.set_scale(16.0)
canvas.center_on_pixel((minx + maxx) / 2, miny + 12)
canvas.set_tool("brush")
canvas.set_brush_radius(3)
at = canvas.view_at(QPointF((minx + maxx) / 2 + 14.5, miny + 16.5))
canvas.setFocus()
QApplication.sendEvent(canvas.viewport(), QMouseEvent(QEvent.Type.MouseMove, at, at, Qt.MouseButton.NoButton,
                                                      Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))


def shoot() -> None:
    subprocess.run(["import", "-window", "root", out], check=True)
    window.prompts.ask_unsaved = lambda keys: "discard"
    app.quit()


QTimer.singleShot(1500, shoot)
app.exec()
PYTHON
echo "screenshots in $OUT:"
ls -l "$OUT"
