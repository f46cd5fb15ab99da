"""The command line: info's tables and JSON, errors as messages, and the GUI entry's screenshot mode."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import build_category, shared_category

from goodsad_studio.cli import main


def test_info_prints_counts_and_exit_code(tmp_path, capsys):
    build_category(tmp_path / "drink_can", names=("001001", "002001"))
    assert main(["info", str(tmp_path), "--goods"]) == 0
    out = capsys.readouterr().out
    assert "drink_can" in out and "goods types" in out and "validation: 0 errors" in out
    assert "001" in out and "002" in out


def test_info_json_and_findings(tmp_path, capsys):
    cat = build_category(tmp_path / "cat", names=("000",))
    (cat / "ground_truth" / "scratch" / "000_mask.png").unlink()
    assert main(["info", str(tmp_path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["categories"][0]["test_defective"] == 1
    assert data["findings"][0]["code"] == "missing-mask"
    assert data["findings"][0]["path"].endswith("000.png")


def test_bad_root_is_a_message_not_a_traceback(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "dataset folder not found" in err and "Traceback" not in err


def test_info_on_real_magnetic_tile(shared_data):
    root = shared_category(shared_data, "mtd_magnetic_tile/magnetic_tile")
    result = subprocess.run(
        [sys.executable, "-m", "goodsad_studio", "info", str(root), "--json"], capture_output=True, text=True
    )
    data = json.loads(result.stdout)
    row = data["categories"][0]
    assert (row["train_good"], row["test_good"], row["test_defective"]) == (761, 191, 392)


def test_first_launch_generates_the_demo_and_opens_it(tmp_path):
    """What `make run` does, with --screenshot so it exits: demo generated, window rendered, no display needed."""
    import os

    from goodsad_studio.dataset.imageio import read_image

    env = {**os.environ, "GOODSAD_STUDIO_DATA": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    env.pop("DISPLAY", None)
    env.pop("QT_QPA_PLATFORM", None)
    shot = tmp_path / "first.png"
    result = subprocess.run(
        [sys.executable, "-m", "goodsad_studio", "gui", "--demo", "--screenshot", str(shot)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    demo = next((tmp_path / "data" / "demo").iterdir())
    assert (demo / "DEMO.json").is_file() and (demo / "drink_bottle" / "train" / "good").is_dir()
    assert read_image(shot).std() > 10


def test_methods_lists_each_parameter_by_name_with_its_default(capsys):
    from goodsad_studio.methods import resolve

    assert main(["methods", "patchcore", "padim"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("patchcore: ") and "\npadim: " in out and "spade:" not in out
    for spec in resolve("patchcore").params:
        default = "auto" if spec.default is None else spec.default
        assert f"--param {spec.name}={default}  ({spec.describe()})" in out
    assert "(int in [0, 2147483647])" in out  # whole numbers print as such, not as 2.14748e+09


def test_evaluate_compares_each_photo_with_its_goods_and_calibrates(tmp_path, capsys):
    from goodsad_studio.dataset.demo import generate_demo
    from goodsad_studio.methods.components.backbones import MOBILENET_WEIGHTS_PACKAGE
    from goodsad_studio.methods.components.weights import find_in_package

    if find_in_package(MOBILENET_WEIGHTS_PACKAGE, "mobilenet_v2-b0353104.pth") is None:
        pytest.skip("offline mobilenet_v2 weights not installed")
    root = generate_demo(tmp_path / "demo", size=96, categories=["drink_can"], goods_per_category=2, train_per_goods=3)
    out = ["--out", str(tmp_path / "report")]
    common = ["--backbone", "mobilenet_v2", "--device", "cpu", "--param", "image_size=32", *out]
    assert main(["evaluate", str(root), "--compare-with", "nearest", *common]) == 2
    err = capsys.readouterr().err
    assert "compare with 'all', 'goods', a number K of neighbours or 'goods:K'" in err and "Traceback" not in err
    assert main(["evaluate", str(root), "--method", "padim", "--compare-with", "goods", *common]) != 0
    assert "memory-based method" in capsys.readouterr().err
    assert main(["evaluate", str(root), "--compare-with", "goods:2", "--calibrate", *common]) == 0
    saved = json.loads(next((root / ".goodsad-studio" / "models").rglob("method.json")).read_text())
    assert saved["goods"]["spec"] == {"same_goods": True, "neighbours": 2, "calibrate": True}


def test_fit_takes_the_native_resolution_options_and_refuses_bad_ones(tmp_path, capsys):
    from engine_helpers import PLUGIN

    from goodsad_studio.dataset.demo import generate_demo

    root = generate_demo(tmp_path / "demo", size=128, categories=["drink_can"], goods_per_category=1)
    assert main(["fit", str(root), "--method", PLUGIN, "--tiling", "tiny"]) == 2
    err = capsys.readouterr().err
    assert "tiling must be auto, off or SIZE[:OVERLAP]" in err and "Traceback" not in err
    assert main(["fit", str(root), "--method", PLUGIN, "--tiling", "64:16", "--crop", "off", "--multiscale"]) == 0
    saved = next((root / ".goodsad-studio" / "models").rglob("method.json"))
    assert json.loads(saved.read_text())["view"] == {
        "crop": False,
        "tiles": {"size": 64, "overlap": 16},
        "multiscale": True,
    }


def test_budget_fits_a_trained_method_within_its_minutes_and_says_so(tmp_path, capsys):
    from goodsad_studio.dataset.demo import generate_demo

    root = generate_demo(tmp_path / "demo", size=64, categories=["drink_can"], goods_per_category=1)
    tiny = ["--param", "image_size=32", "--param", "width=4", "--param", "batch_size=4", "--param", "latent_dim=8"]
    assert main(["fit", str(root), "--method", "fanogan", "--budget", "0.1", *tiny]) == 0
    out = capsys.readouterr().out
    assert "(budget 0.1 min)" in out and "of the configured" in out, out
    saved = json.loads(next((root / ".goodsad-studio" / "models").rglob("method.json")).read_text())
    assert saved["params"]["budget_minutes"] == 0.1
    assert saved["training_log"]["run"]["seconds"] < 0.1 * 60 * 1.5
    # a method that does not train has no budget: the option leaves it as it was
    untrained = ["--weights", "random", "--backbone", "resnet18"]
    assert main(["fit", str(root), "--method", "padim", "--budget", "1", *untrained]) == 0
    padim = json.loads(next((root / ".goodsad-studio" / "models").rglob("padim-*/method.json")).read_text())
    assert "budget_minutes" not in padim["params"]
