"""How a method sees a photo: whole (the papers' squash to the network input), through the object crop, in tiles at
native resolution, or in tiles and whole at once (multi-scale), and the ``auto`` choice between them.

The choice is written ``--tiling auto|off|SIZE[:OVERLAP]`` and ``--crop auto|off|on`` (plus ``--multiscale``):
``SIZE`` is a tile's side in the photo's own pixels (each tile is then resized to the method's ``image_size``),
``OVERLAP`` the pixels neighbouring tiles share (a quarter of ``SIZE`` when left out). ``auto`` is resolved once,
when a model is fitted, from the training photos' size (:func:`resolve`); the resolved :class:`ViewSpec` is part of
the model's config, and so of its key, its results' key and its saved ``method.json``. The defaults are chosen from
the native-resolution benchmark (docs/adr/0009-native-resolution-views.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from goodsad_studio.errors import ParamError

AUTO = "auto"
OFF = "off"
ON = "on"

MIN_TILE = 32
AUTO_TILE_FACTOR = 2
"""``auto`` tiles are this many network inputs wide: a tile of 448 photo pixels for a 224 network (scale 1/2)."""
AUTO_TILING_MIN_SIDE = 1024
"""``auto`` tiles photos whose shorter side is at least this; smaller ones are seen whole."""
AUTO_CROP_MIN_SIDE = 1024
"""``auto`` crops photos whose shorter side is at least this (where the crop's focus cue is reliable)."""


@dataclass(frozen=True)
class TileSpec:
    """Square tiles of ``size`` photo pixels, neighbours sharing ``overlap`` of them."""

    size: int
    overlap: int

    def __post_init__(self) -> None:
        if self.size < MIN_TILE:
            raise ParamError(f"a tile must be at least {MIN_TILE} pixels, got {self.size}")
        if not 0 <= self.overlap < self.size:
            raise ParamError(f"the tile overlap must be from 0 to {self.size - 1} pixels, got {self.overlap}")

    def __str__(self) -> str:
        return f"{self.size}:{self.overlap}"


@dataclass(frozen=True)
class ViewSpec:
    """What a method sees of each photo: the object crop or not, tiles or not, and the whole-view pass fused with
    the tiled one (``multiscale``, only with tiles)."""

    crop: bool = False
    tiles: TileSpec | None = None
    multiscale: bool = False

    def __post_init__(self) -> None:
        if self.multiscale and self.tiles is None:
            raise ParamError("multi-scale fuses the whole view with tiles: choose a tile size too")

    @property
    def active(self) -> bool:
        """False for the plain whole-photo view (the model's config then stays as it always was)."""
        return self.crop or self.tiles is not None

    def config(self) -> dict[str, Any]:
        return {
            "crop": self.crop,
            "tiles": None if self.tiles is None else {"size": self.tiles.size, "overlap": self.tiles.overlap},
            "multiscale": self.multiscale,
        }

    @classmethod
    def from_config(cls, data: Any) -> ViewSpec:
        """The view recorded by :meth:`config`; a :class:`ParamError` when it is malformed."""
        if data is None:
            return cls()
        try:
            tiles = data.get("tiles")
            return cls(
                bool(data["crop"]),
                None if tiles is None else TileSpec(int(tiles["size"]), int(tiles["overlap"])),
                bool(data.get("multiscale", False)),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ParamError(f"the recorded view {data!r} is malformed ({exc})") from None

    def __str__(self) -> str:
        parts = ["object crop"] if self.crop else []
        if self.tiles is not None:
            parts.append(f"tiles {self.tiles}" + (" + whole" if self.multiscale else ""))
        return ", ".join(parts) or "whole photo"


@dataclass(frozen=True)
class ViewRequest:
    """A view as asked for, ``auto`` parts not yet resolved: ``tiling`` is ``"auto"``, ``"off"`` or a
    :class:`TileSpec`; ``crop`` is ``"auto"``, ``"on"`` or ``"off"``."""

    tiling: str | TileSpec = OFF
    crop: str = OFF
    multiscale: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.tiling, str) and self.tiling not in (AUTO, OFF):
            raise ParamError(f"tiling must be auto, off or SIZE[:OVERLAP], got {self.tiling!r}")
        if self.crop not in (AUTO, ON, OFF):
            raise ParamError(f"crop must be auto, on or off, got {self.crop!r}")
        if self.multiscale and self.tiling == OFF:
            raise ParamError("multi-scale fuses the whole view with tiles: choose a tiling too")

    @classmethod
    def parse(cls, tiling: str = OFF, crop: str = OFF, multiscale: bool = False) -> ViewRequest:
        """From the command line's (or the method form's) words; a :class:`ParamError` saying what is wrong."""
        return cls(parse_tiling(tiling), str(crop).strip().lower(), multiscale)

    @property
    def is_plain(self) -> bool:
        return self.tiling == OFF and self.crop == OFF and not self.multiscale

    def __str__(self) -> str:
        words = f"tiling {self.tiling}, crop {self.crop}"
        return words + (", multi-scale" if self.multiscale else "")


def parse_tiling(text: str) -> str | TileSpec:
    """``"auto"``, ``"off"`` or a :class:`TileSpec` from ``SIZE[:OVERLAP]``."""
    word = str(text).strip().lower()
    if word in (AUTO, OFF):
        return word
    size_text, _, overlap_text = word.partition(":")
    try:
        size = int(size_text)
        overlap = int(overlap_text) if overlap_text else size // 4
    except ValueError:
        raise ParamError(f"tiling must be auto, off or SIZE[:OVERLAP] in pixels (e.g. 448:112), got {text!r}") from None
    return TileSpec(size, overlap)


def auto_tiles(image_size: int) -> TileSpec:
    size = AUTO_TILE_FACTOR * image_size
    return TileSpec(size, size // 4)


def resolve(request: ViewRequest, shorter_side: int, image_size: int) -> ViewSpec:
    """The view ``request`` means for photos whose (median) shorter side is ``shorter_side`` and a method whose
    network input is ``image_size``."""
    if request.tiling == AUTO:
        tiles = auto_tiles(image_size) if shorter_side >= AUTO_TILING_MIN_SIDE else None
    else:
        tiles = request.tiling if isinstance(request.tiling, TileSpec) else None
    crop = request.crop == ON or (request.crop == AUTO and shorter_side >= AUTO_CROP_MIN_SIDE)
    return ViewSpec(crop, tiles, request.multiscale and tiles is not None)
