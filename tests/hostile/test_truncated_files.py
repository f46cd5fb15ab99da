"""Files cut short at any offset: a JPEG cut in its scan data with the end-of-image marker put back (OpenCV would
decode it into a half-grey picture), a JPEG or PNG simply cut. Each is refused or reported, naming the file."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goodsad_studio.dataset.imageio import mask_stats, read_image, read_mask
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.dataset.validation import validate
from goodsad_studio.errors import ImageReadError, MaskError

from .helpers import assert_no_traceback, count_example, encode, jpeg_scan_start, noisy_image, run_cli

EXAMPLES = settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
JPEG = encode(noisy_image(seed=3), ".jpg")  # a few KB, most of it scan data
PNG = encode(noisy_image(seed=4), ".png")
MASK_PNG = encode((noisy_image(seed=5)[:, :, 0] > 127).astype("uint8") * 255, ".png")
SCAN = jpeg_scan_start(JPEG)
TARGET = "food_box/test/good/010001.jpg"  # a JPEG image of the tiny dataset, no mask


def test_the_jpeg_is_mostly_scan_data():
    assert 2000 < len(JPEG) < 10000 and SCAN < len(JPEG) // 4


@EXAMPLES
@given(offset=st.integers(SCAN, len(JPEG) - 2 - 8))  # at least 8 bytes of scan data gone
def test_a_jpeg_cut_in_its_scan_data_with_the_end_marker_put_back_is_reported(dataset, capsys, offset):
    count_example()
    path = dataset / TARGET
    path.write_bytes(JPEG[:offset] + b"\xff\xd9")
    report = validate(scan_dataset(dataset), deep=True)
    assert [finding.severity for finding in report.for_path(path)] == ["error"], report.findings
    status, out, err = run_cli(["info", dataset, "--deep"], capsys)
    assert status == 1 and str(path) in out, out + err
    assert_no_traceback(out, err)


@EXAMPLES
@given(offset=st.integers(1, len(JPEG) - 1))
def test_a_cut_jpeg_is_refused_at_every_offset(tmp_path, offset):
    count_example()
    path = tmp_path / "cut.jpg"
    path.write_bytes(JPEG[:offset])
    with pytest.raises(ImageReadError) as caught:
        read_image(path)
    assert caught.value.path == path and str(path) in str(caught.value)


@EXAMPLES
@given(offset=st.integers(1, len(PNG) - 1))
def test_a_cut_png_image_is_refused_at_every_offset(tmp_path, offset):
    count_example()
    path = tmp_path / "cut.png"
    path.write_bytes(PNG[:offset])
    with pytest.raises(ImageReadError) as caught:
        read_image(path)
    assert caught.value.path == path and str(path) in str(caught.value)


@EXAMPLES
@given(offset=st.integers(1, len(MASK_PNG) - 1))
def test_a_cut_png_mask_is_refused_at_every_offset(tmp_path, offset):
    count_example()
    path = tmp_path / "cut_mask.png"
    path.write_bytes(MASK_PNG[:offset])
    for reader in (read_mask, mask_stats):
        with pytest.raises(MaskError) as caught:
            reader(path)
        assert caught.value.path == path and str(path) in str(caught.value)
