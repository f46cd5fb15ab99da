"""Method registry: names -> classes, filled by the ``@register_method`` decorator.

Built-in methods are listed in a table of modules and imported on first use, so asking which methods exist (for a
menu) does not import torch. A plug-in registers by decorating its class and importing its module.
"""

from __future__ import annotations

import importlib
from typing import Any, TypeVar

from goodsad_studio.errors import UnknownMethodError
from goodsad_studio.methods.base import AnomalyMethod

_BUILTIN_MODULES: dict[str, str] = {
    "patchcore": "goodsad_studio.methods.patchcore",
    "padim": "goodsad_studio.methods.padim",
    "spade": "goodsad_studio.methods.spade",
    "draem": "goodsad_studio.methods.draem",
    "nsa": "goodsad_studio.methods.nsa_method",
    "cutpaste": "goodsad_studio.methods.cutpaste_method",
    "fanogan": "goodsad_studio.methods.fanogan",
    "simplenet": "goodsad_studio.methods.simplenet",
    "cflow": "goodsad_studio.methods.cflow",
    "rd4ad": "goodsad_studio.methods.rd4ad",
}
_REGISTRY: dict[str, type[AnomalyMethod]] = {}

C = TypeVar("C", bound=type[AnomalyMethod])


def register_method(cls: C) -> C:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{cls.__qualname__} needs a non-empty class attribute 'name'")
    if not (isinstance(cls, type) and issubclass(cls, AnomalyMethod)):
        raise TypeError(f"{cls!r} is not an AnomalyMethod")
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not cls:
        raise ValueError(f"method name {name!r} is already registered by {existing.__module__}")
    _REGISTRY[name] = cls
    return cls


def available_methods() -> list[str]:
    """Names of all methods, built-in and registered, sorted."""
    return sorted(set(_BUILTIN_MODULES) | set(_REGISTRY))


def is_builtin(name: str) -> bool:
    """Whether ``name`` is one of the studio's own methods (listed in the table of built-in modules and, if already
    registered, registered by that module): such a method can be imported by name in any process. A method
    registered at run time (a plug-in, a test's method) exists only in the process that registered it."""
    module = _BUILTIN_MODULES.get(name)
    if module is None:
        return False
    registered = _REGISTRY.get(name)
    return registered is None or registered.__module__ == module


def get_method(name: str) -> type[AnomalyMethod]:
    """The class registered as ``name`` (importing a built-in module on first use)."""
    if name not in _REGISTRY and name in _BUILTIN_MODULES:
        importlib.import_module(_BUILTIN_MODULES[name])
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownMethodError(f"unknown method {name!r}; available: {', '.join(available_methods())}") from None


def create_method(name: str, **kwargs: Any) -> AnomalyMethod:
    """Instantiate method ``name`` with constructor keywords (``backbone``, ``device``, ``weights``, params)."""
    return get_method(name)(**kwargs)
