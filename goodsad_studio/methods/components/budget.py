"""Training within a time budget (``budget_minutes``; docs/adr/0011): how many steps fit, from probe steps timed
across the planned schedule, and :class:`TrainingRun`, what a fit trained, in words for the user.

:func:`steps_that_fit` takes the step and checkpoint writers as callables, so the probe runs the Trainer's own
step (its batch, generators and learning rate) and leaves the model and optimizers as it found them.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from goodsad_studio.progress import Monitor, Stage

log = logging.getLogger(__name__)

BUDGET_PROBE_AT = (0.0, 0.25, 0.5, 0.75, 0.95)
"""Where in the planned schedule a budget's probe steps are taken (two consecutive steps at each)."""
BUDGET_PROBE_SHARE = 0.05
"""The probe stops (after at least three steps) once it has taken this share of the budget."""
BUDGET_RESERVE = 0.03
"""The share of the budget left for what follows the steps (``finish``, saving)."""


@dataclass(frozen=True)
class Budget:
    """The steps a budgeted run trains, and the probe's seconds per step (None: taken from a checkpoint that did
    not record them)."""

    steps: int
    step_seconds: float | None


@dataclass
class Probe:
    """What the probe needs of a training run: its model and optimizers (put back afterwards), the planned steps,
    a step at a given position, and (with checkpoints on) a checkpoint write into a folder and the steps between
    writes."""

    model: torch.nn.Module
    optimizers: Mapping[str, torch.optim.Optimizer]
    planned: int
    step_at: Callable[[int], object]
    write_checkpoint_into: Callable[[Path], None] | None = None
    checkpoint_every: int = 1


def steps_that_fit(
    probe: Probe, budget_minutes: float, started: float, monitor: Monitor, what: str = "training"
) -> Budget:
    """The steps of ``probe.planned`` that fit ``budget_minutes`` counted from ``started`` (``time.perf_counter``):
    steps timed at :data:`BUDGET_PROBE_AT` of the schedule (every phase of a method whose step depends on where it
    is, e.g. f-AnoGAN's GAN then encoder), plus a checkpoint write's share, then the model and optimizers are put
    back as they were. At least one step; at most the planned ones."""
    planned = probe.planned
    budget_s = 60.0 * float(budget_minutes)
    model_state = copy.deepcopy(probe.model.state_dict())
    optimizer_states = {k: copy.deepcopy(o.state_dict()) for k, o in probe.optimizers.items()}
    positions = sorted({min(round(f * planned) + d, planned - 1) for f in BUDGET_PROBE_AT for d in (0, 1)})
    monitor.stage(Stage.TRAIN, len(positions), "timing training steps for the budget")
    times: list[float] = []
    probe_started = time.perf_counter()
    for position in positions:
        monitor.check(what)
        began = time.perf_counter()
        probe.step_at(position)
        times.append(time.perf_counter() - began)
        monitor.advance(len(times))
        if len(times) >= 3 and time.perf_counter() - probe_started > BUDGET_PROBE_SHARE * budget_s:
            break
    step_seconds = float(np.mean(times[1:] if len(times) > 1 else times))
    if probe.write_checkpoint_into is not None:  # the run's checkpoint writes count too: one timed in scratch
        with tempfile.TemporaryDirectory(prefix="budget-probe-") as scratch:
            began = time.perf_counter()
            probe.write_checkpoint_into(Path(scratch))
            step_seconds += (time.perf_counter() - began) / max(probe.checkpoint_every, 1)
    probe.model.load_state_dict(model_state)
    for name, optimizer in probe.optimizers.items():
        optimizer.load_state_dict(optimizer_states[name])
    left = budget_s * (1 - BUDGET_RESERVE) - (time.perf_counter() - started)
    steps = int(min(planned, max(1, left // max(step_seconds, 1e-9))))
    log.info("%s: %.2f s a step, %d of %d planned steps fit %g min", what, step_seconds, steps, planned, budget_minutes)
    return Budget(steps, step_seconds)


@dataclass(frozen=True)
class TrainingRun:
    """What a fit trained, for the user: steps run of the steps planned (``epochs`` x steps per epoch, capped by
    ``max_steps``), the fit's seconds (from its start: resizing and caching included) and those of the steps, and
    under a ``budget_minutes`` the probe's seconds per step."""

    steps: int
    planned_steps: int
    planned_epochs: int
    seconds: float
    train_seconds: float
    budget_minutes: float | None = None
    step_seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, entry: Mapping[str, Any]) -> TrainingRun | None:
        """The run a saved ``training_log`` records (None for a log written before runs were recorded)."""
        try:
            return cls(**{f.name: entry[f.name] for f in dataclasses.fields(cls) if f.name in entry})
        except TypeError:
            return None

    def describe(self, paper: bool) -> str:
        """E.g. "trained 6.1 min (budget 10 min): 1,240 of the paper's 20,000 steps (200 epochs)"; ``paper``:
        whether the planned schedule is the method's default one."""
        whose = "the paper's" if paper else "the configured"
        schedule = f"{whose} {self.planned_steps:,} steps ({self.planned_epochs} epochs)"
        budget = "" if self.budget_minutes is None else f" (budget {self.budget_minutes:g} min)"
        if self.steps >= self.planned_steps:
            return f"trained {self.seconds / 60:.1f} min{budget}: all of {schedule}"
        return f"trained {self.seconds / 60:.1f} min{budget}: {self.steps:,} of {schedule}"


__all__ = [
    "BUDGET_PROBE_AT",
    "BUDGET_PROBE_SHARE",
    "BUDGET_RESERVE",
    "Budget",
    "Probe",
    "TrainingRun",
    "steps_that_fit",
]
