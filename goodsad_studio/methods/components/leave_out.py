"""Nearest rows among most of a bank, without copying it: the search a leave-one-out score makes (a training photo
scored against every other photo's rows, for per-goods calibration).

A search among a subset copies the subset (or filters it row by row); when the subset is nearly the whole bank,
it is cheaper to search the whole index for a few nearest rows and keep, for each query, the first one allowed.
That is the exact answer whenever one of those is allowed (the index being exact); the few queries whose nearest
rows all belong to the left-out photo are searched again among the allowed rows.
"""

from __future__ import annotations

import numpy as np

from goodsad_studio.methods.components.bank import MemoryBank
from goodsad_studio.methods.components.nn_index import NeighbourIndex, Neighbours

FIRST_NEAREST = 16
"""How many nearest rows of the whole bank are looked at before searching among the allowed ones."""


def search_excluding(index: NeighbourIndex, bank: MemoryBank, queries: np.ndarray, allowed: np.ndarray) -> Neighbours:
    """Each query's nearest row among ``allowed`` (sorted row ids of ``bank``, which ``index`` searches)."""
    permitted = np.zeros(len(bank), bool)
    permitted[allowed] = True
    found = index.search(queries, min(FIRST_NEAREST, len(bank)))
    ok = (found.ids >= 0) & permitted[np.clip(found.ids, 0, len(bank) - 1)]
    first = ok.argmax(1)
    rows = np.arange(len(queries))
    dist2 = found.dist2[rows, first].astype(np.float32)
    ids = found.ids[rows, first].astype(np.int64)
    again = ~ok.any(1)
    if again.any():
        part = index.search(queries[again], 1, among=allowed)
        dist2[again], ids[again] = part.dist2[:, 0], part.ids[:, 0]
    return Neighbours(dist2[:, None], ids[:, None])


__all__ = ["FIRST_NEAREST", "search_excluding"]
