"""The goods id of a photo: retrieval of the category's training photos most like it (SKU recognition by global
descriptor), for ``goodsad-studio identify`` and the studio's rename suggestion.

The gallery — each training photo's goods descriptor (:func:`~goodsad_studio.methods.components.embeddings.
goods_descriptor`, the one the goods-aware methods compare photos by) — needs no fitted model: it is computed
once per category, backbone and input size and kept in the state folder (``galleries/``), keyed like a model by
what shapes it (the descriptor, the backbone and its weights, the pre-processing, the training photos' names,
sizes and modification times). A photo is named by the goods of its most similar training photos.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from goodsad_studio.dataset.imageio import read_reduced
from goodsad_studio.engine.cache import file_signature, model_key
from goodsad_studio.engine.contract import GoodsMatch, Identified, MethodSpec
from goodsad_studio.engine.worker.images import LazyImages
from goodsad_studio.engine.worker.workspace import Workspace, create_method
from goodsad_studio.errors import ParamError, StudioError, WriteError
from goodsad_studio.goods.retrieval import Gallery
from goodsad_studio.methods.api import Capability
from goodsad_studio.methods.components.embeddings import GOODS_DESCRIPTOR
from goodsad_studio.methods.persistence import read_safetensors, write_safetensors
from goodsad_studio.progress import NO_MONITOR, Monitor

if TYPE_CHECKING:
    from goodsad_studio.methods import Method

GALLERIES = "galleries"
MAX_TOP = 100
IDENTIFY_SIZE = 448
"""The network input ``identify`` describes photos at unless the spec sets ``image_size``: twice the detection
input, for the labels' detail (40 look-alike demo goods: top-1 0.915 against 0.855 at 224; ADR 10)."""


def identify(
    workspace: Workspace,
    spec: MethodSpec,
    category: str,
    images: Sequence[str | Path],
    *,
    top: int = 5,
    monitor: Monitor = NO_MONITOR,
) -> Identified:
    """The ``top`` goods ids of ``category`` each photo of ``images`` most likely shows (see the module
    docstring); errors name the photo or the folder at fault."""
    if not 1 <= top <= MAX_TOP:
        raise ParamError(f"ask for 1 to {MAX_TOP} goods ids per photo, not {top}")
    method = identifying_method(spec)
    paths = [Path(p) for p in images]
    for path in paths:
        if not path.is_file():
            raise StudioError("no such image file", path)
    gallery = training_gallery(workspace, method, category, monitor)
    decoded = [read_reduced(path, _input_side(method))[0] for path in paths]
    descriptors = method.descriptors(decoded, monitor) if decoded else np.empty((0, 0), np.float32)
    ranked = gallery.identify(descriptors, top) if decoded else []
    matches = tuple(tuple(GoodsMatch(g, round(s, 6)) for g, s in row) for row in ranked)
    named = sum(g is not None for g in gallery.goods)
    return Identified(tuple(str(p) for p in paths), matches, named)


def identifying_method(spec: MethodSpec) -> Method:
    """An unfitted instance of ``spec``'s method, at :data:`IDENTIFY_SIZE` unless ``image_size`` is given, whose
    goods descriptor names goods; refused for a method without one."""
    method = create_method(replace(spec, params={"image_size": IDENTIFY_SIZE, **spec.params}))
    if Capability.GOODS_AWARE not in method.capabilities:
        raise ParamError(
            f"{spec.method} has no goods descriptor: name goods with a goods-aware method (patchcore, spade)"
        )
    return method


def training_gallery(workspace: Workspace, method: Method, category: str, monitor: Monitor = NO_MONITOR) -> Gallery:
    """The goods descriptors of ``category``'s training photos that have a goods id, from the state folder when
    they are saved there with the same key, else computed and saved."""
    workspace.require_category(category)
    records = [r for r in workspace.training_records(category) if r.goods_id is not None]
    if not records:
        raise StudioError(
            f"none of the training photos of {category!r} has a goods id in its name (GoodsAD names: a 3-digit "
            "goods id and a 3-digit serial, e.g. 042007.jpg)",
            workspace.index.category_dirs.get(category),
        )
    config = method.config()
    identity: dict[str, Any] = {
        "descriptor": GOODS_DESCRIPTOR,
        **{part: config.get(part) for part in ("backbone", "taps", "weights", "preprocess")},
        "training": [(r.key, file_signature(r.image_path)) for r in records],
    }
    path = workspace.state_dir / GALLERIES / category / f"{model_key(identity)}.safetensors"
    keys, goods = tuple(r.key for r in records), tuple(r.goods_id for r in records)
    saved = _read_gallery(path, keys, goods)
    if saved is not None:
        return saved
    descriptors = method.descriptors(LazyImages(records, _input_side(method)), monitor)
    gallery = Gallery(keys, goods, descriptors)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_safetensors(path, {"descriptors": descriptors}, {"format": "goods-gallery"})
    except (OSError, WriteError):
        pass  # a read-only state folder: the gallery is computed again next time
    return gallery


def _read_gallery(path: Path, keys: tuple[str, ...], goods: tuple[str | None, ...]) -> Gallery | None:
    """The gallery saved at ``path`` (whose name is the key of these photos) when it is readable; None to compute
    it afresh."""
    if not path.is_file():
        return None
    try:
        arrays, _ = read_safetensors(path)
        return Gallery(keys, goods, np.ascontiguousarray(arrays["descriptors"], np.float32))
    except (StudioError, KeyError):
        return None  # unreadable, or not one descriptor per photo (Gallery's ParamError): computed again


def _input_side(method: Method) -> int:
    return int(method.hparams.get("image_size") or 224)


__all__ = ["GALLERIES", "IDENTIFY_SIZE", "identify", "identifying_method", "training_gallery"]
