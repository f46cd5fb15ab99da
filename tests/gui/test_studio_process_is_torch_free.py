"""The studio's own process never imports torch, faiss or a method: after a fit, a predict, an evaluation, the
methods panel's list and description, and an export, all done through the worker, it has none of them loaded.
Checked in a fresh interpreter (this test process imports torch for other tests); the static side of the same rule
is the import-linter contract `gui-process-torch-free`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from engine_helpers import CATEGORY, small_demo

SCRIPT = r"""
import json, sys, time
from PySide6.QtWidgets import QApplication
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.contract import Export, ExportKind, MethodSpec, SelectionSpec
from goodsad_studio.gui.analysis import Analysis
from goodsad_studio.gui.methods_panel import MethodsPanel

app = QApplication([])
root, category, dest = sys.argv[1:4]
analysis = Analysis()
analysis.set_index(scan_dataset(root))
panel = MethodsPanel(analysis)

def wait(condition, what):
    deadline = time.monotonic() + 300
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)

wait(lambda: panel.description is not None, "the description")
spec = MethodSpec("patchcore", {"coreset_ratio": 0.1})
records = analysis.workspace.test_records(category)
jobs = [analysis.predict(spec, category, records, category)]
wait(lambda: not jobs[-1].running, "predict")
jobs.append(analysis.evaluate(spec, category))
wait(lambda: not jobs[-1].running, "evaluate")
export = Export(analysis.workspace.ref(), ExportKind.COCO, dest, SelectionSpec((category,)))
jobs.append(analysis.export("coco", export))
wait(lambda: not jobs[-1].running, "export")
wait(lambda: not analysis.busy, "the views' reads")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchvision", "faiss")
                or m.startswith(("goodsad_studio.methods", "goodsad_studio.engine.worker")))
print(json.dumps({"states": [str(job.state) for job in jobs], "errors": [str(job.error) for job in jobs],
                  "loaded": loaded[:10], "panel": panel.method.count()}))
panel.shutdown()
analysis.shutdown()
"""


def test_the_studio_process_stays_free_of_torch_faiss_and_the_methods(tmp_path):
    root = small_demo(tmp_path / "demo")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_DATA_HOME": str(tmp_path / "data")}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[1]), *sys.path])
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(root), CATEGORY, str(tmp_path / "coco.json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["states"] == ["done", "done", "done"], report["errors"]
    assert report["panel"] >= 10
    assert report["loaded"] == [], f"the studio's process imported {report['loaded']}"
    assert (tmp_path / "coco.json").stat().st_size > 100
