"""Worst event-loop stall of the studio window while PatchCore fits and predicts a demo category in a background
job, against the same window idle for the same time (the baseline), measured in one run.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui_jobs.py [--images-per-goods 8]

Goal: worst stall during the job < 50 ms. Prints every stall over 20 ms with its time and the job's stage then.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images-per-goods", type=int, default=8)
    args = parser.parse_args()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from goodsad_studio.dataset.demo import generate_demo
    from goodsad_studio.gui.main_window import MainWindow
    from goodsad_studio.gui.settings import StudioSettings
    from goodsad_studio.gui.stall import StallMeter

    app = QApplication.instance() or QApplication(sys.argv[:1])
    work = Path(tempfile.mkdtemp())
    root = generate_demo(work / "demo", size=320, categories=["drink_can"], goods_per_category=2,
                         train_per_goods=args.images_per_goods, test_good_per_goods=2, defective_per_goods=2)
    window = MainWindow(StudioSettings(QSettings(str(work / "s.ini"), QSettings.Format.IniFormat)),
                        interactive=False)
    window.resize(1400, 900)
    window.show()
    window.open_dataset(root)
    window.wait_until_loaded()
    ui = window.analysis_ui

    def spin(until, limit=600.0):
        start = time.perf_counter()
        while not until() and time.perf_counter() - start < limit:
            app.processEvents()
            time.sleep(0.001)

    spin(lambda: ui.methods.description is not None)
    stages: list[tuple[float, str]] = []
    meter = StallMeter()
    meter.start()
    spin(lambda: False, 3.0)
    idle = meter.stop()
    meter.start()
    started = time.perf_counter()
    job = ui.run("predict", ui.methods.spec(), "category")
    job.progressed.connect(lambda p: stages.append((time.perf_counter() - started, f"{p.stage} {p.done}/{p.total}")))
    spin(lambda: not job.running)
    seconds = time.perf_counter() - started
    worst = meter.stop()
    print(f"job: {job.title} -> {job.state} in {seconds:.1f} s ({meter.ticks} timer ticks)")
    print(f"worst stall idle (baseline, 3 s): {idle:.1f} ms")
    print(f"worst stall during the job:       {worst:.1f} ms at {meter.worst_at:.2f} s  (goal < 50 ms); "
          f"ratio to idle {worst / max(idle, 0.1):.1f}x")
    for at, ms in meter.stalls:
        stage = next((s for t, s in reversed(stages) if t <= at), "starting")
        print(f"  stall {ms:6.1f} ms at {at:6.2f} s  (last progress: {stage})")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
