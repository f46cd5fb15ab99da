"""Nearest bank rows by position: a test patch compared only with the bank's patches from near the same place of
their photos (within ``tolerance`` grid cells, rows and columns), as SPADE aligns a test image with its nearest
training images. For goods photographed in the same pose, a label's corner is then compared with label corners,
not with any patch of the shelf that happens to look like it.

Exact and brute force (squared distances by matrix products, in chunks of bank rows), on the device of the
queries: it runs over the rows a goods-aware comparison chose (a few photos' patches), or over a whole bank.
"""

from __future__ import annotations

import numpy as np
import torch

from goodsad_studio.methods.components.bank import MemoryBank
from goodsad_studio.methods.components.nn_index import Neighbours

CHUNK_ROWS = 8192


def aligned_search(
    queries: np.ndarray,
    grid: tuple[int, int],
    bank: MemoryBank,
    tolerance: int,
    among: np.ndarray | None = None,
) -> Neighbours:
    """Each query's nearest row of ``bank`` (among the rows ``among``, or all) from within ``tolerance`` grid
    cells of its place. ``queries``: one image's ``h*w x d`` patch rows in row-major order on ``grid`` = (h, w).
    A bank grid of another size is mapped onto the queries' grid proportionally. A query with no row near its
    place takes its nearest row anywhere (among the same rows). :class:`ValueError` for a bank without places."""
    if bank.place is None:
        raise ValueError("this memory bank does not record where each row lies in its photo: refit the model")
    h, w = grid
    ids = np.arange(len(bank), dtype=np.int64) if among is None else np.asarray(among, np.int64)
    q = torch.from_numpy(np.ascontiguousarray(queries, np.float32))
    qy = torch.arange(h).repeat_interleave(w)
    qx = torch.arange(w).repeat(h)
    bank_h, bank_w = bank.grid
    best = torch.full((len(q),), float("inf"))
    best_id = torch.zeros(len(q), dtype=torch.int64)
    anywhere = torch.full((len(q),), float("inf"))
    anywhere_id = torch.zeros(len(q), dtype=torch.int64)
    q_norm = (q * q).sum(1, keepdim=True)
    for start in range(0, len(ids), CHUNK_ROWS):
        chunk = ids[start : start + CHUNK_ROWS]
        rows = torch.from_numpy(np.asarray(bank.rows[chunk], np.float32))
        place = torch.from_numpy(bank.place[chunk].astype(np.int64))
        ry = (place // bank_w) * h // bank_h
        rx = (place % bank_w) * w // bank_w
        dist2 = (q_norm + (rows * rows).sum(1)[None, :] - 2.0 * q @ rows.T).clamp_(min=0.0)
        value, at = dist2.min(1)
        closer = value < anywhere
        anywhere[closer], anywhere_id[closer] = value[closer], torch.from_numpy(chunk)[at[closer]]
        far = ((qy[:, None] - ry[None, :]).abs() > tolerance) | ((qx[:, None] - rx[None, :]).abs() > tolerance)
        dist2.masked_fill_(far, float("inf"))
        value, at = dist2.min(1)
        closer = value < best
        best[closer], best_id[closer] = value[closer], torch.from_numpy(chunk)[at[closer]]
    alone = torch.isinf(best)
    best[alone], best_id[alone] = anywhere[alone], anywhere_id[alone]
    return Neighbours(best.numpy()[:, None].astype(np.float32), best_id.numpy()[:, None])


__all__ = ["aligned_search"]
