"""The inputs of a method in one object: backbone and weights, device, pre-processing, batching with progress and
cancel, frozen backbone features (cached once for training), and the way back from grid maps to image maps.

Two input paths are kept bit for bit, chosen by ``input_path``:

* ``"float"`` (PatchCore, PaDiM, SPADE): images are resized and normalised in numpy
  (:meth:`~.preprocess.Preprocess.prepare`), and every :class:`~goodsad_studio.methods.api.Batch` carries the
  backbone's maps;
* ``"uint8"`` (the trained methods): images are resized to uint8 (:meth:`~.preprocess.Preprocess.resize`, what a
  training run caches) and normalised in torch (:meth:`FeatureExtractor.to_input`); a batch carries no maps — a
  method asks :meth:`FeatureExtractor.of` for them.

Without a backbone (``roles=()``: DRAEM, NSA, f-AnoGAN) the extractor still pre-processes: with ImageNet
normalisation, or none (``normalize=False``: plain ``[0, 1]`` RGB).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from goodsad_studio.errors import BackboneError, ModelFileError, ParamError
from goodsad_studio.methods.api import Batch, GridScores, MethodInfo, Prediction, SetupRequest
from goodsad_studio.methods.components.backbones import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    NO_BACKBONE,
    BackboneSpec,
    BackboneTaps,
    get_backbone,
    resolve_backbone_name,
    shared_taps,
)
from goodsad_studio.methods.components.device import resolve_device
from goodsad_studio.methods.components.preprocess import PREPROCESS_PARAMS, Preprocess
from goodsad_studio.methods.components.weights import WeightsSource
from goodsad_studio.progress import Monitor, Stage

InputPath = Literal["float", "uint8"]
FEATURE_PARAMS = PREPROCESS_PARAMS
"""The params every method that pre-processes images has (``image_size``, ``resize_mode``)."""
FEATURE_CACHE_LIMIT = 1 << 30
"""Cached training features above this many bytes (as float32) are kept as float16."""


def to_numpy(values: torch.Tensor | np.ndarray) -> np.ndarray:
    """A tensor (any device, with or without grad) or an array -> a numpy array."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def images_total(images: Iterable[np.ndarray]) -> int | None:
    """How many images an image set holds, or None when it cannot say (a generator)."""
    if not isinstance(images, Sized):
        return None
    try:
        return len(images)
    except TypeError:
        return None


class FeatureExtractor:
    """See the module docstring; built by :meth:`build` in a method's ``setup``."""

    batch_size: int = 16
    """Images per forward pass while caching training features; does not change results (eval mode)."""

    def __init__(
        self,
        *,
        method: str,
        roles: tuple[str, ...],
        backbone: BackboneSpec | None,
        weights: WeightsSource | None,
        device: torch.device,
        preprocess: Preprocess,
        input_path: InputPath,
    ):
        self.method = method
        self.roles = roles
        self.backbone = backbone
        self.weights = weights
        self.device = device
        self.preprocess = preprocess
        self.input_path: InputPath = input_path
        self._taps: BackboneTaps | None = None

    @classmethod
    def build(
        cls,
        roles: tuple[str, ...],
        hparams: Mapping[str, Any],
        request: SetupRequest,
        *,
        normalize: bool = True,
        input_path: InputPath = "float",
    ) -> FeatureExtractor:
        """Resolve the backbone (``roles`` non-empty), its weights and the device of ``request``; pre-process at
        ``hparams["image_size"]`` / ``hparams["resize_mode"]``, normalised with the backbone's mean and std (or
        ImageNet's without a backbone; none with ``normalize=False``)."""
        backbone: BackboneSpec | None = None
        weights: WeightsSource | None = None
        if roles:
            backbone = get_backbone(resolve_backbone_name(request.backbone, request.weights))
            weights = backbone.resolve_weights(request.weights)
        elif request.backbone not in ("auto", NO_BACKBONE):
            raise ParamError(
                f"{request.method} trains its own network from scratch; it takes no backbone (got {request.backbone!r})"
            )
        device = resolve_device(request.device)
        if not normalize:
            mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
        elif backbone is not None:
            mean, std = backbone.mean, backbone.std
        else:
            mean, std = IMAGENET_MEAN, IMAGENET_STD
        preprocess = Preprocess(hparams["image_size"], hparams["resize_mode"], mean, std)
        return cls(
            method=request.method,
            roles=tuple(roles),
            backbone=backbone,
            weights=weights,
            device=device,
            preprocess=preprocess,
            input_path=input_path,
        )

    # -- the backbone ------------------------------------------------------------------------------------------
    @property
    def spec(self) -> BackboneSpec:
        """The backbone (for a method that has one)."""
        if self.backbone is None:
            raise BackboneError(f"{self.method} uses no backbone")
        return self.backbone

    @property
    def weights_source(self) -> WeightsSource:
        if self.weights is None:
            raise BackboneError(f"{self.method} uses no backbone weights")
        return self.weights

    @property
    def channels(self) -> dict[str, int]:
        """Channels of each tapped role."""
        return {r: self.spec.channels[r] for r in self.roles}

    @property
    def taps(self) -> BackboneTaps:
        """The truncated backbone, built (and its weights loaded) on first use, shared with other instances."""
        if self._taps is None:
            self._taps = shared_taps(self.spec, self.roles, self.weights_source, self.device)
        return self._taps

    def of(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """Frozen backbone features of a normalised batch, as ordinary tensors (usable as autograd inputs)."""
        return {role: value.clone() for role, value in self.taps(batch).items()}

    # -- images to network input --------------------------------------------------------------------------------
    def to_input(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 ``B x S x S x 3`` -> float32 ``B x 3 x S x S`` on the device, normalised as :attr:`preprocess`."""
        tensor = torch.as_tensor(images).to(self.device)
        tensor = tensor.permute(0, 3, 1, 2).float().div_(255.0)
        mean = torch.tensor(self.preprocess.mean, device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(self.preprocess.std, device=self.device).view(1, 3, 1, 1)
        return (tensor - mean) / std

    def _batch(self, images: Sequence[np.ndarray], first: int) -> Batch:
        if self.input_path == "uint8":
            resized = [self.preprocess.resize(image, first + i) for i, image in enumerate(images)]
            shapes = tuple((image.shape[0], image.shape[1]) for image in images)
            return Batch(self.to_input(np.stack(resized)), {}, shapes, first)
        array, shape_list = self.preprocess.batch(images, first)
        tensor = torch.from_numpy(array).to(self.device)
        maps = self.taps(tensor) if self.roles else {}
        return Batch(tensor, maps, tuple(shape_list), first)

    def batches(
        self,
        images: Iterable[np.ndarray],
        monitor: Monitor,
        *,
        stage: Stage = Stage.FEATURES,
        batch_size: int = 16,
        allow_empty: bool = False,
    ) -> Iterator[Batch]:
        """Stream ``images`` in batches of ``batch_size`` as ``stage`` on ``monitor`` (checked before each batch);
        no image at all is a :class:`ParamError` unless ``allow_empty``. Errors name the image by its index."""
        what = f"{self.method} ({stage})"
        monitor.check(what)
        monitor.stage(stage, images_total(images))
        done = 0
        pending: list[np.ndarray] = []
        for image in images:
            pending.append(image)
            if len(pending) == batch_size:
                yield self._batch(pending, done)
                done += len(pending)
                pending = []
                monitor.advance(done)
                monitor.check(what)
        if pending:
            yield self._batch(pending, done)
            done += len(pending)
            monitor.advance(done)
        if done == 0 and not allow_empty:
            raise ParamError(f"{self.method}: no images were given")

    def resized(self, images: Iterable[np.ndarray], monitor: Monitor) -> np.ndarray:
        """Every image checked and resized to the uint8 input geometry, ``N x S x S x 3`` (stage ``LOAD``): what a
        training run caches."""
        what = f"training {self.method}"
        monitor.check(what)
        monitor.stage(Stage.LOAD, images_total(images))
        cached = []
        for i, image in enumerate(images):
            cached.append(self.preprocess.resize(image, i))
            monitor.advance(i + 1)
            monitor.check(what)
        if not cached:
            raise ParamError(f"{self.method}: no training images were given")
        return np.stack(cached)

    # -- cached training features -------------------------------------------------------------------------------
    def _cached_batches(self, images: np.ndarray, monitor: Monitor) -> Iterator[torch.Tensor]:
        monitor.stage(Stage.FEATURES, len(images))
        for begin in range(0, len(images), self.batch_size):
            monitor.check(f"training {self.method}")
            yield self.to_input(images[begin : begin + self.batch_size])
            monitor.advance(min(begin + self.batch_size, len(images)))

    def cache(
        self, images: np.ndarray, monitor: Monitor, limit_bytes: int = FEATURE_CACHE_LIMIT
    ) -> dict[str, torch.Tensor]:
        """Frozen backbone features (``{role: N x C x h x w}``, on the CPU) of cached uint8 training images, for
        methods that train on a frozen encoder without augmentation; float16 when float32 would exceed
        ``limit_bytes`` (stage ``FEATURES``)."""
        parts: dict[str, list[torch.Tensor]] = {r: [] for r in self.roles}
        for batch in self._cached_batches(images, monitor):
            with torch.no_grad():
                for role, value in self.taps(batch).items():
                    parts[role].append(value.cpu().clone())
        features = {r: torch.cat(v) for r, v in parts.items()}
        if sum(v.numel() for v in features.values()) * 4 > limit_bytes:
            features = {r: v.half() for r, v in features.items()}
        return features

    def cache_embedded(
        self,
        images: np.ndarray,
        monitor: Monitor,
        embed: Callable[[dict[str, torch.Tensor]], torch.Tensor],
        limit_bytes: int = FEATURE_CACHE_LIMIT,
    ) -> torch.Tensor:
        """As :meth:`cache`, each batch's features passed through ``embed`` (e.g. to patch embeddings) first."""
        chunks = []
        for batch in self._cached_batches(images, monitor):
            with torch.no_grad():
                chunks.append(embed(self.of(batch)).cpu())
        features = torch.cat(chunks)
        if features.numel() * 4 > limit_bytes:
            features = features.half()
        return features

    # -- maps back to images -------------------------------------------------------------------------------------
    def assemble(self, scores: GridScores, shapes: Sequence[tuple[int, int]], sigma: float) -> list[Prediction]:
        """Grid maps -> one :class:`Prediction` per image (see :meth:`.preprocess.Preprocess.assemble`)."""
        images = None if scores.images is None else to_numpy(scores.images)
        return self.preprocess.assemble(to_numpy(scores.maps), images, shapes, sigma)

    # -- reporting -------------------------------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """Resolved backbone, taps, weights (source and checksum) and pre-processing, for :meth:`Method.config`."""
        if self.backbone is None:
            return {"backbone": NO_BACKBONE, "preprocess": self.preprocess.to_config()}
        return {
            "backbone": self.backbone.name,
            "taps": {r: self.backbone.taps[r] for r in self.roles},
            "weights": self.weights_source.to_config(),
            "preprocess": self.preprocess.to_config(),
        }

    def check_saved(self, saved: Mapping[str, Any], where: Path) -> None:
        """Refuse a saved model fitted on other backbone weights than the ones found now."""
        if self.backbone is None:
            return
        found = self.weights_source
        saved_weights = saved.get("weights") or {}
        saved_sha = saved_weights.get("sha256")
        if saved_sha != found.sha256:
            raise ModelFileError(
                f"the model was fitted with other backbone weights ({saved_weights.get('source')}, "
                f"sha256 {str(saved_sha)[:12]}) than the ones found now ({found.description}, "
                f"sha256 {str(found.sha256)[:12]}); pass weights=<the original file>",
                where,
            )

    def info(self, method: str) -> MethodInfo:
        if self.backbone is None:
            return MethodInfo(method, NO_BACKBONE, "trained from scratch", str(self.device))
        return MethodInfo(method, self.backbone.name, self.weights_source.description, str(self.device))


__all__ = [
    "FEATURE_CACHE_LIMIT",
    "FEATURE_PARAMS",
    "Batch",
    "FeatureExtractor",
    "InputPath",
    "images_total",
    "to_numpy",
]
