"""Schedules: each method's one call reproduces its recorded learning rates with ==, step for step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from goodsad_studio.methods.components.schedules import constant, cosine, milestones

TABLES = Path(__file__).parents[2] / "golden" / "schedules.npz"
STEPS = 1000

SCHEDULES = {
    "cflow": cosine(2e-4, 2e-4 * 0.1**3, periods=25, warmup=2 / 25, warmup_from=2e-4 / 10),
    "nsa": cosine(1e-3, 1e-6, fraction_angle=True),
    "cutpaste": cosine(0.03),
    "draem": milestones(1e-4, (0.8, 0.9), 0.2),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedules_equal_the_recorded_tables(name):
    recorded = np.load(TABLES)[name]
    assert recorded.shape == (STEPS,)
    rates = np.asarray([SCHEDULES[name](step, STEPS) for step in range(STEPS)], np.float64)
    assert np.array_equal(rates, recorded), np.flatnonzero(rates != recorded)[:10]


def test_cosine_shape():
    s = cosine(1.0, 0.1)
    assert s(0, 100) == 1.0
    assert s(50, 100) == pytest.approx(0.55)
    assert s(100, 100) == pytest.approx(0.1)
    assert all(s(i, 100) >= s(i + 1, 100) for i in range(100))
    assert s(0, 0) == 1.0  # no steps: no division by zero


def test_cosine_periods_hold_the_rate_and_warmup_rises_linearly():
    s = cosine(1.0, periods=4, warmup=0.25, warmup_from=0.5)
    assert [s(i, 100) for i in (25, 30, 49)] == [s(25, 100)] * 3
    assert s(50, 100) < s(49, 100)
    assert s(0, 100) == 0.5
    assert s(10, 100) == pytest.approx(0.5 + 0.4 * (s(25, 100) - 0.5))
    assert cosine(1.0, warmup=0.5)(0, 10) == 0.0  # warmup_from None: from 0


def test_cosine_rejects_bad_arguments():
    with pytest.raises(ValueError):
        cosine(1.0, warmup=1.0)
    with pytest.raises(ValueError):
        cosine(1.0, periods=0)


def test_constant_and_milestones():
    assert {constant(0.5)(i, 10) for i in range(10)} == {0.5}
    m = milestones(1.0, (0.5,), 0.1)
    assert [m(i, 10) for i in (0, 4, 5, 9)] == [1.0, 1.0, 0.1, 0.1]
