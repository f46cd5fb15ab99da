"""Nearest-neighbour search over a memory bank with faiss: exact by default, approximate for big banks.

* ``flat`` — exact L2 search (faiss' brute-force kernel, the same as ``IndexFlatL2``) run directly on the bank
  array, so the bank is held once. A float16 bank is searched in blocks converted to float32 on the fly, so a
  1.6 GB float16 bank never needs its 3.2 GB float32 copy.
* ``ivf`` — inverted lists (``IndexIVFFlat``, or ``IndexIVFScalarQuantizer`` fp16 for a float16 bank), ``nprobe``
  lists searched per query. The coarse centroids are saved so a loaded model rebuilds the identical index.
* ``hnsw`` — graph index (``IndexHNSWFlat`` / ``IndexHNSWSQ`` fp16), ``efSearch`` per query; the built graph is
  saved in faiss' own binary format (it is not reproducible by rebuilding with several threads).

With ``use_gpu=True`` and a faiss built with GPU support, exact search runs with ``faiss.knn_gpu`` and the IVF
index is cloned to the GPU; otherwise the CPU is used (faiss-cpu has no GPU code).
"""

from __future__ import annotations

import math
from typing import cast

import faiss
import numpy as np

INDEX_KINDS = ("flat", "ivf", "hnsw")
_BLOCK_BYTES = 256 << 20

# faiss >= 1.9 only takes its BLAS path when queries x dim >= 128000; below that it compares vector by vector,
# ~10x slower (784 PatchCore queries x 128 dims: 2.8 vs 32 GMAC/s measured). Use BLAS from 20 queries, as faiss
# did before. Process-wide, and it only changes speed.
if faiss.cvar.distance_compute_blas_threshold > 20:
    faiss.cvar.distance_compute_blas_threshold = 20


def faiss_has_gpu() -> bool:
    """True when faiss was built with GPU support and sees a GPU."""
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


class PatchIndex:
    """Search structure over ``bank`` (``N x d``, float32 or float16). ``search`` returns squared L2 distances."""

    def __init__(
        self,
        bank: np.ndarray,
        kind: str = "flat",
        *,
        nprobe: int = 16,
        ef_search: int = 64,
        use_gpu: bool = False,
        state: dict[str, np.ndarray] | None = None,
    ):
        if kind not in INDEX_KINDS:
            raise ValueError(f"unknown index kind {kind!r}; one of {INDEX_KINDS}")
        if bank.ndim != 2 or bank.shape[0] == 0 or bank.dtype not in (np.float16, np.float32):
            raise ValueError(f"bank must be a non-empty N x d float16/float32 array, got {bank.shape} {bank.dtype}")
        self.bank = np.ascontiguousarray(bank)
        self.kind = kind
        self.use_gpu = use_gpu and faiss_has_gpu()
        self._gpu_resources = faiss.StandardGpuResources() if self.use_gpu else None
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
        """Bank rows as float32."""
        rows: np.ndarray = self.bank[np.asarray(ids)].astype(np.float32)
        return rows

    def search(self, queries: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest bank rows of each query: (squared distances, indices), both ``m x k``."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = min(k, len(self))
        if self._index is not None:
            distances, ids = self._index.search(queries, k)
            return np.maximum(distances, 0), ids
        if self.bank.dtype == np.float32 and self.bank.nbytes <= 4 * _BLOCK_BYTES:
            return self._knn(queries, self.bank, k)
        rows = max(k, _BLOCK_BYTES // (4 * self.dim))
        best_d: np.ndarray | None = None
        best_i: np.ndarray | None = None
        for begin in range(0, len(self), rows):
            block = np.ascontiguousarray(self.bank[begin : begin + rows], dtype=np.float32)
            d, i = self._knn(queries, block, min(k, len(block)))
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

    def state_arrays(self) -> dict[str, np.ndarray]:
        """What must be saved, besides the bank, to rebuild this exact index."""
        if self.kind == "ivf":
            assert self._ivf_centroids is not None  # set by _build_ivf
            return {"ivf_centroids": self._ivf_centroids}
        if self.kind == "hnsw":
            assert self._index is not None  # set in __init__
            return {"hnsw_index": faiss.serialize_index(self._index)}
        return {}

    # -- builders ------------------------------------------------------------------------------------------------
    def _knn(self, queries: np.ndarray, base: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.use_gpu:
            d, i = faiss.knn_gpu(self._resources(), queries, base, k)
        else:
            d, i = faiss.knn(queries, base, k)
        return np.maximum(d, 0), i

    def _float32_rows(self, count: int | None = None) -> np.ndarray:
        rows = self.bank if count is None else self.bank[np.linspace(0, len(self) - 1, count).astype(np.int64)]
        return np.ascontiguousarray(rows, dtype=np.float32)

    def _resources(self) -> faiss.StandardGpuResources:
        assert self._gpu_resources is not None  # made in __init__ whenever use_gpu
        return self._gpu_resources

    def _build_ivf(self, centroids: np.ndarray | None) -> faiss.IndexIVF | faiss.GpuIndexIVF:
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
        if self.use_gpu:
            # an IVF index clones to a GPU IVF index (the stub only promises a GpuIndex)
            return cast("faiss.GpuIndexIVF", faiss.index_cpu_to_gpu(self._resources(), 0, index))
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
        # a serialised HNSW index deserialises as one (faiss downcasts); the stub only promises an Index
        index = cast("faiss.IndexHNSW", faiss.deserialize_index(np.ascontiguousarray(blob, dtype=np.uint8)))
        if index.ntotal != len(self) or index.d != self.dim:
            raise ValueError(f"saved HNSW index holds {index.ntotal} x {index.d}, bank is {self.bank.shape}")
        return index
