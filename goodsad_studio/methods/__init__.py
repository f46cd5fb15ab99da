"""Anomaly-detection methods behind one interface (:class:`Method`, in ``api.py``) and a registry of their names.

Importing this package is cheap (no torch): a method's module is imported when :func:`resolve` first asks for it.
``api.py`` is the interface; ``components/`` holds the parts the methods are composed of (backbones and weights,
pre-processing, the feature extractor, the training loop, persistence, ...); each method has a folder of its own
with a README.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from goodsad_studio.errors import (
    BackboneError,
    Cancelled,
    ImageInputError,
    ModelFileError,
    NotFittedError,
    ParamError,
    SyntheticAnomalyError,
    TrainingDiverged,
    UnknownMethodError,
    WeightsError,
)
from goodsad_studio.methods.api import Capability, GridScores, Method, MethodInfo, Prediction
from goodsad_studio.methods.persistence import read_config
from goodsad_studio.methods.registry import BUILTIN, available, resolve

__all__ = [
    "BackboneError",
    "Cancelled",
    "Capability",
    "GridScores",
    "ImageInputError",
    "Method",
    "MethodInfo",
    "ModelFileError",
    "NotFittedError",
    "ParamError",
    "Prediction",
    "SyntheticAnomalyError",
    "TrainingDiverged",
    "UnknownMethodError",
    "WeightsError",
    "available",
    "create_method",
    "load_method",
    "read_config",
    "resolve",
]


def create_method(name: str, **kwargs: Any) -> Method:
    """Instantiate method ``name`` (a built-in name or a plug-in's ``module:Class``) with constructor keywords
    (``backbone``, ``device``, ``weights``, params)."""
    return resolve(name)(**kwargs)


def load_method(
    directory: str | Path,
    *,
    device: str = "auto",
    weights: str | None = None,
    method: str | type[Method] | None = None,
) -> Method:
    """Load any saved method folder. The class is the one its ``method.json`` names (a built-in name, or for a
    plug-in the import path it was saved from), or ``method`` (a name, an import path or a class)."""
    if isinstance(method, type):
        cls = method
    elif method is not None:
        cls = resolve(method)
    else:
        saved = read_config(directory)
        name = str(saved["method"])
        cls = resolve(name if name in BUILTIN or "class" not in saved else str(saved["class"]))
    return cls.load(directory, device=device, weights=weights)
