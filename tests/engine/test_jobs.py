"""Engine jobs with a small deterministic plug-in method (tests/engine_helpers.py, named by import path): fitting,
saved-model reuse, the results cache, cancellation, progress, evaluation and the report files."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from engine_helpers import PLUGIN

from goodsad_studio.dataset.imageio import write_image, write_mask
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.contract import MethodSpec, Scope
from goodsad_studio.engine.worker.evaluate import evaluate_category
from goodsad_studio.engine.worker.workspace import Workspace
from goodsad_studio.errors import Cancelled
from goodsad_studio.progress import Monitor


def _dataset(root: Path, goods=("001", "002")) -> Path:
    """Grey goods with a bright square defect; two goods ids of different brightness."""
    rng = np.random.default_rng(0)
    for g, goods_id in enumerate(goods):
        base = 90 + 60 * g
        for serial in range(4):
            noise = rng.integers(-4, 5, (40, 48, 3))
            write_image(
                root / "cat" / "train" / "good" / f"{goods_id}{serial:03d}.png",
                np.clip(base + noise, 0, 255).astype(np.uint8),
            )
        for serial in range(4, 6):
            write_image(
                root / "cat" / "test" / "good" / f"{goods_id}{serial:03d}.png",
                np.clip(base + rng.integers(-4, 5, (40, 48, 3)), 0, 255).astype(np.uint8),
            )
        for serial in range(6, 8):
            image = np.clip(base + rng.integers(-4, 5, (40, 48, 3)), 0, 255).astype(np.uint8)
            mask = np.zeros((40, 48), bool)
            mask[10:22, 12:26] = True
            image[mask] = 250
            write_image(root / "cat" / "test" / "dent" / f"{goods_id}{serial:03d}.png", image)
            write_mask(root / "cat" / "ground_truth" / "dent" / f"{goods_id}{serial:03d}_mask.png", mask)
    return root


@pytest.fixture
def workspace(tmp_path):
    return Workspace(scan_dataset(_dataset(tmp_path / "data")))


SPEC = MethodSpec(PLUGIN)


def test_fit_saves_and_reuses_the_model(workspace):
    progress = []
    first = workspace.fit(SPEC, "cat", monitor=Monitor(progress.append))
    assert not first.reused and (first.directory / "method.json").is_file()
    assert first.directory.is_relative_to(workspace.index.root / ".goodsad-studio")
    assert first.directory.name.startswith("engine_helpers+MeanImageDistance-")
    assert progress[-1].done == progress[-1].total == 8 and progress[-1].detail == f"{PLUGIN} on cat"
    second = workspace.fit(SPEC, "cat")
    assert second.reused and second.key == first.key
    other = workspace.fit(MethodSpec(PLUGIN, {"image_size": "16"}), "cat")
    assert other.key != first.key


def test_changed_training_image_changes_the_key(workspace):
    first = workspace.fit(SPEC, "cat")
    path = workspace.index.filter(split="train")[0].image_path
    write_image(path, np.zeros((40, 48, 3), np.uint8))
    assert workspace.fit(SPEC, "cat").key != first.key


def test_predict_uses_the_cache(workspace):
    model = workspace.fit(SPEC, "cat")
    records = workspace.test_records("cat")
    results = workspace.predict(model, records)
    assert set(results) == {record.key for record in records}
    result = results["cat/test/dent/001006"]
    assert result.native_shape == (40, 48) and result.native_map().shape == (40, 48)
    calls = []
    original = model.method.predict
    model.method.predict = lambda images, *a: calls.append(len(images)) or original(images, *a)
    again = workspace.predict(model, records)
    assert calls == [] and again["cat/test/dent/001006"].score == pytest.approx(result.score, rel=1e-3)


def test_cancel_stops_fit_and_predict(workspace):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        workspace.fit(SPEC, "cat", monitor=Monitor(cancel=cancel))
    model = workspace.fit(SPEC, "cat")
    with pytest.raises(Cancelled):
        workspace.predict(model, workspace.test_records("cat"), monitor=Monitor(cancel=cancel))


def test_evaluate_writes_the_paper_tables_with_goods_breakdown(workspace, tmp_path):
    from goodsad_studio.metrics.report import write_report

    outcome, models = evaluate_category(workspace, SPEC, "cat")
    assert [m.reused for m in models] == [False]
    write_report(outcome.rows, tmp_path / "report")
    whole = outcome.rows[0].result
    assert whole.image_auroc == 1.0 and whole.pixel_auroc > 0.95 and 0.9 < whole.pro <= 1.0
    assert [row.goods_id for row in outcome.rows] == [None, "001", "002"]
    data = json.loads((tmp_path / "report" / "report.json").read_text())
    assert data and (tmp_path / "report" / "report.md").read_text().count(PLUGIN) >= 1
    assert sorted(p.name for p in (tmp_path / "report").glob("report_*.csv")) == [
        "report_goods.csv",
        "report_hardest.csv",
        "report_image.csv",
        "report_pixel.csv",
    ]


def test_per_goods_scope_fits_one_model_per_goods_id(workspace):
    outcome, used = evaluate_category(workspace, SPEC, "cat", scope=Scope.GOODS)
    assert [m.goods_id for m in used] == ["001", "002"]
    models = sorted(p.parent.parent.name for p in workspace.layout.models_dir.glob("cat/*/*/method.json"))
    assert models == ["001", "002"] and outcome.train_images == 8
    assert outcome.method == f"{PLUGIN}/goods" and outcome.rows[0].result.image_auroc == 1.0


def test_read_only_dataset_keeps_state_in_user_data(tmp_path, monkeypatch):
    import goodsad_studio.paths as paths

    index = scan_dataset(_dataset(tmp_path / "data"))
    monkeypatch.setattr("goodsad_studio.fsutil.is_writable_dir", lambda directory: False)
    state = paths.dataset_state_dir(index.root)
    assert state.is_relative_to(paths.user_data_dir()) and not (index.root / ".goodsad-studio").exists()
    model = Workspace(index).fit(SPEC, "cat")
    assert model.directory.is_relative_to(paths.user_data_dir())


def test_a_plug_ins_saved_model_loads_by_the_import_path_it_was_saved_from(workspace):
    from goodsad_studio.methods import load_method

    model = workspace.fit(SPEC, "cat")
    loaded = load_method(model.directory, device="cpu")
    assert type(loaded) is type(model.method.method) and loaded.config() == model.method.config()
    probe = [np.full((40, 48, 3), 120, np.uint8)]
    (fitted,), (back,) = model.method.predict(probe), loaded.predict(probe)
    assert fitted.score == back.score and np.array_equal(fitted.anomaly_map, back.anomaly_map)


def test_an_evaluation_per_goods_id_through_the_engine_returns_a_model_it_used(workspace):
    from goodsad_studio.engine.client import EngineClient
    from goodsad_studio.engine.contract import Evaluate
    from goodsad_studio.engine.evaluations import load_outcomes
    from goodsad_studio.engine.transports.inline import InlineTransport

    evaluated = EngineClient(InlineTransport()).evaluate(Evaluate(workspace.ref(), SPEC, "cat", scope=Scope.GOODS))
    assert evaluated.outcome.method == f"{PLUGIN}/goods" and evaluated.model.goods_id == "002"
    assert not evaluated.model.reused and evaluated.model.directory.is_dir()
    assert load_outcomes(workspace.state_dir) == []  # per-goods outcomes are not the studio's category tables


def test_a_method_whose_module_cannot_be_imported_is_listed_with_why_and_the_others_still_are(monkeypatch):
    from goodsad_studio.engine.contract import MethodSpec as Spec
    from goodsad_studio.engine.worker.describe import describe_method, method_cards
    from goodsad_studio.methods import registry

    monkeypatch.setitem(registry.BUILTIN, "broken", "no_such_module:Broken")
    cards = {card.name: card for card in method_cards()}
    assert "cannot import module 'no_such_module'" in cards["broken"].problem
    assert cards["padim"].params and not cards["padim"].problem
    described = describe_method(Spec("broken"))
    assert "cannot import module" in described.problem and described.backbones


def test_a_cancelled_heatmaps_export_stops_between_images_and_writes_no_scores(workspace, tmp_path):
    from goodsad_studio.engine.contract import Export, ExportKind, ExportOptions, SelectionSpec
    from goodsad_studio.engine.transports.inline import InlineTransport

    model = workspace.fit(SPEC, "cat")
    workspace.predict(model, workspace.test_records("cat"))
    cancel = threading.Event()

    def progress(event):  # the user cancels once two images are written
        if event.detail.startswith("heatmaps to") and event.done >= 2:
            cancel.set()

    request = Export(
        workspace.ref(), ExportKind.HEATMAPS, str(tmp_path / "maps"), SelectionSpec(("cat",), splits=("test",)),
        ExportOptions(results=(("cat", model.key),)),
    )  # fmt: skip
    with pytest.raises(Cancelled):
        InlineTransport().run(request, progress, cancel)
    assert len(list((tmp_path / "maps").rglob("*.npy"))) == 2 and not (tmp_path / "maps" / "scores.csv").exists()


def test_a_dataset_without_masks_is_evaluated_at_image_level_with_the_pixel_columns_marked(tmp_path):
    import shutil

    from goodsad_studio.metrics.report import NO_MASKS, render_csv, render_markdown

    root = _dataset(tmp_path / "data")
    shutil.rmtree(root / "cat" / "ground_truth")  # an image-level-only dataset
    workspace = Workspace(scan_dataset(root))
    outcome, _ = evaluate_category(workspace, SPEC, "cat")
    result = outcome.rows[0].result
    assert result.image_auroc == 1.0 and result.pixel_mode == "none"
    markdown = render_markdown(outcome.rows)
    pixel_table = markdown.split("## Table V")[1].split("##")[0]
    assert pixel_table.count(NO_MASKS) == 3 * 2  # AUROC, AUPR, PRO of the category and of the mean
    assert "100.0" in markdown.split("## Table IV")[1].split("##")[0]
    assert NO_MASKS in render_csv(outcome.rows, "pixel") and NO_MASKS in render_csv(outcome.rows, "goods")


def test_a_category_where_only_some_defective_images_have_masks_is_refused_naming_one(workspace):
    from goodsad_studio.errors import MaskError

    mask = next(r.mask_path for r in workspace.test_records("cat") if r.mask_path is not None)
    mask.unlink()
    with pytest.raises(MaskError, match="anomalous image has no ground-truth mask"):
        evaluate_category(Workspace(scan_dataset(workspace.index.root)), SPEC, "cat")
