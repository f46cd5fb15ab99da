"""Goods-aware scoring around a goods-aware method (PatchCore, SPADE): the engine-side wrapper that compares each
photo with chosen training photos and calibrates its scores per goods, without changing the method.

Fitting: after the method's own fit, every training photo gets a global descriptor (the method's
:meth:`~goodsad_studio.methods.api.Method.describe`, one more pass over the photos) and, with calibration, a
leave-one-out score: the photo scored as a test photo against the other training photos it would be compared
with. Predicting: each batch's descriptors choose each photo's training photos (:class:`Gallery.compare`), the
method scores the photo against those only, and calibration turns the score and map into z-scores of the photo's
goods. The gallery (record keys, goods ids, calibration) is saved in ``method.json`` under ``goods``, the
descriptors beside it in ``gallery.safetensors``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from goodsad_studio.engine.cache import CATEGORY_SCALE
from goodsad_studio.errors import ModelFileError, ParamError
from goodsad_studio.goods.calibration import Calibration
from goodsad_studio.goods.retrieval import Gallery
from goodsad_studio.goods.spec import GoodsSpec
from goodsad_studio.methods.api import Batch, Capability, Compare
from goodsad_studio.methods.components.embeddings import GOODS_DESCRIPTOR
from goodsad_studio.methods.persistence import read_safetensors, write_safetensors
from goodsad_studio.progress import NO_MONITOR, Monitor

if TYPE_CHECKING:
    from goodsad_studio.methods import Method

GOODS_KEY = "goods"
"""The key of the goods-aware comparison in a model's config and its ``method.json`` (absent when off)."""
GALLERY_FILE = "gallery.safetensors"
SHOWN_NEIGHBOURS = 50
"""At most this many training photos are recorded with a result as the ones it was compared with."""


@dataclass(frozen=True)
class GoodsPrediction:
    """One photo's score and map (calibrated when asked for) and the record keys of the training photos it was
    compared with, most similar first (empty when it was compared with all of them)."""

    score: float
    anomaly_map: np.ndarray
    neighbours: tuple[str, ...]
    calibrated: str | None = None
    """The goods id whose normal scores the score and map are z-scores of ("category": the category's scale, for
    a goods without its own); None when uncalibrated."""


def require_goods_aware(method: Method) -> None:
    """Refuse a method that cannot score a photo against chosen training photos (or leave some out)."""
    if Capability.GOODS_AWARE not in method.capabilities:
        raise ParamError(
            f"{method.name} cannot compare a photo with chosen training photos: goods-aware comparison needs a "
            "memory-based method (patchcore, spade)"
        )


def calibrated_as(calibration: Calibration, goods_id: str | None) -> str:
    """The goods whose scale ``calibration`` puts a photo of ``goods_id`` on (:data:`CATEGORY_SCALE`: the
    category's, for a goods it has no figures of)."""
    return goods_id if goods_id is not None and goods_id in calibration.goods else CATEGORY_SCALE


class GoodsAware:
    """``method`` compared with training photos chosen by ``spec`` (see the module docstring)."""

    def __init__(self, method: Method, spec: GoodsSpec):
        require_goods_aware(method)
        self.method, self.spec = method, spec
        self.gallery: Gallery | None = None
        self.calibration: Calibration | None = None

    def fit(
        self,
        images: Iterable[np.ndarray],
        keys: Sequence[str],
        goods: Sequence[str | None],
        monitor: Monitor = NO_MONITOR,
    ) -> None:
        """After the method's fit on ``images`` (the same photos, in the same order, iterable again): the gallery,
        and with calibration the leave-one-out scores it is fitted on."""
        descriptors = self.method.descriptors(images, monitor)
        if len(descriptors) != len(keys):
            raise ParamError(f"{len(keys)} training photos gave {len(descriptors)} descriptors")
        gallery = Gallery(tuple(keys), tuple(goods), descriptors)
        calibration = None
        if self.spec.calibrate:
            chosen: list[np.ndarray] = []
            compare = self._compare(gallery, list(goods), chosen, leave_out=True)
            scores = [p.score for p in self.method.predict(images, monitor, compare=compare)]
            calibration = Calibration.fit(scores, list(goods))
        self.gallery, self.calibration = gallery, calibration

    def predict(self, images: Sequence[np.ndarray], goods: Sequence[str | None]) -> list[GoodsPrediction]:
        """Each photo (of goods id ``goods[i]``, None where unknown) scored against its chosen training photos. A
        photo whose goods id is unknown takes the goods its descriptor names (:meth:`Gallery.identify`'s first)
        for its comparison and its calibration."""
        gallery = self.method.fitted(self.gallery)
        chosen: list[np.ndarray] = []
        ids = list(goods)
        compare = self._compare(gallery, ids, chosen, leave_out=False)
        predictions = self.method.predict(images, compare=compare)
        out = []
        for prediction, goods_id, picked in zip(predictions, ids, chosen, strict=True):
            score, values, scale = prediction.score, prediction.anomaly_map, None
            if self.calibration is not None:
                score = float(self.calibration.apply(score, goods_id))
                values = np.asarray(self.calibration.apply(values, goods_id), np.float32)
                scale = calibrated_as(self.calibration, goods_id)
            shown = tuple(gallery.keys[j] for j in picked[:SHOWN_NEIGHBOURS]) if self.spec.restricted else ()
            out.append(GoodsPrediction(float(score), values, shown, scale))
        return out

    def _compare(
        self, gallery: Gallery, goods: list[str | None], chosen: list[np.ndarray], *, leave_out: bool
    ) -> Compare:
        """The method's ``compare`` callback: each image's training photos, most similar first (also appended to
        ``chosen``, for the result). Predicting, an unknown goods id in ``goods`` is replaced by the one the
        photo's descriptor names."""
        named = any(g is not None for g in gallery.goods)

        def compare(batch: Batch, descriptors: np.ndarray) -> list[list[int]]:
            first, count = batch.first, len(batch)
            exclude: list[int | None] | None = list(range(first, first + count)) if leave_out else None
            if not leave_out and named:
                unknown = [i for i in range(count) if goods[first + i] is None]
                if unknown:
                    for i, top in zip(unknown, gallery.identify(descriptors[unknown], top=1), strict=True):
                        goods[first + i] = top[0][0]
            picked = gallery.ranked(descriptors, goods[first : first + count], self.spec, exclude)
            chosen.extend(picked)
            if not leave_out and not self.spec.restricted:  # every photo: the plain search, at the plain cost
                return [[] for _ in picked]
            return [ids.tolist() for ids in picked]

        return compare

    # -- saved with the model ------------------------------------------------------------------------------------
    def record(self) -> dict[str, Any]:
        """What ``method.json`` keeps under ``goods``."""
        gallery = self.method.fitted(self.gallery)
        return {
            "spec": self.spec.config(),
            "descriptor": GOODS_DESCRIPTOR,
            "keys": list(gallery.keys),
            "goods": list(gallery.goods),
            "calibration": None if self.calibration is None else self.calibration.config(),
        }

    def save_gallery(self, directory: Path) -> None:
        gallery = self.method.fitted(self.gallery)
        directory.mkdir(parents=True, exist_ok=True)
        write_safetensors(directory / GALLERY_FILE, {"descriptors": gallery.descriptors}, {"format": "gallery"})

    def restore(self, directory: Path, recorded: Any) -> None:
        """The gallery saved by :meth:`record` and :meth:`save_gallery`; :class:`ModelFileError` when it does not
        fit this comparison."""
        where = directory / "method.json"
        try:
            if not isinstance(recorded, dict):
                raise ParamError("no goods-aware gallery is recorded")
            spec = GoodsSpec.from_config(recorded.get("spec"))
            if spec != self.spec:
                raise ParamError(f"this model was fitted {spec}, not {self.spec}")
            if recorded.get("descriptor") != GOODS_DESCRIPTOR:
                raise ParamError(
                    f"its gallery holds other descriptors ({recorded.get('descriptor')}) than this version's"
                )
            arrays, _ = read_safetensors(directory / GALLERY_FILE)
            keys, goods = recorded.get("keys"), recorded.get("goods")
            if not isinstance(keys, list) or not isinstance(goods, list) or "descriptors" not in arrays:
                raise ParamError("the goods-aware gallery is incomplete")
            gallery = Gallery(
                tuple(str(k) for k in keys),
                tuple(None if g is None else str(g) for g in goods),
                np.ascontiguousarray(arrays["descriptors"], np.float32),
            )
            cal = recorded.get("calibration")
            calibration = None if cal is None else Calibration.from_config(cal)
            if spec.calibrate != (calibration is not None):
                raise ParamError("the per-goods calibration is missing")
        except ParamError as exc:
            raise ModelFileError(exc.problem, where) from None
        self.gallery, self.calibration = gallery, calibration


__all__ = ["GALLERY_FILE", "GOODS_KEY", "GoodsAware", "GoodsPrediction", "calibrated_as", "require_goods_aware"]
