"""Learning-rate schedules: pure functions of ``(step, total_steps)``, so a resumed run sets the same rates.

Each reproduces, operation for operation, the schedule a method wrote inline before (the tables in
tests/golden/schedules.npz are compared with ``==``):

* CFLOW: ``cosine(lr, lr * 0.1**3, periods=25, warmup=2 / 25, warmup_from=lr / 10)``
* NSA: ``cosine(lr, min_lr, fraction_angle=True)``
* CutPaste: ``cosine(lr)``
* DRAEM: ``milestones(lr, (0.8, 0.9), 0.2)``
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Schedule = Callable[[int, int], float]
"""``(step, total_steps) -> learning rate``; ``step`` counts from 0."""


@dataclass(frozen=True)
class _Constant:
    lr: float

    def __call__(self, step: int, total: int) -> float:
        return self.lr


@dataclass(frozen=True)
class _Cosine:
    lr: float
    floor: float
    periods: int | None
    warmup: float
    warmup_from: float
    fraction_angle: bool

    def value(self, numerator: float, denominator: float) -> float:
        """The cosine from ``lr`` down to ``floor`` at ``numerator / denominator`` of its length."""
        return self.floor + (self.lr - self.floor) * 0.5 * (1 + math.cos(math.pi * numerator / denominator))

    def at_fraction(self, fraction: float, step: float, total: int) -> float:
        if self.periods is not None:
            return self.value(math.floor(fraction * self.periods), self.periods)
        if self.fraction_angle:
            return self.value(fraction, 1)
        return self.value(step, max(total, 1))

    def __call__(self, step: int, total: int) -> float:
        fraction = step / max(total, 1)
        if fraction < self.warmup:
            end = self.at_fraction(self.warmup, self.warmup * max(total, 1), total)
            return self.warmup_from + (fraction / self.warmup) * (end - self.warmup_from)
        return self.at_fraction(fraction, step, total)


@dataclass(frozen=True)
class _Milestones:
    lr: float
    at: tuple[float, ...]
    gamma: float

    def __call__(self, step: int, total: int) -> float:
        decays = sum(step >= int(total * m) for m in self.at)
        return self.lr * self.gamma**decays


def constant(lr: float) -> Schedule:
    """The same ``lr`` at every step."""
    return _Constant(lr)


def cosine(
    lr: float,
    floor: float = 0.0,
    *,
    periods: int | None = None,
    warmup: float = 0.0,
    warmup_from: float | None = None,
    fraction_angle: bool = False,
) -> Schedule:
    """Half a cosine from ``lr`` (step 0) down to ``floor`` (the end of training).

    ``periods``: the rate is held within each of ``periods`` equal parts of training (CFLOW's meta-epochs), the
    cosine taken at the part's start. ``warmup``: the first ``warmup`` fraction of training rises linearly from
    ``warmup_from`` (None: 0) to the cosine's value at the end of the warm-up. ``fraction_angle`` only changes the
    rounding: the angle is ``pi * (step / total)`` instead of ``pi * step / total`` (NSA wrote it so).
    """
    if warmup < 0 or warmup >= 1:
        raise ValueError(f"warmup is a fraction of training in [0, 1), got {warmup}")
    if periods is not None and periods < 1:
        raise ValueError(f"periods must be at least 1, got {periods}")
    start = 0.0 if warmup_from is None else warmup_from
    return _Cosine(lr, floor, periods, warmup, start, fraction_angle)


def milestones(lr: float, at: Sequence[float], gamma: float) -> Schedule:
    """``lr`` times ``gamma`` once for every fraction in ``at`` whose step (``int(total * fraction)``) is reached."""
    return _Milestones(lr, tuple(at), gamma)


__all__ = ["Schedule", "constant", "cosine", "milestones"]
