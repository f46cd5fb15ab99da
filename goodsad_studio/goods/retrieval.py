"""Which training photos a photo is compared with, and which goods a photo shows: nearest neighbours of global
descriptors (unit vectors; similarity = cosine), the way SKU recognition retrieves the product behind a photo."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from goodsad_studio.errors import ParamError
from goodsad_studio.goods.spec import GoodsSpec


@dataclass(frozen=True)
class Gallery:
    """The training photos of a model: their record ``keys``, ``goods`` ids (None where a name has none) and
    ``descriptors`` (``N x D`` float32 unit vectors), in the order the model was fitted on them."""

    keys: tuple[str, ...]
    goods: tuple[str | None, ...]
    descriptors: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.keys)
        if n == 0 or len(self.goods) != n or self.descriptors.ndim != 2 or len(self.descriptors) != n:
            raise ParamError(
                f"a gallery needs one goods id and one descriptor per training photo: {n} photos, "
                f"{len(self.goods)} goods ids, descriptors {self.descriptors.shape}"
            )

    def photos_of(self, goods: str | None) -> np.ndarray:
        """Indices of the training photos of ``goods`` (none for an unknown or absent id)."""
        if goods is None:
            return np.empty(0, np.int64)
        return np.flatnonzero(np.asarray([g == goods for g in self.goods], bool))

    def compare(
        self,
        descriptors: np.ndarray,
        goods: Sequence[str | None],
        spec: GoodsSpec,
        exclude: Sequence[int | None] | None = None,
    ) -> list[np.ndarray]:
        """For each photo (its descriptor and goods id), the sorted training indices it is compared with under
        ``spec``; ``exclude``: a training index to leave out per photo (leave-one-out scoring of training photos).
        A photo whose goods id is unknown, or has no other training photo, is compared among all photos."""
        return [np.sort(ids) for ids in self.ranked(descriptors, goods, spec, exclude)]

    def ranked(
        self,
        descriptors: np.ndarray,
        goods: Sequence[str | None],
        spec: GoodsSpec,
        exclude: Sequence[int | None] | None = None,
    ) -> list[np.ndarray]:
        """:meth:`compare`'s training indices, most similar first."""
        similarity = descriptors @ self.descriptors.T
        chosen: list[np.ndarray] = []
        everyone = np.arange(len(self.keys))
        for i, goods_id in enumerate(goods):
            left_out = None if exclude is None else exclude[i]
            candidates = self.photos_of(goods_id) if spec.same_goods else everyone
            if left_out is not None:
                candidates = candidates[candidates != left_out]
            if len(candidates) == 0:  # unknown goods, or its only training photo left out: all photos
                candidates = everyone if left_out is None else everyone[everyone != left_out]
            order = np.argsort(-similarity[i, candidates], kind="stable")
            chosen.append(candidates[order[: spec.neighbours] if spec.neighbours else order])
        return chosen

    def identify(self, descriptors: np.ndarray, top: int = 5) -> list[list[tuple[str, float]]]:
        """For each descriptor, the ``top`` goods ids of the most similar training photos, with the similarity of
        each goods' most similar photo (highest first); photos without an id are left out."""
        named = [i for i, g in enumerate(self.goods) if g is not None]
        if not named:
            raise ParamError("none of the model's training photos has a goods id in its name")
        ids = sorted({str(self.goods[i]) for i in named})
        column = {g: j for j, g in enumerate(ids)}
        owner = np.asarray([column[str(self.goods[i])] for i in named])
        similarity = descriptors @ self.descriptors[named].T
        best = np.full((len(descriptors), len(ids)), -np.inf, np.float32)
        for j in range(len(ids)):
            best[:, j] = similarity[:, owner == j].max(1)
        out = []
        for row in best:
            order = np.argsort(-row, kind="stable")[:top]
            out.append([(ids[j], float(row[j])) for j in order])
        return out
