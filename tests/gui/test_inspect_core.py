"""The Qt-free helpers the analysis views draw from (goodsad_studio.engine.inspect) and the generated parameter
form: checked on small arrays where the right answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from goodsad_studio.engine.cache import CachedResult, ResultsCache
from goodsad_studio.engine.inspect import (
    HIGH_GOOD_SCORE,
    LOW_PIXEL_AP,
    NO_MASK,
    TriageItem,
    colour_range,
    compare_ranges,
    propose_mask,
    saved_result_sets,
    score_rank,
    threshold_contours,
    triage,
    triage_order,
)
from goodsad_studio.errors import ParamError
from goodsad_studio.params import ParamSpec


def _result(values, score=1.0, native=None):
    values = np.asarray(values, np.float32)
    return CachedResult(score, values, native or values.shape)


def test_rank_counts_more_anomalous_images_first():
    assert score_rank(0.9, [0.1, 0.9, 0.95, 0.5]) == (2, 4)
    assert score_rank(0.1, [0.1, 0.9]) == (2, 2)


def test_colour_range_modes():
    a = _result([[0, 1], [2, 3]])
    assert colour_range("image", a) == (0.0, 3.0)
    assert colour_range("category", a, [(0, 3), (5, 9)]) == (0.0, 9.0)
    assert colour_range("fixed", a, fixed=(1.0, 2.0)) == (1.0, 2.0)
    low, high = colour_range("image", _result([[4, 4], [4, 4]]))
    assert high > low == 4.0
    with pytest.raises(ValueError, match="normalisation"):
        colour_range("global", a)


def test_compare_ranges_put_each_method_on_its_own_yardstick():
    # PatchCore-like scores in 13..16 next to PaDiM-like scores in 3..80: one raw range would flatten the first
    patchcore, padim = _result([[13, 14], [15, 16]]), _result([[3, 10], [40, 80]])
    results = {"patchcore": patchcore, "padim": padim}
    category = {"patchcore": [(12.5, 15.0), (13.0, 17.0)], "padim": [(2.0, 90.0)]}
    assert compare_ranges("category", results, category) == {"patchcore": (12.5, 17.0), "padim": (2.0, 90.0)}
    assert compare_ranges("image", results, category) == {"patchcore": (13.0, 16.0), "padim": (3.0, 80.0)}
    assert compare_ranges("fixed", results, category, (0.0, 50.0)) == {"patchcore": (0.0, 50.0), "padim": (0.0, 50.0)}
    # a method without category summaries yet falls back to its image's range
    assert compare_ranges("category", results, {"padim": [(2.0, 90.0)]})["patchcore"] == (13.0, 16.0)


def test_proposed_mask_is_the_thresholded_native_map_without_small_specks():
    values = np.zeros((20, 20), np.float32)
    values[2:8, 2:8] = 1.0  # 36 px
    values[15, 15] = 1.0  # a speck
    result = _result(values)
    assert propose_mask(result, 0.5).sum() == 37
    kept = propose_mask(result, 0.5, min_area=5)
    assert kept.sum() == 36 and not kept[15, 15]
    upsampled = propose_mask(CachedResult(1.0, values, (40, 40)), 0.5)
    assert upsampled.shape == (40, 40)


def test_threshold_contour_follows_pixel_edges():
    values = np.zeros((10, 10), np.float32)
    values[2:5, 3:7] = 1.0
    (outline,) = threshold_contours(values, 0.5)
    assert outline[:, 0].min() == pytest.approx(3.0, abs=0.51) and outline[:, 0].max() == pytest.approx(7.0, abs=0.51)
    assert threshold_contours(values, 2.0) == []


def test_triage_puts_the_worst_explained_masks_and_the_highest_good_scores_first(tmp_path):
    from goodsad_studio.dataset.index import ImageRecord

    def record(stem, defect):
        return ImageRecord("c", "test", defect, stem, tmp_path / f"{stem}.png", None, None, None, "plain")

    hit, miss = np.zeros((8, 8), bool), np.zeros((8, 8), bool)
    hit[1:3, 1:3] = miss[5:7, 5:7] = True
    heat = np.zeros((8, 8), np.float32)
    heat[1:3, 1:3] = 1.0
    records = [record("a", "dent"), record("b", "dent"), record("g1", "good"), record("g2", "good")]
    results = {r.key: _result(heat, score) for r, score in zip(records, (1, 1, 0.2, 0.8), strict=False)}
    masks = {"a": hit, "b": miss}
    items = triage(records, results, read=lambda r, shape: masks.get(r.stem))
    assert [item.key.split("/")[-1] for item in items] == ["b", "a", "g2", "g1"]
    assert items[0].value < items[1].value and items[2].value > items[3].value
    # an unsaved edit that moves b's mask onto the hot spot is judged as it is now, not as saved
    fixed = triage(records, results, read=lambda r, shape: masks.get(r.stem), edited={records[1].key: hit.copy()})
    assert {item.key.split("/")[-1]: item.value for item in fixed}["b"] == pytest.approx(items[1].value)
    wrong_size = triage(
        records, results, read=lambda r, shape: masks.get(r.stem), edited={records[1].key: np.ones((4, 4), bool)}
    )
    assert [item.value for item in wrong_size] == [item.value for item in items]


def test_triage_order_shares_the_places_and_puts_any_subset_in_order_again():
    defective = [
        TriageItem("d1", LOW_PIXEL_AP, 0.5),
        TriageItem("d0", NO_MASK, 0.0),
        TriageItem("d2", LOW_PIXEL_AP, 0.2),
    ]
    good = [TriageItem(f"g{i}", HIGH_GOOD_SCORE, score) for i, score in enumerate((0.1, 0.9, 0.5, 0.7))]
    items = good + defective
    assert [item.key for item in triage_order(items, limit=4)] == ["d0", "d2", "g1", "g3"]
    assert [item.key for item in triage_order(items)] == ["d0", "d2", "d1", "g1", "g3", "g2", "g0"]
    # one side short of its half: the other takes the free places
    assert [item.key for item in triage_order(good + defective[:1], limit=4)] == ["d1", "g1", "g3", "g2"]
    # a subset taken from a triage list (one goods id's images) comes out in triage order again
    subset = [item for item in triage_order(items) if item.key in {"g0", "d1", "g2"}]
    assert [item.key for item in triage_order(subset, limit=2)] == ["d1", "g2"]


def test_saved_result_sets_are_found_without_a_model(tmp_path):
    model_dir = tmp_path / "models" / "drink_can" / "all" / "patchcore-abc"
    ResultsCache(
        tmp_path / "cache",
        "abc",
        {"model": str(model_dir), "info": "patchcore on x", "config": {"method": "patchcore"}},
    )
    (found,) = saved_result_sets(tmp_path / "cache")
    assert (found.key, found.method, found.category, found.goods_id) == ("abc", "patchcore", "drink_can", None)


def test_parameter_form_is_generated_from_the_specs_and_validates_like_the_engine(qtbot):
    from goodsad_studio.gui.param_form import ParamForm

    form = ParamForm()
    qtbot.addWidget(form)
    form.set_specs(
        [
            ParamSpec("ratio", "float", 0.1, min=0.001, max=1.0),
            ParamSpec("k", "int", 3, min=1),
            ParamSpec("mode", "choice", "a", choices=("a", "b")),
            ParamSpec("flip", "bool", False),
            ParamSpec("dim", "int", None, optional=True),
        ]
    )
    assert form.values() == {"ratio": 0.1, "k": 3, "mode": "a", "flip": False, "dim": None}
    form.set_values({"ratio": "0.5", "mode": "b", "dim": "64"})
    assert form.changed_values() == {"ratio": 0.5, "mode": "b", "dim": 64}
    form.set_values({"ratio": "2"})
    with pytest.raises(ParamError, match="ratio"):
        form.values()
    assert "e53935" in form.editors["ratio"].styleSheet()
