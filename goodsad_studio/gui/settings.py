"""What the studio remembers between runs (QSettings): recent datasets, overlay look, brush, window layout, and the
choices of the Settings dialog (device, default method and parameters, data folder, results cache limit, autosave)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

from PySide6.QtCore import QByteArray, QSettings

from goodsad_studio.gui.documents import AUTOSAVE_MS

MAX_RECENT = 8
DEVICES = ("auto", "cpu", "cuda")
EXECUTORS = ("local", "ray")
"""Where jobs run: this machine (the studio's worker process), or sharded into tasks on a Ray cluster."""
"""The devices the Settings dialog and the Methods panel offer (the engine also takes ``cuda:N``)."""
AUTOSAVE_S = AUTOSAVE_MS / 1000
AUTOSAVE_RANGE_S = (1.0, 600.0)
CACHE_LIMIT_MAX_MB = 1_000_000
WAND_COLOUR_SPACES = ("lab", "rgb", "gray")
WAND_TOLERANCE_MAX = 255.0
SEGMENTERS = ("grabcut", "onnx")
"""The GrabCut tool's segmenters: the built-in GrabCut, or a SAM-style ONNX encoder/decoder pair."""


def _bool(value, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def _float(value, default: float, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return min(high, max(low, number)) if number == number else default


def _int(value, default: int, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(high, max(low, number))


class StudioSettings:
    """Typed access to a ``QSettings`` store; values that are missing or damaged fall back to defaults."""

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else QSettings("goodsad-studio", "goodsad-studio")

    # ------------------------------------------------------------------------------------ datasets
    def recent_datasets(self) -> list[Path]:
        value = self.store.value("recent/datasets", [])
        if isinstance(value, str):
            value = [value]
        # QSettings hands back a str (one entry), a list of str, or None when the key is missing
        return [Path(v) for v in cast("Iterable[object]", value or []) if isinstance(v, str) and v]

    def add_recent(self, root: Path) -> list[Path]:
        root = Path(root).resolve()
        recent = [root] + [p for p in self.recent_datasets() if p != root]
        recent = recent[:MAX_RECENT]
        self.store.setValue("recent/datasets", [str(p) for p in recent])
        return recent

    # ------------------------------------------------------------------------------------ overlay and tools
    @property
    def overlay_opacity(self) -> float:
        return _float(self.store.value("overlay/opacity"), 0.4, 0.0, 1.0)

    @overlay_opacity.setter
    def overlay_opacity(self, value: float) -> None:
        self.store.setValue("overlay/opacity", float(value))

    @property
    def overlay_visible(self) -> bool:
        return _bool(self.store.value("overlay/visible"), True)

    @overlay_visible.setter
    def overlay_visible(self, value: bool) -> None:
        self.store.setValue("overlay/visible", bool(value))

    @property
    def outline_visible(self) -> bool:
        return _bool(self.store.value("overlay/outline"), True)

    @outline_visible.setter
    def outline_visible(self, value: bool) -> None:
        self.store.setValue("overlay/outline", bool(value))

    @property
    def brush_radius(self) -> float:
        return _float(self.store.value("tools/brush_radius"), 4.0, 0.0, 500.0)

    @brush_radius.setter
    def brush_radius(self, value: float) -> None:
        self.store.setValue("tools/brush_radius", float(value))

    @property
    def snap_vertices(self) -> bool:
        return _bool(self.store.value("tools/snap_vertices"), True)

    @snap_vertices.setter
    def snap_vertices(self, value: bool) -> None:
        self.store.setValue("tools/snap_vertices", bool(value))

    @property
    def wand_tolerance(self) -> float:
        """The magic wand's colour tolerance (in the units of its colour space, 0-255 a channel)."""
        return _float(self.store.value("tools/wand_tolerance"), 12.0, 0.0, WAND_TOLERANCE_MAX)

    @wand_tolerance.setter
    def wand_tolerance(self, value: float) -> None:
        self.store.setValue("tools/wand_tolerance", float(value))

    @property
    def wand_colour_space(self) -> str:
        value = self.store.value("tools/wand_colour_space")
        return value if isinstance(value, str) and value in WAND_COLOUR_SPACES else "lab"

    @wand_colour_space.setter
    def wand_colour_space(self, value: str) -> None:
        self.store.setValue("tools/wand_colour_space", value if value in WAND_COLOUR_SPACES else "lab")

    @property
    def segmenter(self) -> str:
        """The GrabCut tool's segmenter: ``grabcut`` (built in) or ``onnx`` (the encoder and decoder files)."""
        value = self.store.value("tools/segmenter")
        return value if isinstance(value, str) and value in SEGMENTERS else "grabcut"

    @segmenter.setter
    def segmenter(self, value: str) -> None:
        self.store.setValue("tools/segmenter", value if value in SEGMENTERS else "grabcut")

    @property
    def onnx_files(self) -> tuple[Path | None, Path | None]:
        """The SAM-style ONNX encoder and decoder chosen (None: not chosen)."""
        found = (self.store.value("tools/onnx_encoder"), self.store.value("tools/onnx_decoder"))
        return cast(
            "tuple[Path | None, Path | None]",
            tuple(Path(v) if isinstance(v, str) and v.strip() else None for v in found),
        )

    @onnx_files.setter
    def onnx_files(self, value: tuple[Path | None, Path | None]) -> None:
        for key, path in zip(("tools/onnx_encoder", "tools/onnx_decoder"), value, strict=True):
            self.store.setValue(key, str(path) if path is not None else "")

    # ------------------------------------------------------------------------------------ engine
    @property
    def device(self) -> str:
        """The device the Methods panel starts with: auto, cpu or cuda."""
        value = self.store.value("engine/device")
        return value if isinstance(value, str) and value in DEVICES else "auto"

    @device.setter
    def device(self, value: str) -> None:
        self.store.setValue("engine/device", value if value in DEVICES else "auto")

    @property
    def default_method(self) -> str:
        """The method the Methods panel shows when a dataset opens ("" leaves the panel's own choice)."""
        value = self.store.value("engine/default_method")
        return value.strip() if isinstance(value, str) else ""

    @default_method.setter
    def default_method(self, value: str) -> None:
        self.store.setValue("engine/default_method", value.strip())

    @property
    def default_params(self) -> dict[str, Any]:
        """The default method's parameters that differ from the method's own defaults (stored as JSON; damaged
        JSON gives none). They were validated against the method's ParamSpecs when set."""
        value = self.store.value("engine/default_params")
        try:
            params = json.loads(value) if isinstance(value, str) and value else {}
        except ValueError:
            return {}
        return params if isinstance(params, dict) else {}

    @default_params.setter
    def default_params(self, value: dict[str, Any]) -> None:
        self.store.setValue("engine/default_params", json.dumps(value, sort_keys=True))

    @property
    def executor(self) -> str:
        """Where fits, predictions and evaluations run: ``local`` (this machine) or ``ray``."""
        value = self.store.value("engine/executor")
        return value if isinstance(value, str) and value in EXECUTORS else "local"

    @executor.setter
    def executor(self, value: str) -> None:
        self.store.setValue("engine/executor", value if value in EXECUTORS else "local")

    @property
    def ray_address(self) -> str:
        """The Ray cluster's address ("": a one-machine Ray started on this computer)."""
        value = self.store.value("engine/ray_address")
        return value.strip() if isinstance(value, str) else ""

    @ray_address.setter
    def ray_address(self, value: str) -> None:
        self.store.setValue("engine/ray_address", value.strip())

    # ------------------------------------------------------------------------------------ files
    @property
    def data_folder(self) -> Path | None:
        """Where the studio keeps its own files (``GOODSAD_STUDIO_DATA``); None: the default XDG folder."""
        value = self.store.value("files/data_folder")
        return Path(value) if isinstance(value, str) and value.strip() else None

    @data_folder.setter
    def data_folder(self, value: Path | None) -> None:
        self.store.setValue("files/data_folder", str(value) if value is not None else "")

    @property
    def cache_limit_mb(self) -> int:
        """The most megabytes a dataset's results cache may hold (0: no limit)."""
        return _int(self.store.value("files/cache_limit_mb"), 0, 0, CACHE_LIMIT_MAX_MB)

    @cache_limit_mb.setter
    def cache_limit_mb(self, value: int) -> None:
        self.store.setValue("files/cache_limit_mb", int(value))

    @property
    def autosave_s(self) -> float:
        """Seconds between autosaves of unsaved edits to the recovery journal."""
        return _float(self.store.value("editing/autosave_s"), AUTOSAVE_S, *AUTOSAVE_RANGE_S)

    @autosave_s.setter
    def autosave_s(self, value: float) -> None:
        self.store.setValue("editing/autosave_s", float(value))

    # ------------------------------------------------------------------------------------ window
    def window_layout(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry, state = self.store.value("window/geometry"), self.store.value("window/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def save_window_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self.store.setValue("window/geometry", geometry)
        self.store.setValue("window/state", state)

    def file_name(self) -> str:
        """The file the settings are kept in."""
        return self.store.fileName()

    def sync(self) -> None:
        self.store.sync()
