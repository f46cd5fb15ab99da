"""The shared training machinery (TrainedMethod, checkpoints) on a tiny autoencoder defined here."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import torch
from torch import nn

from goodsad_studio.errors import Cancelled, TrainingDiverged
from goodsad_studio.methods import GridScores, load_method
from goodsad_studio.methods.components.checkpoint import (
    POINTER_FILE,
    Checkpoint,
    join_tensors,
    read_latest_checkpoint,
    split_tensors,
    write_checkpoint,
)
from goodsad_studio.methods.components.training import StepContext, TrainedMethod, training_params
from goodsad_studio.progress import Monitor, Stage, TrainingStatus

from .conftest import CancelAt, Recorder, assert_same_state, no_temp_files, state_of, textured_images, with_defect

TINY = "methods_trained.test_training:TinyAutoencoder"
"""The test method's import path: how a method outside the registry's table (a plug-in) is named."""


class TinyAutoencoder(TrainedMethod):
    """Reconstruction error of a 2-layer conv autoencoder: the smallest trained method."""

    name = TINY
    normalize = False
    params = training_params(epochs=4, batch_size=4, lr=1e-2, image_size=32, blur_sigma=1.0)

    def build_model(self) -> nn.Module:
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 3, padding=1))

    def build_optimizers(self, model):
        return {"adam": torch.optim.Adam(model.parameters(), lr=self.hparams["lr"])}

    def step(self, ctx: StepContext, batch) -> dict[str, float]:
        x = self.to_input(batch)
        x = x + 0.01 * torch.randn_like(x)  # uses the seeded per-step generator
        loss = ((ctx.model(x) - x) ** 2).mean()
        ctx.update(loss)
        return {"loss": loss.item()}

    def infer(self, model, batch):
        return GridScores(((model(batch.input) - batch.input) ** 2).mean(1))


IMAGES = textured_images(10, (40, 48))


def test_training_runs_steps_reports_progress_and_loss_goes_down():
    method = TinyAutoencoder(device="cpu", epochs=6)
    reports = Recorder()
    method.fit(IMAGES, Monitor(reports))
    steps = 6 * (10 // 4)
    assert len(method.loss_history) == steps
    assert reports.progress(Stage.LOAD) == [(i, 10) for i in range(11)]  # the images, then the steps: two bars
    assert reports.progress(Stage.TRAIN) == [(i, steps) for i in range(steps + 1)]
    stages = [e.stage for e in reports.events if not isinstance(e, TrainingStatus)]
    assert stages == sorted(stages, key=[Stage.LOAD, Stage.TRAIN].index)
    losses = [h["loss"] for h in method.loss_history]
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:2])
    status = [e for e in reports.events if isinstance(e, TrainingStatus)]
    assert len(status) == steps and status[-1].step == steps and status[-1].epoch == 6
    assert status[-1].loss == losses[-1]
    log = method.config()["training_log"]
    assert log["steps"] == steps and len(log["epoch_mean_loss"]) == 6
    assert "training_log" not in TinyAutoencoder(device="cpu", epochs=6).config()


def test_same_seed_same_weights_other_seed_differs():
    a, b, c = (TinyAutoencoder(device="cpu", max_steps=5, seed=s) for s in (3, 3, 4))
    for m in (a, b, c):
        m.fit(IMAGES)
    assert_same_state(state_of(a), state_of(b))
    assert not torch.equal(state_of(a)["0.weight"], state_of(c)["0.weight"])


def test_predict_maps_at_input_resolution_and_defect_scores_higher():
    method = TinyAutoencoder(device="cpu", epochs=8)
    method.fit(IMAGES)
    good, bad = textured_images(1, (40, 48), seed=9)[0], with_defect(textured_images(1, (40, 48), seed=9)[0])
    wide = textured_images(1, (30, 70), seed=5)[0]
    preds = method.predict([good, bad, wide])
    assert preds[0].anomaly_map.shape == (40, 48) and preds[2].anomaly_map.shape == (30, 70)
    assert preds[1].score > preds[0].score
    assert preds[1].anomaly_map[25:35, 25:35].mean() > preds[1].anomaly_map[:8, :8].mean()


def test_save_load_gives_identical_outputs_and_history(tmp_path):
    method = TinyAutoencoder(device="cpu", max_steps=4)
    method.fit(IMAGES)
    method.save(tmp_path / "m")
    loaded = load_method(tmp_path / "m", device="cpu")  # found by its name, the import path
    assert isinstance(loaded, TinyAutoencoder)
    probe = IMAGES[:3]
    for x, y in zip(method.predict(probe), loaded.predict(probe), strict=False):
        assert x.score == y.score
        np.testing.assert_array_equal(x.anomaly_map, y.anomaly_map)
    assert loaded.loss_history == method.loss_history
    saved = json.loads((tmp_path / "m" / "method.json").read_text())
    assert saved["training_log"]["steps"] == 4


def test_cancel_keeps_previous_model_and_a_complete_checkpoint(tmp_path):
    method = TinyAutoencoder(device="cpu", epochs=3)
    method.fit(IMAGES, Monitor(checkpoint_dir=tmp_path / "ck"))
    before = state_of(method)
    stopper = CancelAt(3)  # after 3 training steps
    method.hparams["seed"] = 1  # a different run, cancelled midway
    with pytest.raises(Cancelled):
        method.fit(IMAGES, stopper.monitor(tmp_path / "ck"))
    assert_same_state(state_of(method), before)
    assert no_temp_files(tmp_path / "ck")
    checkpoint = read_latest_checkpoint(tmp_path / "ck")
    assert checkpoint is not None and checkpoint.step == 3
    assert len([p for p in (tmp_path / "ck").iterdir() if p.is_dir()]) == 1


def test_resume_after_cancel_equals_uninterrupted_run(tmp_path):
    straight = TinyAutoencoder(device="cpu", epochs=3)
    straight.fit(IMAGES)
    stopper = CancelAt(4)
    first = TinyAutoencoder(device="cpu", epochs=3)
    first.checkpoint_every = 2
    with pytest.raises(Cancelled):
        first.fit(IMAGES, stopper.monitor(tmp_path))
    second = TinyAutoencoder(device="cpu", epochs=3)
    resumed = Recorder()
    second.fit(IMAGES, Monitor(resumed, checkpoint_dir=tmp_path))
    assert second.resumed_from_step == 4
    assert resumed.progress(Stage.TRAIN)[:2] == [(0, 6), (4, 6)]  # the bar starts where the checkpoint was
    assert_same_state(state_of(second), state_of(straight))
    assert [h["loss"] for h in second.loss_history] == [h["loss"] for h in straight.loss_history]


def test_checkpoint_of_other_config_or_data_is_not_resumed(tmp_path):
    TinyAutoencoder(device="cpu", max_steps=2).fit(IMAGES, Monitor(checkpoint_dir=tmp_path))
    other_lr = TinyAutoencoder(device="cpu", max_steps=2, lr=0.05)
    other_lr.fit(IMAGES, Monitor(checkpoint_dir=tmp_path))
    assert other_lr.resumed_from_step is None
    other_data = TinyAutoencoder(device="cpu", max_steps=2, lr=0.05)
    other_data.fit(IMAGES[:8], Monitor(checkpoint_dir=tmp_path))
    assert other_data.resumed_from_step is None


def test_interrupted_checkpoint_write_leaves_previous_checkpoint_published(tmp_path, monkeypatch):
    write_checkpoint(tmp_path, Checkpoint({"w": np.ones(3, np.float32)}, {"step": 1}))
    import goodsad_studio.methods.components.checkpoint as ck

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ck, "atomic_write_text", crash)
    with pytest.raises(KeyboardInterrupt):
        write_checkpoint(tmp_path, Checkpoint({"w": np.zeros(3, np.float32)}, {"step": 2}))
    monkeypatch.undo()
    latest = read_latest_checkpoint(tmp_path)
    assert latest.step == 1 and latest.tensors["w"].tolist() == [1, 1, 1]
    write_checkpoint(tmp_path, Checkpoint({"w": np.zeros(3, np.float32)}, {"step": 2}))
    assert read_latest_checkpoint(tmp_path).step == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [POINTER_FILE, "step-00000002"]


def test_optimizer_state_round_trips_through_split_and_join():
    model = nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.1, betas=(0.8, 0.9))
    model(torch.ones(4, 3)).sum().backward()
    opt.step()
    arrays: dict[str, np.ndarray] = {}
    tree = split_tensors(opt.state_dict(), "opt", arrays)
    json.dumps(tree)  # the remainder is plain JSON
    fresh = torch.optim.Adam(nn.Linear(3, 2).parameters(), lr=0.5)
    fresh.load_state_dict(join_tensors(json.loads(json.dumps(tree)), arrays))
    restored = fresh.state_dict()
    assert restored["param_groups"][0]["betas"] == (0.8, 0.9)
    assert torch.equal(restored["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])


def test_cancel_before_start_raises_and_writes_nothing(tmp_path):
    event = threading.Event()
    event.set()
    with pytest.raises(Cancelled):
        TinyAutoencoder(device="cpu").fit(IMAGES, Monitor(cancel=event, checkpoint_dir=tmp_path / "ck"))
    assert not (tmp_path / "ck").exists()


class Diverging(TinyAutoencoder):
    name = "methods_trained.test_training:Diverging"

    def step(self, ctx: StepContext, batch) -> dict[str, float]:
        losses = super().step(ctx, batch)
        return {"loss": float("nan") if ctx.step == 2 else losses["loss"]}


def test_a_loss_that_is_not_finite_stops_training_naming_the_step():
    method = Diverging(device="cpu", max_steps=4)
    with pytest.raises(TrainingDiverged, match="loss is nan at step 2; try a smaller learning rate") as caught:
        method.fit(IMAGES)
    assert isinstance(caught.value, FloatingPointError) and not method.is_fitted


def test_a_schedule_sets_the_learning_rate_of_every_step_on_every_optimizer():
    class Scheduled(TinyAutoencoder):
        seen: list = []

        def schedule(self):
            return lambda step, total: 0.1 / (step + 1)

        def step(self, ctx: StepContext, batch) -> dict[str, float]:
            self.seen.append((ctx.lr, ctx.optimizers["adam"].param_groups[0]["lr"], ctx.total_steps))
            return super().step(ctx, batch)

    Scheduled(device="cpu", max_steps=3).fit(IMAGES)
    assert Scheduled.seen == [(0.1, 0.1, 3), (0.05, 0.05, 3), (0.1 / 3, 0.1 / 3, 3)]
