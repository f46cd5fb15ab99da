"""PaDiM (Defard et al., "PaDiM: a Patch Distribution Modeling Framework for Anomaly Detection and
Localization", ICPR 2021).

Each position of the stride-4 feature grid (56 x 56 at 224 px) is described by the concatenation of the stride-4,
-8 and -16 maps (layer1..layer3 of a ResNet; the coarser ones upsampled by nearest neighbour, as the paper's code),
reduced to a seeded random subset of ``n_features`` channels (paper: 100 for ResNet18, 550 for WRN50). Fit models
every position as a Gaussian: mean and covariance of the training embeddings, plus ``eps * I`` (paper: 0.01).
Predict: the Mahalanobis distance at every position is the anomaly map (upsampled, Gaussian-smoothed with sigma 4);
the image score is the map's maximum.

The covariance is accumulated batch by batch (Chan et al.'s pairwise update of mean and centred co-moments), so
training images are streamed and never all held in memory.
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
from goodsad_studio.methods.params import ParamSpec
from goodsad_studio.methods.preprocess import PREPROCESS_PARAMS
from goodsad_studio.methods.registry import register_method

_FLOAT64_LIMIT = 1 << 30  # accumulate in float64 while the co-moment array stays under 1 GiB


class _GaussianAccumulator:
    """Streaming per-position mean and centred co-moment matrix (``P x d`` and ``P x d x d``)."""

    def __init__(self, positions: int, dim: int):
        dtype = torch.float64 if positions * dim * dim * 8 <= _FLOAT64_LIMIT else torch.float32
        self.count = 0
        self.mean = torch.zeros(positions, dim, dtype=dtype)
        self.comoment = torch.zeros(positions, dim, dim, dtype=dtype)

    def update(self, batch: torch.Tensor) -> None:
        """``batch``: ``B x P x d`` embeddings."""
        x = batch.to(self.mean.dtype).transpose(0, 1)  # P x B x d
        n_b = x.shape[1]
        mean_b = x.mean(1)
        centred = x - mean_b[:, None, :]
        comoment_b = torch.bmm(centred.transpose(1, 2), centred)
        n_a = self.count
        total = n_a + n_b
        delta = mean_b - self.mean
        self.mean += delta * (n_b / total)
        self.comoment += comoment_b
        if n_a:
            self.comoment += delta[:, :, None] * delta[:, None, :] * (n_a * n_b / total)
        self.count = total

    def precision(self, eps: float) -> torch.Tensor:
        """Inverse of ``covariance + eps * I`` per position (float32).

        Runs on one thread: torch's batched inverse of many small matrices was 15-30x slower with two threads
        than with one on a shared 2-core machine (0.1 s vs 1.7-4 s for 256 matrices of 100 x 100).
        """
        dim = self.mean.shape[1]
        cov = self.comoment / max(self.count - 1, 1)
        cov += eps * torch.eye(dim, dtype=cov.dtype)
        out = torch.empty(cov.shape, dtype=torch.float32)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            for begin in range(0, cov.shape[0], 256):  # bounded temporary memory
                out[begin : begin + 256] = torch.linalg.inv(cov[begin : begin + 256]).float()
        finally:
            torch.set_num_threads(threads)
        return out


@register_method
class Padim(BackboneMethod):
    name = "padim"
    description = "per-position Gaussian of random-channel patch embeddings, Mahalanobis distance maps"
    roles = ("s4", "s8", "s16")
    params = [
        *PREPROCESS_PARAMS,
        ParamSpec(
            "n_features",
            "int",
            None,
            min=1,
            max=4096,
            optional=True,
            help="random channels kept; None = the backbone's default (100, or 550 for wide_resnet50_2)",
        ),
        ParamSpec("eps", "float", 0.01, min=0.0, max=10.0, help="covariance shrinkage eps * I (paper: 0.01)"),
        ParamSpec("blur_sigma", "float", 4.0, min=0.0, max=64.0, help="Gaussian smoothing of the map (paper: 4)"),
        ParamSpec("seed", "int", 0, min=0, max=2**31 - 1, help="seed of the random channel subset"),
    ]

    def __init__(self, *, backbone: str = "auto", device: str = "auto", weights: str = "auto", **params: Any):
        super().__init__(backbone=backbone, device=device, weights=weights, **params)
        total = sum(self.backbone_spec.channels[r] for r in self.roles)
        if self.hparams["n_features"] is None:
            self.hparams["n_features"] = min(self.backbone_spec.padim_dim, total)
        if self.hparams["n_features"] > total:
            raise ParamError(
                f"parameter 'n_features' is {self.hparams['n_features']} but {self.backbone_spec.name} "
                f"taps have only {total} channels"
            )
        generator = torch.Generator().manual_seed(self.hparams["seed"])
        self.channels = torch.sort(torch.randperm(total, generator=generator)[: self.hparams["n_features"]]).values
        self._mean: torch.Tensor | None = None
        self._precision: torch.Tensor | None = None
        self._grid: tuple[int, int] | None = None

    def embed(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Backbone features -> ``B x d x h x w`` embeddings on the stride-4 grid (chosen channels only)."""
        base = features["s4"]
        size = base.shape[-2:]
        maps = [base] + [F.interpolate(features[r], size=size, mode="nearest") for r in self.roles[1:]]
        stacked = torch.cat(maps, dim=1)
        return stacked.index_select(1, self.channels.to(stacked.device))

    def fit(
        self, images: Iterable[np.ndarray], *, progress: ProgressFn | None = None, cancel: threading.Event | None = None
    ) -> None:
        acc: _GaussianAccumulator | None = None
        grid: tuple[int, int] | None = None
        for features, _ in self.iter_feature_batches(images, progress=progress, cancel=cancel):
            emb = self.embed(features).cpu()
            b, d, h, w = emb.shape
            if acc is None:
                acc, grid = _GaussianAccumulator(h * w, d), (h, w)
            acc.update(emb.reshape(b, d, h * w).transpose(1, 2))
        assert acc is not None
        check_cancel(cancel, "fitting")
        precision = acc.precision(self.hparams["eps"])
        check_cancel(cancel, "fitting")
        self._mean, self._precision, self._grid = acc.mean.float(), precision, grid

    @property
    def is_fitted(self) -> bool:
        return self._mean is not None

    def mahalanobis(self, emb: torch.Tensor) -> torch.Tensor:
        """``B x d x h x w`` embeddings -> ``B x h x w`` Mahalanobis distances."""
        assert self._mean is not None and self._precision is not None
        b, d, h, w = emb.shape
        delta = emb.reshape(b, d, h * w).permute(2, 0, 1) - self._mean[:, None, :]  # P x B x d
        weighted = torch.bmm(delta, self._precision)
        dist2 = (weighted * delta).sum(-1).clamp_min_(0)  # P x B
        return dist2.sqrt().T.reshape(b, h, w)

    def predict(self, images: Sequence[np.ndarray]) -> list[Prediction]:
        if not self.is_fitted:
            raise NotFittedError("PaDiM has not been fitted: call fit() or load a saved model first")
        results: list[Prediction] = []
        for begin in range(0, len(images), self.batch_size):
            features, shapes = self.features(images[begin : begin + self.batch_size], begin)
            emb = self.embed(features).cpu()
            if tuple(emb.shape[-2:]) != self._grid:
                raise ParamError(f"feature grid {tuple(emb.shape[-2:])} differs from the fitted {self._grid}")
            distances = self.mahalanobis(emb).numpy()
            for grid_map, shape in zip(distances, shapes, strict=False):
                at_input = self.preprocess.smooth(grid_map, self.hparams["blur_sigma"])
                results.append(Prediction(float(at_input.max()), self.preprocess.to_image(at_input, shape)))
        return results

    def _state_arrays(self) -> dict[str, np.ndarray]:
        assert self._mean is not None and self._precision is not None and self._grid is not None
        return {
            "mean": self._mean.numpy(),
            "precision": self._precision.numpy(),
            "grid": np.asarray(self._grid, np.int64),
            "channels": self.channels.numpy(),
        }

    def _load_state_arrays(self, arrays: dict[str, np.ndarray], path: Path) -> None:
        mean = self._require(arrays, "mean", path, ndim=2)
        precision = self._require(arrays, "precision", path, ndim=3)
        grid = self._require(arrays, "grid", path, ndim=1)
        channels = self._require(arrays, "channels", path, ndim=1)
        d = self.hparams["n_features"]
        if (
            mean.shape[1] != d
            or precision.shape != (mean.shape[0], d, d)
            or grid.size != 2
            or int(grid[0]) * int(grid[1]) != mean.shape[0]
        ):
            raise ModelFileError(
                f"PaDiM state arrays do not fit together (mean {mean.shape}, precision "
                f"{precision.shape}, grid {grid.tolist()}, n_features {d})",
                path,
            )
        if not np.array_equal(channels, self.channels.numpy()):
            raise ModelFileError("saved channel subset differs from the one the seed gives", path)
        self._mean = torch.from_numpy(mean.astype(np.float32))
        self._precision = torch.from_numpy(precision.astype(np.float32))
        self._grid = (int(grid[0]), int(grid[1]))
