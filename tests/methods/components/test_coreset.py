"""Greedy coreset: the same picks as the plain greedy k-center, progress and cancel through the monitor."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from goodsad_studio.errors import Cancelled
from goodsad_studio.methods.components.coreset import greedy_coreset, random_projection
from goodsad_studio.progress import Monitor, Progress, Stage


def plain_greedy(points: np.ndarray, n_select: int, n_start: int, seed: int) -> list[int]:
    """The reference's approximate greedy coreset, one centre at a time, in float64."""
    x = points.astype(np.float64)
    start = np.random.default_rng(seed).choice(len(x), min(n_start, len(x)), replace=False)
    anchors = np.sqrt(((x[:, None] - x[start][None]) ** 2).sum(-1))
    distance = anchors.mean(1) ** 2
    chosen = []
    for _ in range(n_select):
        pick = int(np.argmax(distance))
        chosen.append(pick)
        distance = np.minimum(distance, ((x - x[pick]) ** 2).sum(1))
        distance[pick] = -1.0
    return chosen


@pytest.mark.parametrize("pool", [16, 32768])  # lazy refreshes in small pools, and one pool of everything
def test_equals_plain_greedy(pool):
    points = np.random.default_rng(0).standard_normal((600, 6)).astype(np.float32)
    got = greedy_coreset(points, 60, n_start=5, seed=3, pool=pool)
    assert got.dtype == np.int64 and got.tolist() == plain_greedy(points, 60, 5, 3)


def test_progress_and_cancel():
    points = np.random.default_rng(1).standard_normal((3000, 4)).astype(np.float32)
    events: list[Progress] = []
    greedy_coreset(points, 2100, monitor=Monitor(events.append))
    stages = [e for e in events if e.done == 0]
    assert len(stages) == 1 and stages[0].stage == Stage.CORESET and stages[0].total == 2100
    assert [e.done for e in events[1:]] == [1024, 2048, 2100]
    flag = threading.Event()
    flag.set()
    with pytest.raises(Cancelled):
        greedy_coreset(points, 10, monitor=Monitor(cancel=flag))
    with pytest.raises(ValueError):
        greedy_coreset(points, 0)


def test_random_projection():
    a = random_projection(64, 16, seed=4)
    assert a.shape == (64, 16) and a.dtype == torch.float32
    assert torch.equal(a, random_projection(64, 16, seed=4)) and not torch.equal(a, random_projection(64, 16, 5))
    assert float(a.std()) == pytest.approx(1 / 4, rel=0.1)  # Johnson-Lindenstrauss scaling: N(0, 1 / dim_out)


def test_a_blocked_coreset_runs_the_greedy_pass_per_block_with_its_share_of_the_picks():
    from goodsad_studio.methods.components.coreset import blocked_coreset

    rng = np.random.default_rng(3)
    points = rng.normal(size=(1000, 8)).astype(np.float32)
    whole = blocked_coreset(points, 50, block=5000, seed=2)  # one block: the greedy pass itself
    assert whole.tolist() == greedy_coreset(points, 50, seed=2).tolist()
    seen: list[Progress] = []
    blocked = blocked_coreset(points, 50, block=250, seed=2, monitor=Monitor(seen.append))
    assert len(set(blocked.tolist())) == 50
    per_block = np.bincount(blocked // 250, minlength=4)
    assert per_block.tolist() == [13, 12, 13, 12]  # 50 picks over 4 equal blocks, rounded, adding up
    first = blocked[blocked < 250]
    assert first.tolist() == greedy_coreset(points[:250], len(first), seed=2).tolist()  # block 0 = its own pass
    stages = [p for p in seen if p.done == 0]
    assert [p.stage for p in stages] == [Stage.CORESET] and seen[-1].done == 50 and stages[0].total == 50
    assert all(a.done <= b.done for a, b in zip(seen, seen[1:], strict=False))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        blocked_coreset(points, 50, block=250, monitor=Monitor(cancel=cancel))


def test_fewer_picks_than_blocks_gives_exactly_the_picks_asked_for():
    from goodsad_studio.methods.components.coreset import blocked_coreset

    points = np.random.default_rng(4).normal(size=(2000, 4)).astype(np.float32)
    chosen = blocked_coreset(points, 3, block=200)  # 10 blocks, 3 picks
    assert len(chosen) == len(set(chosen.tolist())) == 3
