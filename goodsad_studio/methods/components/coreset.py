"""Greedy coreset (k-center) subsampling of a memory bank, fast on CPU.

What it computes is the reference's *approximate greedy coreset* (PatchCore, Roth et al. 2022, and
amazon-research/patchcore-inspection): features are randomly projected to a few dimensions (128); every point
starts with its mean distance to ``n_start`` (10) random points; then the point farthest from everything chosen so
far is chosen, ``n_select`` times, each choice lowering every point's distance-to-nearest-chosen.

How it is made fast without changing the answer (up to float rounding):

* **lazy updates** — a point's stored distance is an upper bound that only needs to be exact when it might be
  the maximum. Each round refreshes only the points whose bound is among the largest ``pool`` bounds (against the
  centres chosen since each was last refreshed), then picks centres inside that pool as long as the best exact
  value there beats the largest bound outside it — which proves it is the true farthest point. Points far inside
  covered regions are never refreshed again; at 10% of 600k patches about 40% of the distance work is skipped.
* **blocked, fused distance kernels** — refreshes are exhaustive 1-NN searches of a block of points against a
  block of centres (``faiss.knn``: BLAS plus an in-cache min reduction), so the work is compute-bound rather than
  the memory-bound "one centre against all N points" loop of the reference. Nothing N x N is ever materialised;
  peak extra memory is a few arrays of N floats.

The greedy pass is still about quadratic in the points (each of the ``ratio * N`` picks lowers the distances of a
share of the N points). :func:`blocked_coreset` makes a fit grow linearly: the rows (which come image by image, or
tile by tile) are cut into contiguous blocks of about ``block`` rows, and each block gets its own greedy pass with
its share of the picks — a memory-bank reduction per group of photos before they are pooled.
"""

from __future__ import annotations

import numpy as np
import torch

from goodsad_studio.methods.components.nn_index import exact_knn
from goodsad_studio.progress import NO_MONITOR, Monitor, Stage

_REFRESH_CHUNK = 2048


def random_projection(dim_in: int, dim_out: int, seed: int) -> torch.Tensor:
    """A seeded Gaussian projection matrix ``dim_in x dim_out`` (Johnson-Lindenstrauss scaling)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(dim_in, dim_out, generator=generator) / float(np.sqrt(dim_out))


def greedy_coreset(
    features: np.ndarray | torch.Tensor,
    n_select: int,
    *,
    n_start: int = 10,
    seed: int = 0,
    pool: int = 32768,
    monitor: Monitor = NO_MONITOR,
) -> np.ndarray:
    """Indices (int64, in selection order) of ``n_select`` greedy k-center picks among ``features`` (N x d).

    Reports stage CORESET with ``n_select`` items to ``monitor`` and asks ``monitor.check()`` between rounds
    (which raises :class:`~goodsad_studio.errors.Cancelled`). Deterministic for a given ``seed`` and input.
    """
    points = torch.as_tensor(features, dtype=torch.float32).contiguous()
    n, dim = points.shape
    if not 0 < n_select <= n:
        raise ValueError(f"cannot select {n_select} of {n} points")
    points_np = points.numpy()
    sq_norms = (points * points).sum(1)

    rng = np.random.default_rng(seed)
    start = torch.from_numpy(rng.choice(n, min(n_start, n), replace=False))
    anchors = points[start]
    anchor_d2 = torch.addmm((anchors * anchors).sum(1)[None], points, anchors.T, alpha=-2).add_(sq_norms[:, None])
    bound = anchor_d2.clamp_min_(0).sqrt_().mean(1).square_()  # squared; upper bound of the current distance
    del anchor_d2
    fresh_at = torch.zeros(n, dtype=torch.int64)  # bound is exact w.r.t. centres [0, fresh_at)

    centres = np.empty((n_select, dim), np.float32)
    centres_t = torch.from_numpy(centres)
    centre_sq = torch.empty(n_select)
    chosen = np.empty(n_select, np.int64)
    k = 0
    monitor.stage(Stage.CORESET, n_select)
    while k < n_select:
        monitor.check("fitting")
        size = pool
        while True:  # find a pool whose best exact value beats every bound outside it
            size = min(size, n)
            values, pool_idx = torch.topk(bound, min(size + 1, n), sorted=True)
            if size < n:
                threshold = float(values[-1])
                pool_idx = pool_idx[:-1]
            else:
                threshold = -1.0
            _refresh(pool_idx, k, bound, fresh_at, points_np, centres)
            exact = bound[pool_idx]
            if float(exact.max()) >= threshold:
                break
            size *= 2
        active_mask = exact >= threshold
        live = pool_idx[active_mask]
        live_val = exact[active_mask].clone()
        live_pts = points[live]
        live_sq = sq_norms[live]
        while k < n_select and len(live):
            j = int(torch.argmax(live_val))
            pick = int(live[j])
            chosen[k] = pick
            centres_t[k] = points[pick]
            centre_sq[k] = sq_norms[pick]
            k += 1
            d2 = torch.addmv(live_sq, live_pts, centres_t[k - 1], alpha=-2).add_(centre_sq[k - 1]).clamp_min_(0)
            torch.minimum(live_val, d2, out=live_val)
            live_val[j] = -1.0  # a centre is never picked twice, even among duplicate points
            keep = live_val >= threshold
            if not bool(keep.all()):
                drop = ~keep
                bound[live[drop]] = live_val[drop]
                fresh_at[live[drop]] = k
                live, live_val, live_pts, live_sq = live[keep], live_val[keep], live_pts[keep], live_sq[keep]
            if k % 1024 == 0:
                monitor.advance(k)
        bound[live] = live_val
        fresh_at[live] = k
    monitor.advance(n_select)
    return chosen


class _Shifted(Monitor):
    """The monitor of one block of a blocked coreset: progress counted on from ``offset``, the same cancel."""

    def __init__(self, parent: Monitor, offset: int) -> None:
        super().__init__()
        self.parent, self.offset = parent, offset

    def stage(self, stage: Stage, total: int | None, detail: str = "") -> None:
        pass  # one stage for the whole coreset, reported by blocked_coreset

    def advance(self, done: int, detail: str = "") -> None:
        self.parent.advance(self.offset + done, detail)

    def check(self, what: str = "") -> None:
        self.parent.check(what)


def blocked_coreset(
    features: np.ndarray | torch.Tensor,
    n_select: int,
    *,
    block: int,
    n_start: int = 10,
    seed: int = 0,
    monitor: Monitor = NO_MONITOR,
) -> np.ndarray:
    """:func:`greedy_coreset` of ``n_select`` picks over contiguous blocks of about ``block`` rows, each block
    getting picks in proportion to its rows (rounded shares that add up to ``n_select``, a block's share capped at
    its rows); indices into ``features``, block by block. With ``block >= N`` it is :func:`greedy_coreset` itself.
    Fit time grows linearly with N."""
    points = torch.as_tensor(features, dtype=torch.float32)
    n = len(points)
    if not 0 < n_select <= n:
        raise ValueError(f"cannot select {n_select} of {n} points")
    if block < 1:
        raise ValueError(f"a coreset block holds at least one row, got {block}")
    blocks = max(1, round(n / block))
    if blocks == 1:
        return greedy_coreset(points, n_select, n_start=n_start, seed=seed, monitor=monitor)
    edges = np.linspace(0, n, blocks + 1).round().astype(np.int64)
    quota = np.diff(np.floor(np.linspace(0, n_select, blocks + 1) + 0.5).astype(np.int64))
    monitor.stage(Stage.CORESET, n_select)
    chosen, done = [], 0
    for b in range(blocks):
        begin, end = int(edges[b]), int(edges[b + 1])
        picks = int(min(quota[b], end - begin))
        if picks == 0:  # fewer picks than blocks: this block's share rounded to none
            continue
        part = greedy_coreset(points[begin:end], picks, n_start=n_start, seed=seed + b, monitor=_Shifted(monitor, done))
        chosen.append(part + begin)
        done += picks
    monitor.advance(done)
    return np.concatenate(chosen)


def _refresh(
    idx: torch.Tensor, k: int, bound: torch.Tensor, fresh_at: torch.Tensor, points: np.ndarray, centres: np.ndarray
) -> None:
    """Make ``bound[idx]`` exact against centres ``[0, k)``, using only the centres each point has not seen."""
    stale = idx[fresh_at[idx] < k]
    if len(stale) == 0:
        return
    stale = stale[torch.argsort(fresh_at[stale], stable=True)]
    for begin in range(0, len(stale), _REFRESH_CHUNK):
        ids = stale[begin : begin + _REFRESH_CHUNK]
        first = int(fresh_at[ids[0]])  # the oldest in this chunk; re-checking seen centres is harmless
        nearest, _ = exact_knn(points[ids.numpy()], centres[first:k], 1)
        bound[ids] = torch.minimum(bound[ids], torch.from_numpy(nearest[:, 0]).clamp_min_(0))
        fresh_at[ids] = k
