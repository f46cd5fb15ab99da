"""The shared pre-processing (resize by default, optional centre crop, grayscale expansion, maps back at the
image's resolution) and the model file format (safetensors written by streaming, readable by safetensors)."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import load_file

from goodsad_studio.errors import ImageInputError, ModelFileError, ParamError
from goodsad_studio.methods.components.preprocess import Preprocess, as_rgb_uint8
from goodsad_studio.methods.persistence import read_safetensors, write_safetensors
from goodsad_studio.params import ParamSpec, validate_params


def test_default_resize_keeps_the_whole_image_and_normalises():
    image = np.zeros((30, 90, 3), np.uint8)
    image[:, -3:] = 255  # a white strip at the right border
    prepared = Preprocess(image_size=64).prepare(image)
    assert prepared.shape == (3, 64, 64) and prepared.dtype == np.float32
    assert prepared[0, 32, -1] == pytest.approx((1 - 0.485) / 0.229, rel=1e-3)  # the border strip is kept
    assert prepared[0, 32, 0] == pytest.approx(-0.485 / 0.229, rel=1e-3)


def test_crop_mode_cuts_the_centre_of_a_larger_resize():
    pre = Preprocess(image_size=224, mode="resize_crop")
    assert (pre.resize_size, pre.crop_offset) == (256, 16)
    image = np.zeros((512, 512, 3), np.uint8)
    image[:, :20] = 255  # left border: cut away by the crop
    assert pre.prepare(image)[0].max() == pytest.approx(-0.485 / 0.229, rel=1e-3)


def test_maps_come_back_at_the_image_size_and_crop_borders_get_the_minimum():
    grid = np.arange(16, dtype=np.float32).reshape(4, 4)
    (made,) = Preprocess(image_size=32).assemble(grid[None], None, [(50, 70)], 4.0)
    plain = made.anomaly_map
    assert plain.shape == (50, 70) and plain.dtype == np.float32
    assert plain[0, 0] < plain[-1, -1]  # orientation kept
    (made,) = Preprocess(image_size=224, mode="resize_crop").assemble(grid[None], None, [(256, 256)], 0.0)
    cropped = made.anomaly_map
    assert cropped.shape == (256, 256)
    inside = cropped[16:240, 16:240]
    assert (cropped[:16] == inside.min()).all() and (cropped[:, 240:] == inside.min()).all()


def test_grayscale_is_expanded_and_bad_arrays_are_refused():
    gray = np.full((10, 12), 7, np.uint8)
    rgb = as_rgb_uint8(gray)
    assert rgb.shape == (10, 12, 3) and (rgb == 7).all()
    assert as_rgb_uint8(gray[:, :, None]).shape == (10, 12, 3)
    with pytest.raises(ImageInputError, match="image 3: expected dtype uint8, got float64"):
        as_rgb_uint8(np.zeros((4, 4, 3)), 3)
    with pytest.raises(ImageInputError, match="too small"):
        as_rgb_uint8(np.zeros((1, 4, 3), np.uint8))
    with pytest.raises(ImageInputError, match="numpy array"):
        as_rgb_uint8([[1, 2]])  # type: ignore[arg-type]


def test_param_specs_parse_text_and_explain_what_is_allowed():
    specs = [
        ParamSpec("ratio", "float", 0.1, min=0.001, max=1.0),
        ParamSpec("fast", "bool", False),
        ParamSpec("dim", "int", None, min=8, optional=True),
    ]
    assert validate_params(specs, {"ratio": "0.5", "fast": "yes", "dim": "auto"}) == {
        "ratio": 0.5,
        "fast": True,
        "dim": None,
    }
    with pytest.raises(ParamError, match="'ratio' expects float in \\[0.001, 1\\], got 'lots'"):
        validate_params(specs, {"ratio": "lots"})
    with pytest.raises(ParamError, match="'ratio' must be finite"):
        validate_params(specs, {"ratio": float("nan")})
    with pytest.raises(ParamError, match="'fast' must be true or false"):
        validate_params(specs, {"fast": 1})


def test_streamed_safetensors_are_read_by_the_safetensors_library(tmp_path):
    arrays = {
        "bank": np.arange(12, dtype=np.float16).reshape(3, 4),
        "grid": np.array([28, 28], np.int64),
        "flags": np.array([True, False]),
        "z": np.zeros((0, 5), np.float32),
    }
    path = tmp_path / "state.safetensors"
    write_safetensors(path, arrays, {"save_id": "abc"})
    for loaded in (load_file(str(path)), read_safetensors(path)[0]):
        assert set(loaded) == set(arrays)
        for name, array in arrays.items():
            assert loaded[name].dtype == array.dtype
            np.testing.assert_array_equal(loaded[name], array)
    assert read_safetensors(path)[1] == {"save_id": "abc"}


def test_unreadable_state_files_are_named(tmp_path):
    path = tmp_path / "state.safetensors"
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not a header}")
    with pytest.raises(ModelFileError, match="state.safetensors: not a readable safetensors file"):
        read_safetensors(path)
