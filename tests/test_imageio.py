"""Image and mask IO: formats, previews, and clear errors for broken files."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_image

from goodsad_studio.dataset.imageio import (
    mask_stats,
    probe_image,
    read_image,
    read_mask,
    read_preview,
    write_image,
    write_mask,
)
from goodsad_studio.errors import ImageReadError, MaskError


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif"])
def test_lossless_formats_round_trip_rgb(tmp_path, suffix):
    image = make_image(tmp_path / f"a{suffix}", (20, 30))
    assert np.array_equal(read_image(tmp_path / f"a{suffix}"), image)
    info = probe_image(tmp_path / f"a{suffix}")
    assert (info.width, info.height, info.channels) == (30, 20, 3)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp"])
def test_grayscale_expands_to_three_channels(tmp_path, suffix):
    gray = make_image(tmp_path / f"g{suffix}", (16, 18), gray=True)
    rgb = read_image(tmp_path / f"g{suffix}")
    assert rgb.shape == (16, 18, 3) and rgb.dtype == np.uint8
    assert np.array_equal(rgb[..., 0], rgb[..., 2])
    assert read_image(tmp_path / f"g{suffix}", gray=True).shape == (16, 18)
    assert probe_image(tmp_path / f"g{suffix}").channels == 1
    if suffix != ".jpg":
        assert np.array_equal(rgb[..., 1], gray)


def test_jpeg_header_probe_and_reduced_preview(tmp_path):
    rng = np.random.default_rng(1)
    image = cv_smooth(rng.integers(0, 256, (600, 800, 3), dtype=np.uint8))
    write_image(tmp_path / "big.jpg", image)
    info = probe_image(tmp_path / "big.jpg")
    assert (info.width, info.height) == (800, 600)
    preview, scale = read_preview(tmp_path / "big.jpg", 200)
    assert max(preview.shape[:2]) == 200 and preview.shape[2] == 3
    assert scale == pytest.approx(0.25)
    small, scale = read_preview(tmp_path / "big.jpg", 1000)
    assert small.shape == (600, 800, 3) and scale == 1.0


def cv_smooth(image):
    import cv2

    return cv2.GaussianBlur(image, (0, 0), 5)


def test_truncated_jpeg_and_png_name_the_file(tmp_path):
    make_image(tmp_path / "a.jpg", (64, 64))
    make_image(tmp_path / "b.png", (64, 64))
    for name in ("a.jpg", "b.png"):
        data = (tmp_path / name).read_bytes()
        (tmp_path / name).write_bytes(data[: len(data) // 2])
        with pytest.raises(ImageReadError, match="truncated") as info:
            read_image(tmp_path / name)
        assert name in str(info.value)


def test_garbage_empty_missing_files(tmp_path):
    (tmp_path / "garbage.png").write_bytes(b"this is not an image at all")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(ImageReadError, match="unknown header"):
        read_image(tmp_path / "garbage.png")
    with pytest.raises(ImageReadError, match="empty"):
        read_image(tmp_path / "empty.jpg")
    with pytest.raises(ImageReadError, match="not found"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(ImageReadError, match="garbage.png"):
        probe_image(tmp_path / "garbage.png")


def test_corrupt_png_body(tmp_path):
    make_image(tmp_path / "c.png", (32, 32))
    data = bytearray((tmp_path / "c.png").read_bytes())
    data[40:80] = bytes(40)  # inside the IDAT chunk: CRC and inflate fail
    (tmp_path / "c.png").write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match="c.png"):
        read_image(tmp_path / "c.png")


def test_mask_write_read_round_trip_is_8bit_0_255(tmp_path):
    mask = np.zeros((10, 12), bool)
    mask[2:5, 3:9] = True
    write_mask(tmp_path / "m.png", mask)
    assert np.array_equal(read_mask(tmp_path / "m.png"), mask)
    stats = mask_stats(tmp_path / "m.png")
    assert stats.values == (0, 255) and stats.nonbinary_pixels == 0 and stats.foreground_pixels == 18


def test_non_binary_mask_is_refused_unless_binarised(tmp_path):
    raw = np.zeros((8, 8), np.uint8)
    raw[1:3, 1:3] = 255
    raw[5, 5] = 128
    raw[6, 6] = 1
    write_image(tmp_path / "soft.png", raw)
    with pytest.raises(MaskError, match=r"not binary: 2 pixels") as info:
        read_mask(tmp_path / "soft.png")
    assert "soft.png" in str(info.value)
    assert read_mask(tmp_path / "soft.png", binarize=True).sum() == 5
    assert mask_stats(tmp_path / "soft.png").nonbinary_pixels == 2


def test_mask_of_wrong_size_names_both_sizes(tmp_path):
    write_mask(tmp_path / "m.png", np.ones((10, 12), bool))
    with pytest.raises(MaskError, match=r"mask is 12x10 but its image is 20x10"):
        read_mask(tmp_path / "m.png", shape=(10, 20))


def test_colour_mask_with_unequal_channels_is_refused(tmp_path):
    rgb = np.zeros((6, 6, 3), np.uint8)
    rgb[1, 1] = (255, 0, 0)
    write_image(tmp_path / "colour.png", rgb)
    with pytest.raises(MaskError, match="colour mask"):
        read_mask(tmp_path / "colour.png")
