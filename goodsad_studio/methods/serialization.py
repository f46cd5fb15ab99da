"""Model files: a safetensors file of arrays plus a JSON config — never pickle.

The safetensors file is written here by streaming each array to disk through :func:`atomic_writer`, so saving a
1.6 GB PatchCore bank does not need a second 1.6 GB copy in memory (``safetensors.numpy.save`` builds the whole
file as one ``bytes``). Reading uses the safetensors library itself, which validates the header and offsets.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from goodsad_studio.errors import ModelFileError
from goodsad_studio.fsutil import atomic_writer

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
