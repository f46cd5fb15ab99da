"""A time budget (``budget_minutes``): the steps that fit, chosen from timed probe steps, then the planned schedule
compressed to them; the same weights as a run told that many steps, and said in the results. A fake clock stands
for the time, so the counts are exact."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from goodsad_studio.errors import Cancelled
from goodsad_studio.methods import load_method
from goodsad_studio.methods.components import budget, training
from goodsad_studio.methods.components.budget import BUDGET_RESERVE, TrainingRun
from goodsad_studio.progress import Monitor, Stage

from .conftest import CancelAt, Recorder, assert_same_state, state_of
from .test_training import IMAGES, TinyAutoencoder


class Clock:
    """``perf_counter`` of a run in which every training step takes ``step_s`` seconds and nothing else any."""

    def __init__(self, step_s: float):
        self.now, self.step_s = 1000.0, step_s

    def perf_counter(self) -> float:
        return self.now


class TimedAutoencoder(TinyAutoencoder):
    clock: Clock | None = None

    def step(self, ctx, batch):
        assert self.clock is not None
        self.clock.now += self.clock.step_s
        return super().step(ctx, batch)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(1.0)
    for module in (training, budget):
        monkeypatch.setattr(module, "time", SimpleNamespace(perf_counter=fake.perf_counter))
    monkeypatch.setattr(TimedAutoencoder, "clock", fake)
    return fake


def expected_steps(budget_s: float, probe_steps: int, step_s: float) -> int:
    return int((budget_s * (1 - BUDGET_RESERVE) - probe_steps * step_s) // step_s)


def test_the_budget_picks_the_steps_that_fit_and_trains_what_a_run_of_that_many_steps_trains(clock):
    # 30 s at 1 s a step: the probe stops after three steps (more than 5 % of the budget), 26 steps fit
    budgeted = TimedAutoencoder(device="cpu", epochs=100, budget_minutes=0.5)
    reports = Recorder()
    budgeted.fit(IMAGES, Monitor(reports))
    steps = expected_steps(30, 3, 1.0)
    assert steps == 26
    assert len(budgeted.loss_history) == steps
    assert reports.progress(Stage.TRAIN)[-1] == (steps, steps)
    run = budgeted.training_run
    assert run is not None and (run.steps, run.planned_steps, run.budget_minutes) == (steps, 200, 0.5)
    assert run.step_seconds == pytest.approx(1.0)
    assert run.seconds == pytest.approx(3 + steps)  # the probe counts against the budget
    # the probe left nothing behind: a run told to stop at that many steps trains the same weights
    told = TimedAutoencoder(device="cpu", epochs=100, max_steps=steps)
    told.fit(IMAGES)
    assert_same_state(state_of(budgeted), state_of(told))
    assert [h["loss"] for h in budgeted.loss_history] == [h["loss"] for h in told.loss_history]


def test_the_results_say_how_much_of_the_schedule_was_trained_and_the_saved_model_keeps_it(clock, tmp_path):
    method = TimedAutoencoder(device="cpu", budget_minutes=0.5)
    method.fit(IMAGES)
    planned = 4 * (len(IMAGES) // 4)
    assert method.training_note().endswith(f"all of the paper's {planned:,} steps (4 epochs)")
    assert "(budget 0.5 min)" in str(method.info)
    short = TimedAutoencoder(device="cpu", epochs=100, budget_minutes=0.2)
    short.fit(IMAGES)
    assert f"{expected_steps(12, 3, 1.0)} of the configured 200 steps (100 epochs)" in str(short.info)
    short.save(tmp_path / "model")
    loaded = load_method(tmp_path / "model", device="cpu")
    assert str(loaded.info) == str(short.info)
    assert loaded.config() == short.config()
    assert "budget_minutes" not in TimedAutoencoder(device="cpu").config()  # keys of unbudgeted models unchanged


def test_a_budgeted_run_resumed_from_its_checkpoint_keeps_its_step_count(clock, tmp_path):
    first = TimedAutoencoder(device="cpu", epochs=100, budget_minutes=0.5)
    with pytest.raises(Cancelled):
        first.fit(IMAGES, CancelAt(10).monitor(tmp_path / "ckpt"))
    clock.step_s = 2.0  # a slower machine: a fresh probe would fit fewer steps
    second = TimedAutoencoder(device="cpu", epochs=100, budget_minutes=0.5)
    second.fit(IMAGES, Monitor(checkpoint_dir=tmp_path / "ckpt"))
    assert second.resumed_from_step is not None
    assert len(second.loss_history) == expected_steps(30, 3, 1.0)


def test_a_budget_smaller_than_the_probe_still_trains_one_step(clock):
    clock.step_s = 30.0
    method = TimedAutoencoder(device="cpu", epochs=100, budget_minutes=1)
    method.fit(IMAGES)
    assert len(method.loss_history) == 1


def test_a_model_saved_before_runs_were_recorded_loads_without_a_note(tmp_path):
    assert TrainingRun.from_dict({"steps": 3}) is None
    method = TinyAutoencoder(device="cpu", max_steps=2)
    method.check_saved({**method.config(), "training_log": {"steps": 2, "steps_per_epoch": 2}}, tmp_path)
    assert method.training_note() == ""
    assert str(method.info).endswith("[cpu]")
