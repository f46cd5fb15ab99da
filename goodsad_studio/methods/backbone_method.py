"""Shared machinery of methods built on a pretrained CNN: backbone and weights resolution, device choice,
pre-processing, batched feature extraction with progress and cancellation, and the config/info they report."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from goodsad_studio.errors import Cancelled, ModelFileError, ParamError
from goodsad_studio.methods.backbones import (
    BackboneSpec,
    FeatureExtractor,
    get_backbone,
    resolve_backbone_name,
    shared_extractor,
)
from goodsad_studio.methods.base import AnomalyMethod, MethodInfo, ProgressFn
from goodsad_studio.methods.preprocess import Preprocess


def resolve_device(request: str) -> torch.device:
    """``"auto"`` -> the first CUDA GPU when torch sees one, else the CPU; explicit requests are checked."""
    if request == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(request)
    except (RuntimeError, TypeError) as exc:
        raise ParamError(f"unknown device {request!r} (use 'auto', 'cpu', 'cuda' or 'cuda:N')") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ParamError(f"device {request!r} asked for, but torch sees no CUDA GPU here")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ParamError(f"device {request!r}: only {torch.cuda.device_count()} CUDA device(s) here")
    elif device.type != "cpu":
        raise ParamError(f"device {request!r} is not supported (use 'auto', 'cpu' or 'cuda[:N]')")
    return device


def check_cancel(cancel: threading.Event | None, what: str) -> None:
    """Raise :class:`Cancelled` when ``cancel`` is set."""
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"{what} cancelled")


class BackboneMethod(AnomalyMethod):
    """Base for PatchCore, PaDiM and SPADE: subclasses declare which feature ``roles`` they tap."""

    roles: ClassVar[tuple[str, ...]] = ()
    batch_size: int = 16
    """Images per forward pass; does not change results (the backbone is in eval mode)."""

    def __init__(self, *, backbone: str = "auto", device: str = "auto", weights: str = "auto", **params: Any):
        super().__init__(backbone=backbone, device=device, weights=weights, **params)
        weights = str(weights)
        self.backbone_spec: BackboneSpec = get_backbone(resolve_backbone_name(backbone, weights))
        self.weights_source = self.backbone_spec.resolve_weights(weights)
        self.device = resolve_device(device)
        self.preprocess = Preprocess(
            self.hparams["image_size"], self.hparams["resize_mode"], self.backbone_spec.mean, self.backbone_spec.std
        )
        self._extractor: FeatureExtractor | None = None

    # -- features ------------------------------------------------------------------------------------------------
    @property
    def extractor(self) -> FeatureExtractor:
        """The truncated backbone, built (and its weights loaded) on first use, shared with other instances."""
        if self._extractor is None:
            self._extractor = shared_extractor(self.backbone_spec, self.roles, self.weights_source, self.device)
        return self._extractor

    def features(
        self, images: Sequence[np.ndarray], first_index: int = 0
    ) -> tuple[dict[str, torch.Tensor], list[tuple[int, int]]]:
        """One batch of images -> ``{role: B x C x h x w}`` float32 features (on the device) and image shapes."""
        batch, shapes = self.preprocess.batch(images, first_index)
        return self.extractor(torch.from_numpy(batch)), shapes

    def iter_feature_batches(
        self,
        images: Iterable[np.ndarray],
        *,
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
        what: str = "fitting",
    ) -> Iterator[tuple[dict[str, torch.Tensor], list[tuple[int, int]]]]:
        """Stream ``images`` through the backbone in batches, checking ``cancel`` and reporting progress."""
        total = self._images_total(images)
        done = 0
        pending: list[np.ndarray] = []
        check_cancel(cancel, what)
        for image in images:
            pending.append(image)
            if len(pending) == self.batch_size:
                yield self.features(pending, done)
                done += len(pending)
                pending = []
                if progress is not None:
                    progress(done, total)
                check_cancel(cancel, what)
        if pending:
            yield self.features(pending, done)
            done += len(pending)
            if progress is not None:
                progress(done, total)
        if done == 0:
            raise ParamError(f"{self.name}: no images were given")

    # -- reporting -----------------------------------------------------------------------------------------------
    @property
    def info(self) -> MethodInfo:
        return MethodInfo(self.name, self.backbone_spec.name, self.weights_source.description, str(self.device))

    def _config_extra(self) -> dict[str, Any]:
        return {
            "backbone": self.backbone_spec.name,
            "taps": {r: self.backbone_spec.taps[r] for r in self.roles},
            "weights": self.weights_source.to_config(),
            "preprocess": self.preprocess.to_config(),
        }

    def _check_saved_config(self, saved: dict[str, Any], path: Path) -> None:
        saved_sha = (saved.get("weights") or {}).get("sha256")
        if saved_sha != self.weights_source.sha256:
            raise ModelFileError(
                f"the model was fitted with other backbone weights ({(saved.get('weights') or {}).get('source')}, "
                f"sha256 {str(saved_sha)[:12]}) than the ones found now ({self.weights_source.description}, "
                f"sha256 {str(self.weights_source.sha256)[:12]}); pass weights=<the original file>",
                path,
            )

    @staticmethod
    def _require(arrays: dict[str, np.ndarray], name: str, path: Path, ndim: int | None = None) -> np.ndarray:
        if name not in arrays:
            raise ModelFileError(f"state array {name!r} is missing", path)
        array = arrays[name]
        if ndim is not None and array.ndim != ndim:
            raise ModelFileError(f"state array {name!r} has {array.ndim} dimensions, expected {ndim}", path)
        return array
