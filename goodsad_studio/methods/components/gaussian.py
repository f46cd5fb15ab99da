"""Gaussian models of features and their Mahalanobis distance: one per grid position (PaDiM) or one per image (P = 1).

:class:`StreamingGaussian` accumulates mean and centred co-moments batch by batch (Chan et al.'s pairwise merge),
so training features are never all held; :meth:`Gaussian.from_samples` fits one Gaussian to samples held at once.
The covariance is regularised by :class:`Ridge` (unbiased covariance plus ``eps * I``) or :class:`LedoitWolf`
(scikit-learn's shrinkage of the biased covariance, then plus ``eps * I``). Precisions are float32.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from goodsad_studio.errors import ModelFileError
from goodsad_studio.methods.persistence import require

_FLOAT64_LIMIT = 1 << 30  # accumulate in float64 while the co-moment array stays under 1 GiB
_INVERT_BLOCK = 256  # matrices inverted at once: bounded temporary memory


@dataclass(frozen=True)
class Ridge:
    """Unbiased covariance (``n - 1``) plus ``eps * I`` (PaDiM: 0.01)."""

    eps: float


@dataclass(frozen=True)
class LedoitWolf:
    """Ledoit-Wolf shrinkage of the biased covariance (``n``), as scikit-learn's, plus ``eps * I`` (CutPaste: 1e-6)."""

    eps: float = 0.0


def ledoit_wolf_covariance(x: torch.Tensor) -> torch.Tensor:
    """Ledoit-Wolf shrinkage covariance of ``N x d`` samples (as scikit-learn's ``LedoitWolf``)."""
    n, d = x.shape
    centred = x - x.mean(0, keepdim=True)
    emp = centred.T @ centred / n
    mu = torch.trace(emp) / d
    delta = ((emp - mu * torch.eye(d, dtype=x.dtype, device=x.device)) ** 2).sum() / d
    x2 = centred**2
    beta = ((x2.T @ x2) / n - emp**2).sum() / (d * n)
    beta = torch.minimum(beta, delta)
    shrinkage = beta / delta if delta > 0 else torch.zeros((), dtype=x.dtype, device=x.device)
    return (1 - shrinkage) * emp + shrinkage * mu * torch.eye(d, dtype=x.dtype, device=x.device)


def _invert_on_one_thread(cov: torch.Tensor) -> torch.Tensor:
    """``P x d x d`` -> float32 inverses, in blocks, on one thread.

    Torch's batched inverse of many small matrices was 15-30x slower with two threads than with one on a shared
    2-core machine (0.1 s vs 1.7-4 s for 256 matrices of 100 x 100).
    """
    out = torch.empty(cov.shape, dtype=torch.float32)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for begin in range(0, cov.shape[0], _INVERT_BLOCK):
            out[begin : begin + _INVERT_BLOCK] = torch.linalg.inv(cov[begin : begin + _INVERT_BLOCK]).float()
    finally:
        torch.set_num_threads(threads)
    return out


@dataclass
class Gaussian:
    """``mean`` (``P x d``) and ``precision`` (``P x d x d``), float32; ``P = 1`` for an image-level model."""

    mean: torch.Tensor
    precision: torch.Tensor

    @property
    def positions(self) -> int:
        return int(self.mean.shape[0])

    @property
    def dim(self) -> int:
        return int(self.mean.shape[1])

    @classmethod
    def from_samples(cls, x: torch.Tensor, shrink: Ridge | LedoitWolf) -> Gaussian:
        """One Gaussian (``P = 1``) of ``N x d`` samples.

        LedoitWolf: CutPaste's arithmetic (mean and covariance in ``x``'s dtype, the inverse cast to float32);
        pass float64 samples for its results. Ridge: one :class:`StreamingGaussian` update.
        """
        if x.ndim != 2 or len(x) == 0:
            raise ValueError(f"samples must be a non-empty N x d tensor, got {tuple(x.shape)}")
        if isinstance(shrink, Ridge):
            acc = StreamingGaussian(1, x.shape[1])
            acc.update(x[:, None, :])
            return acc.finish(shrink)
        covariance = ledoit_wolf_covariance(x)
        if shrink.eps:
            covariance += shrink.eps * torch.eye(len(covariance), dtype=covariance.dtype, device=covariance.device)
        mean = x.mean(0).float()
        return cls(mean[None], torch.linalg.inv(covariance).float()[None])

    def to(self, device: torch.device | str) -> Gaussian:
        return Gaussian(self.mean.to(device), self.precision.to(device))

    def mahalanobis(self, x: torch.Tensor) -> torch.Tensor:
        """``B x P x d`` features -> ``B x P`` Mahalanobis distances (not squared), differentiable.

        ``P > 1``: PaDiM's arithmetic, a batched product per position; give PaDiM's view (``emb.flatten(1, 2)`` of
        :func:`~.embeddings.stacked_channels`) for its exact numbers. ``P = 1``: CutPaste's, one matrix product.
        Computed in the promoted dtype of ``x`` and the model, on ``x``'s device.
        """
        if x.ndim != 3 or x.shape[1] != self.positions or x.shape[2] != self.dim:
            raise ValueError(f"features {tuple(x.shape)} do not fit a Gaussian of {self.positions} x {self.dim}")
        dtype = torch.promote_types(x.dtype, self.mean.dtype)
        mean = self.mean.to(x.device, dtype)
        precision = self.precision.to(x.device, dtype)
        x = x.to(dtype)
        if self.positions == 1:
            diff = x[:, 0] - mean[0]
            return ((diff @ precision[0]) * diff).sum(1).clamp_min(0).sqrt()[:, None]
        delta = x.transpose(0, 1) - mean[:, None, :]  # P x B x d
        weighted = torch.bmm(delta, precision)
        dist2 = (weighted * delta).sum(-1).clamp_min(0)  # P x B
        return dist2.sqrt().T

    def state(self, prefix: str = "") -> dict[str, np.ndarray]:
        """``{prefix}mean`` and ``{prefix}precision``, float32 (PaDiM saved them as ``mean`` and ``precision``)."""
        return {
            f"{prefix}mean": self.mean.detach().cpu().float().numpy(),
            f"{prefix}precision": self.precision.detach().cpu().float().numpy(),
        }

    @classmethod
    def from_state(cls, arrays: Mapping[str, np.ndarray], where: str | Path, prefix: str = "") -> Gaussian:
        """The Gaussian saved by :meth:`state`; :class:`ModelFileError` naming ``where`` if missing or misshapen."""
        mean_key, precision_key = f"{prefix}mean", f"{prefix}precision"
        mean, precision = require(arrays, mean_key, Path(where)), require(arrays, precision_key, Path(where))
        if mean.ndim != 2 or precision.shape != (*mean.shape, mean.shape[-1]) or 0 in mean.shape:
            raise ModelFileError(
                f"state arrays {mean_key!r} {mean.shape} and {precision_key!r} {precision.shape} do not form a "
                "P x d mean and a P x d x d precision",
                where,
            )
        return cls(torch.from_numpy(mean.astype(np.float32)), torch.from_numpy(precision.astype(np.float32)))


class StreamingGaussian:
    """Streaming per-position mean and centred co-moment matrix (``P x d`` and ``P x d x d``).

    float64 while the co-moments take at most 1 GiB, else float32."""

    def __init__(self, positions: int, dim: int):
        dtype = torch.float64 if positions * dim * dim * 8 <= _FLOAT64_LIMIT else torch.float32
        self.count = 0
        self.mean = torch.zeros(positions, dim, dtype=dtype)
        self.comoment = torch.zeros(positions, dim, dim, dtype=dtype)

    def update(self, x: torch.Tensor) -> None:
        """Add ``B x P x d`` samples (on the CPU)."""
        x = x.to(self.mean.dtype).transpose(0, 1)  # P x B x d
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

    def finish(self, shrink: Ridge) -> Gaussian:
        """The Gaussian: mean as float32, precision the inverse of ``covariance + eps * I`` (as PaDiM)."""
        if self.count == 0:
            raise ValueError("no samples were added")
        dim = self.mean.shape[1]
        cov = self.comoment / max(self.count - 1, 1)
        cov += shrink.eps * torch.eye(dim, dtype=cov.dtype)
        precision = _invert_on_one_thread(cov)
        return Gaussian(self.mean.float(), precision)


__all__ = ["Gaussian", "LedoitWolf", "Ridge", "StreamingGaussian", "ledoit_wolf_covariance"]
