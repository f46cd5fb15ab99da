"""PatchCore: a memory bank of locally aware patch features, subsampled by the greedy coreset; a test patch's
distance to its nearest bank patch is its anomaly score (Roth et al., CVPR 2022). What fit and predict compute,
defaults and deviations: README.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from goodsad_studio.errors import ModelFileError, ParamError
from goodsad_studio.methods.api import Batch, Capability, GridScores, ImageSet, Method
from goodsad_studio.methods.components.aligned import aligned_search
from goodsad_studio.methods.components.bank import MemoryBank, RowCollector
from goodsad_studio.methods.components.coreset import blocked_coreset, greedy_coreset, random_projection
from goodsad_studio.methods.components.embeddings import (
    goods_descriptor,
    image_numbers,
    locally_aware_patches,
    to_rows,
)
from goodsad_studio.methods.components.features import FEATURE_PARAMS, FeatureExtractor, images_total
from goodsad_studio.methods.components.leave_out import search_excluding
from goodsad_studio.methods.components.nn_index import INDEX_KINDS, NeighbourIndex, Neighbours, make_index
from goodsad_studio.params import ParamSpec
from goodsad_studio.progress import NO_MONITOR, Monitor


def reweighted_max(
    index: NeighbourIndex, queries: np.ndarray, scores: np.ndarray, nearest: np.ndarray, b: int
) -> float:
    """One image's score: the paper's reweighted maximum (Eq. 7) of its patch ``scores`` (``queries``: its patch
    rows, ``nearest``: each patch's nearest bank row), or the maximum patch score when ``b`` < 2 (off).

    With m_test* the patch of largest score s*, m* its nearest bank patch and N_b(m*) the b nearest bank patches of
    m* (m* included): ``s = (1 - exp||m_test* - m*|| / sum_{m in N_b(m*)} exp||m_test* - m||) * s*``."""
    worst = int(np.argmax(scores))
    s_star = float(scores[worst])
    b = min(b, len(index))
    if b < 2:
        return s_star
    m_star = int(nearest[worst])
    found = index.search(index.vectors(np.array([m_star])), b)
    support = [m_star] + [int(j) for j in found.ids[0] if int(j) != m_star and j >= 0][: b - 1]
    diffs = index.vectors(np.array(support)) - queries[worst][None, :]
    distances = torch.from_numpy(np.sqrt((diffs.astype(np.float64) ** 2).sum(1)))
    return (1.0 - float(torch.softmax(distances, dim=0)[0])) * s_star


class PatchCore(Method):
    name = "patchcore"
    description = "memory bank of locally aware patch features, greedy coreset, nearest-neighbour scores"
    roles = ("s8", "s16")
    inputs: FeatureExtractor
    capabilities = frozenset({Capability.TILING, Capability.GOODS_AWARE})
    params = [
        *FEATURE_PARAMS,
        ParamSpec(
            "coreset_ratio",
            "float",
            0.1,
            min=1e-4,
            max=1.0,
            help="fraction of training patches kept in the memory bank (0.01 = 1%; 1.0 keeps all)",
        ),
        ParamSpec(
            "coreset_dim",
            "int",
            128,
            min=8,
            max=2048,
            help="dimension of the random projection the coreset distances are computed in",
        ),
        ParamSpec(
            "coreset_start",
            "int",
            10,
            min=1,
            max=1000,
            help="random starting points of the approximate greedy coreset (as the reference)",
        ),
        ParamSpec(
            "coreset_block",
            "int",
            None,
            min=1024,
            max=1 << 30,
            optional=True,
            keyed_when_set=True,
            help="greedy coreset per block of this many patches (fit time linear in the patches; None = one pass "
            "over all, the paper's, about quadratic)",
        ),
        ParamSpec(
            "pretrain_dim",
            "int",
            None,
            min=8,
            max=8192,
            optional=True,
            help="per-layer projected size; None = the backbone's default (1024 for wide_resnet50_2)",
        ),
        ParamSpec(
            "target_dim",
            "int",
            None,
            min=8,
            max=8192,
            optional=True,
            help="final patch-feature size; None = the backbone's default (1024 for wide_resnet50_2)",
        ),
        ParamSpec(
            "reweight_neighbors",
            "int",
            0,
            min=0,
            max=64,
            help="b of the paper's image-score reweighting (Eq. 7; the paper's b=3 or anomalib's 9); "
            "0 = the maximum patch score, as the reference code",
        ),
        ParamSpec(
            "position_tolerance",
            "int",
            0,
            min=0,
            max=64,
            keyed_when_set=True,
            help="compare each patch only with training patches within this many feature-grid cells of the same "
            "place (stride 8: 8 network-input pixels per cell), as SPADE aligns to its nearest images; for goods "
            "photographed in one pose, with --compare-with goods or K; 0 = anywhere (the paper's)",
        ),
        ParamSpec(
            "bank_dtype",
            "choice",
            "float32",
            choices=("float32", "float16"),
            help="float16 halves the memory bank (e.g. for coreset_ratio=1.0 on big training sets)",
        ),
        ParamSpec(
            "index",
            "choice",
            "flat",
            choices=INDEX_KINDS,
            help="flat = exact search; ivf/hnsw = approximate, faster on very big banks; "
            "torch = exact, by matrix products on the method's device (the GPU route)",
        ),
        ParamSpec("ivf_nprobe", "int", 16, min=1, max=4096, help="IVF lists searched per query"),
        ParamSpec("hnsw_ef", "int", 64, min=1, max=4096, help="HNSW search breadth"),
        ParamSpec(
            "blur_sigma",
            "float",
            4.0,
            min=0.0,
            max=64.0,
            help="Gaussian smoothing of the map, in network-input pixels (paper: 4)",
        ),
        ParamSpec("seed", "int", 0, min=0, max=2**31 - 1, help="seed of the projection and coreset start"),
    ]

    def setup(self) -> None:
        if self.hparams["reweight_neighbors"] == 1:
            raise ParamError(
                "parameter 'reweight_neighbors' must be 0 (off) or at least 2 "
                "(with b=1 the reweighting factor is always 0)"
            )
        self.inputs = FeatureExtractor.build(self.roles, self.hparams, self.setup_request)
        pretrain_dim, target_dim = self.inputs.spec.patchcore_dims
        self.resolve_auto(pretrain_dim=pretrain_dim, target_dim=target_dim)
        self.bank: MemoryBank | None = None
        self.index: NeighbourIndex | None = None

    def embed(self, batch: Batch) -> torch.Tensor:
        """A batch's backbone maps -> ``B x h x w x target_dim`` patch embeddings (float32, on the device)."""
        return locally_aware_patches(batch.maps, self.hparams["pretrain_dim"], self.hparams["target_dim"])

    def fit(self, images: ImageSet, monitor: Monitor = NO_MONITOR) -> None:
        """Build the memory bank (stage FEATURES, then CORESET when subsampling). On cancel the previous bank (if
        any) is kept."""
        p = self.hparams
        ratio = p["coreset_ratio"]
        projection = random_projection(p["target_dim"], p["coreset_dim"], p["seed"]) if ratio < 1.0 else None
        rows = RowCollector(p["target_dim"], np.dtype(p["bank_dtype"]), images_total(images) or 0, projection)
        for batch in self.inputs.batches(images, monitor, batch_size=self.batch_size):
            rows.add(self.embed(batch), batch.photos or image_numbers(batch))  # each row's training image
        bank, points = rows.finish()
        if points is not None:
            n_select = max(1, int(len(points) * ratio))
            if p["coreset_block"] is None:  # one greedy pass over every patch (the paper's, about quadratic)
                chosen = greedy_coreset(points, n_select, n_start=p["coreset_start"], seed=p["seed"], monitor=monitor)
            else:
                chosen = blocked_coreset(
                    points, n_select, block=p["coreset_block"], n_start=p["coreset_start"], seed=p["seed"],
                    monitor=monitor,
                )  # fmt: skip
            del points
            bank = bank.take(np.sort(chosen))
        monitor.check("fitting")
        self.bank, self.index = bank, self._index_over(bank)

    def _index_over(self, bank: MemoryBank, state: dict[str, np.ndarray] | None = None) -> NeighbourIndex:
        p = self.hparams
        return make_index(p["index"], bank, self.inputs.device, nprobe=p["ivf_nprobe"], ef=p["hnsw_ef"], state=state)

    @property
    def is_fitted(self) -> bool:
        return self.index is not None

    def describe(self, batch: Batch) -> np.ndarray:
        """The goods descriptor every goods-aware method shares (:func:`goods_descriptor`)."""
        return goods_descriptor(batch)

    def score(self, batch: Batch) -> GridScores:
        index = self.fitted(self.index)
        embedded = self.embed(batch)
        b, h, w, dim = embedded.shape
        queries = to_rows(embedded).cpu().numpy()
        found = self._nearest(queries, batch.among, batch.left_out, (h, w), b)
        patch = np.sqrt(found.dist2[:, 0]).reshape(b, h * w)
        nearest = found.ids[:, 0].reshape(b, h * w)
        rows = queries.reshape(b, h * w, dim)
        b_reweight = self.hparams["reweight_neighbors"]
        images = [reweighted_max(index, rows[i], patch[i], nearest[i], b_reweight) for i in range(b)]
        return GridScores(maps=patch.reshape(b, h, w), images=np.asarray(images, np.float64))

    def _nearest(
        self,
        queries: np.ndarray,
        among: tuple[tuple[int, ...], ...],
        left_out: tuple[int, ...],
        grid: tuple[int, int],
        b: int,
    ) -> Neighbours:
        """Each patch's nearest bank row: anywhere, near its place (``position_tolerance``), for each image among
        the rows of its chosen training images (``among``; empty: all of them), never of the ``left_out`` ones."""
        index, tolerance = self.fitted(self.index), self.hparams["position_tolerance"]
        if not any(among) and not tolerance and not left_out:
            return index.search(queries, 1)
        bank, per_image = self.fitted(self.bank), grid[0] * grid[1]
        excluded = bank.rows_of(str(j) for j in left_out) if left_out else np.empty(0, np.int64)
        shared = _allowed(bank, (), excluded)  # the rows of an image without a choice of its own
        if not any(among) and not tolerance:  # one set of rows for the whole batch
            return self._search(queries, bank, shared)
        parts = []
        for i in range(b):
            rows = queries[i * per_image : (i + 1) * per_image]
            allowed = _allowed(bank, among[i], excluded) if among and among[i] else shared
            if tolerance:
                parts.append(aligned_search(rows, grid, bank, tolerance, allowed))
            else:
                parts.append(self._search(rows, bank, allowed))
        return Neighbours(np.concatenate([p.dist2 for p in parts]), np.concatenate([p.ids for p in parts]))

    def _search(self, queries: np.ndarray, bank: MemoryBank, allowed: np.ndarray | None) -> Neighbours:
        """The nearest of the ``allowed`` rows (None: all of them) for each query."""
        index = self.fitted(self.index)
        if allowed is None:
            return index.search(queries, 1)
        if 2 * len(allowed) > len(bank):  # most rows (leave-one-out): the nearest not of the others
            return search_excluding(index, bank, queries, allowed)
        found = index.search(queries, 1, among=allowed)
        return Neighbours(found.dist2[:, :1], found.ids[:, :1])

    def state(self) -> dict[str, np.ndarray]:
        return {**self.fitted(self.bank).state(), **self.fitted(self.index).state()}

    def restore(self, arrays: dict[str, np.ndarray], where: Path) -> None:
        """The bank (without ``bank_owner`` or ``bank_place`` in folders saved before they were recorded) and the
        index's arrays."""
        bank = MemoryBank.from_state(arrays, where)
        if self.hparams["position_tolerance"] and bank.place is None:
            raise ModelFileError("this memory bank does not record where its rows lie: refit the model", where)
        expected = np.dtype(self.hparams["bank_dtype"])
        if bank.rows.dtype != expected or bank.rows.shape[1] != self.hparams["target_dim"]:
            raise ModelFileError(
                f"memory bank of shape {bank.rows.shape} and type {bank.rows.dtype} does not match "
                f"target_dim={self.hparams['target_dim']} / {expected.name}",
                where,
            )
        try:
            index = self._index_over(bank, state={k: v for k, v in arrays.items() if not k.startswith("bank")})
        except (ValueError, KeyError, RuntimeError) as exc:
            raise ModelFileError(f"cannot rebuild the nearest-neighbour index ({exc})", where) from exc
        self.bank, self.index = bank, index


def _allowed(bank: MemoryBank, chosen: tuple[int, ...], excluded: np.ndarray) -> np.ndarray | None:
    """The sorted rows an image is searched among: those of its ``chosen`` training images (all of them when none
    is chosen, or the coreset kept none of their rows), less the ``excluded`` rows (unless that leaves none);
    None for every row."""
    allowed = bank.rows_of(str(j) for j in chosen) if chosen else None
    if allowed is not None and len(allowed) == 0:
        allowed = None
    if len(excluded):
        kept = np.setdiff1d(np.arange(len(bank)) if allowed is None else allowed, excluded, assume_unique=True)
        allowed = kept if len(kept) else allowed  # all rows left out: compared as if none were
    return None if allowed is not None and len(allowed) == len(bank) else allowed


__all__ = ["PatchCore", "locally_aware_patches", "reweighted_max"]
