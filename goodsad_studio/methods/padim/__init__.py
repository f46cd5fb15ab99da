"""PaDiM: a Gaussian per position of random-channel patch embeddings, Mahalanobis distance maps (Defard et al.,
ICPR 2021). What fit and predict compute, defaults and deviations: README.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from goodsad_studio.errors import ModelFileError, ParamError
from goodsad_studio.methods.api import Batch, GridScores, ImageSet, Method
from goodsad_studio.methods.components.embeddings import stacked_channels
from goodsad_studio.methods.components.features import FEATURE_PARAMS, FeatureExtractor
from goodsad_studio.methods.components.gaussian import Gaussian, Ridge, StreamingGaussian
from goodsad_studio.methods.persistence import require
from goodsad_studio.params import ParamSpec
from goodsad_studio.progress import NO_MONITOR, Monitor


class Padim(Method):
    name = "padim"
    description = "per-position Gaussian of random-channel patch embeddings, Mahalanobis distance maps"
    roles = ("s4", "s8", "s16")
    inputs: FeatureExtractor
    params = [
        *FEATURE_PARAMS,
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

    def setup(self) -> None:
        self.inputs = FeatureExtractor.build(self.roles, self.hparams, self.setup_request)
        spec = self.inputs.spec
        total = sum(self.inputs.channels.values())
        self.resolve_auto(n_features=min(spec.padim_dim, total))
        if self.hparams["n_features"] > total:
            raise ParamError(
                f"parameter 'n_features' is {self.hparams['n_features']} but {spec.name} "
                f"taps have only {total} channels"
            )
        generator = torch.Generator().manual_seed(self.hparams["seed"])
        self.channels = torch.sort(torch.randperm(total, generator=generator)[: self.hparams["n_features"]]).values
        self.gaussian: Gaussian | None = None
        self.grid: tuple[int, int] | None = None

    def embed(self, batch: Batch) -> torch.Tensor:
        """A batch's backbone maps -> ``B x h x w x d`` embeddings on the stride-4 grid (chosen channels), on the
        CPU: a channels-last view whose ``flatten(1, 2)`` the Gaussian takes."""
        return stacked_channels(batch.maps, self.roles, self.channels).cpu()

    def fit(self, images: ImageSet, monitor: Monitor = NO_MONITOR) -> None:
        acc: StreamingGaussian | None = None
        grid: tuple[int, int] | None = None
        for batch in self.inputs.batches(images, monitor, batch_size=self.batch_size):
            emb = self.embed(batch)
            _, h, w, d = emb.shape
            if acc is None:
                acc, grid = StreamingGaussian(h * w, d), (h, w)
            acc.update(emb.flatten(1, 2))
        assert acc is not None and grid is not None  # batches() raises on an empty image set
        monitor.check("fitting")
        gaussian = acc.finish(Ridge(self.hparams["eps"]))
        monitor.check("fitting")
        self.gaussian, self.grid = gaussian, grid

    @property
    def is_fitted(self) -> bool:
        return self.gaussian is not None

    def score(self, batch: Batch) -> GridScores:
        gaussian = self.fitted(self.gaussian)
        emb = self.embed(batch)
        b, h, w, _ = emb.shape
        if (h, w) != self.grid:
            raise ParamError(f"feature grid {(h, w)} differs from the fitted {self.grid}")
        return GridScores(maps=gaussian.mahalanobis(emb.flatten(1, 2)).reshape(b, h, w), images=None)

    def state(self) -> dict[str, np.ndarray]:
        return {
            **self.fitted(self.gaussian).state(),
            "grid": np.asarray(self.fitted(self.grid), np.int64),
            "channels": self.channels.numpy(),
        }

    def restore(self, arrays: dict[str, np.ndarray], where: Path) -> None:
        gaussian = Gaussian.from_state(arrays, where)
        grid, channels = require(arrays, "grid", where, 1), require(arrays, "channels", where, 1)
        d = self.hparams["n_features"]
        if gaussian.dim != d or grid.size != 2 or int(grid[0]) * int(grid[1]) != gaussian.positions:
            raise ModelFileError(
                f"PaDiM state arrays do not fit together (mean {arrays['mean'].shape}, precision "
                f"{arrays['precision'].shape}, grid {grid.tolist()}, n_features {d})",
                where,
            )
        if not np.array_equal(channels, self.channels.numpy()):
            raise ModelFileError("saved channel subset differs from the one the seed gives", where)
        self.gaussian, self.grid = gaussian, (int(grid[0]), int(grid[1]))


__all__ = ["Padim"]
