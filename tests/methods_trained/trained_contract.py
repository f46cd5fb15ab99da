"""The training contract every trained method of the issue meets, as reusable checks (the test modules of DRAEM,
NSA, CutPaste and f-AnoGAN call them with a factory for their own tiny configuration)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from goodsad_studio.errors import Cancelled
from goodsad_studio.methods import Method, load_method
from goodsad_studio.methods.components.checkpoint import read_latest_checkpoint
from goodsad_studio.progress import Monitor, Stage, TrainingStatus

from .conftest import CancelAt, Recorder, assert_same_state, no_temp_files, state_of, textured_images

Factory = Callable[..., Method]
IMAGES = textured_images(8, (64, 64))


def check_loss_goes_down(make: Factory, steps: int, *, images=IMAGES, key: str = "loss", ratio: float = 0.8) -> None:
    reports = Recorder()
    method = make(max_steps=steps)
    method.fit(images, Monitor(reports))
    assert len(method.loss_history) == steps
    n = len(images)
    assert reports.progress(Stage.LOAD) == [(i, n) for i in range(n + 1)]  # one bar per stage, true totals
    assert reports.progress(Stage.TRAIN) == [(i, steps) for i in range(steps + 1)]
    statuses = [e for e in reports.events if isinstance(e, TrainingStatus)]
    assert [s.step for s in statuses] == list(range(1, steps + 1)) and statuses[-1].total_steps == steps
    losses = [h[key] for h in method.loss_history]
    window = max(2, steps // 4)
    assert np.mean(losses[-window:]) < ratio * np.mean(losses[:window]), losses
    assert method.config()["training_log"]["steps"] == steps


def check_save_load_and_map_resolution(make: Factory, tmp_path, steps: int = 2) -> Method:
    method = make(max_steps=steps)
    method.fit(IMAGES)
    wide = textured_images(1, (48, 90), seed=5)[0]
    probe = [IMAGES[0], wide]
    before = method.predict(probe)
    assert before[0].anomaly_map.shape == (64, 64) and before[1].anomaly_map.shape == (48, 90)
    assert all(p.anomaly_map.dtype == np.float32 and np.isfinite(p.anomaly_map).all() for p in before)
    method.save(tmp_path / "model")
    loaded = load_method(tmp_path / "model", device="cpu")
    assert type(loaded) is type(method)
    for x, y in zip(before, loaded.predict(probe), strict=False):
        assert x.score == y.score
        np.testing.assert_array_equal(x.anomaly_map, y.anomaly_map)
    assert loaded.loss_history == method.loss_history
    return method


def check_seed_determinism(make: Factory, steps: int = 2) -> None:
    a, b, c = (make(max_steps=steps, seed=s) for s in (3, 3, 4))
    for m in (a, b, c):
        m.fit(IMAGES[:4])
    assert_same_state(state_of(a), state_of(b))
    sa, sc = state_of(a), state_of(c)
    assert any(not np.array_equal(sa[k].numpy(), sc[k].numpy()) for k in sa)


def check_cancel_and_resume(make: Factory, tmp_path, steps: int = 4) -> None:
    """Cancel after 2 steps: no half-written checkpoint, the previous model kept; resuming from the checkpoint
    gives the weights of an uninterrupted run."""
    images = IMAGES[:4]
    straight = make(max_steps=steps)
    straight.fit(images)
    first = make(max_steps=steps)
    first.checkpoint_every = 1
    first.fit(images, Monitor(checkpoint_dir=tmp_path / "ck"))  # a fitted model; a second run cancelled midway keeps it
    kept = state_of(first)
    first.hparams["seed"] = 1
    stopper = CancelAt(2)
    with pytest.raises(Cancelled, match=f"at step 2 of {steps}"):
        first.fit(images, stopper.monitor(tmp_path / "ck"))
    assert_same_state(state_of(first), kept)
    assert no_temp_files(tmp_path / "ck")
    assert read_latest_checkpoint(tmp_path / "ck").step == 2
    (tmp_path / "ck2").mkdir()
    stopper = CancelAt(2)
    interrupted = make(max_steps=steps)
    interrupted.checkpoint_every = 1
    with pytest.raises(Cancelled):
        interrupted.fit(images, stopper.monitor(tmp_path / "ck2"))
    resumed = make(max_steps=steps)
    resumed.fit(images, Monitor(checkpoint_dir=tmp_path / "ck2"))
    assert resumed.resumed_from_step == 2
    assert_same_state(state_of(resumed), state_of(straight), atol=1e-6)
    assert [h["loss"] for h in resumed.loss_history] == pytest.approx([h["loss"] for h in straight.loss_history])
