"""What every parity module shares: a :class:`Check` (one quantity computed by both codes, compared at rtol 1e-3
plus 1e-3 x the range of the reference's values), importing the authors' modules from a checkout without leaving
them in ``sys.modules`` (their module names, ``model``, ``resnet``, ``utils``, clash across repositories), and
copying tensors between two networks by matching names or, where the names differ, by order and shape."""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

RTOL = 1e-3
"""The issue's tolerance: relative 1e-3, plus 1e-3 x the range of the reference's values (for values near 0)."""


@dataclass(frozen=True)
class Check:
    """One quantity from our code and from the authors' (same weights, same batch)."""

    what: str
    ours: np.ndarray
    theirs: np.ndarray
    rtol: float = RTOL

    @classmethod
    def of(cls, what: str, ours, theirs, rtol: float = RTOL) -> Check:
        return cls(what, _array(ours), _array(theirs), rtol)

    @property
    def ok(self) -> bool:
        if self.ours.shape != self.theirs.shape:
            return False
        return bool(np.all(np.abs(self.ours - self.theirs) <= self.tolerance))

    @property
    def tolerance(self) -> np.ndarray:
        spread = float(self.theirs.max() - self.theirs.min()) if self.theirs.size else 0.0
        return self.rtol * np.abs(self.theirs) + self.rtol * spread

    @property
    def worst(self) -> float:
        """The largest difference as a share of its tolerance (<= 1: within)."""
        if self.ours.shape != self.theirs.shape:
            return float("inf")
        return float(np.max(np.abs(self.ours - self.theirs) / np.maximum(self.tolerance, 1e-30)))

    def line(self) -> str:
        if self.ours.shape != self.theirs.shape:
            return f"{self.what}: shapes differ, ours {self.ours.shape} vs theirs {self.theirs.shape}  FAIL"
        diff = float(np.max(np.abs(self.ours - self.theirs))) if self.ours.size else 0.0
        value = (
            f"ours {self.ours.item():.6g} theirs {self.theirs.item():.6g}"
            if self.ours.size == 1
            else f"shape {self.ours.shape}, theirs in [{self.theirs.min():.4g}, {self.theirs.max():.4g}]"
        )
        verdict = "ok" if self.ok else "FAIL"
        return f"{self.what}: {value}, max |diff| {diff:.3g} ({self.worst:.2f} of the tolerance)  {verdict}"


def _array(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().double().numpy()
    return np.asarray(value, dtype=np.float64)


@contextlib.contextmanager
def reference_modules(
    root: Path, shims: Mapping[str, Callable[[types.ModuleType], None]] | None = None
) -> Iterator[Callable[[str], types.ModuleType]]:
    """``import_`` for the authors' modules under ``root``: ``root`` first on ``sys.path`` while inside, and every
    module imported from it dropped from ``sys.modules`` afterwards. ``shims``: modules the old code imports that
    today's libraries moved (e.g. ``torchvision.models.utils``), made here by the given function."""
    root = Path(root).resolve()
    before = set(sys.modules)
    made = []
    for name, fill in (shims or {}).items():
        if name not in sys.modules:
            module = types.ModuleType(name)
            fill(module)
            sys.modules[name] = module
            made.append(name)
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module
    finally:
        sys.path.remove(str(root))
        for name in set(sys.modules) - before:
            module = sys.modules[name]
            where = getattr(module, "__file__", None) or ""
            if name in made or where.startswith(str(root)):
                del sys.modules[name]


def torchvision_utils_shim(module: types.ModuleType) -> None:
    """``torchvision.models.utils`` (gone since torchvision 0.13): its ``load_state_dict_from_url`` is torch.hub's."""
    module.load_state_dict_from_url = torch.hub.load_state_dict_from_url  # type: ignore[attr-defined]


def copy_by_name(source: Mapping[str, torch.Tensor], target: torch.nn.Module, rename=None) -> list[str]:
    """Load ``source`` into ``target`` by name (``rename`` maps a target name to a source name); returns the
    target's tensors that found no source (an error unless the caller expects them)."""
    state = target.state_dict()
    missing = []
    for name, tensor in state.items():
        key = rename(name) if rename else name
        if key in source and tuple(source[key].shape) == tuple(tensor.shape):
            state[name] = source[key].detach().clone().to(tensor.dtype)
        else:
            missing.append(name)
    target.load_state_dict(state)
    return missing


def copy_by_order(source: torch.nn.Module, target: torch.nn.Module) -> None:
    """Copy parameters and buffers in registration order; every pair must have the same shape (two codes that
    build the same layers in the same order under other names)."""
    ours = list(source.state_dict().items())
    theirs = list(target.state_dict().items())
    if len(ours) != len(theirs):
        raise ValueError(f"{len(ours)} tensors against {len(theirs)}: the networks differ")
    state = {}
    for (name, tensor), (their_name, their_tensor) in zip(ours, theirs, strict=True):
        if tuple(tensor.shape) != tuple(their_tensor.shape):
            raise ValueError(f"{name} {tuple(tensor.shape)} against {their_name} {tuple(their_tensor.shape)}")
        state[their_name] = tensor.detach().clone().to(their_tensor.dtype)
    target.load_state_dict(state)


def fixed_images(n: int, size: int, seed: int = 0) -> np.ndarray:
    """``n`` uint8 ``size x size x 3`` images of smooth random texture: the one fixed batch both codes see."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (n, size // 8 + 1, size // 8 + 1, 3)).astype(np.float32)
    tiled = np.repeat(np.repeat(coarse, 8, axis=1), 8, axis=2)[:, :size, :size]
    noise = rng.normal(0, 12, (n, size, size, 3))
    return np.clip(tiled + noise, 0, 255).astype(np.uint8)


def spread_batch_norms(model: torch.nn.Module) -> None:
    """Batch norms with random affines and running statistics, under the current torch seed: at the initialisation
    (weight 1, bias 0, mean 0, variance 1) eval mode's batch norm is nearly the identity, a weak test of it."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0.0, 0.1)
                module.running_mean.normal_(0.0, 0.2)
                module.running_var.uniform_(0.5, 2.0)
