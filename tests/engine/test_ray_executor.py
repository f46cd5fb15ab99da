"""The Ray executor: a fit, predict or evaluate sharded into Ray tasks on a one-machine Ray of two CPUs gives the
same models, maps and report as the local executor; its shards are planned as documented; a task that fails once
is retried, one that fails twice is reported as its own error; cancel stops the tasks; a missing Ray says how to
install it. The set-up installs the ``ray`` extra: under CI (``CI=true``) Ray's absence fails instead of skipping."""

from __future__ import annotations

import builtins
import dataclasses
import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from engine_helpers import FAILING, FAILS_ONCE, PLUGIN, STUCK

from goodsad_studio.cli import main
from goodsad_studio.dataset.demo import generate_demo
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.client import EngineClient
from goodsad_studio.engine.contract import (
    Batch,
    DatasetRef,
    Evaluate,
    Executor,
    ExecutorKind,
    Fit,
    MethodSpec,
    Predict,
    Scope,
)
from goodsad_studio.engine.inspect import cached_results, result_set_for
from goodsad_studio.engine.layout import StateLayout
from goodsad_studio.engine.transports.inline import InlineTransport
from goodsad_studio.engine.worker import ray_executor
from goodsad_studio.engine.worker.shards import MIN_IMAGES_PER_TASK, plan
from goodsad_studio.engine.worker.workspace import Workspace
from goodsad_studio.errors import Cancelled, ParamError, StudioError, WorkerError

RAY = Executor(ExecutorKind.RAY, cpus=2)
CATEGORIES = ["drink_can", "cigarette_box"]
PADIM = MethodSpec("padim", {"image_size": 64})


def _need_ray():
    try:
        import ray  # noqa: F401
    except ImportError:
        reason = "ray is not installed (pip install 'goodsad-studio[ray]'; the set-up installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"under CI the Ray tests must run: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return generate_demo(tmp_path_factory.mktemp("ray") / "demo", size=96, categories=CATEGORIES, goods_per_category=2)


@pytest.fixture(scope="module")
def ray_up():
    """A one-machine Ray of two CPUs for the module; its workers import the tests' plug-ins (PYTHONPATH)."""
    _need_ray()
    tests = str(Path(__file__).resolve().parents[1])
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (tests, before) if p)
    ray = ray_executor.connect(RAY)
    yield ray
    ray.shutdown()
    ray_executor._STARTED.clear()
    if before is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = before


def _ref(root: Path, state: Path) -> DatasetRef:
    return DatasetRef.of(root, state)


def _client() -> EngineClient:
    return EngineClient(InlineTransport())


# ---------------------------------------------------------------------------------------------- the plan (no Ray)
def test_an_evaluation_is_planned_as_one_fit_per_model_then_predictions_of_a_few_images(demo, tmp_path):
    ref = _ref(demo, tmp_path / "state")
    workspace = Workspace(scan_dataset(demo), tmp_path / "state")
    tests = {c: [r.key for r in workspace.test_records(c)] for c in CATEGORIES}
    batch = Batch(tuple(Evaluate(ref, PADIM, c) for c in CATEGORIES), RAY)
    shards = plan(batch, lambda _part: workspace, cpus=2)
    assert [(f.category, f.goods_id) for f in shards.fits] == [(c, None) for c in CATEGORIES]
    size = max(MIN_IMAGES_PER_TASK, -(-sum(map(len, tests.values())) // 2))
    for category in CATEGORIES:
        keys = [k for p in shards.predicts if p.category == category for k in p.keys]
        assert keys == tests[category]  # every test image once, in order
    assert all(len(p.keys) <= size for p in shards.predicts)

    by_goods = plan(Evaluate(ref, PADIM, "drink_can", scope=Scope.GOODS, executor=RAY), lambda _p: workspace, 2, 3)
    goods = scan_dataset(demo).goods_ids("drink_can")
    assert [f.goods_id for f in by_goods.fits] == list(goods)
    assert all(len(p.keys) <= 3 and p.goods_id in goods for p in by_goods.predicts)
    for predict in by_goods.predicts:  # each goods id's images predicted by its own model
        assert all(workspace.record(key).group == predict.goods_id for key in predict.keys)

    same = plan(Batch((Fit(ref, PADIM, "drink_can"), Predict(ref, PADIM, "drink_can", ("a",))), RAY), None, 2)
    assert len(same.fits) == 1 and same.predicts[0].keys == ("a",)  # one model fitted once


# ---------------------------------------------------------------------------------------------- on Ray
def test_evaluate_on_ray_gives_the_local_report_and_maps(ray_up, demo, tmp_path):
    """Identical figures and maps, bit for bit, when the local run uses as many torch threads as a task."""
    local_state, ray_state = tmp_path / "local", tmp_path / "ray"
    local = [Evaluate(_ref(demo, local_state), PADIM, c) for c in CATEGORIES]
    remote = [dataclasses.replace(e, dataset=_ref(demo, ray_state)) for e in local]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each Ray task (one CPU): float sums then run in the same order, bit for bit
    try:
        here = _client().batch(Batch(tuple(local)))
    finally:
        torch.set_num_threads(threads)
    seen = []
    started = time.perf_counter()
    there = _client().batch(Batch(tuple(remote), RAY), seen.append)
    print(f"\nevaluate of 2 categories on a 2-CPU Ray: {time.perf_counter() - started:.1f} s")
    for a, b in zip(here.results, there.results, strict=True):
        _same([dataclasses.asdict(r) for r in a.outcome.rows], [dataclasses.asdict(r) for r in b.outcome.rows])
        assert b.outcome.fit_seconds > 0 and b.outcome.predict_ms_per_image > 0  # the shards' own costs
        assert a.model.key == b.model.key
    index = scan_dataset(demo)
    for category, a, b in zip(CATEGORIES, here.results, there.results, strict=True):
        records = [r for r in index.records if r.category == category and r.split == "test"]
        mine = cached_results(result_set_for(a.model, StateLayout(local_state).cache_dir), records)
        theirs = cached_results(result_set_for(b.model, StateLayout(ray_state).cache_dir), records)
        assert set(mine) == set(theirs) == {r.key for r in records}
        for key in mine:
            assert mine[key].score == theirs[key].score
            np.testing.assert_array_equal(mine[key].anomaly_map, theirs[key].anomaly_map)
    stages = {event.stage for event in seen if hasattr(event, "stage")}
    assert {"predict", "evaluate"} <= stages
    assert any("Ray predict tasks done" in event.detail for event in seen if hasattr(event, "detail"))


def test_the_cli_evaluates_on_ray_with_the_same_report(ray_up, demo, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GOODSAD_STUDIO_DATA", str(tmp_path / "data-local"))
    args = ["evaluate", str(demo), "--methods", "padim", "--param", "image_size=64"]
    assert main([*args, "--out", str(tmp_path / "local")]) == 0
    monkeypatch.setenv("GOODSAD_STUDIO_DATA", str(tmp_path / "data-ray"))
    assert main([*args, "--out", str(tmp_path / "ray"), "--executor", "ray", "--ray-cpus", "2"]) == 0
    capsys.readouterr()
    # the local run's torch uses both cores, each task one: sums in another order, equal to the report's precision
    assert (tmp_path / "local" / "report.md").read_text() == (tmp_path / "ray" / "report.md").read_text()
    local = json.loads((tmp_path / "local" / "report.json").read_text())
    remote = json.loads((tmp_path / "ray" / "report.json").read_text())
    assert _numbers(local) == pytest.approx(_numbers(remote), rel=1e-5, abs=1e-9)
    assert _words(local) == _words(remote)


def _same(a, b) -> None:
    """Equal, arrays (the curves) element for element."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b)
        for key in a:
            _same(a[key], b[key])
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b or (a != a and b != b), (a, b)  # NaN == NaN here


def _numbers(tree) -> list[float]:
    if isinstance(tree, dict):
        return [n for key in sorted(tree) for n in _numbers(tree[key])]
    if isinstance(tree, list):
        return [n for item in tree for n in _numbers(item)]
    return [float(tree)] if isinstance(tree, int | float) and not isinstance(tree, bool) else []


def _words(tree) -> list[str]:
    if isinstance(tree, dict):
        return [w for key in sorted(tree) for w in [key, *_words(tree[key])]]
    if isinstance(tree, list):
        return [w for item in tree for w in _words(item)]
    return [] if isinstance(tree, int | float) and not isinstance(tree, bool) else [str(tree)]


def test_fit_and_predict_on_ray_land_in_the_usual_places(ray_up, demo, tmp_path):
    ref = _ref(demo, tmp_path / "state")
    spec = MethodSpec(PLUGIN)
    fitted = _client().fit(Fit(ref, spec, "drink_can", executor=RAY))
    keys = tuple(r.key for r in Workspace(scan_dataset(demo), tmp_path / "state").test_records("drink_can"))
    predicted = _client().predict(
        Predict(ref, spec, "drink_can", keys, executor=Executor(ExecutorKind.RAY, cpus=2, images_per_task=2))
    )
    assert predicted.model.key == fitted.model.key and predicted.keys == keys
    assert Path(fitted.model.directory).is_dir()
    records = [scan_dataset(demo).get(key) for key in keys]
    cached = cached_results(result_set_for(fitted.model, StateLayout(tmp_path / "state").cache_dir), records)
    assert set(cached) == set(keys)


def test_a_task_that_fails_once_is_retried_and_one_that_fails_twice_is_its_own_error(ray_up, demo, tmp_path):
    ref = _ref(demo, tmp_path / "state")
    marker = tmp_path / "failed-once"
    once = MethodSpec(FAILS_ONCE, {"marker": str(marker)})
    assert _client().fit(Fit(ref, once, "drink_can", executor=RAY)).model.train_images > 0
    assert marker.exists()  # the first attempt failed, the retry fitted

    with pytest.raises(
        WorkerError, match=r"RuntimeError: raised on purpose \(unexpected\) \(in the Ray task that ran fit of"
    ):
        _client().fit(Fit(ref, MethodSpec(FAILING), "drink_can", executor=RAY))
    with pytest.raises(ParamError, match="raised on purpose"):  # a studio error arrives as itself
        _client().fit(Fit(ref, MethodSpec(FAILING, {"code": "param"}), "drink_can", executor=RAY))


def test_cancel_stops_the_ray_tasks(ray_up, demo, tmp_path):
    ref = _ref(demo, tmp_path / "state")
    cancel = threading.Event()
    cancelled_at = []

    def progress(event):
        if getattr(event, "done", 0) > 0 and not cancel.is_set():  # a task is inside its step that never returns
            cancelled_at.append(time.monotonic())
            cancel.set()

    with pytest.raises(Cancelled, match="Ray fit tasks stopped"):
        _client().fit(Fit(ref, MethodSpec(STUCK), "drink_can", executor=RAY), progress, cancel)
    print(f"\ncancel of a Ray task took {time.monotonic() - cancelled_at[0]:.2f} s")
    assert _client().fit(Fit(ref, MethodSpec(PLUGIN), "drink_can", executor=RAY)).model.train_images > 0


def test_without_ray_the_executor_says_how_to_install_it(monkeypatch):
    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(
        StudioError, match=r"needs the ray package, which is not installed: pip install 'goodsad-studio\[ray\]'"
    ):
        ray_executor._import_ray()


def test_the_cli_refuses_ray_options_without_the_ray_executor(demo, capsys):
    assert main(["fit", str(demo), "--method", PLUGIN, "--ray-address", "auto"]) == 2
    assert "--ray-address and --ray-cpus need --executor ray" in capsys.readouterr().err


def test_the_studios_worker_process_runs_a_ray_job(demo, tmp_path, monkeypatch):
    """The studio's jobs go through its worker process (a daemonic child): Ray starts from there as well."""
    _need_ray()
    from goodsad_studio.engine.transports.process import ProcessTransport

    tests = str(Path(__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (tests, os.environ.get("PYTHONPATH")) if p))
    engine = ProcessTransport()
    try:
        ref = _ref(demo, tmp_path / "state")
        fitted = EngineClient(engine).fit(Fit(ref, MethodSpec(PLUGIN), "drink_can", executor=RAY))
        assert fitted.model.train_images > 0 and Path(fitted.model.directory).is_dir()
    finally:
        engine.stop()
