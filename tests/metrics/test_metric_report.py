"""The paper-style report on made-up numbers: structure, rounding, the mean row, the header."""

from __future__ import annotations

import csv
import io
import json

import pytest

from goodsad_studio.errors import StudioError
from goodsad_studio.metrics.report import (
    ReportRow,
    build_tables,
    render_csv,
    render_json,
    render_markdown,
    write_report,
)
from goodsad_studio.metrics.results import CategoryResult


def result(image_auroc, image_aupr, pixel=None, protocol="native", mode="exact"):
    values = dict(image_auroc=image_auroc, image_aupr=image_aupr)
    if pixel:
        values.update(pixel_auroc=pixel[0], pixel_aupr=pixel[1], pro=pixel[2])
    return CategoryResult(protocol=protocol, pixel_mode=mode if pixel else "none", **values)


ROWS = [
    ReportRow("drink_bottle", "PatchCore", result(0.8556, 0.90, (0.95, 0.538, 0.899)), "wide_resnet50_2 (torchvision)"),
    ReportRow("drink_can", "PatchCore", result(0.80, 0.70, (0.90, 0.40, 0.80)), "wide_resnet50_2 (torchvision)"),
    ReportRow("drink_bottle", "SimpleNet", result(0.75, 0.60, (0.85, 0.30, 0.70)), "mobilenet_v2 IMAGENET1K_V1"),
]


def cells(csv_text):
    return list(csv.reader(io.StringIO(csv_text)))


def test_image_table_has_categories_then_a_mean_row_rounded_to_one_decimal():
    table = cells(render_csv(ROWS, "image"))
    assert table[0] == ["category", "PatchCore AUROC", "PatchCore AUPR", "SimpleNet AUROC", "SimpleNet AUPR"]
    assert [row[0] for row in table[1:]] == ["drink_bottle", "drink_can", "Mean"]
    assert table[1][1] == "85.6"
    assert table[2][1:3] == ["80.0", "70.0"]
    assert table[2][3:] == ["", ""]  # SimpleNet has no drink_can result
    assert table[3][1] == "82.8"  # (85.56 + 80) / 2 = 82.78: the mean of unrounded values
    assert table[3][3] == "75.0"


def test_pixel_table_and_partial_means_are_marked():
    text = render_markdown(ROWS, decimals=2)
    assert "Table V" in text and "PatchCore PRO" in text
    assert "| **Mean** | 82.78 | 80.00 | 75.00* | 60.00* |" in text
    assert "mean over the categories that have a value" in text
    pixel = cells(render_csv(ROWS, "pixel"))
    assert pixel[0][1:4] == ["PatchCore AUROC", "PatchCore AUPR", "PatchCore PRO"]
    assert pixel[1][2:4] == ["53.8", "89.9"]


def test_header_states_protocol_and_weights():
    text = render_markdown(ROWS)
    assert "Protocol: native" in text
    assert "Weights of PatchCore: wide_resnet50_2 (torchvision)." in text
    assert "Weights of SimpleNet: mobilenet_v2 IMAGENET1K_V1." in text
    assert "FPR 0.3" in text
    paper = render_markdown([ReportRow("food_box", "PatchCore", result(0.9, 0.9, protocol="224"))])
    assert "Protocol: 224" in paper and "not stated" in paper
    # a result without pixel metrics (no masks): Table V says so instead of leaving the columns out
    assert "Table V" in paper and paper.split("Table V")[1].count("n/a (no masks)") == 6


def test_mixed_protocols_and_duplicates_are_refused():
    with pytest.raises(StudioError, match="different evaluation protocols"):
        render_markdown(ROWS + [ReportRow("food_box", "PatchCore", result(0.9, 0.9, protocol="224"))])
    with pytest.raises(StudioError, match="two results"):
        render_markdown(ROWS + [ROWS[0]])
    with pytest.raises(StudioError, match="nothing to report"):
        render_markdown([])


def test_goods_rows_get_their_own_table_without_a_mean():
    rows = ROWS + [ReportRow("drink_can", "PatchCore", result(0.7, 0.6, (0.9, 0.5, 0.8)), goods_id="012")]
    tables = {t.name: t for t in build_tables(rows)}
    assert tables["goods"].row_labels == ["drink_can/012"]
    assert cells(render_csv(rows, "goods"))[0][:2] == ["category/goods id", "PatchCore I-AUROC"]
    assert tables["image"].row_labels == ["drink_bottle", "drink_can", "Mean"]  # goods rows stay out of means


def test_json_and_files(tmp_path):
    data = json.loads(render_json(ROWS))
    assert data["protocol"] == "native"
    assert data["tables"]["image"]["rows"][0][1] == pytest.approx(0.8556)
    assert data["tables"]["image"]["rows"][1][3] is None
    assert len(data["results"]) == 3 and data["results"][2]["method"] == "SimpleNet"
    written = write_report(ROWS, tmp_path / "out")
    assert sorted(p.name for p in written) == ["report.json", "report.md", "report_image.csv", "report_pixel.csv"]
    assert (tmp_path / "out" / "report.md").read_text().startswith("# Anomaly detection results")


def test_binned_results_report_their_error_bound():
    rows = [
        ReportRow(
            "drink_can",
            "PatchCore",
            CategoryResult(
                protocol="native",
                image_auroc=0.8,
                image_aupr=0.7,
                pixel_auroc=0.9,
                pixel_aupr=0.4,
                pro=0.8,
                pixel_mode="binned",
                error_bounds={"pixel_auroc": 2e-6, "pixel_aupr": 5e-5, "pro": 1e-5},
            ),
        )
    ]
    assert "largest error bound 5.0e-05" in render_markdown(rows)
