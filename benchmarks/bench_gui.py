"""Studio speed at GoodsAD's 3000x3000: open to first paint, next image when prefetched, pan/zoom repaint, brush
stroke to repaint — measured on the real window (Qt's offscreen platform unless a display is set).

Every figure is the median of repeated runs in milliseconds, printed with its ratio to a baseline measured in the
same run: one bare ``cv2.imdecode`` of the same 3000x3000 JPEG at full resolution (what a naive viewer pays before
it can draw anything). Goals: first paint <= 150 ms, prefetched next <= 50 ms, pan/zoom repaint <= 16 ms, brush
segment to repaint <= 20 ms. (labelme users report 15 s to open such images.)

    .venv/bin/python benchmarks/bench_gui.py [--images 6] [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SIZE = 3000
GOALS = {"first paint": 150.0, "prefetched next": 50.0, "repaint": 16.0, "brush": 20.0}


def photo_like(seed: int) -> np.ndarray:
    """A 3000x3000 RGB picture with photo-like statistics (smooth shading, edges, texture): JPEG decode cost
    depends on content, so pure noise or a flat colour would mislead."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    image = cv2.resize(small, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
    for _ in range(40):
        x, y = (int(v) for v in rng.integers(0, SIZE, 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        cv2.rectangle(image, (x, y), (x + int(rng.integers(50, 600)), y + int(rng.integers(50, 600))), colour, -1)
        cv2.circle(image, (y, x), int(rng.integers(20, 300)), colour, 12)
    noise = rng.normal(0, 6, (SIZE, SIZE, 1))
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def make_dataset(root: Path, count: int) -> list[str]:
    """A GoodsAD-named category of ``count`` 3000x3000 JPEGs, the first with a mask; returns their keys."""
    from goodsad_studio.dataset.imageio import write_image, write_mask

    cat = root / "food_box"
    keys = []
    for i in range(count):
        stem = f"001{i:03d}"
        split, defect = ("test", "dent") if i == 0 else ("train", "good")
        write_image(cat / split / defect / f"{stem}.jpg", photo_like(i))
        keys.append(f"food_box/{split}/{defect}/{stem}")
    mask = np.zeros((SIZE, SIZE), bool)
    cv2.circle(mask.view(np.uint8), (1500, 1400), 180, 1, -1)
    write_mask(cat / "ground_truth" / "dent" / "001000_mask.png", mask)
    return keys


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    from PySide6.QtCore import QEvent, QPointF, QSettings, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from goodsad_studio.gui.main_window import MainWindow
    from goodsad_studio.gui.settings import StudioSettings

    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="bench-gui-"))
    os.environ.setdefault("GOODSAD_STUDIO_DATA", str(work / "user"))
    print(f"writing {args.images} {SIZE}x{SIZE} JPEGs to {work} ...", flush=True)
    keys = make_dataset(work / "data", args.images)
    jpeg = work / "data" / "food_box" / "train" / "good" / "001001.jpg"
    data = jpeg.read_bytes()
    decode = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        decode.append(time.perf_counter() - start)
    baseline = median_ms(decode)

    window = MainWindow(
        StudioSettings(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)), interactive=False
    )
    window.resize(1500, 940)
    window.show()
    window.open_dataset(work / "data")
    window.wait_until_loaded()
    canvas, viewport = window.canvas, window.canvas.viewport()
    rows: list[tuple[str, float, str]] = []

    # ---------------------------------------------------------------- open -> first paint (nothing cached)
    first, editable, full = [], [], []
    for i in range(min(args.repeat, 6)):
        target = keys[1 + i % (len(keys) - 1)]
        window.select_image(keys[0])
        window.wait_until_loaded()
        record = window.index.get(target)
        window.loader.forget(record.image_path)
        window.loader.forget_documents()
        start = time.perf_counter()
        window.show_record(target)
        viewport.repaint()
        first.append(time.perf_counter() - start)
        while canvas.document is None:
            app.processEvents()
        editable.append(time.perf_counter() - start)
        while not canvas.image_layer.is_full_resolution:
            app.processEvents()
        viewport.repaint()
        full.append(time.perf_counter() - start)
    rows.append(("open -> first paint (preview)", median_ms(first), "first paint"))
    rows.append(("open -> mask editable", median_ms(editable), ""))
    rows.append(("open -> full resolution painted", median_ms(full), ""))

    # ---------------------------------------------------------------- next image when prefetched
    nexts = []
    for i in range(min(args.repeat, 8)):
        window.select_image(keys[i % 2])
        window.wait_until_loaded()
        start = time.perf_counter()
        window.step(1)
        viewport.repaint()
        nexts.append(time.perf_counter() - start)
        assert canvas.image_layer.is_full_resolution and canvas.document is not None, "the neighbour was not ready"
    rows.append(("next image, prefetched (full res + mask)", median_ms(nexts), "prefetched next"))

    # ---------------------------------------------------------------- pan / zoom repaint
    window.select_image(keys[0])
    window.wait_until_loaded()
    canvas.set_tool("select")
    app.processEvents()
    for label, scale in (("fit", None), ("100 %", 1.0), ("1600 %", 16.0)):
        if scale is None:
            canvas.fit()
        else:
            canvas.set_scale(scale)
            canvas.center_on_pixel(1500, 1400)
        viewport.repaint()
        pans, zooms = [], []
        for i in range(args.repeat):
            start = time.perf_counter()
            canvas._scroll_by(7 if i % 2 else -7, 5 if i % 2 else -5)
            viewport.repaint()
            pans.append(time.perf_counter() - start)
            start = time.perf_counter()
            canvas.zoom_by(1.05 if i % 2 else 1 / 1.05, QPointF(700, 400))
            viewport.repaint()
            zooms.append(time.perf_counter() - start)
        rows.append((f"pan repaint at {label}", median_ms(pans), "repaint"))
        rows.append((f"zoom repaint at {label}", median_ms(zooms), "repaint"))

    # ---------------------------------------------------------------- brush segment -> repaint
    canvas.set_tool("brush")
    for label, scale, radius in (("100 %", 1.0, 12.0), ("fit", None, 25.0)):
        if scale is None:
            canvas.fit()
        else:
            canvas.set_scale(scale)
            canvas.center_on_pixel(1500, 1400)
        canvas.set_brush_radius(radius)
        viewport.repaint()
        segments = []
        origin = canvas.view_at(QPointF(1300, 1300))
        press = QMouseEvent(
            QEvent.Type.MouseButtonPress,
            origin,
            origin,
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(viewport, press)
        viewport.repaint()
        for i in range(1, args.repeat * 2 + 1):
            at = QPointF(origin.x() + 6 * i, origin.y() + 3 * i)
            move = QMouseEvent(
                QEvent.Type.MouseMove,
                at,
                at,
                Qt.MouseButton.NoButton,
                Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier,
            )
            start = time.perf_counter()
            QApplication.sendEvent(viewport, move)
            viewport.repaint()
            segments.append(time.perf_counter() - start)
        release = QMouseEvent(
            QEvent.Type.MouseButtonRelease,
            at,
            at,
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
        )
        start = time.perf_counter()
        QApplication.sendEvent(viewport, release)
        viewport.repaint()
        ending = time.perf_counter() - start
        rows.append((f"brush segment -> repaint at {label} (r {radius:g})", median_ms(segments), "brush"))
        rows.append((f"brush stroke end (undo step, outline) at {label}", ending * 1000, ""))
        start = time.perf_counter()
        canvas.undo()
        viewport.repaint()
        rows.append((f"undo of that stroke -> repaint at {label}", (time.perf_counter() - start) * 1000, ""))

    print(f"\nplatform {app.platformName()}, window 1500x940, image {SIZE}x{SIZE} JPEG")
    print(f"baseline: bare cv2.imdecode of one {SIZE}x{SIZE} JPEG = {baseline:.1f} ms\n")
    print(f"{'measure':52s} {'ms':>8s} {'x baseline':>11s} {'goal':>8s}")
    worst = 0
    for label, ms, goal_key in rows:
        goal = GOALS.get(goal_key)
        verdict = "" if goal is None else f"<= {goal:g}" + ("" if ms <= goal else "  MISSED")
        worst += goal is not None and ms > goal
        print(f"{label:52s} {ms:8.1f} {ms / baseline:11.3f} {verdict:>8s}")
    window.prompts.ask_unsaved = lambda keys: "discard"
    window.close()
    return 0 if not worst else 1


if __name__ == "__main__":
    sys.exit(main())
