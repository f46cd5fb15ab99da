"""Which torch device a method runs on: ``"auto"`` or an explicit, checked request."""

from __future__ import annotations

import torch

from goodsad_studio.errors import ParamError


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


__all__ = ["resolve_device"]
