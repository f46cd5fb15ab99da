"""PaDiM, SPADE and GDE on the components: SPADE's pixel search among its K nearest training images equals a
brute-force search of their pyramids; GDE's scores are the Mahalanobis distances of pooled and per-position
features; SPADE and GDE (TILING) score a tile of another size on its own grid, PaDiM (tied to its grid) refuses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from goodsad_studio.errors import ParamError
from goodsad_studio.methods.api import Capability, Method
from goodsad_studio.methods.components.embeddings import global_pool, pyramid
from goodsad_studio.methods.components.features import FeatureExtractor
from goodsad_studio.methods.gde import GlobalGaussian
from goodsad_studio.methods.padim import Padim
from goodsad_studio.methods.spade import Spade
from goodsad_studio.progress import Monitor

from .helpers import FAST, texture, with_defect


def _fitted(cls: type[Method], images: list[np.ndarray], **params: object) -> Method:
    method = cls(backbone="mobilenet_v2", device="cpu", **{**FAST, **params})
    method.fit(images)
    return method


def _batch(method: Method, image: np.ndarray, size: int = 64):
    inputs = FeatureExtractor.build(method.roles, {**method.hparams, "image_size": size}, method.setup_request)
    return next(inputs.batches([image], Monitor()))


def test_spade_pixel_search_among_the_nearest_images_is_exact(mobilenet_weights, train_images):
    spade = _fitted(Spade, train_images, k_images=2, kappa=3)
    assert isinstance(spade, Spade) and spade.pixels is not None and spade.global_ is not None
    batch = _batch(spade, with_defect(texture(300)))
    got = spade.score(batch)
    pooled = global_pool(batch.maps["s32"]).numpy().astype(np.float64)
    image_d = np.sqrt(((spade.global_.astype(np.float64) - pooled) ** 2).sum(1))
    nearest = np.sort(np.argsort(image_d)[:2])
    assert float(got.images[0]) == pytest.approx(np.sort(image_d)[:2].mean(), rel=1e-4)
    h, w = spade.grid
    gallery = spade.pixels.rows.reshape(len(spade.global_), h * w, -1)[nearest].reshape(-1, 152).astype(np.float64)
    queries = pyramid(batch.maps).numpy().reshape(h * w, -1).astype(np.float64)
    d = np.sqrt(((queries[:, None, :] - gallery[None]) ** 2).sum(-1))
    expected = np.sort(d, axis=1)[:, :3].mean(1).reshape(h, w)
    np.testing.assert_allclose(got.maps[0], expected, rtol=1e-3, atol=1e-3)


def test_gde_scores_are_mahalanobis_distances_of_pooled_and_per_position_features(mobilenet_weights, train_images):
    gde = _fitted(GlobalGaussian, train_images)
    assert isinstance(gde, GlobalGaussian) and gde.gaussian is not None
    batch = _batch(gde, with_defect(texture(300)))
    got = gde.score(batch)
    mean = gde.gaussian.mean[0].double().numpy()
    precision = gde.gaussian.precision[0].double().numpy()
    fmap = batch.maps["s32"][0].double().numpy()  # C x h x w
    pooled = fmap.mean((1, 2)) - mean
    assert float(got.images[0]) == pytest.approx(float(np.sqrt(pooled @ precision @ pooled)), rel=1e-6)
    corner = fmap[:, 0, 0] - mean
    assert float(got.maps[0, 0, 0]) == pytest.approx(float(np.sqrt(corner @ precision @ corner)), rel=1e-5)
    normal, defective = gde.predict([texture(301), with_defect(texture(302))])
    assert defective.score > normal.score


@pytest.mark.parametrize("cls", [Spade, GlobalGaussian, Padim])
def test_only_the_tiling_methods_score_a_tile_of_another_size(cls, mobilenet_weights, train_images):
    method = _fitted(cls, train_images, **({"n_features": 24} if cls is Padim else {}))
    batch = _batch(method, texture(300, (128, 128)), size=128)
    if Capability.TILING not in cls.capabilities:
        with pytest.raises(ParamError, match="feature grid .* differs from the fitted"):
            method.score(batch)
        return
    scores = method.score(batch)
    grid = (4, 4) if cls is GlobalGaussian else (16, 16)  # s32 / s8 grids of a 128 px input
    maps = torch.as_tensor(scores.maps)
    assert tuple(maps.shape) == (1, *grid) and bool(torch.isfinite(maps).all())
