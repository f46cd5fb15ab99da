"""Nearest-neighbour indexes against a brute-force numpy search; among-subsets, state, export."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from goodsad_studio.errors import ParamError
from goodsad_studio.methods.components.nn_index import FaissIndex, Neighbours, TorchIndex, make_index

KINDS = ("flat", "ivf", "hnsw", "torch")
# ivf: every list probed (its 128 lists), hnsw: a search breadth near the bank size: both exact here
EXACT = {"nprobe": 128, "ef": 2048}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """200 queries, a 5000 x 64 bank, and their squared distances (float64)."""
    rng = np.random.default_rng(0)
    bank = rng.standard_normal((5000, 64)).astype(np.float32)
    queries = rng.standard_normal((200, 64)).astype(np.float32)
    dist2 = ((queries.astype(np.float64)[:, None] - bank.astype(np.float64)[None]) ** 2).sum(-1)
    return bank, queries, dist2


@pytest.fixture(scope="module")
def indexes(data) -> dict[str, FaissIndex | TorchIndex]:
    return {kind: make_index(kind, data[0], "cpu", **EXACT) for kind in KINDS}


def brute_force(dist2: np.ndarray, k: int, among: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    ids = np.arange(dist2.shape[1]) if among is None else among
    order = np.argsort(dist2[:, ids], axis=1)[:, :k]
    return np.take_along_axis(dist2[:, ids], order, 1), ids[order]


def check(found: Neighbours, expected: tuple[np.ndarray, np.ndarray]) -> None:
    assert found.ids.dtype == np.int64 and found.ids.shape == expected[1].shape
    assert np.array_equal(found.ids, expected[1])
    np.testing.assert_allclose(found.dist2, expected[0], rtol=2e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_equals_brute_force(kind, data, indexes):
    _, queries, dist2 = data
    check(indexes[kind].search(queries, 5), brute_force(dist2, 5))
    assert len(indexes[kind]) == 5000


@pytest.mark.parametrize("kind", KINDS)
def test_among_searches_only_the_subset(kind, data, indexes):
    _, queries, dist2 = data
    among = np.sort(np.random.default_rng(1).choice(5000, 700, replace=False))
    found = indexes[kind].search(queries, 3, among=among)
    assert np.isin(found.ids, among).all()
    check(found, brute_force(dist2, 3, among))
    few = indexes[kind].search(queries[:4], 5, among=among[:2])  # k is capped by the subset
    assert few.ids.shape == (4, 2) and np.isin(few.ids, among[:2]).all()
    with pytest.raises(ParamError):
        indexes[kind].search(queries, 1, among=np.array([], np.int64))


@pytest.mark.parametrize("kind", KINDS)
def test_float16_bank(kind, data):
    bank, queries, _ = data
    half = bank[:800].astype(np.float16)
    ref = ((queries.astype(np.float64)[:, None] - half.astype(np.float64)[None]) ** 2).sum(-1)
    found = make_index(kind, half, "cpu", **EXACT).search(queries, 2)
    expected = brute_force(ref, 2)
    coded = kind in ("ivf", "hnsw")  # they search fp16 codes (IVF: of residuals), not the rows themselves
    assert (found.ids == expected[1]).mean() >= (0.99 if coded else 1.0)
    np.testing.assert_allclose(found.dist2[:, 0], expected[0][:, 0], rtol=1e-3 if coded else 2e-6)


def test_flat_float16_blocks_merge_across_blocks(data, monkeypatch):
    import goodsad_studio.methods.components.nn_index as nn_index

    bank, queries, _ = data
    half = bank[:1000].astype(np.float16)
    whole = FaissIndex(half).search(queries, 4)
    monkeypatch.setattr(nn_index, "_BLOCK_BYTES", 64 * 256)  # blocks of 64 rows
    assert np.array_equal(FaissIndex(half).search(queries, 4).ids, whole.ids)
    small = TorchIndex(half, block_rows=64).search(queries, 4)
    assert np.array_equal(small.ids, whole.ids)


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_state_rebuilds_the_same_index(kind, data, indexes):
    bank, queries, _ = data
    index = indexes[kind]
    state = index.state()
    assert set(state) == {"ivf": {"ivf_centroids"}, "hnsw": {"hnsw_index"}}[kind]
    again = make_index(kind, bank, "cpu", state=state, **EXACT)
    for key, array in again.state().items():
        assert np.array_equal(array, state[key])
    first, second = index.search(queries, 3), again.search(queries, 3)
    assert np.array_equal(first.ids, second.ids) and np.array_equal(first.dist2, second.dist2)
    with pytest.raises(ValueError):
        make_index(kind, bank[:100, :32] if kind == "ivf" else bank[:100], "cpu", state=state)


def test_flat_and_torch_have_no_state_and_give_vectors(data, indexes):
    bank, _, _ = data
    for kind in ("flat", "torch"):
        assert indexes[kind].state() == {}
        assert np.array_equal(indexes[kind].vectors(np.array([4, 2])), bank[[4, 2]])
    with pytest.raises(ParamError):
        make_index("annoy", bank, "cpu")


def test_torch_index_exports_without_cdist(data):
    bank, queries, _ = data
    index = TorchIndex(bank[:300], block_rows=128)
    program = torch.export.export(index, (torch.zeros(7, 64), 3), dynamic_shapes=({0: torch.export.Dim("m")}, None))
    ops = {str(node.target) for node in program.graph.nodes if node.op == "call_function"}
    assert not any("cdist" in op for op in ops) and any("addmm" in op for op in ops)
    q = torch.from_numpy(queries[:11])
    exported, eager = program.module()(q, 3), index(q, 3)
    assert torch.equal(exported[0], eager[0]) and torch.equal(exported[1], eager[1])
