"""JSON parsing that a hostile file cannot crash: bounded depth, and (for files users bring) finite numbers only.

Python's ``json`` accepts ``NaN`` and ``Infinity``, turns ``1e999`` into infinity, and recurses once per nesting
level, so a file nested 100,000 deep raises ``RecursionError`` rather than a parse error. :func:`loads` raises
``ValueError`` (``json.JSONDecodeError`` is one) for all of these, with a message saying what was refused.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 32
"""How deeply lists and objects may nest (annotation files nest 5 deep, the studio's own files 8 at most)."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"it holds the non-finite number {name} (JSON has no NaN or Infinity)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"it holds the number {text[:40]}, too large to be finite")
    return value


def depth_exceeds(data: Any, limit: int) -> bool:
    """True when ``data`` nests lists/objects more than ``limit`` deep (checked without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            if depth > limit:
                return True
            stack.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return False


def loads(text: str, *, finite: bool = True, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``text``; ``ValueError`` when it is not JSON, nests deeper than ``max_depth``, or (``finite``) holds
    NaN, Infinity or a number too large to be finite. The studio's own files may hold NaN (``finite=False``)."""
    hooks: dict[str, Any] = {"parse_constant": _refuse_constant, "parse_float": _finite_float} if finite else {}
    try:
        data = json.loads(text, **hooks)
    except RecursionError:
        raise ValueError(f"it nests lists or objects far deeper than {max_depth}") from None
    if depth_exceeds(data, max_depth):
        raise ValueError(f"it nests lists or objects deeper than {max_depth}")
    return data
