"""PatchCore: a defect scores and lights up where it is; the coreset keeps the asked fraction reproducibly and
equals the plain greedy algorithm; fit reports its stages and stops on cancel; float16 banks and approximate indexes
give the same answers; a tile of another size than the training input is scored on its own grid."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from goodsad_studio.methods import Cancelled, ParamError, load_method
from goodsad_studio.methods.components.coreset import greedy_coreset
from goodsad_studio.methods.components.features import FeatureExtractor
from goodsad_studio.methods.patchcore import PatchCore, reweighted_max
from goodsad_studio.progress import Monitor, Progress, Stage

from .helpers import FAST, texture, with_defect


def _patchcore(**params) -> PatchCore:
    return PatchCore(backbone="mobilenet_v2", device="cpu", **{**FAST, **params})


@pytest.fixture(scope="module")
def fitted(mobilenet_weights, train_images) -> PatchCore:
    model = _patchcore(coreset_ratio=0.25)
    model.fit(train_images)
    return model


def test_a_synthetic_defect_scores_higher_and_peaks_where_it_is(fitted):
    normal = [texture(seed) for seed in (200, 201, 202)]
    defective = with_defect(texture(203), center=(20, 40))
    predictions = fitted.predict(normal + [defective])
    normal_scores = [p.score for p in predictions[:3]]
    assert predictions[3].score > max(normal_scores)
    heat = predictions[3].anomaly_map
    row, col = np.unravel_index(np.argmax(heat), heat.shape)
    assert abs(row - 20) <= 10 and abs(col - 40) <= 10


def test_the_bank_keeps_the_requested_fraction_of_patches(fitted, train_images):
    patches_per_image = (64 // 8) ** 2
    assert fitted.bank.rows.shape == (int(len(train_images) * patches_per_image * 0.25), 512)
    full = _patchcore(coreset_ratio=1.0)
    full.fit(train_images)
    assert len(full.bank) == len(train_images) * patches_per_image
    # each row knows its training photo (by its place in the image set), for goods-aware scoring
    assert full.bank.photos == tuple(str(i) for i in range(len(train_images)))
    assert full.bank.owner.tolist() == np.repeat(np.arange(len(train_images)), patches_per_image).tolist()


def test_a_coreset_per_block_of_patches_keeps_the_fraction_and_still_finds_the_defect(fitted, train_images):
    blocked = _patchcore(coreset_ratio=0.25, coreset_block=1024)  # 6 photos x 64 patches: under one block
    assert "coreset_block" not in fitted.config()["params"]  # unset: earlier models keep their keys
    assert blocked.config()["params"]["coreset_block"] == 1024
    blocked.fit(train_images)
    np.testing.assert_array_equal(blocked.bank.rows, fitted.bank.rows)  # one block: the same pass
    many = [texture(seed) for seed in range(300, 340)]  # 40 photos x 64 patches = 2,560: 3 blocks of ~853
    split = _patchcore(coreset_ratio=0.25, coreset_block=1024)
    split.fit(many)
    assert len(split.bank) == int(len(many) * 64 * 0.25)
    predictions = split.predict([texture(203), with_defect(texture(203), center=(20, 40))])
    assert predictions[1].score > predictions[0].score


def test_the_coreset_is_reproducible_with_a_seed_and_changes_with_it(fitted, train_images):
    again = _patchcore(coreset_ratio=0.25)
    again.fit(train_images)
    np.testing.assert_array_equal(again.bank.rows, fitted.bank.rows)
    other = _patchcore(coreset_ratio=0.25, seed=1)
    other.fit(train_images)
    assert not np.array_equal(other.bank.rows, fitted.bank.rows)


def _plain_greedy(points: np.ndarray, n_select: int, n_start: int, seed: int) -> list[int]:
    """The textbook approximate greedy coreset: mean distance to random starts, then farthest-point picks."""
    rng = np.random.default_rng(seed)
    start = rng.choice(len(points), n_start, replace=False)
    dist = np.linalg.norm(points[:, None, :] - points[None, start, :], axis=2).mean(1)
    chosen = []
    for _ in range(n_select):
        pick = int(np.argmax(dist))
        chosen.append(pick)
        dist = np.minimum(dist, np.linalg.norm(points - points[pick], axis=1))
    return chosen


@pytest.mark.parametrize("pool", [16, 4096])
def test_lazy_coreset_picks_exactly_what_the_plain_greedy_picks(pool):
    points = np.random.default_rng(5).normal(size=(1500, 12)).astype(np.float32)
    expected = _plain_greedy(points.astype(np.float64), 150, 10, seed=3)
    got = greedy_coreset(points, 150, n_start=10, seed=3, pool=pool)
    assert got.tolist() == expected


def test_coreset_never_picks_a_point_twice_even_among_duplicates():
    points = np.repeat(np.eye(4, dtype=np.float32), 5, axis=0)  # 4 distinct points, 5 copies each
    got = greedy_coreset(points, 10, seed=0, pool=8)
    assert len(set(got.tolist())) == 10
    assert {int(i) // 5 for i in got[:4]} == {0, 1, 2, 3}  # all distinct points come first


def test_coreset_can_be_stopped_between_rounds():
    points = np.random.default_rng(0).normal(size=(3000, 8)).astype(np.float32)
    cancel = threading.Event()
    with pytest.raises(Cancelled):  # the user presses Cancel once the coreset stage has started
        greedy_coreset(points, 300, monitor=Monitor(lambda event: cancel.set(), cancel))


def test_fit_reports_features_then_coreset_and_a_cancel_keeps_the_previous_bank(mobilenet_weights, train_images):
    model = _patchcore(coreset_ratio=0.25)
    model.batch_size = 4
    events: list[Progress] = []
    model.fit(train_images, Monitor(events.append))
    starts = [(e.stage, e.total) for e in events if isinstance(e, Progress) and e.done == 0]
    assert starts == [(Stage.FEATURES, len(train_images)), (Stage.CORESET, len(model.bank))]
    assert [e.done for e in events if e.stage == Stage.FEATURES and e.done] == [4, 6]
    before = model.bank.rows.copy()
    cancel = threading.Event()

    def on_event(event: object) -> None:
        if isinstance(event, Progress) and event.stage == Stage.CORESET:
            cancel.set()  # cancelled while the coreset is chosen

    with pytest.raises(Cancelled):
        model.fit([np.flipud(image) for image in train_images], Monitor(on_event, cancel))
    np.testing.assert_array_equal(model.bank.rows, before)


def test_float16_bank_halves_memory_and_keeps_the_answers(fitted, train_images, test_images, tmp_path):
    half = _patchcore(coreset_ratio=0.25, bank_dtype="float16")
    half.fit(train_images)
    assert half.bank.rows.dtype == np.float16 and half.bank.rows.nbytes * 2 == fitted.bank.rows.nbytes
    for p32, p16 in zip(fitted.predict(test_images), half.predict(test_images), strict=False):
        assert p16.score == pytest.approx(p32.score, rel=1e-2)
        np.testing.assert_allclose(p16.anomaly_map, p32.anomaly_map, rtol=1e-2, atol=1e-2)
    half.save(tmp_path / "half")
    loaded = load_method(tmp_path / "half")
    assert loaded.bank.rows.dtype == np.float16


@pytest.mark.parametrize("index", ["ivf", "hnsw", "torch"])
def test_approximate_indexes_agree_with_exact_search_and_survive_save_load(
    fitted, train_images, test_images, index, tmp_path
):
    approx = _patchcore(coreset_ratio=0.25, index=index, ivf_nprobe=64, hnsw_ef=256)
    approx.fit(train_images)
    exact_scores = [p.score for p in fitted.predict(test_images)]
    approx_pred = approx.predict(test_images)
    np.testing.assert_allclose([p.score for p in approx_pred], exact_scores, rtol=0.05)
    approx.save(tmp_path / index)
    loaded = load_method(tmp_path / index)
    for p1, p2 in zip(approx_pred, loaded.predict(test_images), strict=False):
        assert p1.score == p2.score
        np.testing.assert_array_equal(p1.anomaly_map, p2.anomaly_map)


def test_reweighting_follows_the_paper_formula(fitted, test_images):
    queries = np.random.default_rng(1).normal(size=(5, fitted.bank.rows.shape[1])).astype(np.float32)
    found = fitted.index.search(queries, 1)
    scores = np.sqrt(found.dist2[:, 0])
    worst = int(np.argmax(scores))
    m_star = int(found.ids[worst, 0])
    bank = fitted.bank.rows.astype(np.float64)
    neighbours = np.argsort(((bank - bank[m_star]) ** 2).sum(1))[:3]
    d = np.sqrt(((bank[neighbours] - queries[worst]) ** 2).sum(1))
    expected = (1 - np.exp(scores[worst]) / np.exp(d).sum()) * scores[worst]
    assert reweighted_max(fitted.index, queries, scores, found.ids[:, 0], 3) == pytest.approx(expected, rel=1e-5)
    assert reweighted_max(fitted.index, queries, scores, found.ids[:, 0], 0) == pytest.approx(scores[worst])  # off
    reweighted = _patchcore(coreset_ratio=0.25, reweight_neighbors=3)
    reweighted.bank, reweighted.index = fitted.bank, fitted.index
    for plain, weighted in zip(fitted.predict(test_images), reweighted.predict(test_images), strict=True):
        assert 0 < weighted.score < plain.score  # the factor is in (0, 1); the maps are the same
        np.testing.assert_array_equal(weighted.anomaly_map, plain.anomaly_map)


def test_a_tile_of_another_size_is_scored_on_its_own_grid(fitted):
    """The TILING capability: the score is not tied to the training grid (64 px input: 8 x 8)."""
    bigger = FeatureExtractor.build(fitted.roles, {**fitted.hparams, "image_size": 96}, fitted.setup_request)
    batch = next(bigger.batches([texture(300, (96, 96))], Monitor()))
    scores = fitted.score(batch)
    assert scores.maps.shape == (1, 12, 12) and np.isfinite(scores.maps).all()
    assert scores.images is not None and float(scores.images[0]) == pytest.approx(float(scores.maps.max()))


def test_parameters_specific_to_patchcore_are_checked(mobilenet_weights):
    with pytest.raises(ParamError, match="reweight_neighbors.*0 \\(off\\) or at least 2"):
        _patchcore(reweight_neighbors=1)
    with pytest.raises(ParamError, match="'coreset_ratio' must be float in"):
        _patchcore(coreset_ratio=0.0)
    with pytest.raises(ParamError, match="'bank_dtype' must be one of 'float32', 'float16'"):
        _patchcore(bank_dtype="int8")
    model = _patchcore()
    assert model.hparams["target_dim"] == 512 and model.config()["params"]["pretrain_dim"] == 256


def test_embeddings_aggregate_3x3_neighbourhoods_as_the_reference():
    from goodsad_studio.methods.patchcore import locally_aware_patches

    low = torch.zeros(1, 1, 4, 4)
    low[0, 0, 1, 1] = 9.0  # one hot cell
    high = torch.ones(1, 1, 2, 2)
    kept = locally_aware_patches({"s8": low, "s16": high}, pretrain_dim=9, target_dim=18)
    assert kept.shape == (1, 4, 4, 18)
    # with room for all 9 values the neighbourhood's layout is kept: the hot cell is at (dy, dx) = (+1, +1) from
    # position (0, 0), at the centre of (1, 1), at (-1, -1) from (2, 2), and absent from (3, 3)
    assert kept[0, 0, 0, :9].tolist() == [0.0] * 8 + [9.0]
    assert kept[0, 1, 1, 4] == 9.0 and kept[0, 2, 2, 0] == 9.0 and kept[0, 3, 3, :9].abs().sum() == 0
    assert kept.shape[-1] == 18 and (kept[0, :, :, 9:] >= 0).all()  # the stride-16 half, upsampled
    mean = locally_aware_patches({"s8": low, "s16": high}, pretrain_dim=1, target_dim=2)
    # pooled to one value it is the 3x3 mean (zero padding at the border counts, as in the reference)
    assert mean[0, 0, 0, 0] == pytest.approx(1.0) and mean[0, 3, 3, 0] == 0.0


def _square_at(row: int, col: int, seed: int) -> np.ndarray:
    """A dark, slightly noisy photo with a bright 16 px square (a label) at (row, col)."""
    image = np.random.default_rng(seed).integers(20, 40, (64, 64, 3)).astype(np.uint8)
    image[row : row + 16, col : col + 16] = 230
    return image


def test_a_position_tolerance_finds_a_label_out_of_its_place(mobilenet_weights):
    normal = [_square_at(8, 8, seed) for seed in range(4)]  # the label always top left
    moved = _square_at(40, 40, 9)  # the same label bottom right: normal anywhere, out of place here
    scores = {}
    for tolerance in (0, 1):
        model = _patchcore(coreset_ratio=1.0, position_tolerance=tolerance)
        model.fit(normal)
        assert model.bank.place is not None and model.bank.grid == (8, 8)
        moved_score, usual_score = (p.score for p in model.predict([moved, _square_at(8, 8, 10)]))
        scores[tolerance] = (moved_score, usual_score)
    assert scores[1][0] > 1.5 * scores[0][0]  # anywhere, the label matches the training labels (11 against 20)
    assert scores[1][0] > 2 * scores[1][1]  # aligned, the moved label stands out; the usual one does not
