"""Which methods exist: a table of the built-in ones (name -> ``"module:Class"``), and :func:`resolve`, which also
takes a plug-in's import path (``"my_pkg.detectors:Mine"``).

Nothing is imported until a method is resolved, so listing the methods (for a menu) does not import torch. A
plug-in needs no registration: its import path is its name wherever a method is named (the engine's requests, the
CLI); it must be importable in the process that runs it.
"""

from __future__ import annotations

import importlib

from goodsad_studio.errors import UnknownMethodError
from goodsad_studio.methods.api import Method

BUILTIN: dict[str, str] = {
    "patchcore": "goodsad_studio.methods.patchcore:PatchCore",
    "padim": "goodsad_studio.methods.padim:Padim",
    "spade": "goodsad_studio.methods.spade:Spade",
    "simplenet": "goodsad_studio.methods.simplenet:SimpleNet",
    "cflow": "goodsad_studio.methods.cflow:Cflow",
    "rd4ad": "goodsad_studio.methods.rd4ad:RD4AD",
    "draem": "goodsad_studio.methods.draem:Draem",
    "nsa": "goodsad_studio.methods.nsa:Nsa",
    "cutpaste": "goodsad_studio.methods.cutpaste:CutPaste",
    "fanogan": "goodsad_studio.methods.fanogan:FAnoGan",
    "gde": "goodsad_studio.methods.gde:GlobalGaussian",
}
"""The studio's own methods: registry name -> ``"module:Class"``. A saved folder names its method by this name."""


def available() -> list[str]:
    """The built-in method names, sorted (imports nothing)."""
    return sorted(BUILTIN)


def resolve(name: str) -> type[Method]:
    """The method class of a built-in ``name`` or of a plug-in's ``"package.module:Class"``.

    :class:`UnknownMethodError` says which: an unknown name (with the available ones), a module that cannot be
    imported, a missing class, or something that is not a :class:`~goodsad_studio.methods.api.Method`."""
    path = BUILTIN.get(name)
    if path is None:
        if ":" not in name:
            raise UnknownMethodError(
                f"unknown method {name!r}; available: {', '.join(available())} "
                "(a plug-in is named by its import path, 'package.module:Class')"
            )
        path = name
    module_name, _, qualname = path.partition(":")
    if not module_name or not qualname:
        raise UnknownMethodError(f"method {name!r}: an import path reads 'package.module:Class'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownMethodError(f"method {name!r}: cannot import module {module_name!r} ({exc})") from exc
    found: object = module
    for part in qualname.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise UnknownMethodError(f"method {name!r}: module {module_name!r} has no {qualname!r}") from None
    if not (isinstance(found, type) and issubclass(found, Method)):
        raise UnknownMethodError(
            f"method {name!r}: {path} is not a method (a subclass of goodsad_studio.methods.api.Method)"
        )
    if name in BUILTIN and getattr(found, "name", None) != name:
        raise UnknownMethodError(f"method {name!r}: {path} calls itself {getattr(found, 'name', None)!r}")
    return found


__all__ = ["BUILTIN", "available", "resolve"]
