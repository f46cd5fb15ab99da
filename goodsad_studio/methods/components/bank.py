"""A memory bank of feature rows that remembers the training photo each row came from, and its collector.

The owner of each row makes the goods-aware search possible (:meth:`MemoryBank.rows_of` gives the rows of some
photos, to search among them only); its place in its photo's feature grid makes a search by position possible (a
patch compared with patches near the same place only). Banks saved before owners or places were recorded load
with them None.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from numpy.typing import DTypeLike

from goodsad_studio.errors import ModelFileError, ParamError


@dataclass
class MemoryBank:
    """``rows`` (``N x d``, float32 or float16); ``owner`` (``N`` int32 indices into ``photos``, the record keys of
    the training photos) or None when not known; ``place`` (``N`` int32: each row's row-major position in its
    photo's feature grid of ``grid`` = (h, w)) or None when not known."""

    rows: np.ndarray
    owner: np.ndarray | None = None
    photos: tuple[str, ...] = ()
    place: np.ndarray | None = None
    grid: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        if self.rows.ndim != 2 or len(self.rows) == 0 or self.rows.dtype not in (np.float16, np.float32):
            raise ValueError(f"bank rows must be a non-empty N x d float16/float32 array, got {self.rows.shape}")
        if self.owner is not None and (
            self.owner.shape != (len(self.rows),) or self.owner.min() < 0 or self.owner.max() >= len(self.photos)
        ):
            raise ValueError(f"row owners {self.owner.shape} do not fit {len(self.rows)} rows of {len(self.photos)}")
        if self.place is not None and (
            self.place.shape != (len(self.rows),)
            or min(self.grid) < 1
            or self.place.min() < 0
            or self.place.max() >= self.grid[0] * self.grid[1]
        ):
            raise ValueError(f"row places {self.place.shape} do not fit {len(self.rows)} rows on a grid {self.grid}")

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, ids: np.ndarray) -> MemoryBank:
        """The rows ``ids`` (with their owners), in that order."""
        ids = np.asarray(ids)
        owner = None if self.owner is None else self.owner[ids]
        place = None if self.place is None else self.place[ids]
        return MemoryBank(self.rows[ids], owner, self.photos, place, self.grid)

    def rows_of(self, photos: Iterable[str]) -> np.ndarray:
        """Sorted int64 ids of the rows that came from ``photos`` (possibly none: the coreset may drop a photo)."""
        if self.owner is None:
            raise ParamError("this memory bank does not record which photo each row came from: refit the model")
        number = {key: i for i, key in enumerate(self.photos)}
        wanted = list(photos)
        unknown = [key for key in wanted if key not in number]
        if unknown:
            raise ParamError(f"not training photos of this model: {', '.join(unknown[:5])}")
        return np.flatnonzero(np.isin(self.owner, [number[key] for key in wanted])).astype(np.int64)

    def state(self) -> dict[str, np.ndarray]:
        """``bank``; with owners also ``bank_owner`` and ``bank_photos`` (JSON list as uint8); with places
        ``bank_place`` and ``bank_grid``."""
        arrays = {"bank": self.rows}
        if self.owner is not None:
            arrays["bank_owner"] = self.owner.astype(np.int32)
            arrays["bank_photos"] = np.frombuffer(json.dumps(list(self.photos)).encode(), np.uint8).copy()
        if self.place is not None:
            arrays["bank_place"] = self.place.astype(np.int32)
            arrays["bank_grid"] = np.asarray(self.grid, np.int32)
        return arrays

    @classmethod
    def from_state(cls, arrays: Mapping[str, np.ndarray], where: str | Path) -> MemoryBank:
        """The bank saved by :meth:`state`; :class:`ModelFileError` naming ``where`` if missing or malformed."""
        if "bank" not in arrays:
            raise ModelFileError("state array 'bank' is missing", where)
        rows = arrays["bank"]
        if rows.ndim != 2 or len(rows) == 0 or rows.dtype not in (np.float16, np.float32):
            raise ModelFileError(f"memory bank of shape {rows.shape} and type {rows.dtype} is not usable", where)
        place, grid = _places(arrays, where)
        has_owner, has_photos = "bank_owner" in arrays, "bank_photos" in arrays
        if not has_owner and not has_photos:
            return _bank(rows, None, (), place, grid, where)
        if has_owner != has_photos:
            raise ModelFileError("state arrays 'bank_owner' and 'bank_photos' come together; one is missing", where)
        try:
            photos = json.loads(np.asarray(arrays["bank_photos"], np.uint8).tobytes().decode())
            if not isinstance(photos, list) or not all(isinstance(p, str) for p in photos):
                raise ValueError("not a list of strings")
        except ValueError as exc:  # JSON and UTF-8 errors are ValueErrors
            raise ModelFileError(f"the memory bank's photo owners cannot be read ({exc})", where) from exc
        return _bank(rows, np.asarray(arrays["bank_owner"]).astype(np.int32), tuple(photos), place, grid, where)


def _places(arrays: Mapping[str, np.ndarray], where: str | Path) -> tuple[np.ndarray | None, tuple[int, int]]:
    """``bank_place`` and ``bank_grid`` when saved (both or neither)."""
    if ("bank_place" in arrays) != ("bank_grid" in arrays):
        raise ModelFileError("state arrays 'bank_place' and 'bank_grid' come together; one is missing", where)
    if "bank_place" not in arrays:
        return None, (0, 0)
    grid = np.asarray(arrays["bank_grid"]).astype(np.int64).ravel()
    if len(grid) != 2:
        raise ModelFileError(f"state array 'bank_grid' holds {len(grid)} values, not (height, width)", where)
    return np.asarray(arrays["bank_place"]).astype(np.int32), (int(grid[0]), int(grid[1]))


def _bank(
    rows: np.ndarray,
    owner: np.ndarray | None,
    photos: tuple[str, ...],
    place: np.ndarray | None,
    grid: tuple[int, int],
    where: str | Path,
) -> MemoryBank:
    try:
        return MemoryBank(rows, owner, photos, place, grid)
    except ValueError as exc:
        raise ModelFileError(f"the memory bank's photo owners or places do not fit its rows ({exc})", where) from exc


class _RowStore:
    """Collects rows into one preallocated array when the number of rows is known — so they are never held
    twice — else in a list concatenated at the end."""

    def __init__(self, dim: int, dtype: DTypeLike, expected_rows: int):
        self.dim, self.dtype = dim, dtype
        self.array: np.ndarray | None = np.empty((expected_rows, dim), dtype) if expected_rows else None
        self.filled = 0
        self.parts: list[np.ndarray] = []

    def append(self, rows: np.ndarray) -> None:
        if self.array is not None and self.filled + len(rows) <= len(self.array):
            self.array[self.filled : self.filled + len(rows)] = rows
            self.filled += len(rows)
        else:
            self.parts.append(rows.astype(self.dtype))

    def finish(self) -> np.ndarray:
        if self.array is None:
            return np.concatenate(self.parts)
        if self.parts:
            return np.concatenate([self.array[: self.filled], *self.parts])
        return self.array[: self.filled]


class RowCollector:
    """Collects embeddings batch by batch into a :class:`MemoryBank` (rows in ``dtype``), with their owners and,
    given a ``projection`` (``dim x k``), the projected rows (float32) the coreset is chosen on.

    ``expected_images``: how many images will be added (0: unknown); with the rows per image of the first batch
    it preallocates, as PatchCore did. The projection is applied per batch on the embeddings' device."""

    def __init__(
        self, dim: int, dtype: DTypeLike, expected_images: int = 0, projection: torch.Tensor | None = None
    ) -> None:
        self.dim, self.dtype, self.expected_images = dim, np.dtype(dtype), expected_images
        self.projection = projection
        self._store: _RowStore | None = None
        self._projected: _RowStore | None = None
        self._owners: list[np.ndarray] = []
        self._photos: dict[str, int] = {}
        self._owner_known = True
        self._places: list[np.ndarray] = []
        self._grid: tuple[int, int] | None = None
        self._place_known = True

    def add(self, embedded: torch.Tensor, photos: Sequence[str] | None) -> None:
        """``embedded``: ``B x ... x dim`` (all rows of ``B`` images; ``B x h x w x dim`` records each row's place
        on the grid); ``photos``: their record keys, or None."""
        rows = embedded.reshape(-1, self.dim)
        batch = len(photos) if photos is not None else embedded.shape[0]
        self._add_places(embedded)
        if self._store is None:
            expected = self.expected_images * (rows.shape[0] // batch) if self.expected_images else 0
            self._store = _RowStore(self.dim, self.dtype, expected)
            if self.projection is not None:
                self._projected = _RowStore(self.projection.shape[1], np.float32, expected)
        self._store.append(rows.cpu().numpy())
        if self._projected is not None:
            assert self.projection is not None  # projected rows are only collected with a projection
            if self.projection.device != rows.device:
                self.projection = self.projection.to(rows.device)
            self._projected.append((rows @ self.projection).cpu().numpy())
        if photos is None:
            self._owner_known = False
            return
        per_image = rows.shape[0] // batch
        ids = [self._photos.setdefault(key, len(self._photos)) for key in photos]
        self._owners.append(np.repeat(np.asarray(ids, np.int32), per_image))

    def _add_places(self, embedded: torch.Tensor) -> None:
        grid = (int(embedded.shape[1]), int(embedded.shape[2])) if embedded.ndim == 4 else None
        if self._place_known and not self._places:
            self._grid = grid
        if grid is None or grid != self._grid:  # no grid, or grids of several sizes: places unknown
            self._place_known, self._grid = False, None
            return
        self._places.append(np.tile(np.arange(grid[0] * grid[1], dtype=np.int32), embedded.shape[0]))

    def finish(self) -> tuple[MemoryBank, np.ndarray | None]:
        """The bank and, with a projection, the projected rows (``N x k`` float32; else None)."""
        if self._store is None:
            raise ValueError("no rows were added")
        rows = self._store.finish()
        owner = np.concatenate(self._owners) if self._owner_known else None
        place = np.concatenate(self._places) if self._place_known and self._places else None
        photos = tuple(self._photos) if owner is not None else ()
        bank = MemoryBank(rows, owner, photos, place, self._grid or (0, 0))
        points = self._projected.finish() if self._projected is not None else None
        self._store = self._projected = None
        return bank, points


__all__ = ["MemoryBank", "RowCollector"]
