"""Typed, validated method parameters.

A method declares its knobs as a list of :class:`ParamSpec`; the GUI builds its forms from them, the CLI parses
``--param name=value`` with them, and :func:`validate_params` turns user input into typed values or raises a
:class:`ParamError` that names the parameter and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from goodsad_studio.errors import ParamError

ParamType = Literal["int", "float", "bool", "str", "choice"]


@dataclass(frozen=True)
class ParamSpec:
    """One method parameter: its name, type, default, bounds or choices, and a line of help for the user.

    ``optional=True`` lets the value be ``None``, meaning "decided by the method" (e.g. from the backbone); the
    method resolves it and :meth:`~goodsad_studio.methods.api.Method.config` records the resolved value.
    ``keyed_when_set=True`` (for a parameter added after models were saved) leaves it out of the config while it
    has its default, so the models and cached results of before keep their keys.
    """

    name: str
    type: ParamType
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None
    help: str = ""
    optional: bool = False
    keyed_when_set: bool = False
    unset: str = "auto"
    """What ``None`` of an optional parameter means, in a word or two (the form's placeholder, the CLI's listing)."""

    def __post_init__(self) -> None:
        if self.type == "choice" and not self.choices:
            raise ValueError(f"parameter {self.name!r}: a choice needs choices")
        if self.default is not None or not self.optional:
            self.validate(self.default)

    def validate(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type, or raise :class:`ParamError` saying why not."""
        if value is None:
            if self.optional:
                return None
            raise ParamError(f"parameter {self.name!r} needs a value ({self.describe()})")
        if isinstance(value, str) and self.type in ("int", "float", "bool"):
            value = self._parse_text(value)
            if value is None:  # "auto"/"none" of an optional parameter
                return None
        if self.type == "bool":
            if not isinstance(value, bool):
                raise ParamError(f"parameter {self.name!r} must be true or false, got {value!r}")
            return value
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise ParamError(f"parameter {self.name!r} must be a whole number, got {value!r}")
            self._check_range(value)
            return int(value)
        if self.type == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParamError(f"parameter {self.name!r} must be a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise ParamError(f"parameter {self.name!r} must be finite, got {value!r}")
            self._check_range(value)
            return value
        if self.type == "choice":
            assert self.choices is not None  # __post_init__ refuses a choice without choices
            if value not in self.choices:
                allowed = ", ".join(repr(c) for c in self.choices)
                raise ParamError(f"parameter {self.name!r} must be one of {allowed}, got {value!r}")
            return value
        if not isinstance(value, str):
            raise ParamError(f"parameter {self.name!r} must be text, got {value!r}")
        return value

    def describe(self) -> str:
        """A short human description of what is allowed, e.g. ``float in [0.001, 1]``."""
        if self.type == "choice":
            assert self.choices is not None  # __post_init__ refuses a choice without choices
            return "one of " + ", ".join(repr(c) for c in self.choices)
        bounds = ""
        if self.min is not None or self.max is not None:
            lo = "-inf" if self.min is None else self._number(self.min)
            hi = "inf" if self.max is None else self._number(self.max)
            bounds = f" in [{lo}, {hi}]"
        return f"{self.type}{bounds}" + (" or None (automatic)" if self.optional else "")

    def _number(self, value: float) -> str:
        return str(int(value)) if self.type == "int" else f"{value:g}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly description, for the GUI and ``--help`` text."""
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "min": self.min,
            "max": self.max,
            "choices": list(self.choices) if self.choices else None,
            "help": self.help,
            "optional": self.optional,
        }

    def _parse_text(self, text: str) -> Any:
        stripped = text.strip()
        if self.optional and stripped.lower() in ("none", "auto", ""):
            return None
        try:
            if self.type == "bool":
                lowered = stripped.lower()
                if lowered in ("1", "true", "yes", "on"):
                    return True
                if lowered in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            if self.type == "int":
                return int(stripped)
            return float(stripped)
        except ValueError:
            raise ParamError(f"parameter {self.name!r} expects {self.describe()}, got {text!r}") from None

    def _check_range(self, value: float) -> None:
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise ParamError(f"parameter {self.name!r} must be {self.describe()}, got {value!r}")


def validate_params(specs: Iterable[ParamSpec], values: Mapping[str, Any]) -> dict[str, Any]:
    """Fill defaults and validate ``values`` against ``specs``; unknown names raise :class:`ParamError`."""
    by_name = {spec.name: spec for spec in specs}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        known = ", ".join(sorted(by_name)) or "none"
        raise ParamError(f"unknown parameter(s) {', '.join(map(repr, unknown))}; known: {known}")
    return {name: spec.validate(values.get(name, spec.default)) for name, spec in by_name.items()}
