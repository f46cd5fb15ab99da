"""Event-loop stalls of the studio window while PatchCore fits and predicts a demo category in a background job:
the job run in a thread of the studio (as before) against the job run in the worker process (the first worker job
starts it, later ones reuse it), alternating, with the window idle for 3 s as the baseline, all in one run.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui_jobs.py [--images-per-goods 8] [--after 1.0] [--repeat 2]

Each run starts from an empty model folder and results cache, so each fits and predicts in full. The stall meter
runs from just before the job starts until ``--after`` seconds after it ended (the studio then reads the results
for the overlay and the summaries). Goal: worst stall < 50 ms, job start included. Prints worst, p99 and the
worst of the first second for each run, their ratios to the idle baseline, and every stall over 20 ms with the job's
stage then.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images-per-goods", type=int, default=8)
    parser.add_argument("--after", type=float, default=1.0, help="seconds measured after each job ends")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each kind (the first worker run starts it)")
    args = parser.parse_args()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from goodsad_studio.dataset.demo import generate_demo
    from goodsad_studio.gui.main_window import MainWindow
    from goodsad_studio.gui.settings import StudioSettings

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the stall meter is a test tool
    from stall import StallMeter

    app = QApplication.instance() or QApplication(sys.argv[:1])
    work = Path(tempfile.mkdtemp())
    root = generate_demo(
        work / "demo",
        size=320,
        categories=["drink_can"],
        goods_per_category=2,
        train_per_goods=args.images_per_goods,
        test_good_per_goods=2,
        defective_per_goods=2,
    )
    window = MainWindow(StudioSettings(QSettings(str(work / "s.ini"), QSettings.Format.IniFormat)), interactive=False)
    window.resize(1400, 900)
    window.show()
    window.open_dataset(root)
    window.wait_until_loaded()
    ui = window.analysis_ui
    analysis = ui.analysis

    def spin(until, limit=600.0):
        start = time.perf_counter()
        while not until() and time.perf_counter() - start < limit:
            app.processEvents()
            time.sleep(0.001)

    spin(lambda: ui.methods.description is not None)
    meter = StallMeter()
    meter.start()
    spin(lambda: False, 3.0)
    idle = meter.stop()
    idle_p99 = meter.percentile(99)
    print(f"idle window (baseline, 3 s): worst {idle:.1f} ms, p99 {idle_p99:.1f} ms")
    print(f"{'run':34s} {'job s':>6s} {'worst ms':>9s} {'p99 ms':>7s} {'1st s worst':>11s} {'x idle':>7s}")
    rows = []
    runs = [("in a thread (before)", False), ("worker process, first job", True)]
    runs += [("in a thread (before)", False), ("worker process, reused", True)] * (args.repeat - 1)
    from goodsad_studio.engine.client import EngineClient
    from goodsad_studio.engine.transports.inline import InlineTransport

    worker = analysis.client
    in_thread = EngineClient(InlineTransport())  # the baseline: the job in a thread of the studio's process
    for name, in_child in runs:
        for folder in ("models", "cache"):  # a full fit and predict every time
            shutil.rmtree(analysis.workspace.state_dir / folder, ignore_errors=True)
        analysis.client = worker if in_child else in_thread
        stages: list[tuple[float, str]] = []
        meter.start()
        started = time.perf_counter()
        job = ui.run("predict", ui.methods.spec(), "category")
        job.progressed.connect(lambda p, s=stages, t=started: s.append((time.perf_counter() - t, str(p))))
        spin(lambda job=job: not job.running)
        seconds = time.perf_counter() - started
        spin(lambda: False, args.after)
        worst = meter.stop()
        p99, first = meter.percentile(99), meter.worst_between(0.0, 1.0)
        rows.append((name, job, seconds, worst, p99, first, list(meter.stalls), stages))
        print(
            f"{name:34s} {seconds:6.1f} {worst:9.1f} {p99:7.1f} {first:11.1f} {worst / max(idle, 0.1):7.1f}"
            f"  ({job.state}, {meter.ticks} ticks)"
        )
    for kind, in_child in (("in a thread", False), ("worker process", True)):
        chosen = [row for row in rows if (row[0].startswith("worker")) == in_child]
        print(
            f"{kind}: worst of {len(chosen)} runs {max(row[3] for row in chosen):.1f} ms, "
            f"p99 {max(row[4] for row in chosen):.1f} ms (highest of the runs), "
            f"jobs {', '.join(f'{row[2]:.1f}' for row in chosen)} s"
        )
    print("goal: worst stall < 50 ms, job start included")
    for name, _job, seconds, _worst, _p99, _first, stalls, stages in rows:
        print(f"stalls over 20 ms, {name}:" + ("" if stalls else " none"))
        for at, ms in stalls:
            stage = "after the job" if at > seconds else next((s for t, s in reversed(stages) if t <= at), "starting")
            print(f"  {ms:6.1f} ms at {at:6.2f} s  (last progress: {stage})")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
