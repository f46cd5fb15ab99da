"""Image file names: GoodsAD's six digits (goods id + serial), MVTec's three, and what counts as an image or mask.

A GoodsAD name such as ``042017`` is goods (product) 042 of its category, photo 017 of that goods. An MVTec name
such as ``017`` has no goods id: all images of the category form one group. Any other stem is accepted too (the
goods id is then unknown) and the index notes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})
MASK_SUFFIXES = frozenset({".png", ".bmp", ".tif", ".tiff"})
MASK_STEM_SUFFIX = "_mask"
GOOD = "good"
SPLITS = ("train", "test")
GROUND_TRUTH = "ground_truth"
NO_GOODS_ID = "all"
"""The group name for images whose names carry no goods id (MVTec's three-digit names and others)."""

_GOODSAD = re.compile(r"^(\d{3})(\d{3})$")
_MVTEC = re.compile(r"^\d{3}$")


@dataclass(frozen=True, slots=True)
class ParsedName:
    goods_id: str | None
    serial: str | None
    style: str  # "goodsad", "mvtec" or "other"


def parse_stem(stem: str) -> ParsedName:
    """Split an image stem into goods id and serial by the naming style it follows."""
    match = _GOODSAD.match(stem)
    if match:
        return ParsedName(match.group(1), match.group(2), "goodsad")
    if _MVTEC.match(stem):
        return ParsedName(None, stem, "mvtec")
    return ParsedName(None, None, "other")


def is_image_file(name: str) -> bool:
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in IMAGE_SUFFIXES


def mask_stem_to_image_stem(stem: str) -> str:
    """``017_mask`` -> ``017``; ``017`` stays ``017`` (datasets that name masks like their images)."""
    if stem.endswith(MASK_STEM_SUFFIX):
        return stem[: -len(MASK_STEM_SUFFIX)]
    return stem
