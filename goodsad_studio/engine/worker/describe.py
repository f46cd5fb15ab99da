"""Describe methods for menus and forms: the list of methods with their parameters, and one method with the
backbone, weights and device it would use under given requests (or why it cannot be set up: weights missing, no
GPU for ``cuda``), so the user sees why instead of a disabled button. Runs in the worker: it imports torch."""

from __future__ import annotations

from goodsad_studio.engine.contract import MethodCard, MethodDescription, MethodSpec
from goodsad_studio.engine.worker.workspace import create_method
from goodsad_studio.errors import StudioError


def device_words(device: str) -> str:
    """``"CPU"`` or the GPU's name, e.g. ``"NVIDIA H100 80GB HBM3 (cuda:0)"``."""
    if not device.startswith("cuda"):
        return "CPU"
    import torch

    index = int(device.split(":", 1)[1]) if ":" in device else torch.cuda.current_device()
    return f"{torch.cuda.get_device_name(index)} (cuda:{index})"


def method_cards() -> tuple[MethodCard, ...]:
    """Every built-in method (sorted by name) with its parameters and capabilities."""
    from goodsad_studio.methods import available, resolve

    cards = []
    for name in available():
        try:
            cls = resolve(name)
        except StudioError as exc:  # e.g. a dependency of that one method missing
            cards.append(MethodCard(name, "", (), problem=str(exc)))
            continue
        cards.append(MethodCard(name, cls.description, tuple(cls.params), frozenset(map(str, cls.capabilities))))
    return tuple(cards)


def describe_method(spec: MethodSpec) -> MethodDescription:
    """What the form shows for ``spec`` (see the module docstring)."""
    from goodsad_studio.methods import resolve
    from goodsad_studio.methods.components.backbones import available_backbones

    backbones = available_backbones()
    try:
        cls = resolve(spec.method)
    except StudioError as exc:
        return MethodDescription(spec.method, "", [], backbones, problem=str(exc))
    specs, capabilities = list(cls.params), frozenset(map(str, cls.capabilities))
    try:
        info = create_method(spec).info
    except StudioError as exc:
        return MethodDescription(
            spec.method, cls.description, specs, backbones, problem=str(exc), capabilities=capabilities
        )
    return MethodDescription(
        spec.method,
        cls.description,
        specs,
        backbones,
        info.backbone,
        info.weights_source,
        device_words(info.device),
        capabilities=capabilities,
    )
