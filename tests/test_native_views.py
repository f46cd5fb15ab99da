"""Native-resolution views: the object crop keeps every mask pixel, tiles cover and stitch exactly, the view is part
of a model's config, key, saved method.json and cached results, and the small-defect demo draws what it says."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from engine_helpers import PLUGIN

from goodsad_studio.dataset.demo import DEMO_DEFECTS, generate_demo, render_sample
from goodsad_studio.dataset.demo.generator import SMALL_DEFECTS
from goodsad_studio.dataset.demo.render import SMALL_AREA
from goodsad_studio.dataset.imageio import read_image, read_mask
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.contract import MethodSpec
from goodsad_studio.engine.worker.views import VIEW_KEY, ViewedMethod
from goodsad_studio.engine.worker.workspace import Workspace
from goodsad_studio.errors import ModelFileError, ParamError
from goodsad_studio.methods import create_method
from goodsad_studio.native.crop import MIN_SIDE, find_object, share, square
from goodsad_studio.native.spec import TileSpec, ViewRequest, ViewSpec, parse_tiling, resolve
from goodsad_studio.native.tiles import Stitcher, paste, tile_boxes

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def kept(mask: np.ndarray, box: tuple[int, int, int, int]) -> int:
    x0, y0, x1, y1 = box
    return int(mask[y0:y1, x0:x1].sum())


# -- object crop -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("category", list(DEMO_DEFECTS))
def test_crop_keeps_every_mask_pixel_of_every_demo_defect_type(category):
    shares = []
    for number, defect in enumerate(DEMO_DEFECTS[category]):
        sample = render_sample(category, 1 + number % 3, 20 + number, defect, size=MIN_SIDE + 176)
        box = find_object(sample.image)
        assert sample.mask is not None
        assert kept(sample.mask, box) == int(sample.mask.sum()), (category, defect, box)
        shares.append(share(box, sample.image.shape))
    assert all(0.0 < s <= 1.0 for s in shares)


def test_crop_keeps_every_defect_in_a_large_photo():
    """At GoodsAD's size, where the crop is active, every defect stays inside the box."""
    shares = []
    for category in ("food_package", "food_bottle", "drink_can"):
        sample = render_sample(category, 2, 31, "surface_anomaly", size=1500)
        box = find_object(sample.image)
        assert sample.mask is not None and kept(sample.mask, box) == int(sample.mask.sum())
        shares.append(share(box, sample.image.shape))
    assert all(0.0 < s <= 1.0 for s in shares)


def test_small_photos_are_kept_whole():
    image = render_sample("drink_can", 1, 1, None, size=512).image
    assert find_object(image) == (0, 0, 512, 512)


def _real_defects(name: str):
    root = SHARED / name
    if not root.is_dir():
        pytest.skip(f"{root} is absent: the real-data crop check needs ../shared/data")
    index = scan_dataset(root)
    return [record for record in index.records if record.mask_path is not None]


@pytest.mark.parametrize("name", ["mpdd_metal_plate_512", "mtd_magnetic_tile"])
def test_crop_keeps_every_mask_pixel_of_the_real_sets(name):
    for record in _real_defects(name):
        image, mask = read_image(record.image_path), read_mask(record.mask_path)
        assert kept(mask, find_object(image)) == int(mask.sum()), record.key


def test_crop_keeps_every_mask_pixel_of_real_photos_at_goodsad_scale():
    """MPDD's 512 px photos enlarged past MIN_SIDE, where the crop is active: still every mask pixel kept."""
    records = _real_defects("mpdd_metal_plate_512")
    shares = []
    for record in records[::3]:
        image, mask = read_image(record.image_path), read_mask(record.mask_path)
        side = MIN_SIDE + 256
        big = cv2.resize(image, (side, side), interpolation=cv2.INTER_LINEAR)
        big_mask = cv2.resize(mask.astype(np.uint8), (side, side), interpolation=cv2.INTER_NEAREST) > 0
        box = find_object(big)
        assert kept(big_mask, box) == int(big_mask.sum()), record.key
        shares.append(share(box, big.shape))
    assert shares


def test_square_grows_a_box_within_the_image():
    assert square((100, 50, 200, 450), (500, 600)) == (0, 50, 400, 450)
    assert square((250, 100, 350, 200), (500, 600)) == (250, 100, 350, 200)
    assert square((0, 0, 50, 300), (300, 100)) == (0, 0, 100, 300)  # as square as a narrow image allows


# -- tiles and stitching -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("box", "size", "overlap"), [((0, 0, 1000, 700), 448, 112), ((40, 30, 300, 90), 128, 32)])
def test_tiles_cover_the_region_inside_it_with_the_overlap(box, size, overlap):
    tiles = tile_boxes(box, size, overlap)
    covered = np.zeros((box[3], box[2]), int)
    for x0, y0, x1, y1 in tiles:
        assert box[0] <= x0 < x1 <= box[2] and box[1] <= y0 < y1 <= box[3]
        assert x1 - x0 == min(size, box[2] - box[0]) and y1 - y0 == min(size, box[3] - box[1])
        covered[y0:y1, x0:x1] += 1
    assert (covered[box[1] : box[3], box[0] : box[2]] >= 1).all()
    if box[2] - box[0] > size:
        lefts = sorted({t[0] for t in tiles})
        assert all(b - a <= size - overlap for a, b in zip(lefts, lefts[1:], strict=False))


def test_stitching_is_exact_on_constant_maps_and_pastes_at_the_floor():
    box = (10, 20, 610, 420)
    stitcher = Stitcher(box)
    for tile in tile_boxes(box, 256, 64):
        stitcher.add(tile, np.full((32, 32), 3.5, np.float32))  # any map size: resized to the tile
    stitched = stitcher.result()
    assert stitched.shape == (400, 600) and np.allclose(stitched, 3.5)
    ramp = np.linspace(1, 2, 400 * 600, dtype=np.float32).reshape(400, 600)
    full = paste(ramp, box, (500, 700))
    assert full.shape == (500, 700) and full[0, 0] == pytest.approx(1.0) and full[20, 10] == pytest.approx(1.0)


# -- the view's words and config ---------------------------------------------------------------------------------
def test_tiling_words_parse_and_bad_ones_say_what_is_wrong():
    assert parse_tiling("auto") == "auto" and parse_tiling("OFF") == "off"
    assert parse_tiling("448") == TileSpec(448, 112) and parse_tiling("512:64") == TileSpec(512, 64)
    for bad, words in (("big", "SIZE[:OVERLAP]"), ("16", "at least"), ("100:100", "overlap"), ("1:x", "SIZE")):
        with pytest.raises(ParamError, match=words.replace("[", r"\[")):
            parse_tiling(bad)
    with pytest.raises(ParamError, match="crop"):
        ViewRequest.parse("off", "maybe")
    with pytest.raises(ParamError, match="tiling too"):
        ViewRequest.parse("off", "on", multiscale=True)


def test_auto_tiles_and_crops_large_photos_only():
    auto = ViewRequest.parse("auto", "auto")
    assert resolve(auto, 512, 224) == ViewSpec()
    assert resolve(auto, 3000, 224) == ViewSpec(True, TileSpec(448, 112))
    assert resolve(ViewRequest.parse("300:30", "off", True), 200, 224) == ViewSpec(False, TileSpec(300, 30), True)
    view = ViewSpec(True, TileSpec(448, 112), True)
    assert ViewSpec.from_config(view.config()) == view
    with pytest.raises(ParamError, match="malformed"):
        ViewSpec.from_config({"tiles": 3})


# -- the adapter -------------------------------------------------------------------------------------------------
def _photos(count: int, side: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(60, 200, (side, side, 3), dtype=np.uint8)
    return [np.clip(base.astype(int) + rng.integers(-4, 5, base.shape), 0, 255).astype(np.uint8) for _ in range(count)]


def test_a_tiled_method_puts_a_small_defect_at_its_place_in_a_native_size_map():
    train = _photos(3, 600)
    test = _photos(1, 600, seed=0)[0].copy()
    test[300:306, 200:206] = 255  # a 6 x 6 px defect: 0.01 % of the photo
    plain = ViewedMethod(create_method(PLUGIN, image_size=32), ViewSpec())
    tiled = ViewedMethod(create_method(PLUGIN, image_size=32), ViewSpec(tiles=TileSpec(64, 16)))
    for viewed in (plain, tiled):
        viewed.fit(train)
    (flat,) = plain.predict([test])
    (sharp,) = tiled.predict([test])
    assert sharp.anomaly_map.shape == test.shape[:2] and sharp.tiles and sharp.crop is None
    peak = np.unravel_index(np.argmax(sharp.anomaly_map), sharp.anomaly_map.shape)
    assert 290 <= peak[0] <= 316 and 190 <= peak[1] <= 216

    def contrast(anomaly_map: np.ndarray) -> float:
        """The defect's peak over the highest value away from it."""
        away = anomaly_map.copy()
        away[270:336, 170:236] = 0
        return float(anomaly_map[300:306, 200:206].max() / away.max())

    assert contrast(sharp.anomaly_map) > 1.5
    assert flat.anomaly_map.shape == test.shape[:2]
    assert sharp.score == pytest.approx(float(sharp.anomaly_map.max()))


def test_the_view_is_in_the_config_only_when_it_is_not_plain():
    method = create_method(PLUGIN, image_size=32)
    assert ViewedMethod(method, ViewSpec()).config() == method.config()
    tiled = ViewedMethod(method, ViewSpec(True, TileSpec(64, 16)))
    assert tiled.config()[VIEW_KEY] == {"crop": True, "tiles": {"size": 64, "overlap": 16}, "multiscale": False}


def test_workspace_keeps_the_view_in_key_method_json_and_cached_results(tmp_path):
    root = generate_demo(tmp_path / "demo", size=256, categories=["drink_can"], goods_per_category=1)
    workspace = Workspace(scan_dataset(root), tmp_path / "state")
    plain = MethodSpec(PLUGIN, {"image_size": 32})
    tiled = MethodSpec(PLUGIN, {"image_size": 32}, view=ViewRequest.parse("96:24", "off", True))
    first = workspace.fit(plain, "drink_can")
    second = workspace.fit(tiled, "drink_can")
    assert first.key != second.key
    saved = json.loads((second.directory / "method.json").read_text())
    assert saved[VIEW_KEY] == {"crop": False, "tiles": {"size": 96, "overlap": 24}, "multiscale": True}
    assert VIEW_KEY not in json.loads((first.directory / "method.json").read_text())
    again = workspace.fit(tiled, "drink_can")
    assert again.reused and again.method.view == second.method.view
    with pytest.raises(ModelFileError, match="fitted for the view"):
        ViewedMethod.load(type(first.method.method), second.directory, ViewSpec(), device="cpu", weights="auto")
    records = workspace.test_records("drink_can")[:2]
    results = workspace.predict(second, records)
    for record in records:
        result = results[record.key]
        assert result.native_shape == (256, 256) and len(result.tiles) == 16  # 4 x 4 tiles of 96 sharing >= 24 over 256
        assert workspace.cache_for(second).get(record).tiles == result.tiles


# -- the small-defect demo ---------------------------------------------------------------------------------------
def test_small_defect_demo_draws_only_small_defects(tmp_path):
    root = generate_demo(
        tmp_path / "small",
        size=384,
        categories=["food_box"],
        goods_per_category=2,
        train_per_goods=1,
        test_good_per_goods=0,
        defective_per_goods=3,
        defect_size="small",
    )
    index = scan_dataset(root)
    defective = [record for record in index.records if record.mask_path is not None]
    assert defective and {record.defect for record in defective} <= set(SMALL_DEFECTS)
    for record in defective:
        area = read_mask(record.mask_path).mean()
        assert SMALL_AREA[0] <= area <= SMALL_AREA[1], (record.key, area)
    marker = json.loads((root / "DEMO.json").read_text())
    assert marker["defects"] == "small"
    plain = generate_demo(tmp_path / "plain", size=64, categories=["food_box"], goods_per_category=1)
    assert "defects" not in json.loads((plain / "DEMO.json").read_text())


def test_the_crop_view_decodes_photos_large_enough_for_the_crop():
    viewed = ViewedMethod(create_method(PLUGIN, image_size=32), ViewSpec(crop=True))
    assert viewed.decode_side() >= MIN_SIDE  # a 2000 px JPEG must not be reduced to 1000 px, under the crop's size
