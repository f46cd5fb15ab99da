"""The one small interface every anomaly-detection method implements.

A method is fitted on normal images and predicts, for each test image, an image score (higher = more anomalous)
and an anomaly map at the image's own resolution. Images are ``uint8`` RGB arrays ``HxWx3`` (a grayscale ``HxW``
array is accepted and expanded). Everything that determines a method's outputs is in :meth:`config`, which the
engine hashes for its results cache; :attr:`info` says, for display, which weights and device are in use.

Saved models are a folder with ``method.json`` (format version, method, params, backbone, weights source) and
``state.safetensors`` (arrays). Nothing is pickled. This module does not import torch, so listing methods and
their parameters is cheap.
"""

from __future__ import annotations

import json
import secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

import numpy as np

from goodsad_studio.errors import ModelFileError, NotFittedError, StudioError
from goodsad_studio.fsutil import atomic_write_text
from goodsad_studio.methods.params import ParamSpec, validate_params
from goodsad_studio.methods.serialization import read_safetensors, write_safetensors

FORMAT_NAME = "goodsad-studio-method"
FORMAT_VERSION = 1
CONFIG_FILE = "method.json"
STATE_FILE = "state.safetensors"

ProgressFn = Callable[[int, int], None]
"""``progress(done, total)``; ``total`` is 0 when the number of images is not known in advance."""

M = TypeVar("M", bound="AnomalyMethod")


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

    def __str__(self) -> str:
        return f"{self.method} on {self.backbone} ({self.weights_source}) [{self.device}]"


class AnomalyMethod(ABC):
    """Base class of all methods. Subclasses set ``name`` and ``params`` and register with ``@register_method``.

    Constructor keywords: ``backbone`` (a name from :func:`goodsad_studio.methods.backbones.available_backbones`
    or ``"auto"``), ``device`` (``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``...), ``weights`` (``"auto"``, a
    path to a ``.pth``/``.safetensors`` file, or ``"random"`` for untrained weights — loudly warned about), and the
    method's own ``params`` (validated; unknown names or bad values raise :class:`~.params.ParamError`).
    """

    name: ClassVar[str]
    params: ClassVar[list[ParamSpec]] = []
    description: ClassVar[str] = ""
    smoke_params: ClassVar[dict[str, Any]] = {}
    """Parameters that make a fit on a handful of tiny images quick (for conformance tests and demos), e.g.
    ``{"max_steps": 2}`` for a trained method. Never used unless asked for."""

    def __init__(self, *, backbone: str = "auto", device: str = "auto", weights: str = "auto", **params: Any):
        self.hparams: dict[str, Any] = validate_params(self.params, params)
        self._save_id: str | None = None

    # -- what subclasses implement ------------------------------------------------------------------------------
    @abstractmethod
    def fit(
        self, images: Iterable[np.ndarray], *, progress: ProgressFn | None = None, cancel: threading.Event | None = None
    ) -> None:
        """Fit on normal images. On cancel raise :class:`Cancelled` and leave the previous state untouched."""

    @abstractmethod
    def predict(self, images: Sequence[np.ndarray]) -> list[Prediction]:
        """Score images; each map is float32 at that image's own resolution."""

    @property
    @abstractmethod
    def is_fitted(self) -> bool:
        """True once :meth:`fit` or :meth:`load` has given the method a state."""

    @property
    @abstractmethod
    def info(self) -> MethodInfo:
        """Weights source and device, for display beside results."""

    @abstractmethod
    def _config_extra(self) -> dict[str, Any]:
        """Resolved backbone, weights (source and checksum), pre-processing and resolved automatic params."""

    @abstractmethod
    def _state_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state as named arrays (saved in safetensors)."""

    @abstractmethod
    def _load_state_arrays(self, arrays: dict[str, np.ndarray], path: Path) -> None:
        """Restore the fitted state; raise :class:`ModelFileError` naming ``path`` when arrays do not fit."""

    def _check_saved_config(self, saved: dict[str, Any], path: Path) -> None:
        """Refuse a saved model whose config disagrees with this instance (e.g. other backbone weights).

        Methods without such a constraint accept every saved config."""
        return None

    # -- shared behaviour ----------------------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """Everything that determines outputs (for cache keys and model files); JSON-serialisable."""
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "method": self.name,
            "params": dict(self.hparams),
            **self._config_extra(),
        }

    def save(self, directory: str | Path) -> Path:
        """Write ``method.json`` and ``state.safetensors`` into ``directory`` (created if needed), atomically."""
        directory = Path(directory)
        if not self.is_fitted:
            raise NotFittedError(f"cannot save {self.name}: it has not been fitted", directory)
        save_id = secrets.token_hex(8)
        config = {**self.config(), "save_id": save_id}
        write_safetensors(
            directory / STATE_FILE,
            self._state_arrays(),
            {"format": FORMAT_NAME, "method": self.name, "save_id": save_id},
        )
        atomic_write_text(directory / CONFIG_FILE, json.dumps(config, indent=2, sort_keys=True) + "\n")
        self._save_id = save_id
        return directory

    @classmethod
    def load(cls: type[M], directory: str | Path, *, device: str = "auto", weights: str | None = None) -> M:
        """Load a folder written by :meth:`save`. ``weights`` overrides where the backbone weights are looked for
        (they are checked against the checksum recorded at save time)."""
        from goodsad_studio.methods.registry import get_method

        directory = Path(directory)
        saved = read_config(directory)
        method_cls = get_method(saved["method"])
        if cls is not AnomalyMethod and not issubclass(method_cls, cls):
            raise ModelFileError(f"this folder holds a {saved['method']!r} model, not {cls.name!r}", directory)
        try:
            weights_request = weights if weights is not None else saved.get("weights", {}).get("request", "auto")
            instance = method_cls(
                backbone=saved.get("backbone", "auto"),
                device=device,
                weights=weights_request,
                **saved.get("params", {}),
            )
        except StudioError as exc:
            raise ModelFileError(f"cannot rebuild the saved model: {exc.problem}", directory / CONFIG_FILE) from exc
        instance._check_saved_config(saved, directory / CONFIG_FILE)
        arrays, metadata = read_safetensors(directory / STATE_FILE)
        if metadata.get("save_id") != saved.get("save_id"):
            raise ModelFileError(
                "state file does not belong to this method.json (an interrupted save?)", directory / STATE_FILE
            )
        instance._load_state_arrays(arrays, directory / STATE_FILE)
        instance._save_id = saved.get("save_id")
        return cast(M, instance)  # method_cls is cls or a subclass of it (checked above)

    @staticmethod
    def _images_total(images: Iterable[np.ndarray]) -> int:
        if not isinstance(images, Sized):  # e.g. a generator
            return 0
        try:
            return len(images)
        except TypeError:
            return 0

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.hparams.items())
        return f"{type(self).__name__}({params})"


def read_config(directory: str | Path) -> dict[str, Any]:
    """Read and check ``method.json`` of a saved model folder (format name and version)."""
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise ModelFileError("not a saved model: method.json is missing", Path(directory))
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"method.json is not readable JSON ({exc})", path) from exc
    if not isinstance(saved, dict) or saved.get("format") != FORMAT_NAME or "method" not in saved:
        raise ModelFileError("not a goodsad-studio model config", path)
    version = saved.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"model format version {version!r} is newer than this program reads "
            f"({FORMAT_VERSION}); update goodsad-studio",
            path,
        )
    if not isinstance(saved.get("params", {}), dict):
        raise ModelFileError("'params' must be an object", path)
    return saved
