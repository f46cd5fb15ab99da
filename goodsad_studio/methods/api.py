"""The one interface every anomaly-detection method implements: :class:`Method`. Imports no torch.

A method is fitted on normal images and predicts, for each test image, an image score (higher = more anomalous)
and an anomaly map at the image's own resolution. Images are ``uint8`` RGB arrays ``HxWx3`` (a grayscale ``HxW``
array is accepted and expanded).

What a method writes: ClassVars (``name``, ``description``, ``params``, ``smoke_params``, ``capabilities``,
``roles``) and

* :meth:`Method.setup` — build its components (usually ``self.inputs = FeatureExtractor.build(...)``) and resolve
  its automatic parameters into ``self.hparams``; called by the one constructor after the params are validated;
* :meth:`Method.fit` ``(images, monitor)`` — report progress and check cancel only through the
  :class:`~goodsad_studio.progress.Monitor`; on cancel the previous state is kept;
* :meth:`Method.score` ``(batch) -> GridScores`` — a batch of pre-processed images to maps on the method's grid
  (and image scores, or None for the maximum of the smoothed map); :meth:`Method.predict` is the base's: it cuts
  the images into batches (``self.inputs``), calls ``score`` and assembles each map at its image's size with the
  ``blur_sigma`` smoothing;
* :meth:`Method.state` / :meth:`Method.restore` — the fitted state as named arrays, and back;
* optionally :meth:`Method.extra_config`, the one config hook (``super()``'s entries included).

Everything that determines a method's outputs is in :meth:`Method.config`, which the engine hashes for its model
and results keys; :attr:`Method.info` says, for display, which weights and device are in use. Saved models are a
folder with ``method.json`` and ``state.safetensors`` (:mod:`.persistence`); nothing is pickled.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, TypeVar

import numpy as np

from goodsad_studio.errors import ModelFileError, NotFittedError, ParamError, StudioError
from goodsad_studio.methods import persistence
from goodsad_studio.params import ParamSpec, validate_params
from goodsad_studio.progress import NO_MONITOR, Monitor, Stage

if TYPE_CHECKING:
    import torch

T = TypeVar("T")

ImageSet = Iterable[np.ndarray]
"""What ``fit`` and ``predict`` take: uint8 RGB (or grayscale) arrays; a list, or any iterable (e.g. a reader)."""


class Capability(StrEnum):
    """What a method can do beyond fit and predict; the engine and the GUI ask for these, never ``hasattr``."""

    CHECKPOINTS = "checkpoints"
    """Its fit writes training checkpoints to ``monitor.checkpoint_dir`` and resumes from them exactly."""
    TILING = "tiling"
    """Its ``score`` works on tiles of a native-resolution image (its grid is not tied to the training grid)."""
    GOODS_AWARE = "goods_aware"
    """It gives each image a global descriptor (:meth:`Method.describe`) and scores an image against the training
    images its batch's ``among`` names (the photos of its goods, its nearest neighbours)."""
    ONNX = "onnx"
    """It can give its scoring as one ``nn.Module`` for ONNX export."""


@dataclass(frozen=True)
class Prediction:
    """One image's result: ``score`` (higher = more anomalous) and ``anomaly_map`` (float32, the image's HxW)."""

    score: float
    anomaly_map: np.ndarray


@dataclass(frozen=True)
class MethodInfo:
    """What a user is shown next to every result: method, backbone, where its weights came from, device."""

    method: str
    backbone: str
    weights_source: str
    device: str
    training: str = ""
    """What a trained method's fit ran ("trained 6.1 min (budget 10 min): 1,240 of the paper's 20,000 steps
    (200 epochs)"); empty for a method that does not train, and before a fit."""

    def __str__(self) -> str:
        text = f"{self.method} on {self.backbone} ({self.weights_source}) [{self.device}]"
        return f"{text}; {self.training}" if self.training else text


@dataclass(frozen=True)
class Batch:
    """Pre-processed images as :meth:`Method.score` receives them.

    ``input``: ``B x 3 x S x S`` normalised network input on the method's device. ``maps``: the frozen backbone's
    ``{role: B x C x h x w}`` where the inputs compute them (the feature methods' path); ``{}`` without a backbone
    and on the trained methods' path, whose methods ask ``inputs.of(batch.input)`` when they need them.
    ``shapes``: each image's ``(height, width)``; ``first``: the index of the batch's first image in the image set
    (for error messages); ``photos``: record keys where the caller gave them.
    """

    input: torch.Tensor
    maps: Mapping[str, torch.Tensor]
    shapes: tuple[tuple[int, int], ...]
    first: int = 0
    photos: tuple[str, ...] = ()
    among: tuple[tuple[int, ...], ...] = ()
    """Per image, the training images (by their place in the fit's image set) it is scored against, for a method
    with the ``goods_aware`` capability; ``()``: against all of them."""
    left_out: tuple[int, ...] = ()
    """Training images (by place) none of the batch's images is compared with (``goods_aware`` methods): the
    training photo being scored, for a leave-one-out score."""

    def __len__(self) -> int:
        return len(self.shapes)


@dataclass(frozen=True)
class GridScores:
    """What :meth:`Method.score` returns: ``maps`` (``B x h x w`` on any grid; a tensor or an array) and ``images``
    (``B`` image scores), or None: the image score is then the maximum of the smoothed map."""

    maps: torch.Tensor | np.ndarray
    images: torch.Tensor | np.ndarray | None = None


Compare = Callable[[Batch, np.ndarray], Sequence[Sequence[int]]]
"""What :meth:`Method.predict` may be given: (a batch, its descriptors) -> per image, the training images to score it
against (an empty list: all of them)."""


@dataclass(frozen=True)
class SetupRequest:
    """What the constructor was asked for, besides the params: the components resolve it in :meth:`Method.setup`
    (``"auto"`` backbone and device, a weights file or ``"auto"`` / ``"random"``)."""

    method: str
    backbone: str = "auto"
    device: str = "auto"
    weights: str = "auto"


class Inputs(Protocol):
    """The part of a method that turns images into batches and maps back into images; what the base class needs of
    ``self.inputs`` (:class:`~.components.features.FeatureExtractor` is the implementation)."""

    def batches(
        self,
        images: ImageSet,
        monitor: Monitor,
        *,
        stage: Stage = Stage.FEATURES,
        batch_size: int = 16,
        allow_empty: bool = False,
    ) -> Iterator[Batch]: ...

    def assemble(self, scores: GridScores, shapes: Sequence[tuple[int, int]], sigma: float) -> list[Prediction]: ...

    def config(self) -> dict[str, Any]: ...

    def check_saved(self, saved: Mapping[str, Any], where: Path) -> None: ...

    def info(self, method: str) -> MethodInfo: ...


class Method(ABC):
    """Base class of every method (see the module docstring). Constructor keywords: ``backbone`` (a backbone name
    or ``"auto"``), ``device`` (``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``...), ``weights`` (``"auto"``, a path
    to a ``.pth``/``.safetensors`` file, or ``"random"`` — loudly warned about), and the method's own ``params``
    (validated: unknown names or bad values raise :class:`~goodsad_studio.errors.ParamError`)."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    params: ClassVar[list[ParamSpec]] = []
    smoke_params: ClassVar[dict[str, Any]] = {}
    """Parameters that make a fit on a handful of tiny images quick (conformance tests, demos), e.g.
    ``{"max_steps": 2}`` for a trained method. Never used unless asked for."""
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    roles: ClassVar[tuple[str, ...]] = ()
    """The backbone taps the method reads (``"s4"``..``"s32"``); ``()``: it uses no pretrained backbone."""
    batch_size: int = 16
    """Images per forward pass when predicting; does not change results."""

    inputs: Inputs
    """Set by :meth:`setup`."""

    def __init__(self, *, backbone: str = "auto", device: str = "auto", weights: str = "auto", **params: Any):
        self.hparams: dict[str, Any] = validate_params(self.params, params)
        self.setup_request = SetupRequest(self.name, str(backbone), str(device), str(weights))
        self.save_id: str | None = None
        """The ``save_id`` of the folder this instance was last saved to or loaded from."""
        self.setup()

    # -- what a method implements --------------------------------------------------------------------------------
    @abstractmethod
    def setup(self) -> None:
        """Build the components (``self.inputs`` at least) and resolve automatic params into ``self.hparams``."""

    @abstractmethod
    def fit(self, images: ImageSet, monitor: Monitor = NO_MONITOR) -> None:
        """Fit on normal images. On cancel (``monitor.check()`` raises) the previous state is left untouched."""

    @abstractmethod
    def score(self, batch: Batch) -> GridScores:
        """Maps (and image scores, or None) of one batch of pre-processed images."""

    @property
    @abstractmethod
    def is_fitted(self) -> bool:
        """True once :meth:`fit` or :meth:`load` has given the method a state."""

    @abstractmethod
    def state(self) -> dict[str, np.ndarray]:
        """The fitted state as named arrays (saved in safetensors)."""

    @abstractmethod
    def restore(self, arrays: dict[str, np.ndarray], where: Path) -> None:
        """Take the state saved by :meth:`state`; raise :class:`ModelFileError` naming ``where`` when it does not
        fit."""

    def extra_config(self) -> dict[str, Any]:
        """The one config hook: what else determines outputs (or describes the fit), beyond the params and the
        inputs' configuration. Subclasses extend ``super().extra_config()``."""
        return {}

    def check_saved(self, saved: Mapping[str, Any], where: Path) -> None:
        """Refuse a saved ``method.json`` this instance cannot take (e.g. other backbone weights); read what the
        state arrays do not hold. Subclasses extend ``super().check_saved(...)``."""
        self.inputs.check_saved(saved, where)

    def describe(self, batch: Batch) -> np.ndarray:
        """A ``goods_aware`` method's global descriptor of each image of ``batch`` (``B x D`` float32 of unit
        length), from the features the batch already holds: what retrieval of look-alike photos compares."""
        raise ParamError(f"{self.name} cannot score a photo against chosen training photos (it is not goods-aware)")

    # -- shared behaviour ----------------------------------------------------------------------------------------
    def predict(
        self,
        images: ImageSet,
        monitor: Monitor = NO_MONITOR,
        *,
        compare: Compare | None = None,
        leave_out: Sequence[int] = (),
    ) -> list[Prediction]:
        """Score images; each map is float32 at that image's own resolution (stage ``PREDICT`` on ``monitor``).
        ``compare`` (``goods_aware`` methods): given a batch and its :meth:`describe` descriptors, the training images
        each of its images is scored against (the batch's ``among``); ``leave_out``: training images none of them
        is compared with (the batch's ``left_out``)."""
        if leave_out and Capability.GOODS_AWARE not in self.capabilities:
            raise ParamError(f"{self.name} cannot leave training images out of a comparison (it is not goods-aware)")
        if not self.is_fitted:
            raise NotFittedError(f"{self.name} has not been fitted: call fit() or load a saved model first")
        results: list[Prediction] = []
        batches = self.inputs.batches(
            images, monitor, stage=Stage.PREDICT, batch_size=self.batch_size, allow_empty=True
        )
        for batch in batches:
            if compare is not None:
                chosen = compare(batch, self.describe(batch))
                among = tuple(tuple(int(j) for j in ids) for ids in chosen)
                batch = replace(batch, among=among if any(among) else ())  # all empty: against all of them
            if leave_out:
                batch = replace(batch, left_out=tuple(sorted({int(j) for j in leave_out})))
            results.extend(self.inputs.assemble(self.score(batch), batch.shapes, self.blur_sigma))
        return results

    def descriptors(self, images: ImageSet, monitor: Monitor = NO_MONITOR) -> np.ndarray:
        """:meth:`describe` of every image (``N x D``; stage ``FEATURES``): the training photos' descriptors."""
        parts = [self.describe(batch) for batch in self.inputs.batches(images, monitor, batch_size=self.batch_size)]
        return np.concatenate(parts).astype(np.float32)

    @property
    def blur_sigma(self) -> float:
        """The map smoothing in network-input pixels (the ``blur_sigma`` param; 4, the papers', without one)."""
        return float(self.hparams.get("blur_sigma", 4.0))

    @property
    def info(self) -> MethodInfo:
        """Weights source and device, for display beside results."""
        return self.inputs.info(self.name)

    def config(self) -> dict[str, Any]:
        """Everything that determines outputs (for model keys and model files); JSON-serialisable."""
        return {
            "format": persistence.FORMAT_NAME,
            "format_version": persistence.FORMAT_VERSION,
            "method": self.name,
            "params": self.keyed_params(),
            **self.inputs.config(),
            **self.extra_config(),
        }

    def keyed_params(self) -> dict[str, Any]:
        """The params as the config records them: all of them, except one marked ``keyed_when_set`` while it has
        its default (a parameter added later leaves the keys of earlier models as they were)."""
        quiet = {spec.name: spec.default for spec in self.params if spec.keyed_when_set}
        return {k: v for k, v in self.hparams.items() if not (k in quiet and v == quiet[k])}

    def fitted(self, value: T | None) -> T:
        """``value``, or :class:`NotFittedError` naming the method while it is None (not fitted yet)."""
        if value is None:
            raise NotFittedError(f"{self.name} has not been fitted: call fit() or load a saved model first")
        return value

    def resolve_auto(self, **defaults: Any) -> None:
        """Give every automatic param (None) among ``defaults`` its value, so that :meth:`config` records it."""
        for key, value in defaults.items():
            if self.hparams.get(key) is None:
                self.hparams[key] = value

    def save(self, directory: str | Path, *, extra: Mapping[str, Any] | None = None) -> Path:
        """Write ``method.json`` and ``state.safetensors`` into ``directory`` (created if needed), atomically;
        ``extra`` entries (e.g. the engine's view of the photos) are recorded in ``method.json`` beside the config."""
        directory = Path(directory)
        if not self.is_fitted:
            raise NotFittedError(f"cannot save {self.name}: it has not been fitted", directory)
        where = {"class": f"{type(self).__module__}:{type(self).__qualname__}"}  # how a plug-in is found again
        recorded = {**self.config(), **(extra or {}), **where}
        self.save_id = persistence.save_folder(directory, recorded, self.state())
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, device: str = "auto", weights: str | None = None) -> Self:
        """Load a folder written by :meth:`save` (``goodsad_studio.methods.load_method`` finds the class from
        ``method.json``). ``weights`` overrides where the backbone weights are looked for (they are checked against
        the checksum recorded at save time)."""
        directory = Path(directory)
        saved = persistence.read_config(directory)
        where = directory / persistence.CONFIG_FILE
        if saved["method"] != cls.name:
            raise ModelFileError(f"this folder holds a {saved['method']!r} model, not {cls.name!r}", where)
        request = weights if weights is not None else (saved.get("weights") or {}).get("request", "auto")
        try:
            instance = cls(
                backbone=saved.get("backbone", "auto"), device=device, weights=request, **saved.get("params", {})
            )
        except StudioError as exc:
            raise ModelFileError(f"cannot rebuild the saved model: {exc.problem}", where) from exc
        instance.check_saved(saved, where)
        arrays = persistence.read_state(directory, saved)
        instance.restore(arrays, directory / persistence.STATE_FILE)
        instance.save_id = saved.get("save_id")
        return instance

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.hparams.items())
        return f"{type(self).__name__}({params})"


__all__ = [
    "Batch",
    "Capability",
    "Compare",
    "GridScores",
    "ImageSet",
    "Inputs",
    "Method",
    "MethodInfo",
    "Prediction",
    "SetupRequest",
]
