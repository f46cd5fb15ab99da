"""The hardest goods on made-up per-goods rows: the ranking, the goods left out of it and why, and the report's
markdown, CSV and JSON of them."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from goodsad_studio.errors import StudioError
from goodsad_studio.metrics.hardest import NO_GOODS_ID_REASON, hardest_goods, unranked_reason
from goodsad_studio.metrics.report import ReportRow, render_csv, render_json, render_markdown, write_report
from goodsad_studio.metrics.results import CategoryResult, Counts

NAN = math.nan


def result(image_auroc, images=4, defective=2, pixel=(0.4, 0.8), mode="exact"):
    return CategoryResult(
        protocol="native",
        image_auroc=image_auroc,
        image_aupr=0.5,
        pixel_aupr=pixel[0] if mode != "none" else NAN,
        pro=pixel[1] if mode != "none" else NAN,
        pixel_mode=mode,
        counts=Counts(images, defective, images - defective),
    )


def goods(goods_id, image_auroc, method="PatchCore", category="drink_can", **kwargs):
    return ReportRow(category, method, result(image_auroc, **kwargs), "w", goods_id=goods_id)


# goods 006 and 003 tie at 0.7; 005 has only good photos, 008 only defective ones, "all" is the no-goods-id group
ROWS = [
    ReportRow("drink_can", "PatchCore", result(0.8, images=30, defective=14), "w"),
    goods("001", 0.9),
    goods("002", 0.5, images=6, defective=3, pixel=(0.25, 0.6)),
    goods("006", 0.7),
    goods("003", 0.7),
    goods("004", 1.0),
    goods("005", NAN, images=2, defective=0),
    goods("007", 0.6),
    goods("008", NAN, images=3, defective=3),
    goods("all", 0.4, images=3, defective=1),
]


def test_the_five_lowest_image_aurocs_come_first_ties_by_goods_id():
    (group,) = hardest_goods(ROWS)
    assert (group.category, group.method) == ("drink_can", "PatchCore")
    assert [row.goods_id for row in group.ranked] == ["002", "007", "003", "006", "001"]
    assert group.n_ranked == 6  # 004 has an AUROC too, but is not among the five lowest
    assert [row.goods_id for row in hardest_goods(ROWS, count=2)[0].ranked] == ["002", "007"]


def test_goods_without_an_auroc_and_photos_without_a_goods_id_are_listed_apart_with_why():
    (group,) = hardest_goods(ROWS)
    reasons = {item.row.goods_id: item.reason for item in group.unranked}
    assert reasons == {
        "005": "image AUROC undefined: only good photos (2)",
        "008": "image AUROC undefined: only defective photos (3)",
        "all": NO_GOODS_ID_REASON,  # AUROC 0.4, the lowest, yet no goods
    }
    assert unranked_reason(result(NAN, images=0, defective=0)) == "no test photos"


def test_each_category_and_method_is_ranked_on_its_own_and_whole_categories_are_not_goods():
    rows = [
        goods("001", 0.9),
        goods("002", 0.8),
        goods("001", 0.3, method="SimpleNet"),
        goods("002", 0.2, category="food_box"),
    ]
    groups = hardest_goods(rows)
    assert [(g.category, g.method, [r.goods_id for r in g.ranked]) for g in groups] == [
        ("drink_can", "PatchCore", ["002", "001"]),
        ("drink_can", "SimpleNet", ["001"]),
        ("food_box", "PatchCore", ["002"]),
    ]
    assert hardest_goods([ROWS[0]]) == []


def test_markdown_names_the_hardest_goods_with_their_photos_then_the_unranked():
    text = render_markdown(ROWS)
    section = text.split("## Hardest goods")[1]
    lines = [line for line in section.splitlines() if line.startswith("| drink_can")]
    assert lines[0] == "| drink_can | PatchCore | 1 | 002 | 50.0 | 25.0 | 60.0 | 6 | 3 |"
    assert [line.split(" | ")[3] for line in lines] == ["002", "007", "003", "006", "001"]
    assert "- drink_can, PatchCore: 5 of 6 goods ids with an image AUROC shown." in section
    assert "- drink_can/005 (PatchCore): image AUROC undefined: only good photos (2)." in section
    assert "- drink_can/all (PatchCore): photos whose names carry no goods id." in section
    assert "Hardest goods" not in render_markdown([ROWS[0]])


def test_csv_and_json_hold_the_same_ranking_and_the_files_include_it(tmp_path):
    table = list(csv.reader(io.StringIO(render_csv(ROWS, "hardest"))))
    assert table[0][:4] == ["category", "method", "rank", "goods id"] and table[0][-1] == "not ranked"
    assert table[1] == ["drink_can", "PatchCore", "1", "002", "50.0", "25.0", "60.0", "6", "3", ""]
    assert table[6] == ["drink_can", "PatchCore", "", "005", "", "", "", "2", "0", unranked_reason(ROWS[6].result)]
    assert len(table) == 1 + 5 + 3
    (data,) = json.loads(render_json(ROWS))["hardest_goods"]
    assert [(g["rank"], g["goods_id"]) for g in data["ranked"]][:2] == [(1, "002"), (2, "007")]
    assert data["ranked"][0]["image_auroc"] == pytest.approx(0.5) and data["ranked"][0]["n_images"] == 6
    assert [g["goods_id"] for g in data["unranked"]] == ["005", "008", "all"]
    assert data["unranked"][0]["image_auroc"] is None and data["n_ranked"] == 6
    written = {path.name for path in write_report(ROWS, tmp_path)}
    assert "report_hardest.csv" in written and (tmp_path / "report_hardest.csv").read_text() == render_csv(
        ROWS, "hardest"
    )
    with pytest.raises(StudioError, match="no 'hardest' table"):
        render_csv([ROWS[0]], "hardest")


def test_results_without_masks_say_so_in_the_pixel_columns():
    rows = [goods("001", 0.6, mode="none"), goods("002", 0.9, mode="none")]
    line = next(line for line in render_markdown(rows).splitlines() if line.startswith("| drink_can | PatchCore | 1"))
    assert line == "| drink_can | PatchCore | 1 | 001 | 60.0 | n/a (no masks) | n/a (no masks) | 4 | 2 |"
