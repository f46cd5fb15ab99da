"""Goods-aware detection: which training photos a photo is compared with, per-goods calibration, the methods'
restricted scoring, and the engine's goods-aware models (config, key, saved gallery, cached neighbours)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from methods.conftest import mobilenet_weights  # noqa: F401  (a fixture, found by name)

from goodsad_studio.dataset.demo import generate_demo
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.contract import MethodSpec
from goodsad_studio.engine.inspect import CALIBRATED_RANGE, colour_range
from goodsad_studio.engine.worker.goods import GALLERY_FILE, GOODS_KEY
from goodsad_studio.engine.worker.images import LazyImages
from goodsad_studio.engine.worker.views import ViewedMethod
from goodsad_studio.engine.worker.workspace import Workspace
from goodsad_studio.errors import ModelFileError, ParamError
from goodsad_studio.goods.calibration import Calibration
from goodsad_studio.goods.retrieval import Gallery
from goodsad_studio.goods.spec import GoodsSpec
from goodsad_studio.methods import create_method
from goodsad_studio.native.spec import TileSpec, ViewRequest, ViewSpec

pytestmark = pytest.mark.usefixtures("mobilenet_weights")


# -- the spec ------------------------------------------------------------------------------------------------------
def test_compare_with_words_parse_and_bad_ones_say_what_is_wrong():
    assert GoodsSpec.parse("all") == GoodsSpec() and not GoodsSpec().active and GoodsSpec().calibrate is None
    assert GoodsSpec.parse("goods") == GoodsSpec(True, 0)
    assert GoodsSpec.parse("5", "off") == GoodsSpec(False, 5, False)
    assert GoodsSpec.parse("Goods:3", calibrate=True) == GoodsSpec.parse("goods:3", "on") == GoodsSpec(True, 3, True)
    for spec in (GoodsSpec(True, 3, True), GoodsSpec(False, 7, False), GoodsSpec(True, 0, False)):
        assert GoodsSpec.parse(spec.compare_with, spec.calibrate) == spec
        assert GoodsSpec.from_config(spec.config()) == spec
    assert (
        str(GoodsSpec(True, 3, True))
        == "compared with its 3 nearest training photos of its goods, calibrated per goods"
    )
    for bad in ("nearest", "goods:0", "0", "shop:3", "-2"):
        with pytest.raises(ParamError, match="compare with"):
            GoodsSpec.parse(bad)
    with pytest.raises(ParamError):
        GoodsSpec.from_config({"same_goods": True})
    with pytest.raises(ParamError, match="auto, on or off"):
        GoodsSpec.parse("all", "sometimes")


def test_auto_calibration_is_on_for_a_goods_aware_method_on_whole_photos_only():
    auto = GoodsSpec(True, 2)
    assert auto.resolved(goods_aware=True, whole_photo=True) == GoodsSpec(True, 2, True)
    assert auto.resolved(goods_aware=True, whole_photo=False) == GoodsSpec(True, 2, False)
    assert GoodsSpec().resolved(goods_aware=False, whole_photo=True) == GoodsSpec(False, 0, False)
    assert GoodsSpec(calibrate=False).resolved(True, True).calibrate is False  # an explicit choice stays
    with pytest.raises(ParamError, match="resolve"):
        GoodsSpec().config()
    patchcore = create_method("patchcore", backbone="mobilenet_v2", device="cpu", image_size=32)
    assert ViewedMethod(patchcore, ViewSpec()).goods == GoodsSpec(calibrate=False)  # the plain default
    assert ViewedMethod(patchcore, ViewSpec(), GoodsSpec()).goods.calibrate is True
    assert ViewedMethod(patchcore, ViewSpec(True), GoodsSpec()).goods_aware is None  # a crop: auto is off
    padim = create_method("padim", backbone="mobilenet_v2", device="cpu", image_size=32)
    assert ViewedMethod(padim, ViewSpec(), GoodsSpec()).goods_aware is None


# -- retrieval -----------------------------------------------------------------------------------------------------
def unit(rows) -> np.ndarray:
    rows = np.asarray(rows, np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


GALLERY = Gallery(
    ("a0", "a1", "a2", "b0", "b1", "x0"),
    ("001", "001", "001", "002", "002", None),
    unit([[1, 0, 0], [0.9, 0.1, 0], [0.8, 0, 0.2], [0, 1, 0], [0.1, 0.9, 0], [0, 0, 1]]),
)


def test_a_photo_is_compared_with_its_goods_its_nearest_or_all():
    query = unit([[0.85, 0.0, 0.15], [0.05, 1.0, 0.0]])
    goods = ["001", None]
    assert [c.tolist() for c in GALLERY.compare(query, goods, GoodsSpec(True, 0))] == [[0, 1, 2], [0, 1, 2, 3, 4, 5]]
    assert [c.tolist() for c in GALLERY.compare(query, goods, GoodsSpec(True, 2))] == [[0, 2], [3, 4]]
    assert [c.tolist() for c in GALLERY.compare(query, goods, GoodsSpec(False, 1))] == [[2], [3]]
    # leave-one-out: a training photo is never compared with itself, nor a goods' only photo with nothing
    assert GALLERY.compare(query[:1], ["001"], GoodsSpec(True, 0), exclude=[2])[0].tolist() == [0, 1]
    lone = Gallery(("a", "b"), ("001", "002"), unit([[1, 0], [0, 1]]))
    assert lone.compare(unit([[1, 0]]), ["001"], GoodsSpec(True, 0), exclude=[0])[0].tolist() == [1]
    assert GALLERY.compare(query[:1], ["009"], GoodsSpec(True, 0))[0].tolist() == list(range(6))  # an id not trained


def test_identify_names_the_goods_of_the_most_similar_photos():
    top = GALLERY.identify(unit([[0.05, 1.0, 0.0], [1, 0, 0]]), top=5)
    assert [g for g, _ in top[0]] == ["002", "001"] and top[0][0][1] == pytest.approx(0.9986, abs=1e-3)
    assert top[1][0] == ("001", pytest.approx(1.0))
    with pytest.raises(ParamError, match="goods id"):
        Gallery(("x",), (None,), unit([[1, 0]])).identify(unit([[1, 0]]))
    with pytest.raises(ParamError, match="one goods id and one descriptor"):
        Gallery(("a", "b"), ("001",), unit([[1, 0], [0, 1]]))


# -- calibration ---------------------------------------------------------------------------------------------------
def test_calibration_puts_every_goods_on_one_scale():
    rng = np.random.default_rng(0)
    low, high = rng.normal(1.0, 0.1, 8), rng.normal(5.0, 0.5, 8)
    calibration = Calibration.fit([*low, *high, 3.0], ["001"] * 8 + ["002"] * 8 + ["003"])
    z_low, z_high = calibration.apply(low, "001"), calibration.apply(high, "002")
    assert abs(z_low.mean()) < 1e-9 and abs(z_high.mean()) < 1e-9  # each goods' normal scores centred at 0
    assert 0.5 < z_low.std() < 1.5 and 0.5 < z_high.std() < 1.5  # and of about unit spread
    assert "003" not in calibration.goods and calibration.of("003") == calibration.overall  # one photo: the category
    assert calibration.of(None) == calibration.overall
    assert Calibration.from_config(json.loads(json.dumps(calibration.config()))) == calibration
    with pytest.raises(ParamError):
        Calibration.fit([1.0, float("nan")], ["001", "001"])
    with pytest.raises(ParamError):
        Calibration.from_config({"overall": [1.0]})


# -- the methods' restricted scoring ---------------------------------------------------------------------------------
def two_goods(size: int = 48) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Striped photos (goods A) and checked ones (goods B), each with a little noise."""
    rng = np.random.default_rng(1)
    y, x = np.mgrid[:size, :size]
    stripes = ((x // 6) % 2 * 200).astype(np.uint8)
    checks = (((x // 8 + y // 8) % 2) * 200).astype(np.uint8)

    def noisy(base):
        return np.repeat(np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)[..., None], 3, 2)

    return [noisy(stripes) for _ in range(3)], [noisy(checks) for _ in range(3)]


@pytest.mark.parametrize(
    "name, params",
    [("patchcore", {"coreset_ratio": 1.0, "image_size": 32}), ("spade", {"k_images": 2, "image_size": 32})],
)
def test_a_photo_scored_among_its_goods_scores_as_against_a_model_of_that_goods_alone(name, params):
    goods_a, goods_b = two_goods()
    everything = create_method(name, backbone="mobilenet_v2", device="cpu", **params)
    everything.fit(goods_a + goods_b)
    alone = create_method(name, backbone="mobilenet_v2", device="cpu", **params)
    alone.fit(goods_a)
    probe = [goods_a[0][::-1].copy(), goods_b[1][:, ::-1].copy()]
    restricted = everything.predict(probe, compare=lambda batch, descriptors: [[0, 1, 2]] * len(batch))
    expected = alone.predict(probe)
    for got, want in zip(restricted, expected, strict=True):
        assert got.score == pytest.approx(want.score, rel=1e-5)
        np.testing.assert_allclose(got.anomaly_map, want.anomaly_map, rtol=1e-4, atol=1e-5)
    whole = everything.predict(probe[1:])[0].score
    assert restricted[1].score > whole  # the checked photo is far from the stripes it was compared with
    described = everything.descriptors(goods_a + goods_b)
    assert described.shape[0] == 6 and np.allclose(np.linalg.norm(described, axis=1), 1.0, atol=1e-5)
    similarity = described @ described.T
    assert similarity[0, 1] > similarity[0, 4]  # a striped photo looks more like a striped one than a checked one
    left_out = everything.predict(probe, leave_out=[3, 4, 5])  # the checked photos left out: as the stripes alone
    for got, want in zip(left_out, expected, strict=True):
        assert got.score == pytest.approx(want.score, rel=1e-5)
    with pytest.raises(ParamError, match="not goods-aware"):
        create_method("padim", backbone="mobilenet_v2", image_size=32).predict(probe, leave_out=[0])


def test_a_method_without_the_capability_is_refused():
    with pytest.raises(ParamError, match="memory-based method"):
        ViewedMethod(
            create_method("padim", backbone="mobilenet_v2", device="cpu", image_size=32), ViewSpec(), GoodsSpec(True)
        )
    patchcore = create_method("patchcore", backbone="mobilenet_v2", device="cpu", image_size=32)
    with pytest.raises(ParamError, match="whole photos"):
        ViewedMethod(patchcore, ViewSpec(True), GoodsSpec(True))
    with pytest.raises(ParamError, match="memory-based method"):  # calibrating a view leaves views out
        ViewedMethod(
            create_method("padim", backbone="mobilenet_v2", image_size=32), ViewSpec(True), GoodsSpec(False, 0, True)
        )


def test_a_tiled_model_is_calibrated_from_scores_that_leave_each_photo_s_own_tiles_out(tmp_path):
    root = generate_demo(tmp_path / "demo", size=96, categories=["drink_can"], goods_per_category=2, train_per_goods=3)
    workspace = Workspace(scan_dataset(root), tmp_path / "state")
    tiled = ViewRequest(TileSpec(48, 16), "off")
    params = {"image_size": 32, "coreset_ratio": 1.0}
    spec = MethodSpec("patchcore", params, "mobilenet_v2", device="cpu", view=tiled, goods=GoodsSpec(calibrate=True))
    model = workspace.fit(spec, "drink_can")
    assert model.method.view.tiles is not None and model.method.goods_aware is None
    calibration = model.method.view_calibration
    training = workspace.training_records("drink_can")
    assert set(calibration.goods) == {r.goods_id for r in training}
    # left out, a training photo is as new to the model as a test photo: its own tiles would score it 0
    assert min(centre for centre, _ in calibration.goods.values()) > 0.1
    saved = json.loads((model.directory / "method.json").read_text())
    assert saved[GOODS_KEY]["spec"]["calibrate"] is True and "calibration" in saved[GOODS_KEY]
    records = workspace.test_records("drink_can")
    results = workspace.predict(model, records)
    for record in records:
        result = results[record.key]
        assert result.calibrated == record.goods_id and result.tiles  # calibrated, through tiles
        centre, scale = calibration.of(record.goods_id)
        raw = workspace.predict(workspace.fit(replace(spec, goods=GoodsSpec(calibrate=False)), "drink_can"), [record])
        assert result.score == pytest.approx((raw[record.key].score - centre) / scale, rel=1e-4, abs=1e-4)
    again = workspace.fit(spec, "drink_can")
    assert again.reused and again.method.view_calibration == calibration
    (model.directory / "method.json").write_text(json.dumps({**saved, GOODS_KEY: None}))
    with pytest.raises(ModelFileError, match="calibration"):
        ViewedMethod.load(
            type(model.method.method), model.directory, model.method.view, device="cpu", weights="auto",
            goods=GoodsSpec(calibrate=True),
        )  # fmt: skip


# -- the engine ------------------------------------------------------------------------------------------------------
def test_a_goods_aware_model_keeps_its_gallery_and_names_the_photos_each_result_was_compared_with(tmp_path):
    root = generate_demo(tmp_path / "demo", size=96, categories=["drink_can"], goods_per_category=3, train_per_goods=3)
    workspace = Workspace(scan_dataset(root), tmp_path / "state")
    params = {"image_size": 32, "coreset_ratio": 0.5}
    plain = MethodSpec(
        "patchcore", params, backbone="mobilenet_v2", device="cpu", view=ViewRequest("auto", "auto"),
        goods=GoodsSpec(calibrate=False),
    )  # fmt: skip
    aware = MethodSpec(
        "patchcore", params, backbone="mobilenet_v2", device="cpu", view=ViewRequest("auto", "auto"),
        goods=GoodsSpec(True, 2, True),
    )  # fmt: skip
    first, model = workspace.fit(plain, "drink_can"), workspace.fit(aware, "drink_can")
    assert first.key != model.key and model.method.view == ViewSpec()  # auto is the whole photo when goods-aware
    saved = json.loads((model.directory / "method.json").read_text())
    assert saved[GOODS_KEY]["spec"] == {"same_goods": True, "neighbours": 2, "calibrate": True}
    assert saved["goods"]["goods"] == [r.goods_id for r in workspace.training_records("drink_can")]
    assert set(saved["goods"]["calibration"]["goods"]) == {r.goods_id for r in workspace.training_records("drink_can")}
    assert (model.directory / GALLERY_FILE).is_file() and GOODS_KEY not in first.method.config()
    records = workspace.test_records("drink_can")
    results = workspace.predict(model, records)
    for record in records:
        neighbours = results[record.key].neighbours
        assert len(neighbours) == 2 and all(key.split("/")[-1][:3] == record.goods_id for key in neighbours), neighbours
        assert workspace.cache_for(model).get(record).neighbours == neighbours
        assert results[record.key].calibrated == record.goods_id  # each goods has its own scale here
        assert workspace.cache_for(model).get(record).calibrated == record.goods_id
        assert colour_range("calibrated", results[record.key]) == CALIBRATED_RANGE
    plain_results = workspace.predict(first, records)
    assert all(plain_results[r.key].neighbours == () and plain_results[r.key].calibrated is None for r in records)
    raw = plain_results[records[0].key]  # a raw map in the calibrated mode: its category's range
    assert colour_range("calibrated", raw, [(0.0, 9.0)]) == colour_range("category", raw, [(0.0, 9.0)]) == (0.0, 9.0)
    good = [results[r.key].score for r in records if r.defect == "good"]
    assert abs(float(np.mean(good))) < 3.0  # calibrated: normal photos score near 0 on their goods' scale
    trained = workspace.training_records("drink_can")[4]  # its descriptor names its own goods (similarity 1)
    photo = list(LazyImages([trained], model.method.decode_side()))
    named = model.method.goods_aware.predict(photo, [trained.goods_id])[0]
    unnamed = model.method.goods_aware.predict(photo, [None])[0]  # a name without a goods id: the descriptor's
    assert unnamed.score == pytest.approx(named.score) and unnamed.neighbours == named.neighbours
    again = workspace.fit(aware, "drink_can")
    assert again.reused
    reread = workspace.predict(again, records[:2], use_cache=False)
    for record in records[:2]:
        assert reread[record.key].score == pytest.approx(results[record.key].score, rel=1e-3)
        assert reread[record.key].neighbours == results[record.key].neighbours
    bare = type(model.method.method)
    with pytest.raises(ModelFileError, match="goods-aware"):
        ViewedMethod.load(bare, model.directory, ViewSpec(), device="cpu", weights="auto")
    with pytest.raises(ModelFileError, match="fitted compared with"):
        ViewedMethod.load(bare, model.directory, ViewSpec(), device="cpu", weights="auto", goods=GoodsSpec(True, 3))
