"""Shared helpers of the trained-method tests: tiny synthetic images and a generic check of the training contract
(steps run, loss goes down, save/load, maps at input resolution, cancel and resume)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from goodsad_studio.progress import Event, Monitor, Progress, Stage


def textured_images(n: int, size: tuple[int, int] = (64, 64), seed: int = 0) -> list[np.ndarray]:
    """Normal images: a smooth striped texture with mild noise (every image alike, as a product photo set)."""
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    images = []
    for _ in range(n):
        phase = rng.uniform(0, 0.5)
        base = 0.5 + 0.35 * np.sin(xx / 4.0 + phase)[..., None] * np.array([1.0, 0.8, 0.6], np.float32)
        noisy = base + rng.normal(0, 0.03, (h, w, 3)).astype(np.float32)
        images.append(np.clip(noisy * 255, 0, 255).astype(np.uint8))
    return images


def with_defect(image: np.ndarray, box: tuple[int, int, int, int] = (20, 20, 40, 40)) -> np.ndarray:
    """The image with a bright square defect (y0, x0, y1, x1)."""
    out = image.copy()
    y0, x0, y1, x1 = box
    out[y0:y1, x0:x1] = (255, 0, 255)
    return out


class Recorder:
    """Every event a job reports, for a :class:`Monitor`'s ``on_event``."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def progress(self, stage: Stage) -> list[tuple[int, int | None]]:
        """``(done, total)`` of every progress report of ``stage``, in order."""
        return [(e.done, e.total) for e in self.events if isinstance(e, Progress) and e.stage == stage]


class CancelAt(Recorder):
    """A monitor's ``on_event`` that presses Cancel (sets ``event``, the monitor's cancel flag) once training has
    finished ``at`` steps, as stage ``TRAIN`` reports them."""

    def __init__(self, at: int):
        super().__init__()
        self.at = at
        self.event = threading.Event()

    def __call__(self, event: Event) -> None:
        super().__call__(event)
        if isinstance(event, Progress) and event.stage == Stage.TRAIN and event.done >= self.at:
            self.event.set()

    def monitor(self, checkpoint_dir: Path | None = None) -> Monitor:
        return Monitor(self, self.event, checkpoint_dir=checkpoint_dir)


def state_of(method) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in method.model.state_dict().items()}


def assert_same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], atol: float = 0.0) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key].float(), b[key].float(), atol=atol, rtol=0), key


def no_temp_files(directory: Path) -> bool:
    return not [p for p in Path(directory).rglob("*") if p.name.endswith(".tmp")]


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread for training tests: small convolutions gain nothing from a second thread, and on a
    shared 2-core machine two threads contend (RD4AD + SimpleNet tests: 42 s with 2 threads, 12 s with 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def check_contract(make, tmp_path: Path, images: list[np.ndarray], steps: int) -> None:
    """The behaviour every trained method owes a user, on tiny images: ``make(**kw)`` builds the method.

    Training runs ``steps`` steps, the loss goes down, save/load gives identical outputs, maps come back at each
    input's resolution (a non-square one too), a cancel midway keeps the previous model and leaves a complete
    checkpoint, and resuming from it gives the same weights as an uninterrupted run.
    """
    from goodsad_studio.errors import Cancelled
    from goodsad_studio.methods import load_method

    straight = make(max_steps=steps)
    straight.fit(images)
    assert len(straight.loss_history) == steps
    losses = [h["loss"] for h in straight.loss_history]
    k = max(1, steps // 4)
    assert np.mean(losses[-k:]) < np.mean(losses[:k]), losses

    straight.save(tmp_path / "saved")
    loaded = load_method(tmp_path / "saved", device="cpu")
    probe = [images[0], with_defect(images[1]), textured_images(1, (48, 80), seed=11)[0]]
    first, again = straight.predict(probe), loaded.predict(probe)
    for x, y in zip(first, again, strict=False):
        assert x.score == y.score
        np.testing.assert_array_equal(x.anomaly_map, y.anomaly_map)
    assert [p.anomaly_map.shape for p in first] == [images[0].shape[:2], images[1].shape[:2], (48, 80)]
    assert all(p.anomaly_map.dtype == np.float32 and np.isfinite(p.anomaly_map).all() for p in first)

    checkpoints = tmp_path / "checkpoints"
    interrupted = make(max_steps=steps)
    interrupted.checkpoint_every = 1
    interrupted.model = loaded.model  # a previously fitted model that a cancelled fit must keep
    before = state_of(interrupted)
    stopper = CancelAt(steps // 2)
    with pytest.raises(Cancelled):
        interrupted.fit(images, stopper.monitor(checkpoints))
    assert_same_state(state_of(interrupted), before)
    assert no_temp_files(checkpoints)
    resumed = make(max_steps=steps)
    resumed.fit(images, Monitor(checkpoint_dir=checkpoints))
    assert resumed.resumed_from_step == steps // 2
    assert_same_state(state_of(resumed), state_of(straight), atol=1e-6)
