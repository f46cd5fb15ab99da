"""What the studio remembers between runs (QSettings): recent datasets, overlay look, brush, window layout."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import cast

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT = 8


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

    def sync(self) -> None:
        self.store.sync()
