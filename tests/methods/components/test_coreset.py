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


def test_the_greedy_order_gives_each_picks_radius_and_its_prefixes_are_coresets():
    from goodsad_studio.methods.components.coreset import greedy_order

    points = np.random.default_rng(2).normal(size=(800, 5)).astype(np.float32)
    chosen, radius = greedy_order(points, 80, seed=1)
    assert chosen.tolist() == greedy_coreset(points, 80, seed=1).tolist()
    assert chosen[:30].tolist() == greedy_coreset(points, 30, seed=1).tolist()  # a prefix is the shorter pass
    assert radius.dtype == np.float32 and np.all(np.diff(radius) <= 0)
    x = points.astype(np.float64)
    start = np.random.default_rng(1).choice(len(x), 10, replace=False)
    estimate = np.sqrt(((x[:, None] - x[start][None]) ** 2).sum(-1)).mean(1) ** 2  # the pass's starting bound
    for m in (10, 40, 79):  # the next pick's radius: how far the farthest point is from the first m picks
        nearest = np.minimum(((x[:, None] - x[chosen[:m]][None]) ** 2).sum(-1).min(1), estimate)
        nearest[chosen[:m]] = -1.0
        assert float(radius[m]) == pytest.approx(float(nearest.max()), rel=1e-4)


def clusters_then_spread(n: int = 500) -> np.ndarray:
    rng = np.random.default_rng(3)
    tight = rng.normal(scale=0.01, size=(n, 8))  # a block of look-alike photos
    spread = rng.normal(scale=1.0, size=(n, 8))  # a block of varied ones
    return np.concatenate([tight, spread]).astype(np.float32)


def max_distance(points: np.ndarray, chosen: np.ndarray) -> float:
    return float(np.sqrt(((points[:, None] - points[chosen][None]) ** 2).sum(-1).min(1).max()))


def test_a_blocked_coreset_covers_every_block_to_one_radius():
    from goodsad_studio.methods.components.coreset import blocked_coreset, greedy_order

    points = clusters_then_spread()
    whole = blocked_coreset(points, 50, block=5000, seed=2)  # one block: the greedy pass itself
    assert whole.tolist() == greedy_coreset(points, 50, seed=2).tolist()
    seen: list[Progress] = []
    blocked = blocked_coreset(points, 50, block=500, seed=2, monitor=Monitor(seen.append))
    assert len(blocked) == len(set(blocked.tolist())) == 50
    per_block = np.bincount(blocked // 500, minlength=2)
    assert per_block[1] >= 45  # the varied block gets the picks, not half of them
    # each block's picks are a prefix of its own greedy pass, and the radii meet: what is left out of one block
    # is no farther than what is kept of the other
    for b in range(2):
        mine = blocked[blocked // 500 == b] - 500 * b
        order, radius = greedy_order(points[500 * b : 500 * (b + 1)], 100, seed=2 + b)
        assert mine.tolist() == order[: len(mine)].tolist()
    assert max_distance(points, blocked) <= 1.2 * max_distance(points, greedy_coreset(points, 50, seed=2))
    assert {p.stage for p in seen} == {Stage.CORESET}
    assert seen[-1].done == seen[-1].total  # each round (a stage from 0) counts its picks up to its total
    assert all(a.done <= b.done for a, b in zip(seen, seen[1:], strict=False) if b.done)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        blocked_coreset(points, 50, block=250, monitor=Monitor(cancel=cancel))
    with pytest.raises(ValueError, match="oversample"):
        blocked_coreset(points, 50, block=250, oversample=0.5)


def test_a_block_whose_whole_order_is_kept_is_run_again_for_more():
    from goodsad_studio.methods.components.coreset import blocked_coreset

    points = clusters_then_spread()
    short = blocked_coreset(points, 50, block=500, seed=2, oversample=1.0)  # 25 each first: the varied block is short
    long = blocked_coreset(points, 50, block=500, seed=2, oversample=4.0)  # 100 each: nothing runs out
    assert short.tolist() == long.tolist()


def test_look_alike_blocks_share_the_picks_about_evenly():
    from goodsad_studio.methods.components.coreset import blocked_coreset

    points = np.random.default_rng(5).normal(size=(2000, 6)).astype(np.float32)
    per_block = np.bincount(blocked_coreset(points, 200, block=500) // 500, minlength=4)
    assert per_block.sum() == 200 and per_block.min() >= 35


def test_fewer_picks_than_blocks_gives_exactly_the_picks_asked_for():
    from goodsad_studio.methods.components.coreset import blocked_coreset

    points = np.random.default_rng(4).normal(size=(2000, 4)).astype(np.float32)
    chosen = blocked_coreset(points, 3, block=200)  # 10 blocks, 3 picks
    assert len(chosen) == len(set(chosen.tolist())) == 3
