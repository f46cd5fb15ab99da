"""What is inside a saved model folder: ``method.json`` (format name and version, method, params, backbone, weights
source; a ``save_id``) and ``state.safetensors`` (the fitted state as named arrays, the same ``save_id`` in its
metadata) — never pickle. Where a folder lives is the engine's business; this module knows only its inside.

:func:`save_folder` writes the state first and the JSON last (each atomically), so a folder whose JSON is there and
whose state carries the JSON's ``save_id`` is complete; :func:`read_config` and :func:`read_state` check the format,
its version and that pairing, naming the file in every error. Imports no torch.

It sits beside ``api.py``, below ``components/``: the base class saves and loads through it, and the components
(checkpoints) write their safetensors with it, so it can be in neither of them without an import cycle.

The safetensors file is written here by streaming each array to disk through :func:`atomic_writer`, so saving a
1.6 GB PatchCore bank does not need a second 1.6 GB copy in memory (``safetensors.numpy.save`` builds the whole
file as one ``bytes``). Reading uses the safetensors library itself, which validates the header and offsets.
"""

from __future__ import annotations

import json
import secrets
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from goodsad_studio import strict_json
from goodsad_studio.errors import ModelFileError
from goodsad_studio.fsutil import atomic_write_text, atomic_writer

FORMAT_NAME = "goodsad-studio-method"
FORMAT_VERSION = 1
CONFIG_FILE = "method.json"
STATE_FILE = "state.safetensors"

_DTYPES = {
    np.dtype(np.float16): "F16",
    np.dtype(np.float32): "F32",
    np.dtype(np.float64): "F64",
    np.dtype(np.int64): "I64",
    np.dtype(np.int32): "I32",
    np.dtype(np.int16): "I16",
    np.dtype(np.int8): "I8",
    np.dtype(np.uint8): "U8",
    np.dtype(np.bool_): "BOOL",
}
_CHUNK = 64 << 20


def write_safetensors(path: str | Path, arrays: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> None:
    """Write ``arrays`` (name -> array) and string ``metadata`` to ``path`` atomically in safetensors format."""
    header: dict[str, object] = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}}
    ordered = []
    offset = 0
    for name in sorted(arrays):
        array = np.asarray(arrays[name])
        if array.dtype not in _DTYPES:
            raise TypeError(f"array {name!r}: dtype {array.dtype} cannot be stored")
        array = np.ascontiguousarray(array)
        if array.dtype.byteorder == ">":
            array = array.astype(array.dtype.newbyteorder("<"))
        header[name] = {
            "dtype": _DTYPES[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
        ordered.append(array)
    blob = json.dumps(header, separators=(",", ":")).encode("utf-8")
    blob += b" " * (-len(blob) % 8)
    with atomic_writer(path) as handle:
        handle.write(struct.pack("<Q", len(blob)))
        handle.write(blob)
        for array in ordered:
            flat = array.reshape(-1).view(np.uint8)
            for start in range(0, flat.size, _CHUNK):
                handle.write(flat[start : start + _CHUNK].data)


def read_safetensors(path: str | Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read every array and the metadata of a safetensors file; errors name the file."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise ModelFileError("model state file is missing", path)
    try:
        with safe_open(str(path), framework="np") as handle:
            metadata = dict(handle.metadata() or {})
            arrays = {name: handle.get_tensor(name) for name in handle.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(f"not a readable safetensors file ({exc})", path) from exc
    return arrays, metadata


def save_folder(directory: str | Path, config: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> str:
    """Write ``arrays`` to ``directory/state.safetensors`` and ``config`` (plus a fresh ``save_id``) to
    ``directory/method.json``, state first; returns the ``save_id``. ``config["method"]`` names the method."""
    directory = Path(directory)
    save_id = secrets.token_hex(8)
    write_safetensors(
        directory / STATE_FILE, arrays, {"format": FORMAT_NAME, "method": str(config["method"]), "save_id": save_id}
    )
    text = json.dumps({**config, "save_id": save_id}, indent=2, sort_keys=True) + "\n"
    atomic_write_text(directory / CONFIG_FILE, text)
    return save_id


def read_json(path: Path, what: str) -> Any:
    """The JSON value in ``path``; :class:`ModelFileError` naming the file (``what`` it is) when it cannot be read."""
    try:
        return strict_json.loads(path.read_text(encoding="utf-8"), finite=False)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelFileError(f"{what} is not readable JSON ({exc})", path) from exc


def read_config(directory: str | Path) -> dict[str, Any]:
    """Read and check ``method.json`` of a saved model folder (format name and version, ``params`` an object)."""
    path = Path(directory) / CONFIG_FILE
    if not path.is_file():
        raise ModelFileError("not a saved model: method.json is missing", Path(directory))
    saved = read_json(path, "method.json")
    if not isinstance(saved, dict) or saved.get("format") != FORMAT_NAME or "method" not in saved:
        raise ModelFileError("not a goodsad-studio model config", path)
    version = saved.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"model format version {version!r} is newer than this program reads "
            f"({FORMAT_VERSION}); update goodsad-studio",
            path,
        )
    if not isinstance(saved.get("params", {}), dict):
        raise ModelFileError("'params' must be an object", path)
    return saved


def read_state(directory: str | Path, saved: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The arrays of ``directory/state.safetensors``, checked to belong to ``saved`` (its ``method.json``)."""
    path = Path(directory) / STATE_FILE
    arrays, metadata = read_safetensors(path)
    if metadata.get("save_id") != saved.get("save_id"):
        raise ModelFileError("state file does not belong to this method.json (an interrupted save?)", path)
    return arrays


def require(arrays: Mapping[str, np.ndarray], name: str, where: Path, ndim: int | None = None) -> np.ndarray:
    """``arrays[name]``, or a :class:`ModelFileError` naming ``where`` when it is missing or of another rank."""
    if name not in arrays:
        raise ModelFileError(f"state array {name!r} is missing", where)
    array = arrays[name]
    if ndim is not None and array.ndim != ndim:
        raise ModelFileError(f"state array {name!r} has {array.ndim} dimensions, expected {ndim}", where)
    return array


__all__ = [
    "CONFIG_FILE",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "STATE_FILE",
    "read_config",
    "read_safetensors",
    "read_state",
    "require",
    "save_folder",
    "write_safetensors",
]
