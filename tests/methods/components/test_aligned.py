"""Nearest bank rows by position (PatchCore's ``position_tolerance``): exact against a brute-force reference."""

from __future__ import annotations

import numpy as np
import pytest

from goodsad_studio.methods.components.aligned import CHUNK_ROWS, aligned_search
from goodsad_studio.methods.components.bank import MemoryBank


def reference(queries, grid, rows, places, bank_grid, tolerance):
    h, w = grid
    out = []
    for i, q in enumerate(queries):
        y, x = divmod(i, w)
        d2 = ((rows - q) ** 2).sum(1)
        ry = places // bank_grid[1] * h // bank_grid[0]
        rx = places % bank_grid[1] * w // bank_grid[1]
        near = (np.abs(ry - y) <= tolerance) & (np.abs(rx - x) <= tolerance)
        pool = np.flatnonzero(near) if near.any() else np.arange(len(rows))
        out.append(pool[np.argmin(d2[pool])])
    return np.asarray(out)


@pytest.mark.parametrize("tolerance", [0, 1, 3])
def test_each_patch_takes_the_nearest_row_from_near_its_place(tolerance):
    rng = np.random.default_rng(tolerance)
    grid, bank_grid = (4, 5), (8, 10)  # a bank fitted at twice the grid: places map proportionally
    rows = rng.normal(size=(60, 6)).astype(np.float32)
    places = rng.integers(0, 80, 60).astype(np.int32)
    bank = MemoryBank(rows, np.zeros(60, np.int32), ("a",), places, bank_grid)
    queries = rng.normal(size=(20, 6)).astype(np.float32)
    found = aligned_search(queries, grid, bank, tolerance)
    expected = reference(queries, grid, rows, places, bank_grid, tolerance)
    assert np.array_equal(found.ids[:, 0], expected)
    assert np.allclose(found.dist2[:, 0], ((rows[expected] - queries) ** 2).sum(1), atol=1e-4)


def test_a_patch_like_a_far_row_only_is_not_matched_to_it_and_among_limits_the_rows():
    rows = np.zeros((3, 2), np.float32)
    rows[0] = [5.0, 5.0]  # the query's twin, but at the far corner
    rows[1] = [1.0, 0.0]  # at the query's place
    rows[2] = [5.0, 5.0]  # a twin near the place, of another photo
    bank = MemoryBank(rows, np.array([0, 0, 1], np.int32), ("a", "b"), np.array([8, 0, 1], np.int32), (3, 3))
    queries = np.zeros((9, 2), np.float32)
    queries[0] = [5.0, 5.0]
    near = aligned_search(queries, (3, 3), bank, 1, among=np.array([0, 1]))
    assert near.ids[0, 0] == 1 and near.dist2[0, 0] == pytest.approx(41.0)  # not the far twin
    assert aligned_search(queries, (3, 3), bank, 2).ids[0, 0] in (0, 2)  # everything is near: a twin
    assert aligned_search(queries, (3, 3), bank, 1).ids[0, 0] == 2
    lonely = aligned_search(queries, (3, 3), bank, 0, among=np.array([0]))  # no row at its place: anywhere
    assert lonely.ids[0, 0] == 0 and lonely.dist2[0, 0] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="refit"):
        aligned_search(queries, (3, 3), MemoryBank(rows), 1)


def test_chunks_give_the_same_answer(monkeypatch):
    rng = np.random.default_rng(5)
    rows = rng.normal(size=(50, 4)).astype(np.float32)
    bank = MemoryBank(rows, None, (), rng.integers(0, 16, 50).astype(np.int32), (4, 4))
    queries = rng.normal(size=(16, 4)).astype(np.float32)
    whole = aligned_search(queries, (4, 4), bank, 1)
    monkeypatch.setattr("goodsad_studio.methods.components.aligned.CHUNK_ROWS", 7)
    assert CHUNK_ROWS != 7 and np.array_equal(aligned_search(queries, (4, 4), bank, 1).ids, whole.ids)


def test_searching_most_of_a_bank_gives_the_same_rows_as_a_search_among_them():
    from goodsad_studio.methods.components.leave_out import search_excluding
    from goodsad_studio.methods.components.nn_index import make_index

    rng = np.random.default_rng(3)
    rows = rng.normal(size=(300, 5)).astype(np.float32)
    owner = np.repeat(np.arange(10, dtype=np.int32), 30)
    bank = MemoryBank(rows, owner, tuple(str(i) for i in range(10)))
    index = make_index("flat", bank)
    queries = rows[30:60] + rng.normal(scale=0.01, size=(30, 5)).astype(np.float32)  # photo 1's own patches
    allowed = bank.rows_of(str(i) for i in range(10) if i != 1)  # leave photo 1 out
    found = search_excluding(index, bank, queries, allowed)
    reference = index.search(queries, 1, among=allowed)
    assert np.array_equal(found.ids, reference.ids[:, :1]) and np.allclose(found.dist2, reference.dist2[:, :1])
    assert not np.isin(found.ids, np.arange(30, 60)).any()  # its own rows (all 16 nearest, often) never taken
