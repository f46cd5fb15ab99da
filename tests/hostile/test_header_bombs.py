"""A PNG of 69 bytes whose header declares 60000 x 60000 pixels (and other huge sizes): refused from its header,
before a byte is decoded, as an image and as a mask; dataset commands skip it and say so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from goodsad_studio.annotation.storage import open_mask
from goodsad_studio.dataset.imageio import (
    MAX_MEGAPIXELS_VARIABLE,
    mask_stats,
    probe_image,
    read_image,
    read_mask,
    read_preview,
    read_reduced,
)
from goodsad_studio.errors import ImageReadError, MaskError

from .helpers import (
    DEFECT_MASK,
    DecoderSpy,
    assert_no_traceback,
    assert_one_error_line,
    checksums,
    engine_argv,
    png_header_bomb,
    run_cli,
)

HUGE = [(60000, 60000), (20000, 20000), (1, 2_000_000_000), (65535, 65535), (2_147_483_647, 1), (12248, 12248)]
IMAGE_READERS = {
    "read_image": read_image,
    "read_image gray": lambda path: read_image(path, gray=True),
    "read_reduced": lambda path: read_reduced(path, 32),
    "read_preview": lambda path: read_preview(path, 64),
    "probe_image": probe_image,
}
MASK_READERS = {
    "read_mask": read_mask,
    "read_mask binarize": lambda path: read_mask(path, binarize=True),
    "mask_stats": mask_stats,
    "open_mask": open_mask,
}


def _says_the_size(message: str, width: int, height: int) -> bool:
    return any(f"{width}{sep}{height}" in message for sep in ("x", " x ", "×", " × ")) or f"{width * height:,}" in (
        message
    )


def test_the_bomb_is_a_69_byte_file():
    assert len(png_header_bomb(60000, 60000)) <= 70


@pytest.mark.parametrize("reader", IMAGE_READERS.values(), ids=IMAGE_READERS.keys())
@pytest.mark.parametrize(("width", "height"), HUGE, ids=[f"{w}x{h}" for w, h in HUGE])
def test_image_readers_refuse_a_huge_header_without_decoding(tmp_path, no_decoding, reader, width, height):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_bomb(width, height, color_type=2))
    with pytest.raises(ImageReadError) as caught:
        reader(path)
    assert caught.value.path == path
    assert str(path) in str(caught.value)
    assert _says_the_size(str(caught.value), width, height), str(caught.value)
    assert no_decoding.decoded == []


@pytest.mark.parametrize("reader", MASK_READERS.values(), ids=MASK_READERS.keys())
@pytest.mark.parametrize(("width", "height"), HUGE, ids=[f"{w}x{h}" for w, h in HUGE])
def test_mask_readers_refuse_a_huge_header_without_decoding(tmp_path, no_decoding, reader, width, height):
    path = tmp_path / "bomb_mask.png"
    path.write_bytes(png_header_bomb(width, height))
    with pytest.raises(MaskError) as caught:
        reader(path)
    assert caught.value.path == path
    assert str(path) in str(caught.value)
    assert _says_the_size(str(caught.value), width, height), str(caught.value)
    assert no_decoding.decoded == []


def test_raising_the_limit_lets_the_header_through_to_the_decoder_which_fails_with_our_error(tmp_path, monkeypatch):
    monkeypatch.setenv(MAX_MEGAPIXELS_VARIABLE, "4000")
    spy = DecoderSpy(monkeypatch, refuse=lambda data: False)
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_bomb(60000, 60000))
    with pytest.raises(ImageReadError) as image_error:  # not cv2.error
        read_image(path)
    with pytest.raises(MaskError) as mask_error:
        read_mask(path)
    assert image_error.value.path == path and mask_error.value.path == path
    assert len(spy.decoded) == 2  # the header passed; the decoder saw the bogus data


@pytest.mark.parametrize(
    ("side", "decoded"), [(12247, True), (12248, False)], ids=["149.99-megapixels", "150.02-megapixels"]
)
def test_the_default_limit_is_150_megapixels(tmp_path, monkeypatch, side, decoded):
    monkeypatch.delenv(MAX_MEGAPIXELS_VARIABLE, raising=False)
    spy = DecoderSpy(monkeypatch, refuse=lambda data: False)
    path = tmp_path / "edge.png"
    path.write_bytes(png_header_bomb(side, side))
    with pytest.raises(MaskError) as caught:  # bogus pixel data either way
        read_mask(path)
    assert caught.value.path == path
    assert bool(spy.decoded) == decoded


def test_a_lower_limit_refuses_a_small_real_image(tmp_path, monkeypatch, pristine_dataset, no_decoding):
    monkeypatch.setenv(MAX_MEGAPIXELS_VARIABLE, "0.0005")  # 500 pixels: the 28 x 20 images have 560
    path = pristine_dataset / "drink_can" / "train" / "good" / "001000.png"
    with pytest.raises(ImageReadError) as caught:
        read_image(path)
    assert caught.value.path == path and no_decoding.decoded == []


# ------------------------------------------------------------------------------------------ over a dataset
def _plant(root, relative, width=60000, height=60000, color_type=2):
    path = root / relative
    path.write_bytes(png_header_bomb(width, height, color_type=color_type))
    return path


@pytest.mark.parametrize("deep", [False, True], ids=["info", "info --deep"])
@pytest.mark.parametrize("relative", ["drink_can/test/good/009001.png", "drink_can/train/good/009000.png"])
def test_info_names_a_huge_image_and_exits_1(dataset, capsys, deep, relative):
    bomb = _plant(dataset, relative)
    before = checksums(dataset)
    status, out, err = run_cli(["info", dataset, *(["--deep"] if deep else [])], capsys)
    assert status == 1, out + err
    assert str(bomb) in out
    assert_no_traceback(out, err)
    assert checksums(dataset) == before


@pytest.mark.parametrize("deep", [False, True], ids=["info", "info --deep"])
def test_info_names_a_huge_mask_and_exits_1(dataset, capsys, deep):
    bomb = _plant(dataset, DEFECT_MASK, color_type=0)
    before = checksums(dataset)
    status, out, err = run_cli(["info", dataset, *(["--deep"] if deep else [])], capsys)
    assert status == 1, out + err
    assert str(bomb) in out
    assert_no_traceback(out, err)
    assert checksums(dataset) == before


def _says_skipped(text: str, path) -> None:
    assert re.search(r"\b1 images? skipped\b", text), text
    assert str(path) in text, text


@pytest.mark.parametrize(
    ("command", "relative"),
    [
        ("fit", "drink_can/train/good/009000.png"),
        ("predict", "drink_can/test/good/009001.png"),
        ("evaluate", "drink_can/test/good/009001.png"),
    ],
)
def test_dataset_commands_skip_a_huge_image_name_it_and_exit_0(dataset, tmp_path, capsys, command, relative):
    bomb = _plant(dataset, relative)
    before = checksums(dataset)
    report = tmp_path / "report"
    status, out, err = run_cli(engine_argv(command, dataset, report if command == "evaluate" else None), capsys)
    assert status == 0, out + err
    _says_skipped(out + err, bomb)
    assert_no_traceback(out, err)
    assert checksums(dataset) == before
    if command == "evaluate":
        _says_skipped((report / "report.md").read_text(), bomb)


def test_evaluate_skips_a_huge_mask_names_it_and_exits_0(dataset, tmp_path, capsys):
    bomb = _plant(dataset, DEFECT_MASK, color_type=0)
    before = checksums(dataset)
    status, out, err = run_cli(engine_argv("evaluate", dataset, tmp_path / "report"), capsys)
    assert status == 0, out + err
    assert "skipped" in out + err and str(bomb) in out + err
    assert_no_traceback(out, err)
    assert checksums(dataset) == before


def test_fit_exits_2_when_every_training_image_is_refused(dataset, capsys):
    bombs = [_plant(dataset, path.relative_to(dataset)) for path in (dataset / "drink_can/train/good").iterdir()]
    before = checksums(dataset)
    status, out, err = run_cli(engine_argv("fit", dataset), capsys)
    assert status == 2, out + err
    line = assert_one_error_line(err, only_line=False)
    assert any(str(bomb) in line for bomb in bombs) or "skipped" in line, line
    assert_no_traceback(out, err)
    assert checksums(dataset) == before


@pytest.mark.parametrize("command", ["fit", "predict"])
def test_an_image_that_fails_only_when_decoded_is_skipped_and_the_job_goes_on(dataset, capsys, monkeypatch, command):
    """Damaged pixel data that the header and end markers cannot show: the fit is run again without the image, a
    prediction goes on with the next image; both name it and exit 0."""
    from goodsad_studio.dataset import imageio
    from goodsad_studio.errors import ImageReadError

    split = "train/good" if command == "fit" else "test/good"
    victim = sorted((dataset / "drink_can" / split).glob("*"))[0]
    real = imageio.read_reduced

    def damaged(path, min_side):
        if Path(path) == victim:
            raise ImageReadError("corrupt or unsupported image data (OpenCV could not decode it)", path)
        return real(path, min_side)

    monkeypatch.setattr("goodsad_studio.engine.worker.images.read_reduced", damaged)
    status, out, err = run_cli(engine_argv(command, dataset), capsys)
    assert status == 0, out + err
    _says_skipped(out + err, victim)
    assert_no_traceback(out, err)
