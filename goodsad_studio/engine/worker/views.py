"""A method seen through a :class:`~goodsad_studio.native.spec.ViewSpec`: the engine-side adapter that gives every
method native resolution without changing it.

The method itself only ever sees images. Fitting, it gets the views of each training photo: the object crop
(squared, for the network's square input) or, with tiles, the tiles of the crop (or of the whole photo), and with
``multiscale`` the whole crop besides. Predicting, each photo's views go through the method's own ``predict`` in
batches of its ``batch_size`` (so a 3000 x 3000 photo's tiles are never all in memory as features at once); the
tiles' maps are blended into one map of the crop (:class:`~goodsad_studio.native.tiles.Stitcher`), fused with the
whole-crop map under ``multiscale`` (their mean: both are scored against the same fitted state, so on one scale),
and pasted into a map of the photo's own size, the region outside the crop at the map's floor. The image score is
the maximum of that map.

A plain view (whole photo) is a pass-through: the method's config, keys and outputs are what they always were.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from goodsad_studio.engine.worker.goods import GOODS_KEY, GoodsAware, calibrated_as, require_goods_aware
from goodsad_studio.errors import ModelFileError, ParamError
from goodsad_studio.goods.calibration import Calibration
from goodsad_studio.goods.spec import GoodsSpec
from goodsad_studio.methods.api import Capability
from goodsad_studio.methods.components.embeddings import GOODS_DESCRIPTOR
from goodsad_studio.methods.persistence import read_config
from goodsad_studio.native.crop import MIN_SIDE as CROP_MIN_SIDE
from goodsad_studio.native.crop import Box, find_object, square, whole
from goodsad_studio.native.spec import ViewSpec
from goodsad_studio.native.tiles import Stitcher, paste, tile_boxes
from goodsad_studio.progress import NO_MONITOR, Monitor, Stage

if TYPE_CHECKING:
    from goodsad_studio.methods import Method, MethodInfo

VIEW_KEY = "view"
"""The key of the view in a model's config and its ``method.json`` (absent for the plain view)."""
CROP_DECODE_FACTOR = 4
"""With the crop and no tiles, photos are decoded with a shorter side of at least this many network inputs (a crop
keeps a quarter of the side or more), not in full."""
PLAIN_GOODS = GoodsSpec(calibrate=False)
"""Compared with all training photos, uncalibrated: nothing goods-aware."""
NATIVE = 1 << 30
"""A decode side no photo reaches: decode at full resolution."""


@dataclass(frozen=True)
class ViewedPrediction:
    """One photo's result and what the network saw of it: ``crop`` and ``tiles`` in the given image's pixels
    (``crop`` None for the whole photo, ``tiles`` empty without tiling)."""

    score: float
    anomaly_map: np.ndarray
    crop: Box | None = None
    tiles: tuple[Box, ...] = ()
    neighbours: tuple[str, ...] = ()
    """Goods-aware models: the training photos it was compared with, most similar first."""
    calibrated: str | None = None
    """Calibrated models: the goods id whose scale the score and map are on ("category": the category's)."""


@dataclass(frozen=True)
class PhotoViews:
    """Where the views of one photo are: the crop (None: the whole photo), the box the whole view covers, and the
    tiles."""

    crop: Box | None
    whole_view: Box | None
    tiles: tuple[Box, ...]


class ViewedMethod:
    """``method`` fitted and predicting through ``view`` (see the module docstring), and compared with the
    training photos ``goods`` chooses (:mod:`.goods`; on the whole photo only) or calibrated per goods (whole
    photos or views: a viewed photo's stitched score and map, from leave-one-out scores that leave its own views
    out of the bank). ``auto`` calibration is resolved here: on for a goods-aware method with the plain view."""

    def __init__(self, method: Method, view: ViewSpec, goods: GoodsSpec = PLAIN_GOODS):
        self.method = method
        self.view = view
        self.goods = goods = goods.resolved(Capability.GOODS_AWARE in method.capabilities, not view.active)
        self.goods_aware: GoodsAware | None = None
        self.view_calibration: Calibration | None = None
        """A viewed model's per-goods calibration (None until fitted, and without one)."""
        if goods.active and view.active:
            if goods.restricted:
                raise ParamError(
                    f"goods-aware comparison ({goods.compare_with}) scores whole photos: turn the view off "
                    f"(--tiling off --crop off), not {view}"
                )
            require_goods_aware(method)
        elif goods.active:
            self.goods_aware = GoodsAware(method, goods)

    @property
    def calibrates_views(self) -> bool:
        return self.view.active and self.goods.calibrate is True

    # -- what the workspace asks of a model ----------------------------------------------------------------------
    @property
    def hparams(self) -> dict[str, Any]:
        return self.method.hparams

    @property
    def info(self) -> MethodInfo:
        return self.method.info

    @property
    def is_fitted(self) -> bool:
        return self.method.is_fitted

    @property
    def image_size(self) -> int:
        return int(self.method.hparams.get("image_size") or 224)

    def config(self) -> dict[str, Any]:
        """The method's config, with the view when it is not the plain one."""
        config = self.method.config()
        if self.view.active:
            config[VIEW_KEY] = self.view.config()
        if self.goods.active:
            config[GOODS_KEY] = {**self.goods.config(), "descriptor": GOODS_DESCRIPTOR}
        return config

    def decode_side(self) -> int:
        """The shorter side photos are decoded at for this view (the JPEG decoder reduces larger ones)."""
        if self.view.tiles is not None:
            return NATIVE
        if self.view.crop:  # never below the size the crop works at, or a reduced decode would turn it off
            return max(CROP_DECODE_FACTOR * self.image_size, CROP_MIN_SIDE)
        return self.image_size

    def save(self, directory: str | Path) -> Path:
        extra: dict[str, Any] = {VIEW_KEY: self.view.config()} if self.view.active else {}
        if self.goods_aware is not None:
            self.goods_aware.save_gallery(Path(directory))  # before method.json, which completes the folder
            extra[GOODS_KEY] = self.goods_aware.record()
        if self.calibrates_views:
            calibration = self.method.fitted(self.view_calibration)
            extra[GOODS_KEY] = {"spec": self.goods.config(), "calibration": calibration.config()}
        return self.method.save(directory, extra=extra or None)

    @classmethod
    def load(
        cls,
        method_class: type[Method],
        directory: Path,
        view: ViewSpec,
        *,
        device: str,
        weights: str,
        goods: GoodsSpec = PLAIN_GOODS,
    ) -> ViewedMethod:
        """The model saved in ``directory``, refused (:class:`ModelFileError`) when it was fitted for another
        view or another goods-aware comparison."""
        saved = read_config(directory)
        try:
            recorded = ViewSpec.from_config(saved.get(VIEW_KEY))
        except ParamError as exc:
            raise ModelFileError(exc.problem, directory / "method.json") from None
        if recorded != view:
            raise ModelFileError(f"this model was fitted for the view {recorded}, not {view}", directory)
        goods = goods.resolved(Capability.GOODS_AWARE in method_class.capabilities, not view.active)
        if not goods.active and saved.get(GOODS_KEY) is not None:
            raise ModelFileError("this model was fitted goods-aware, not compared with all training photos", directory)
        viewed = cls(method_class.load(directory, device=device, weights=weights), view, goods)
        if viewed.goods_aware is not None:
            viewed.goods_aware.restore(directory, saved.get(GOODS_KEY))
        if viewed.calibrates_views:
            viewed.view_calibration = _saved_calibration(saved.get(GOODS_KEY), goods, directory)
        return viewed

    # -- views ---------------------------------------------------------------------------------------------------
    def views_of(self, image: np.ndarray) -> PhotoViews:
        """Where the views of ``image`` are."""
        shape = image.shape
        crop = find_object(image) if self.view.crop else None
        region = crop if crop is not None else whole(shape)
        tiles: tuple[Box, ...] = ()
        if self.view.tiles is not None:
            tiles = tuple(tile_boxes(region, self.view.tiles.size, self.view.tiles.overlap))
        whole_view: Box | None = None
        if self.view.tiles is None or self.view.multiscale:
            whole_view = square(region, shape) if crop is not None else region
        return PhotoViews(crop, whole_view, tiles)

    def training_views(self, images: Iterable[np.ndarray]) -> TrainingViews:
        return TrainingViews(self, images)

    # -- fit and predict -----------------------------------------------------------------------------------------
    def fit(
        self,
        images: Iterable[np.ndarray],
        monitor: Monitor = NO_MONITOR,
        *,
        keys: Sequence[str] = (),
        goods: Sequence[str | None] = (),
    ) -> None:
        """Fit on ``images`` (iterable again, for a goods-aware model), the photos of record ``keys`` and goods ids
        ``goods`` (what a goods-aware model records of them)."""
        if not self.view.active:
            self.method.fit(images, monitor)
            if self.goods_aware is not None:
                self.goods_aware.fit(images, keys, goods, monitor)
            return
        self.method.fit(self.training_views(images), monitor)
        if self.calibrates_views:
            self.view_calibration = self._fit_calibration(images, goods, monitor)

    def _fit_calibration(
        self, images: Iterable[np.ndarray], goods: Sequence[str | None], monitor: Monitor
    ) -> Calibration:
        """Per-goods calibration from each training photo's leave-one-out score: the photo seen through the view
        as a test photo, its own views left out of the bank (they are contiguous in the fit's image set, in the
        order :class:`TrainingViews` gives them)."""
        total = len(images) if isinstance(images, Sized) else None
        monitor.stage(Stage.PREDICT, total, "leave-one-out scores, for the per-goods calibration")
        scores, first = [], 0
        for done, image in enumerate(images, start=1):
            views = self.views_of(image)
            count = len(views.tiles) + (views.whole_view is not None)
            scores.append(self._predict_one(image, monitor, views, range(first, first + count)).score)
            first += count
            monitor.advance(done)
        return Calibration.fit(scores, _goods_ids(goods, len(scores)))

    def predict(
        self, images: Sequence[np.ndarray], monitor: Monitor = NO_MONITOR, *, goods: Sequence[str | None] = ()
    ) -> list[ViewedPrediction]:
        """Each image's score and map (at the image's own size) with what the network saw of it; ``monitor`` is
        only checked for cancel (the caller reports progress by photo). ``goods``: each photo's goods id (None
        where unknown), for a goods-aware model."""
        if self.goods_aware is not None:
            return [
                ViewedPrediction(p.score, p.anomaly_map, neighbours=p.neighbours, calibrated=p.calibrated)
                for p in self.goods_aware.predict(images, _goods_ids(goods, len(images)))
            ]
        if not self.view.active:
            return [ViewedPrediction(p.score, p.anomaly_map) for p in self.method.predict(images)]
        predictions = [self._predict_one(image, monitor) for image in images]
        if not self.calibrates_views:
            return predictions
        calibration = self.method.fitted(self.view_calibration)
        return [
            replace(
                p,
                score=float(calibration.apply(p.score, g)),
                anomaly_map=np.asarray(calibration.apply(p.anomaly_map, g), np.float32),
                calibrated=calibrated_as(calibration, g),
            )
            for p, g in zip(predictions, _goods_ids(goods, len(images)), strict=True)
        ]

    def _predict_one(
        self, image: np.ndarray, monitor: Monitor, views: PhotoViews | None = None, leave_out: Sequence[int] = ()
    ) -> ViewedPrediction:
        """One photo through the view (``views``: where they are, when known); ``leave_out``: training images
        (views) it is not compared with."""
        views = views if views is not None else self.views_of(image)
        region = views.crop if views.crop is not None else whole(image.shape)
        height, width = image.shape[:2]
        maps: list[np.ndarray] = []
        if views.tiles:
            stitcher = Stitcher(region)
            for tile, values in self._each_map(image, views.tiles, monitor, leave_out):
                stitcher.add(tile, values)
            maps.append(stitcher.result())
        if views.whole_view is not None:
            ((_, values),) = self._each_map(image, (views.whole_view,), monitor, leave_out)
            maps.append(_within(values, views.whole_view, region))
        region_map = maps[0] if len(maps) == 1 else np.asarray(np.mean(maps, axis=0), np.float32)
        full = paste(region_map, region, (height, width))
        return ViewedPrediction(float(full.max()), full, views.crop, views.tiles)

    def _each_map(
        self, image: np.ndarray, boxes: Sequence[Box], monitor: Monitor, leave_out: Sequence[int] = ()
    ) -> Iterator[tuple[Box, np.ndarray]]:
        """Each box's map, predicted by the method in batches of its ``batch_size`` (not compared with the
        training images ``leave_out``)."""
        step = max(1, int(self.method.batch_size))
        for start in range(0, len(boxes), step):
            monitor.check()
            chunk = boxes[start : start + step]
            predictions = self.method.predict([_cut(image, box) for box in chunk], leave_out=leave_out)
            yield from zip(chunk, (p.anomaly_map for p in predictions), strict=True)


class TrainingViews:
    """The views of training photos, as the method's ``fit`` iterates them (again on every pass)."""

    def __init__(self, viewed: ViewedMethod, images: Iterable[np.ndarray]):
        self.viewed = viewed
        self.images = images

    def __iter__(self) -> Iterator[np.ndarray]:
        for image in self.images:
            views = self.viewed.views_of(image)
            if views.whole_view is not None:
                yield _cut(image, views.whole_view)
            for tile in views.tiles:
                yield _cut(image, tile)


def _goods_ids(goods: Sequence[str | None], count: int) -> list[str | None]:
    """Each photo's goods id, or None for all ``count`` photos when none were given."""
    return list(goods) if goods else [None] * count


def _saved_calibration(recorded: Any, goods: GoodsSpec, directory: Path) -> Calibration:
    """A viewed model's calibration as :meth:`ViewedMethod.save` recorded it; :class:`ModelFileError` when it
    is missing or of another comparison."""
    try:
        if not isinstance(recorded, dict):
            raise ParamError("no per-goods calibration is recorded")
        spec = GoodsSpec.from_config(recorded.get("spec"))
        if spec != goods:
            raise ParamError(f"this model was fitted {spec}, not {goods}")
        return Calibration.from_config(recorded.get("calibration"))
    except ParamError as exc:
        raise ModelFileError(exc.problem, directory / "method.json") from None


def _cut(image: np.ndarray, box: Box) -> np.ndarray:
    x0, y0, x1, y1 = box
    return np.ascontiguousarray(image[y0:y1, x0:x1])


def _within(values: np.ndarray, view: Box, region: Box) -> np.ndarray:
    """The map of ``view`` (a square around ``region``) cut to ``region``."""
    vx0, vy0, vx1, vy1 = view
    if values.shape != (vy1 - vy0, vx1 - vx0):
        values = cv2.resize(values, (vx1 - vx0, vy1 - vy0), interpolation=cv2.INTER_LINEAR)
    x0, y0, x1, y1 = region
    return np.ascontiguousarray(values[y0 - vy0 : y1 - vy0, x0 - vx0 : x1 - vx0], np.float32)


__all__ = ["NATIVE", "VIEW_KEY", "PhotoViews", "TrainingViews", "ViewedMethod", "ViewedPrediction"]
