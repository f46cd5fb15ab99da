"""The screenshot of an evaluation that skipped images (issue 21, point 3): a small demo category with one photo cut
to a third and one mask of the wrong size, evaluated with PaDiM; the dataset metrics view names what it left out.
A separate script (the guide's main run keeps its demo set intact):

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/shot_skipped_images.py [OUT_DIR]
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from goodsad_studio.dataset.demo import generate_demo
from goodsad_studio.dataset.imageio import write_mask
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.client import EngineClient
from goodsad_studio.engine.contract import MethodSpec
from goodsad_studio.engine.transports.inline import InlineTransport
from goodsad_studio.gui.main_window import MainWindow
from goodsad_studio.gui.prompts import Prompts
from goodsad_studio.gui.settings import StudioSettings


def main(out: Path) -> int:
    work = Path(tempfile.mkdtemp())
    app = QApplication(sys.argv[:1])
    root = generate_demo(work / "demo", size=256, categories=["drink_can"], goods_per_category=2)
    index = scan_dataset(root)
    defective = [r for r in index.records if r.split == "test" and r.mask_path is not None]
    data = defective[0].image_path.read_bytes()
    defective[0].image_path.write_bytes(data[: len(data) // 3])  # truncated
    write_mask(defective[1].mask_path, np.zeros((7, 9), bool))  # not its image's size
    good = next(r for r in index.records if r.split == "test" and r.defect == "good")
    window = MainWindow(StudioSettings(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)), None)
    window.prompts = Prompts(window)
    window.resize(1500, 940)
    window.show()
    window.open_dataset(root, select=good.key)
    ui = window.analysis_ui
    ui.analysis.client = EngineClient(InlineTransport())  # in this process: the shot needs no worker
    job = ui.analysis.evaluate(MethodSpec("padim", {"image_size": 128}), "drink_can")
    failed: list[str] = []

    def shoot() -> None:
        view = ui.metrics_view
        view.show_row(0)
        if not view.skipped_note.isVisible():
            failed.append("the metrics view names no skipped image")
        view.grab().save(str(out / "31-skipped-images.png"))
        app.quit()

    def when_done() -> None:
        if job.running:
            QTimer.singleShot(200, when_done)
            return
        ui.show_metrics()
        ui.metrics_view.resize(1400, 900)
        ui.metrics_view.move(0, 0)
        QTimer.singleShot(1500, shoot)

    QTimer.singleShot(200, when_done)
    app.exec()
    if failed:
        print(failed[0], file=sys.stderr)
        return 1
    print(f"saved {out / '31-skipped-images.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")))
