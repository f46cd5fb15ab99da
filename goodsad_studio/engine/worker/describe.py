"""Describe a method for a form: its parameters, the backbone and weights it would use, and the device in words.

Building the description imports torch (the method's module), so the GUI calls :func:`describe_method` from a
worker thread. A method that cannot be set up (weights missing, no GPU for ``cuda``) is still described, with the
reason in ``problem``, so the user sees why instead of a disabled button.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from goodsad_studio.errors import StudioError
from goodsad_studio.params import ParamSpec


@dataclass(frozen=True)
class MethodDescription:
    name: str
    description: str
    params: list[ParamSpec]
    backbones: list[str] = field(default_factory=list)
    backbone: str = ""
    weights_source: str = ""
    device: str = ""
    problem: str = ""


def device_words(device: str) -> str:
    """``"CPU"`` or the GPU's name, e.g. ``"NVIDIA H100 80GB HBM3 (cuda:0)"``."""
    if not device.startswith("cuda"):
        return "CPU"
    import torch

    index = int(device.split(":", 1)[1]) if ":" in device else torch.cuda.current_device()
    return f"{torch.cuda.get_device_name(index)} (cuda:{index})"


def describe_method(
    name: str,
    *,
    backbone: str = "auto",
    weights: str = "auto",
    device: str = "auto",
    params: dict[str, Any] | None = None,
) -> MethodDescription:
    """What the form shows for method ``name`` with these requests (see the module docstring)."""
    from goodsad_studio.methods.backbones import available_backbones
    from goodsad_studio.methods.registry import create_method, get_method

    cls = get_method(name)
    specs = list(cls.params)
    backbones = available_backbones()
    try:
        method = create_method(name, backbone=backbone, weights=weights, device=device, **(params or {}))
        info = method.info
    except StudioError as exc:
        return MethodDescription(name, cls.description, specs, backbones, problem=str(exc))
    return MethodDescription(
        name, cls.description, specs, backbones, info.backbone, info.weights_source, device_words(info.device)
    )
