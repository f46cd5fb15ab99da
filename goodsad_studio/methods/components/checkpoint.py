"""Training checkpoints: a folder per checkpoint (safetensors of tensors + JSON of everything else), published
atomically through a pointer file, so a cancelled or killed job never leaves a half-written checkpoint.

Layout of a checkpoint directory::

    latest.json            {"format": ..., "folder": "step-00000120", "checkpoint_id": ...}
    step-00000120/
        tensors.safetensors   model and optimizer tensors (metadata: checkpoint_id)
        checkpoint.json       step, epoch, seed, identity, optimizer non-tensor state, loss history...

A checkpoint is written into a fresh ``step-*`` folder first (each file atomically), and only then does
``latest.json`` (written atomically) point to it; older folders are removed afterwards. A crash at any moment
leaves ``latest.json`` pointing at a complete checkpoint (or absent). Nothing is pickled: nested state such as an
optimizer's ``state_dict`` is split by :func:`split_tensors` into a JSON tree and named arrays, and rebuilt by
:func:`join_tensors`.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from goodsad_studio.errors import ModelFileError
from goodsad_studio.fsutil import atomic_write_text
from goodsad_studio.methods.persistence import read_json, read_safetensors, write_safetensors

CHECKPOINT_FORMAT = "goodsad-studio-checkpoint"
CHECKPOINT_VERSION = 1
POINTER_FILE = "latest.json"
TENSORS_FILE = "tensors.safetensors"
META_FILE = "checkpoint.json"
_TENSOR_TAG = "__tensor__"
_PAIRS_TAG = "__pairs__"
_TUPLE_TAG = "__tuple__"


@dataclass
class Checkpoint:
    """One training checkpoint: ``tensors`` (name -> array) and ``meta`` (JSON-able, with at least ``step``)."""

    tensors: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def step(self) -> int:
        return int(self.meta["step"])


def split_tensors(obj: Any, prefix: str, arrays: dict[str, np.ndarray]) -> Any:
    """Replace every tensor/array inside ``obj`` (nested dicts, lists, tuples) by a reference and store it in
    ``arrays`` under ``prefix/<path>``; returns the JSON-able remainder (dicts with non-string keys and tuples are
    tagged so :func:`join_tensors` restores them exactly)."""
    if isinstance(obj, torch.Tensor):
        arrays[prefix] = obj.detach().cpu().numpy().copy()
        return {_TENSOR_TAG: prefix, "torch": True, "shape": list(obj.shape)}
    if isinstance(obj, np.ndarray):
        arrays[prefix] = obj.copy()
        return {_TENSOR_TAG: prefix, "torch": False, "shape": list(obj.shape)}
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) for k in obj) and not ({_TENSOR_TAG, _PAIRS_TAG, _TUPLE_TAG} & set(obj)):
            return {k: split_tensors(v, f"{prefix}/{k}", arrays) for k, v in obj.items()}
        return {_PAIRS_TAG: [[k, split_tensors(v, f"{prefix}/{k}", arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {_TUPLE_TAG: [split_tensors(v, f"{prefix}/{i}", arrays) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [split_tensors(v, f"{prefix}/{i}", arrays) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    raise TypeError(f"cannot store a {type(obj).__name__} at {prefix!r} in a checkpoint")


def join_tensors(tree: Any, arrays: Mapping[str, np.ndarray], path: Path | None = None) -> Any:
    """Inverse of :func:`split_tensors`; a missing array raises :class:`ModelFileError` naming ``path``."""
    if isinstance(tree, dict):
        if _TENSOR_TAG in tree:
            name = tree[_TENSOR_TAG]
            if name not in arrays:
                raise ModelFileError(f"checkpoint array {name!r} is missing", path)
            array = arrays[name]
            if "shape" in tree:  # safetensors stores 0-d arrays as 1-element vectors
                array = array.reshape(tree["shape"])
            return torch.from_numpy(np.array(array)) if tree.get("torch", True) else np.array(array)
        if _PAIRS_TAG in tree:
            return {k: join_tensors(v, arrays, path) for k, v in tree[_PAIRS_TAG]}
        if _TUPLE_TAG in tree:
            return tuple(join_tensors(v, arrays, path) for v in tree[_TUPLE_TAG])
        return {k: join_tensors(v, arrays, path) for k, v in tree.items()}
    if isinstance(tree, list):
        return [join_tensors(v, arrays, path) for v in tree]
    return tree


def write_checkpoint(directory: str | Path, checkpoint: Checkpoint, *, keep: int = 1) -> Path:
    """Write ``checkpoint`` into ``directory/step-NNNNNNNN`` and publish it atomically; keeps the newest ``keep``
    folders. Returns the checkpoint folder."""
    directory = Path(directory)
    checkpoint_id = secrets.token_hex(8)
    folder = directory / f"step-{checkpoint.step:08d}"
    if folder.exists():  # a leftover from an interrupted write (or a rewrite of the same step): never published
        pointer = _read_pointer(directory)
        if pointer is not None and pointer.get("folder") == folder.name:
            folder = directory / f"step-{checkpoint.step:08d}-{checkpoint_id}"
        else:
            shutil.rmtree(folder, ignore_errors=True)
    write_safetensors(
        folder / TENSORS_FILE, checkpoint.tensors, {"format": CHECKPOINT_FORMAT, "checkpoint_id": checkpoint_id}
    )
    meta = {
        "format": CHECKPOINT_FORMAT,
        "format_version": CHECKPOINT_VERSION,
        "checkpoint_id": checkpoint_id,
        **checkpoint.meta,
    }
    atomic_write_text(folder / META_FILE, json.dumps(meta, indent=1, sort_keys=True) + "\n")
    atomic_write_text(
        directory / POINTER_FILE,
        json.dumps(
            {
                "format": CHECKPOINT_FORMAT,
                "folder": folder.name,
                "checkpoint_id": checkpoint_id,
                "step": checkpoint.step,
            },
            indent=1,
        )
        + "\n",
    )
    _prune(directory, keep_names=_newest_folders(directory, folder.name, keep))
    return folder


def read_latest_checkpoint(directory: str | Path) -> Checkpoint | None:
    """The checkpoint ``latest.json`` points to, or None when the directory holds none. A pointer to a missing
    or inconsistent checkpoint raises :class:`ModelFileError` naming the file."""
    directory = Path(directory)
    pointer = _read_pointer(directory)
    if pointer is None:
        return None
    folder = directory / str(pointer.get("folder", ""))
    meta_path = folder / META_FILE
    meta = read_json(meta_path, "the checkpoint description")
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT or "step" not in meta:
        raise ModelFileError("not a goodsad-studio training checkpoint", meta_path)
    if int(meta.get("format_version", 0)) > CHECKPOINT_VERSION:
        raise ModelFileError("checkpoint written by a newer goodsad-studio", meta_path)
    arrays, metadata = read_safetensors(folder / TENSORS_FILE)
    if metadata.get("checkpoint_id") != meta.get("checkpoint_id") or meta.get("checkpoint_id") != pointer.get(
        "checkpoint_id"
    ):
        raise ModelFileError("checkpoint files do not belong together (an interrupted write?)", folder)
    return Checkpoint(arrays, meta, folder)


def _read_pointer(directory: Path) -> dict[str, Any] | None:
    path = directory / POINTER_FILE
    if not path.is_file():
        return None
    pointer = read_json(path, "the checkpoint pointer")
    if not isinstance(pointer, dict) or pointer.get("format") != CHECKPOINT_FORMAT:
        raise ModelFileError("not a goodsad-studio checkpoint pointer", path)
    return pointer


def _newest_folders(directory: Path, current: str, keep: int) -> set[str]:
    others = sorted((p.name for p in directory.glob("step-*") if p.is_dir() and p.name != current), reverse=True)
    return {current, *others[: max(keep - 1, 0)]}


def _prune(directory: Path, keep_names: set[str]) -> None:
    for folder in directory.glob("step-*"):
        if folder.is_dir() and folder.name not in keep_names:
            shutil.rmtree(folder, ignore_errors=True)
