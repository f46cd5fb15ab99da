"""PatchCore (Roth et al., "Towards Total Recall in Industrial Anomaly Detection", CVPR 2022).

Fit: every training image gives a grid of *locally aware patch features* — for each position of the stride-8
and stride-16 feature maps (layer2 and layer3 of a ResNet), its 3x3 neighbourhood aggregated by adaptive average
pooling to ``pretrain_dim`` values (as the reference code does: the neighbourhood is flattened, then pooled; for
wide_resnet50_2's layer3 that is exactly the per-channel 3x3 mean, for mobilenet_v2's 32 and 96 channels the
spatial layout of the neighbourhood is kept), the stride-16 grid upsampled (bilinear) to the stride-8 grid, both
concatenated and pooled to ``target_dim``. All patches form the memory bank, subsampled to
``coreset_ratio`` by the greedy coreset (:mod:`.coreset`) on a random projection to ``coreset_dim``.

Predict: each test patch's distance to its nearest bank patch (L2) is its anomaly score; the map is those scores
upsampled and smoothed (Gaussian, sigma 4 px at the network input) at the image's resolution. The image score is
the paper's reweighted maximum (Eq. 7): with m_test* the patch of largest score s*, m* its nearest bank patch and
N_b(m*) the ``reweight_neighbors`` (b) nearest bank patches of m* (m* included),
``s = (1 - exp||m_test* - m*|| / sum_{m in N_b(m*)} exp||m_test* - m||) * s*``.
It is off by default (``reweight_neighbors=0``: ``s = s*``), as in the reference code that the GoodsAD paper ran:
on MPDD metal_plate and MTD magnetic_tile (mobilenet_v2) b=3 lowered image AUROC by 0.01-0.12 and never raised it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from goodsad_studio.errors import ModelFileError, NotFittedError, ParamError
from goodsad_studio.methods.backbone_method import BackboneMethod, check_cancel
from goodsad_studio.methods.base import Prediction, ProgressFn
from goodsad_studio.methods.coreset import greedy_coreset, random_projection
from goodsad_studio.methods.knn import INDEX_KINDS, PatchIndex
from goodsad_studio.methods.params import ParamSpec
from goodsad_studio.methods.preprocess import PREPROCESS_PARAMS
from goodsad_studio.methods.registry import register_method


def locally_aware_patches(features: dict[str, torch.Tensor], pretrain_dim: int, target_dim: int) -> torch.Tensor:
    """``{"s8": B x C2 x h x w, "s16": B x C3 x h/2 x w/2}`` -> ``B x h x w x target_dim`` patch embeddings.

    As the reference: each position's 3x3 neighbourhood (zero-padded at the border) is flattened channel-major to
    ``9 C`` values and adaptively average-pooled to ``pretrain_dim``; the stride-16 result is upsampled
    bilinearly to the stride-8 grid; both are concatenated and pooled to ``target_dim``. Pooling over channels and
    bilinear upsampling are both linear and act on different axes, so the stride-16 map is pooled before it is
    upsampled (the same numbers, without a 9 C-channel map at the finer grid).
    """
    grid = features["s8"].shape[-2:]
    projected = []
    for role in ("s8", "s16"):
        layer = features[role]
        batch, channels, h, w = layer.shape
        neighbourhoods = F.unfold(layer, kernel_size=3, padding=1)  # B x 9C x hw, (c, dy, dx) order
        rows = neighbourhoods.transpose(1, 2).reshape(batch * h * w, 9 * channels)
        pooled = _pool_channels(rows, pretrain_dim).reshape(batch, h, w, pretrain_dim)
        if (h, w) != tuple(grid):
            pooled = F.interpolate(pooled.permute(0, 3, 1, 2), size=grid, mode="bilinear", align_corners=False)
            pooled = pooled.permute(0, 2, 3, 1)
        projected.append(pooled.reshape(-1, pretrain_dim))
    embedded = _pool_channels(torch.cat(projected, dim=1), target_dim)
    return embedded.reshape(features["s8"].shape[0], grid[0], grid[1], target_dim)


def _pool_channels(rows: torch.Tensor, size: int) -> torch.Tensor:
    """Adaptive average pooling along the channel axis of ``rows`` (``n x C`` -> ``n x size``)."""
    if rows.shape[1] == size:
        return rows
    return F.adaptive_avg_pool1d(rows.unsqueeze(1), size).squeeze(1)


@register_method
class PatchCore(BackboneMethod):
    name = "patchcore"
    description = "memory bank of locally aware patch features, greedy coreset, nearest-neighbour scores"
    roles = ("s8", "s16")
    params = [
        *PREPROCESS_PARAMS,
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
            help="flat = exact search; ivf/hnsw = approximate, faster on very big banks",
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

    def __init__(self, *, backbone: str = "auto", device: str = "auto", weights: str = "auto", **params: Any):
        super().__init__(backbone=backbone, device=device, weights=weights, **params)
        b = self.hparams["reweight_neighbors"]
        if b == 1:
            raise ParamError(
                "parameter 'reweight_neighbors' must be 0 (off) or at least 2 "
                "(with b=1 the reweighting factor is always 0)"
            )
        default_pre, default_target = self.backbone_spec.patchcore_dims
        if self.hparams["pretrain_dim"] is None:
            self.hparams["pretrain_dim"] = default_pre
        if self.hparams["target_dim"] is None:
            self.hparams["target_dim"] = default_target
        self._index: PatchIndex | None = None

    # -- fitting -------------------------------------------------------------------------------------------------
    def embed(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Backbone features -> ``B x h x w x target_dim`` patch embeddings (float32, on the device)."""
        return locally_aware_patches(features, self.hparams["pretrain_dim"], self.hparams["target_dim"])

    def fit(
        self, images: Iterable[np.ndarray], *, progress: ProgressFn | None = None, cancel: threading.Event | None = None
    ) -> None:
        """Build the memory bank. Progress counts the images, then (when subsampling) as many steps again for
        the coreset. On cancel the previous bank (if any) is kept."""
        p = self.hparams
        ratio = p["coreset_ratio"]
        bank_dtype = np.float16 if p["bank_dtype"] == "float16" else np.float32
        n_images = self._images_total(images)
        subsample = ratio < 1.0
        total = n_images * (2 if subsample else 1)
        projection = (
            random_projection(p["target_dim"], p["coreset_dim"], p["seed"]).to(self.device) if subsample else None
        )
        store: _RowStore | None = None
        projected: _RowStore | None = None
        done = 0

        def image_progress(count: int, _total: int) -> None:
            nonlocal done
            done = count
            if progress is not None:
                progress(count, total)

        for features, shapes in self.iter_feature_batches(images, progress=image_progress, cancel=cancel):
            rows = self.embed(features).reshape(-1, p["target_dim"])
            if store is None:
                expected = n_images * (rows.shape[0] // len(shapes)) if n_images else 0
                store = _RowStore(p["target_dim"], bank_dtype, expected)
                if projection is not None:
                    projected = _RowStore(p["coreset_dim"], np.float32, expected)
            store.append(rows.cpu().numpy())
            if projected is not None:
                assert projection is not None  # projected is only made when there is a projection
                projected.append((rows @ projection).cpu().numpy())
        assert store is not None
        embeddings = store.finish()
        if projected is not None:
            points = projected.finish()
            del projected
            n_select = max(1, int(len(points) * ratio))

            def coreset_progress(k: int, n: int) -> None:
                if progress is not None:
                    progress(done + int(done * k / n), total or 0)

            chosen = greedy_coreset(
                points,
                n_select,
                n_start=p["coreset_start"],
                seed=p["seed"],
                should_stop=lambda: check_cancel(cancel, "fitting"),
                progress=coreset_progress,
            )
            del points
            bank = embeddings[np.sort(chosen)]
            del embeddings
        else:
            bank = embeddings
        check_cancel(cancel, "fitting")
        self._index = self._make_index(bank)

    def _make_index(self, bank: np.ndarray, state: dict[str, np.ndarray] | None = None) -> PatchIndex:
        p = self.hparams
        return PatchIndex(
            bank,
            p["index"],
            nprobe=p["ivf_nprobe"],
            ef_search=p["hnsw_ef"],
            use_gpu=self.device.type == "cuda",
            state=state,
        )

    # -- prediction ----------------------------------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return self._index is not None

    @property
    def bank(self) -> np.ndarray:
        """The memory bank (``N x target_dim``, float32 or float16)."""
        if self._index is None:
            raise NotFittedError("PatchCore has not been fitted")
        return self._index.bank

    def predict(self, images: Sequence[np.ndarray]) -> list[Prediction]:
        if self._index is None:
            raise NotFittedError("PatchCore has not been fitted: call fit() or load a saved model first")
        results: list[Prediction] = []
        for begin in range(0, len(images), self.batch_size):
            features, shapes = self.features(images[begin : begin + self.batch_size], begin)
            embedded = self.embed(features)
            batch, h, w, dim = embedded.shape
            queries = embedded.reshape(-1, dim).cpu().numpy()
            dist2, nearest = self._index.search(queries, 1)
            scores = np.sqrt(dist2[:, 0]).reshape(batch, h * w)
            nearest = nearest[:, 0].reshape(batch, h * w)
            queries = queries.reshape(batch, h * w, dim)
            for i, shape in enumerate(shapes):
                score = self._image_score(queries[i], scores[i], nearest[i])
                heat = self.preprocess.map_to_image(scores[i].reshape(h, w), shape, self.hparams["blur_sigma"])
                results.append(Prediction(score=score, anomaly_map=heat))
        return results

    def _image_score(self, queries: np.ndarray, scores: np.ndarray, nearest: np.ndarray) -> float:
        """The paper's reweighted image score (Eq. 7), or the maximum patch score when ``reweight_neighbors=0``."""
        worst = int(np.argmax(scores))
        s_star = float(scores[worst])
        index = self._index
        assert index is not None  # only called on a fitted model (predict checks)
        b = min(self.hparams["reweight_neighbors"], len(index))
        if b < 2:
            return s_star
        m_star = int(nearest[worst])
        _, neighbours = index.search(index.vectors(np.array([m_star])), b)
        support = [m_star] + [int(j) for j in neighbours[0] if int(j) != m_star and j >= 0][: b - 1]
        diffs = index.vectors(np.array(support)) - queries[worst][None, :]
        distances = torch.from_numpy(np.sqrt((diffs.astype(np.float64) ** 2).sum(1)))
        weight = 1.0 - float(torch.softmax(distances, dim=0)[0])
        return weight * s_star

    # -- persistence ---------------------------------------------------------------------------------------------
    def _state_arrays(self) -> dict[str, np.ndarray]:
        assert self._index is not None
        return {"bank": self._index.bank, **self._index.state_arrays()}

    def _load_state_arrays(self, arrays: dict[str, np.ndarray], path: Path) -> None:
        bank = self._require(arrays, "bank", path, ndim=2)
        expected = np.float16 if self.hparams["bank_dtype"] == "float16" else np.float32
        if bank.dtype != expected or bank.shape[1] != self.hparams["target_dim"] or len(bank) == 0:
            raise ModelFileError(
                f"memory bank of shape {bank.shape} and type {bank.dtype} does not match "
                f"target_dim={self.hparams['target_dim']} / {expected.__name__}",
                path,
            )
        try:
            self._index = self._make_index(bank, state={k: v for k, v in arrays.items() if k != "bank"})
        except (ValueError, KeyError, RuntimeError) as exc:
            raise ModelFileError(f"cannot rebuild the nearest-neighbour index ({exc})", path) from exc


class _RowStore:
    """Collects rows (embeddings in the bank's dtype, or their projections) into one preallocated array when the
    number of images is known — so they are never held twice — else in a list concatenated at the end."""

    def __init__(self, dim: int, dtype: type, expected_rows: int):
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


__all__ = ["PatchCore", "locally_aware_patches"]
