"""Anomaly-detection methods behind one small interface (:class:`AnomalyMethod`) and a registry.

Importing this package is cheap (no torch); a method's module is imported when :func:`get_method` first asks for
it. See ``base.py`` for the interface, ``backbones.py``/``weights.py`` for feature extractors and where their
weights come from, ``preprocess.py`` for the shared image pre-processing.
"""

from pathlib import Path

from goodsad_studio.errors import Cancelled, ModelFileError, NotFittedError, ParamError, UnknownMethodError
from goodsad_studio.methods.base import AnomalyMethod, MethodInfo, Prediction, ProgressFn, read_config
from goodsad_studio.methods.params import ParamSpec, validate_params
from goodsad_studio.methods.registry import available_methods, create_method, get_method, register_method

__all__ = [
    "AnomalyMethod",
    "Cancelled",
    "MethodInfo",
    "ModelFileError",
    "NotFittedError",
    "ParamError",
    "ParamSpec",
    "Prediction",
    "ProgressFn",
    "UnknownMethodError",
    "available_methods",
    "create_method",
    "get_method",
    "load_method",
    "read_config",
    "register_method",
    "validate_params",
]


def load_method(directory: str | Path, *, device: str = "auto", weights: str | None = None) -> AnomalyMethod:
    """Load any saved method folder (the class is read from its ``method.json``)."""
    return AnomalyMethod.load(directory, device=device, weights=weights)
