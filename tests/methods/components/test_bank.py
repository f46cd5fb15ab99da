"""MemoryBank and RowCollector: rows, owners and the per-batch projection, state and its errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from goodsad_studio.errors import ModelFileError, ParamError
from goodsad_studio.methods.components.bank import MemoryBank, RowCollector


def batches(seed: int = 0) -> list[tuple[torch.Tensor, list[str]]]:
    """Three batches of 2 x 3 x 3 x 8 embeddings (9 rows per image) with record keys."""
    g = torch.Generator().manual_seed(seed)
    keys = iter(f"photo-{i}" for i in range(6))
    return [(torch.randn(2, 3, 3, 8, generator=g), [next(keys), next(keys)]) for _ in range(3)]


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("expected_images", [6, 0, 4])  # known, unknown, too few (the rest is appended)
def test_collector_rows_owners_and_projection(dtype, expected_images):
    projection = torch.randn(8, 3, generator=torch.Generator().manual_seed(9))
    collector = RowCollector(8, dtype, expected_images, projection)
    for embedded, photos in batches():
        collector.add(embedded, photos)
    bank, points = collector.finish()
    rows = torch.cat([e.reshape(-1, 8) for e, _ in batches()])
    assert bank.rows.dtype == np.dtype(dtype) and bank.rows.shape == (54, 8)
    assert np.array_equal(bank.rows, rows.numpy().astype(dtype))
    # the coreset points: each batch's float32 rows times the projection, as PatchCore computed them
    expected = np.concatenate([(e.reshape(-1, 8) @ projection).numpy() for e, _ in batches()])
    assert points is not None and points.dtype == np.float32 and np.array_equal(points, expected)
    assert np.array_equal(bank.owner, np.repeat(np.arange(6, dtype=np.int32), 9))
    assert bank.photos == tuple(f"photo-{i}" for i in range(6))
    assert bank.grid == (3, 3) and np.array_equal(bank.place, np.tile(np.arange(9, dtype=np.int32), 6))


def test_places_are_unknown_for_flat_rows_or_grids_of_several_sizes():
    flat = RowCollector(8, np.float32)
    flat.add(torch.zeros(2, 9, 8), ["a", "b"])  # B x rows x dim: no grid
    assert flat.finish()[0].place is None
    mixed = RowCollector(8, np.float32)
    mixed.add(torch.zeros(1, 3, 3, 8), ["a"])
    mixed.add(torch.zeros(1, 2, 4, 8), ["b"])
    bank = mixed.finish()[0]
    assert bank.place is None and bank.grid == (0, 0) and bank.owner is not None


def test_collector_without_projection_or_photos():
    collector = RowCollector(8, np.float32)
    for embedded, _ in batches():
        collector.add(embedded, None)
    bank, points = collector.finish()
    assert points is None and bank.owner is None and bank.photos == () and len(bank) == 54
    with pytest.raises(ValueError):
        RowCollector(8, np.float32).finish()


def make_bank() -> MemoryBank:
    rows = np.arange(12, dtype=np.float32).reshape(6, 2)
    return MemoryBank(rows, np.array([0, 0, 1, 1, 1, 2], np.int32), ("a", "b", "c"))


def test_take_and_rows_of():
    bank = make_bank()
    assert np.array_equal(bank.rows_of(["c", "a"]), [0, 1, 5])
    assert bank.rows_of([]).tolist() == []
    sub = bank.take(np.array([1, 2, 5]))
    assert np.array_equal(sub.rows, bank.rows[[1, 2, 5]]) and sub.owner.tolist() == [0, 1, 2]
    assert np.array_equal(sub.rows_of(["b"]), [1])
    with pytest.raises(ParamError, match="zzz"):
        bank.rows_of(["zzz"])
    with pytest.raises(ParamError):
        MemoryBank(bank.rows).rows_of(["a"])
    with pytest.raises(ValueError):
        MemoryBank(bank.rows, np.array([0, 3, 0, 0, 0, 0], np.int32), ("a",))


def test_state_round_trip(tmp_path):
    bank = make_bank()
    arrays = bank.state()
    assert set(arrays) == {"bank", "bank_owner", "bank_photos"}
    assert arrays["bank_photos"].dtype == np.uint8 and json.loads(arrays["bank_photos"].tobytes()) == ["a", "b", "c"]
    back = MemoryBank.from_state(arrays, tmp_path)
    assert np.array_equal(back.rows, bank.rows) and np.array_equal(back.owner, bank.owner)
    assert back.photos == bank.photos
    legacy = MemoryBank.from_state({"bank": bank.rows}, tmp_path)  # a folder saved before owners: loads, unowned
    assert legacy.owner is None and set(legacy.state()) == {"bank"}
    placed = MemoryBank(bank.rows, bank.owner, bank.photos, np.array([0, 1, 2, 3, 0, 5], np.int32), (2, 3))
    again = MemoryBank.from_state(placed.state(), tmp_path)
    assert again.grid == (2, 3) and np.array_equal(again.place, placed.place)
    assert np.array_equal(placed.take(np.array([5, 1])).place, [5, 1])


@pytest.mark.parametrize(
    "arrays",
    [
        {},
        {"bank": np.zeros((0, 2), np.float32)},
        {"bank": np.zeros((3, 2), np.float64)},
        {"bank": np.zeros((3, 2), np.float32), "bank_owner": np.zeros(3, np.int32)},
        {"bank": np.zeros((3, 2), np.float32), "bank_owner": np.zeros(2, np.int32), "bank_photos": b'["a"]'},
        {"bank": np.zeros((3, 2), np.float32), "bank_owner": np.zeros(3, np.int32), "bank_photos": b"not json"},
        {"bank": np.zeros((3, 2), np.float32), "bank_place": np.zeros(3, np.int32)},
        {"bank": np.zeros((3, 2), np.float32), "bank_place": np.full(3, 9, np.int32), "bank_grid": np.array([2, 2])},
        {"bank": np.zeros((3, 2), np.float32), "bank_place": np.zeros(3, np.int32), "bank_grid": np.array([2])},
    ],
)
def test_from_state_errors_name_the_folder(tmp_path, arrays):
    arrays = {k: np.frombuffer(v, np.uint8) if isinstance(v, bytes) else v for k, v in arrays.items()}
    with pytest.raises(ModelFileError) as error:
        MemoryBank.from_state(arrays, tmp_path)
    assert error.value.path == tmp_path
