"""Moved to :mod:`goodsad_studio.params` (the studio's forms use it without importing methods); kept until the
methods that still import it from here are rebuilt."""

from goodsad_studio.errors import ParamError
from goodsad_studio.params import ParamSpec, ParamType, validate_params

__all__ = ["ParamError", "ParamSpec", "ParamType", "validate_params"]
