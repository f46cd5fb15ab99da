"""Nearest-neighbour search over a memory bank behind one small interface, :class:`NeighbourIndex`.

* ``flat`` — exact L2 search (faiss' brute-force kernel, the same as ``IndexFlatL2``) run directly on the bank
  array, so the bank is held once. A float16 bank is searched in blocks converted to float32 on the fly, so a
  1.6 GB float16 bank never needs its 3.2 GB float32 copy.
* ``ivf`` — inverted lists (``IndexIVFFlat``, or ``IndexIVFScalarQuantizer`` fp16 for a float16 bank), ``nprobe``
  lists searched per query. The coarse centroids are saved so a loaded model rebuilds the identical index.
* ``hnsw`` — graph index (``IndexHNSWFlat`` / ``IndexHNSWSQ`` fp16), ``efSearch`` per query; the built graph is
  saved in faiss' own binary format (it is not reproducible by rebuilding with several threads).
* ``torch`` — :class:`TorchIndex`, exact search by matrix products on any torch device; exportable (no cdist).

``among`` restricts a search to some rows of the bank: a sorted int64 array of row ids (what
:meth:`~.bank.MemoryBank.rows_of` gives). flat and torch search the gathered rows; ivf and hnsw pass faiss an
``IDSelectorBatch``. Returned ids always index the whole bank; an approximate index may find fewer than ``k``
rows among a subset (id -1 in the rest).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, cast

import faiss
import numpy as np
import torch
from torch import nn

from goodsad_studio.errors import ParamError
from goodsad_studio.methods.components.bank import MemoryBank

INDEX_KINDS = ("flat", "ivf", "hnsw", "torch")
_BLOCK_BYTES = 256 << 20

# faiss >= 1.9 only takes its BLAS path when queries x dim >= 128000; below that it compares vector by vector,
# ~10x slower (784 PatchCore queries x 128 dims: 2.8 vs 32 GMAC/s measured). Use BLAS from 20 queries, as faiss
# did before. Process-wide, and it only changes speed.
if faiss.cvar.distance_compute_blas_threshold > 20:
    faiss.cvar.distance_compute_blas_threshold = 20


def exact_knn(queries: np.ndarray, base: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """faiss' exact search of float32 ``queries`` among ``base``: squared L2 distances (rounding below 0 cut to
    0) and ids, ``m x k`` (BLAS from 20 queries on, as set above)."""
    distances, ids = faiss.knn(queries, base, k)
    return np.maximum(distances, 0), ids


@dataclass(frozen=True)
class Neighbours:
    """``dist2``: squared L2 distances (float32), ``ids``: int64 bank rows; both ``m x k``, nearest first."""

    dist2: np.ndarray
    ids: np.ndarray


class NeighbourIndex(Protocol):
    """What a method searches its memory bank through."""

    def __len__(self) -> int: ...

    def search(self, queries: np.ndarray, k: int, *, among: np.ndarray | None = None) -> Neighbours:
        """The ``k`` (at most the rows searched) nearest rows of each of the ``m x d`` queries."""
        ...

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Bank rows as float32."""
        ...

    def state(self) -> dict[str, np.ndarray]:
        """What must be saved, besides the bank, to rebuild this exact index."""
        ...


def _subset(among: np.ndarray, n: int) -> np.ndarray:
    ids = np.asarray(among, np.int64)
    if ids.ndim != 1 or len(ids) == 0:
        raise ParamError("a search among bank rows needs at least one row (none of the chosen photos has any)")
    if ids[0] < 0 or ids[-1] >= n or (len(ids) > 1 and bool((np.diff(ids) <= 0).any())):
        raise ValueError(f"among must be sorted unique row ids in [0, {n})")
    return ids


class FaissIndex:
    """flat / ivf / hnsw search over ``bank`` (``N x d``, float32 or float16) with faiss on the CPU."""

    def __init__(
        self,
        bank: np.ndarray,
        kind: str = "flat",
        *,
        nprobe: int = 16,
        ef_search: int = 64,
        state: Mapping[str, np.ndarray] | None = None,
    ):
        if kind not in ("flat", "ivf", "hnsw"):
            raise ValueError(f"unknown faiss index kind {kind!r}; one of flat, ivf, hnsw")
        if bank.ndim != 2 or bank.shape[0] == 0 or bank.dtype not in (np.float16, np.float32):
            raise ValueError(f"bank must be a non-empty N x d float16/float32 array, got {bank.shape} {bank.dtype}")
        self.bank = np.ascontiguousarray(bank)
        self.kind = kind
        self.nprobe, self.ef_search = nprobe, ef_search
        self._index: faiss.Index | None = None
        self._ivf_centroids: np.ndarray | None = None
        state = state or {}
        if kind == "ivf":
            ivf = self._build_ivf(state.get("ivf_centroids"))
            self._index = ivf
            ivf.nprobe = nprobe
        elif kind == "hnsw":
            hnsw = self._load_hnsw(state["hnsw_index"]) if "hnsw_index" in state else self._build_hnsw()
            self._index = hnsw
            hnsw.hnsw.efSearch = ef_search

    @property
    def dim(self) -> int:
        return int(self.bank.shape[1])

    def __len__(self) -> int:
        return int(self.bank.shape[0])

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        rows: np.ndarray = self.bank[np.asarray(ids)].astype(np.float32)
        return rows

    def search(self, queries: np.ndarray, k: int = 1, *, among: np.ndarray | None = None) -> Neighbours:
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if among is not None:
            return self._search_among(queries, k, _subset(among, len(self)))
        k = min(k, len(self))
        if self._index is not None:
            distances, ids = self._index.search(queries, k)
            return Neighbours(np.maximum(distances, 0), ids)
        return Neighbours(*self._flat(queries, self.bank, k))

    def state(self) -> dict[str, np.ndarray]:
        if self.kind == "ivf":
            assert self._ivf_centroids is not None  # set by _build_ivf
            return {"ivf_centroids": self._ivf_centroids}
        if self.kind == "hnsw":
            assert self._index is not None  # set in __init__
            return {"hnsw_index": faiss.serialize_index(self._index)}
        return {}

    # -- search --------------------------------------------------------------------------------------------------
    def _search_among(self, queries: np.ndarray, k: int, ids: np.ndarray) -> Neighbours:
        k = min(k, len(ids))
        if self._index is None:
            dist2, local = self._flat(queries, self.bank[ids], k)
            return Neighbours(dist2, ids[local])
        selector = faiss.IDSelectorBatch(ids)  # referenced here while faiss searches with it
        params: faiss.SearchParameters
        if self.kind == "ivf":
            params = faiss.SearchParametersIVF()
            params.nprobe = self.nprobe
        else:
            params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]  # missing from faiss' stub
            params.efSearch = self.ef_search  # type: ignore[attr-defined]  # see above
        params.sel = selector
        distances, found = self._index.search(queries, k, params=params)
        return Neighbours(np.maximum(distances, 0), found)

    def _flat(self, queries: np.ndarray, bank: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact search of ``bank``; float16 or big banks in float32 blocks, merged."""
        if bank.dtype == np.float32 and bank.nbytes <= 4 * _BLOCK_BYTES:
            return exact_knn(queries, np.ascontiguousarray(bank), k)
        rows = max(k, _BLOCK_BYTES // (4 * self.dim))
        best_d: np.ndarray | None = None
        best_i: np.ndarray | None = None
        for begin in range(0, len(bank), rows):
            block = np.ascontiguousarray(bank[begin : begin + rows], dtype=np.float32)
            d, i = exact_knn(queries, block, min(k, len(block)))
            i = i + begin
            if best_d is None:
                best_d, best_i = d, i
                continue
            both_d = np.concatenate([best_d, d], axis=1)
            both_i = np.concatenate([best_i, i], axis=1)
            order = np.argsort(both_d, axis=1, kind="stable")[:, :k]
            best_d = np.take_along_axis(both_d, order, 1)
            best_i = np.take_along_axis(both_i, order, 1)
        assert best_d is not None and best_i is not None  # the bank is not empty: the loop ran
        return best_d, best_i

    # -- builders ------------------------------------------------------------------------------------------------
    def _float32_rows(self, count: int | None = None) -> np.ndarray:
        rows = self.bank if count is None else self.bank[np.linspace(0, len(self) - 1, count).astype(np.int64)]
        return np.ascontiguousarray(rows, dtype=np.float32)

    def _build_ivf(self, centroids: np.ndarray | None) -> faiss.IndexIVF:
        n, dim = self.bank.shape
        if centroids is None:
            nlist = max(1, min(int(4 * math.sqrt(n)), n // 39, 65536))
            kmeans = faiss.Kmeans(dim, nlist, niter=20, seed=1234, max_points_per_centroid=256)
            kmeans.train(self._float32_rows(min(n, 256 * nlist)))
            centroids = kmeans.centroids
        centroids = np.ascontiguousarray(centroids, dtype=np.float32)
        if centroids.ndim != 2 or centroids.shape[1] != dim:
            raise ValueError(f"IVF centroids of shape {centroids.shape} do not fit a {dim}-d bank")
        quantizer = faiss.IndexFlatL2(dim)
        quantizer.add(centroids)
        nlist = centroids.shape[0]
        index: faiss.IndexIVF
        if self.bank.dtype == np.float16:
            index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_fp16)
        else:
            index = faiss.IndexIVFFlat(quantizer, dim, nlist)
        self._quantizer = quantizer  # the IVF index does not own it: keep it alive as long as the index
        index.train(self._float32_rows(min(n, 1024)))  # quantizer already filled: trains nothing of substance
        for begin in range(0, n, 65536):
            index.add(np.ascontiguousarray(self.bank[begin : begin + 65536], dtype=np.float32))
        self._ivf_centroids = centroids
        return index

    def _build_hnsw(self) -> faiss.IndexHNSW:
        dim = self.dim
        index: faiss.IndexHNSW
        if self.bank.dtype == np.float16:
            # faiss' stub wants a ScalarQuantizer; the constructor takes its QuantizerType (an int), as here
            index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_fp16, 32)  # type: ignore[arg-type]  # see above
            index.train(self._float32_rows(min(len(self), 1024)))
        else:
            index = faiss.IndexHNSWFlat(dim, 32)
        index.hnsw.efConstruction = 80
        for begin in range(0, len(self), 65536):
            index.add(np.ascontiguousarray(self.bank[begin : begin + 65536], dtype=np.float32))
        return index

    def _load_hnsw(self, blob: np.ndarray) -> faiss.IndexHNSW:
        # a serialised HNSW index deserialises as one (faiss downcasts)
        index = cast("faiss.IndexHNSW", faiss.deserialize_index(np.ascontiguousarray(blob, dtype=np.uint8)))
        if index.ntotal != len(self) or index.d != self.dim:
            raise ValueError(f"saved HNSW index holds {index.ntotal} x {index.d}, bank is {self.bank.shape}")
        return index


class TorchIndex(nn.Module):
    """Exact search by matrix products on any torch device: ``|q|^2 - 2 q B^T + |B|^2`` over blocks of
    ``block_rows`` bank rows (at most ``m x block_rows`` distances at once), the top ``k`` merged across blocks.

    ``forward(queries, k)`` -> ``(dist2, ids)`` tensors; exportable (``torch.export``, ONNX), no cdist. The bank
    keeps its dtype; blocks are searched in float32."""

    bank: torch.Tensor  # buffers
    norms: torch.Tensor

    def __init__(self, bank: np.ndarray | torch.Tensor, device: torch.device | str = "cpu", *, block_rows: int = 16384):
        super().__init__()
        rows = torch.as_tensor(bank)
        if rows.ndim != 2 or rows.shape[0] == 0 or rows.dtype not in (torch.float16, torch.float32):
            raise ValueError(f"bank must be a non-empty N x d float16/float32 array, got {tuple(rows.shape)}")
        rows = rows.to(device)
        self.register_buffer("bank", rows)
        self.register_buffer("norms", self._norms(rows))
        self.block_rows = block_rows

    @staticmethod
    def _norms(rows: torch.Tensor) -> torch.Tensor:
        blocks = [b.float().square().sum(1) for b in torch.split(rows, 65536)]
        return torch.cat(blocks)

    def __len__(self) -> int:
        return int(self.bank.shape[0])

    def forward(self, queries: torch.Tensor, k: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        return self._nearest(queries, self.bank, self.norms, k)

    def _nearest(
        self, queries: torch.Tensor, bank: torch.Tensor, norms: torch.Tensor, k: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        q = queries.float()
        q2 = q.square().sum(1, keepdim=True)
        k = min(k, bank.shape[0])
        best_d: torch.Tensor | None = None
        best_i: torch.Tensor | None = None
        for begin in range(0, bank.shape[0], self.block_rows):
            block = bank[begin : begin + self.block_rows].float()
            dist2 = torch.addmm(norms[begin : begin + self.block_rows][None], q, block.t(), alpha=-2) + q2
            d, i = torch.topk(dist2, min(k, block.shape[0]), dim=1, largest=False, sorted=True)
            i = i + begin
            if best_d is None or best_i is None:
                best_d, best_i = d, i
                continue
            d, order = torch.topk(torch.cat([best_d, d], 1), k, dim=1, largest=False, sorted=True)
            best_d, best_i = d, torch.gather(torch.cat([best_i, i], 1), 1, order)
        assert best_d is not None and best_i is not None  # the bank is not empty: the loop ran
        return best_d.clamp_min(0), best_i

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        rows: np.ndarray = self.bank[torch.as_tensor(np.asarray(ids), device=self.bank.device)].float().cpu().numpy()
        return rows

    @torch.no_grad()
    def search(self, queries: np.ndarray, k: int = 1, *, among: np.ndarray | None = None) -> Neighbours:
        q = torch.as_tensor(np.ascontiguousarray(queries, dtype=np.float32), device=self.bank.device)
        if among is None:
            dist2, ids = self._nearest(q, self.bank, self.norms, k)
            return Neighbours(dist2.cpu().numpy(), ids.cpu().numpy().astype(np.int64))
        chosen = torch.as_tensor(_subset(among, len(self)), device=self.bank.device)
        dist2, local = self._nearest(q, self.bank.index_select(0, chosen), self.norms.index_select(0, chosen), k)
        return Neighbours(dist2.cpu().numpy(), chosen[local].cpu().numpy().astype(np.int64))

    def state(self) -> dict[str, np.ndarray]:
        return {}


def make_index(
    kind: str,
    bank: MemoryBank | np.ndarray,
    device: torch.device | str = "cpu",
    *,
    nprobe: int = 16,
    ef: int = 64,
    state: Mapping[str, np.ndarray] | None = None,
) -> FaissIndex | TorchIndex:
    """The ``kind`` index over ``bank`` (``device`` is used by ``torch`` only; faiss runs on the CPU). ``state``:
    the arrays a saved index left (:meth:`NeighbourIndex.state`), to rebuild the identical index; a state that does
    not fit raises ValueError."""
    rows = bank.rows if isinstance(bank, MemoryBank) else bank
    if kind == "torch":
        return TorchIndex(rows, device)
    if kind not in INDEX_KINDS:
        raise ParamError(f"unknown index kind {kind!r}; one of {', '.join(INDEX_KINDS)}")
    return FaissIndex(rows, kind, nprobe=nprobe, ef_search=ef, state=state)


__all__ = ["INDEX_KINDS", "FaissIndex", "NeighbourIndex", "Neighbours", "TorchIndex", "make_index"]
