"""Masks that really are big: refused as the wrong size from their header, without decoding, when their image is
small; counted without widening every pixel to 64 bits when they are allowed."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from goodsad_studio.annotation.storage import open_mask
from goodsad_studio.dataset.imageio import mask_stats, read_mask
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.dataset.validation import validate
from goodsad_studio.errors import MaskError

from .helpers import (
    DEFECT_MASK,
    HEIGHT,
    WIDTH,
    DecoderSpy,
    assert_no_traceback,
    checksums,
    encode,
    png_header_bomb,
    run_cli,
)


@pytest.fixture(scope="session")
def zero_mask_12000() -> bytes:
    """A real 12000 x 12000 all-zero mask PNG (144 megapixels: under the decode limit), about 160 KB."""
    data = encode(np.zeros((12000, 12000), np.uint8), ".png")
    assert len(data) < 1_000_000
    return data


@pytest.fixture(params=["12000x12000 real", "32000x32000 header"])
def big_mask(request, zero_mask_12000) -> tuple[bytes, int]:
    if request.param.startswith("12000"):
        return zero_mask_12000, 12000
    return png_header_bomb(32000, 32000), 32000


@pytest.mark.parametrize(
    "reader",
    [
        lambda path: read_mask(path, shape=(HEIGHT, WIDTH)),
        lambda path: read_mask(path, shape=(HEIGHT, WIDTH), binarize=True),
        lambda path: mask_stats(path, shape=(HEIGHT, WIDTH)),
        lambda path: open_mask(path, (HEIGHT, WIDTH)),
    ],
    ids=["read_mask", "read_mask binarize", "mask_stats", "open_mask"],
)
def test_a_big_mask_of_a_small_image_is_refused_as_the_wrong_size_without_decoding(
    tmp_path, big_mask, no_decoding, reader
):
    data, side = big_mask
    path = tmp_path / "000_mask.png"
    path.write_bytes(data)
    with pytest.raises(MaskError) as caught:
        reader(path)
    assert caught.value.path == path and str(path) in str(caught.value)
    assert f"{side}x{side}" in str(caught.value)
    assert no_decoding.decoded == []


def test_validation_reports_a_big_mask_as_the_wrong_size_without_decoding_it(
    dataset, monkeypatch, zero_mask_12000, capsys
):
    path = dataset / DEFECT_MASK
    path.write_bytes(zero_mask_12000)
    spy = DecoderSpy(monkeypatch, refuse=lambda data: data == zero_mask_12000)  # the small masks decode
    report = validate(scan_dataset(dataset))
    assert spy.refused == []
    findings = report.for_path(path)
    assert [finding.code for finding in findings] == ["mask-size"], findings
    assert "12000x12000" in findings[0].message and f"{WIDTH}x{HEIGHT}" in findings[0].message
    before = checksums(dataset)
    status, out, err = run_cli(["info", dataset], capsys)
    assert status == 1 and str(path) in out and "12000x12000" in out
    assert_no_traceback(out, err)
    assert spy.refused == [] and checksums(dataset) == before


def test_mask_stats_of_a_large_allowed_mask_is_exact_within_two_bytes_per_pixel(tmp_path):
    side = 8000
    mask = np.zeros((side, side), np.uint8)
    mask[100:600, 200:900] = 255  # 350,000 foreground pixels
    mask[1000:1010, :] = 7  # 80,000 pixels neither 0 nor 255
    mask[7999, 7999] = 255
    path = tmp_path / "large_mask.png"
    path.write_bytes(encode(mask, ".png"))
    del mask
    tracemalloc.start()
    try:
        stats = mask_stats(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (stats.width, stats.height) == (side, side)
    assert stats.nonbinary_pixels == 80_000
    assert stats.foreground_pixels == 350_000 + 80_000 + 1
    assert stats.values == (0, 7, 255)
    assert peak < 2 * side * side, f"peak {peak / side / side:.2f} bytes per pixel"
