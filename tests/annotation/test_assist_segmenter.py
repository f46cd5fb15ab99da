"""The segmenter interface: the built-in GrabCut one, and a SAM-style ONNX pair run on a tiny model built here.

The tiny pair has SAM's ONNX signature. Its encoder averages the preprocessed image over channels and 16x16
blocks (so the embedding is positive where the image is brighter than ImageNet's mean, and wrong preprocessing
shows); its decoder's low-resolution logits are the smaller of a disc of radius ``R`` around the first prompt
point (in SAM's 1024 frame) and the upsampled embedding, brought back to the original image size the way SAM's
exported decoder does (1024 frame, cropped to the resized image, resized to ``orig_im_size``). So the mask is the
bright object, limited to a disc around the click: it tests the preprocessing, the coordinate scaling and the
postprocessing together.
"""

from __future__ import annotations

import importlib
import os

import numpy as np
import pytest

from goodsad_studio.annotation.assist.prompts import BoxPrompt, Point
from goodsad_studio.annotation.assist.segmenter import (
    GrabCutSegmenter,
    OnnxSegmenter,
    Segmenter,
    preprocess,
    sam_coordinates,
)
from goodsad_studio.errors import ModelFileError

from .test_assist_scenes import disc_scene, iou


def _need(module: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{module} is not installed, and under CI the ONNX segmenter tests must run")
        pytest.skip(f"{module} is not installed (pip install 'goodsad-studio[onnx]'): the ONNX segmenter is untested")


def _tiny_pair(folder, radius=200.0):
    onnx = _need("onnx")
    _need("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper

    def const(name, array):
        return numpy_helper.from_array(np.asarray(array), name)

    encoder = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["image", "axes1"], ["grey"], keepdims=1),
            helper.make_node("AveragePool", ["grey"], ["image_embeddings"], kernel_shape=[16, 16], strides=[16, 16]),
        ],
        "tiny_encoder",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 1024, 1024])],
        [helper.make_tensor_value_info("image_embeddings", TensorProto.FLOAT, [1, 1, 64, 64])],
        [const("axes1", np.array([1], np.int64))],
    )
    centres = np.arange(256, dtype=np.float32) * 4 + 1.5  # low-res cell centres as SAM pixel indices
    grid = np.stack(np.meshgrid(centres, centres, indexing="xy"), axis=-1)[None, None]  # (1, 1, 256, 256, 2)
    nodes = [
        helper.make_node("Slice", ["point_coords", "s0", "s1", "s_axis1"], ["first"]),  # (1, 1, 2)
        helper.make_node("Reshape", ["first", "shape5"], ["first5"]),
        helper.make_node("Sub", ["grid", "first5"], ["offset"]),
        helper.make_node("Mul", ["offset", "offset"], ["offset2"]),
        helper.make_node("ReduceSum", ["offset2", "axes_last"], ["dist2"], keepdims=0),  # (1, 1, 256, 256)
        helper.make_node("Sub", ["r2", "dist2"], ["disc_raw"]),
        helper.make_node("Div", ["disc_raw", "r2"], ["disc"]),
        helper.make_node("Resize", ["image_embeddings", "", "scale4"], ["embedding_up"], mode="nearest"),
        helper.make_node("Min", ["disc", "embedding_up"], ["low_res_masks"]),
        helper.make_node("ReduceMax", ["orig_im_size"], ["longest"], keepdims=0),
        helper.make_node("Div", ["side", "longest"], ["scale"]),
        helper.make_node("Mul", ["orig_im_size", "scale"], ["resized_f"]),
        helper.make_node("Add", ["resized_f", "half"], ["resized_h"]),
        helper.make_node("Floor", ["resized_h"], ["resized_fl"]),
        helper.make_node("Cast", ["resized_fl"], ["resized"], to=TensorProto.INT64),
        helper.make_node("Resize", ["low_res_masks", "", "scale4"], ["frame"], mode="linear"),
        helper.make_node("Slice", ["frame", "zeros2", "resized", "axes23"], ["cropped"]),
        helper.make_node("Cast", ["orig_im_size"], ["orig_i"], to=TensorProto.INT64),
        helper.make_node("Concat", ["ones2", "orig_i"], ["out_size"], axis=0),
        helper.make_node("Resize", ["cropped", "", "", "out_size"], ["masks"], mode="linear"),
        helper.make_node("ReduceMean", ["mask_input", "axes123"], ["mask_mean"], keepdims=0),
        helper.make_node("Mul", ["mask_mean", "has_mask_input"], ["mask_term"]),
        helper.make_node("ReduceMean", ["point_labels", "axes1"], ["label_mean"], keepdims=0),
        helper.make_node("Mul", ["label_mean", "zero"], ["label_term"]),
        helper.make_node("Add", ["mask_term", "label_term"], ["unused"]),
        helper.make_node("Mul", ["unused", "zero"], ["nothing"]),
        helper.make_node("Add", ["nothing", "one"], ["iou_predictions"]),
    ]
    f32 = TensorProto.FLOAT
    decoder = helper.make_graph(
        nodes,
        "tiny_decoder",
        [
            helper.make_tensor_value_info("image_embeddings", f32, [1, 1, 64, 64]),
            helper.make_tensor_value_info("point_coords", f32, [1, "n", 2]),
            helper.make_tensor_value_info("point_labels", f32, [1, "n"]),
            helper.make_tensor_value_info("mask_input", f32, [1, 1, 256, 256]),
            helper.make_tensor_value_info("has_mask_input", f32, [1]),
            helper.make_tensor_value_info("orig_im_size", f32, [2]),
        ],
        [
            helper.make_tensor_value_info("masks", f32, [1, 1, "h", "w"]),
            helper.make_tensor_value_info("iou_predictions", f32, [1, 1]),
            helper.make_tensor_value_info("low_res_masks", f32, [1, 1, 256, 256]),
        ],
        [
            const("grid", grid.astype(np.float32)),
            const("s0", np.array([0], np.int64)),
            const("s1", np.array([1], np.int64)),
            const("s_axis1", np.array([1], np.int64)),
            const("shape5", np.array([1, 1, 1, 1, 2], np.int64)),
            const("axes_last", np.array([-1], np.int64)),
            const("r2", np.array(radius * radius, np.float32)),
            const("scale4", np.array([1, 1, 4, 4], np.float32)),
            const("side", np.array(1024.0, np.float32)),
            const("half", np.array(0.5, np.float32)),
            const("zeros2", np.array([0, 0], np.int64)),
            const("axes23", np.array([2, 3], np.int64)),
            const("ones2", np.array([1, 1], np.int64)),
            const("axes123", np.array([1, 2, 3], np.int64)),
            const("axes1", np.array([1], np.int64)),
            const("zero", np.array(0.0, np.float32)),
            const("one", np.ones((1, 1), np.float32)),
        ],
    )
    paths = []
    for graph, name in ((encoder, "encoder.onnx"), (decoder, "decoder.onnx")):
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        path = folder / name
        onnx.save(model, str(path))
        paths.append(path)
    return paths


def _bright_square_scene(width=300, height=200):
    image = np.full((height, width, 3), 30, np.uint8)
    truth = np.zeros((height, width), bool)
    truth[60:140, 170:260] = True
    image[truth] = 230
    return image, truth


def test_the_built_in_segmenter_satisfies_the_interface():
    segmenter = GrabCutSegmenter()
    assert isinstance(segmenter, Segmenter)
    image, disc = disc_scene()
    assert iou(segmenter.segment(image, [], BoxPrompt(55, 55, 145, 145)), disc) >= 0.95


def test_onnx_pair_segments_the_clicked_object(tmp_path):
    encoder, decoder = _tiny_pair(tmp_path)
    segmenter = OnnxSegmenter(encoder, decoder)
    assert isinstance(segmenter, Segmenter)
    image, truth = _bright_square_scene()
    found = segmenter.segment(image, [Point(215.5, 100.5)], None)
    assert found.shape == truth.shape and found.dtype == bool
    assert iou(found, truth) >= 0.95


def test_onnx_coordinates_are_scaled_into_sams_frame(tmp_path):
    encoder, decoder = _tiny_pair(tmp_path, radius=60.0)  # a disc smaller than the object: it shows the click
    segmenter = OnnxSegmenter(encoder, decoder)
    image = np.full((400, 600, 3), 230, np.uint8)  # bright everywhere: the mask is the disc alone
    found = segmenter.segment(image, [Point(150.5, 300.5)], None)
    rows, cols = np.nonzero(found)
    scale = 1024 / 600
    assert abs(cols.mean() + 0.5 - 150.5) < 1.5 and abs(rows.mean() + 0.5 - 300.5) < 1.5
    assert abs(np.sqrt(found.sum() / np.pi) - 60 / scale) < 2.0
    box_first = segmenter.segment(image, [], BoxPrompt(400, 100, 500, 200))  # a box's first corner is its point
    rows, cols = np.nonzero(box_first)
    assert abs(cols.mean() - 400) < 2.5 and abs(rows.mean() - 100) < 2.5


def test_the_embedding_is_computed_once_per_image(tmp_path):
    segmenter = OnnxSegmenter(*_tiny_pair(tmp_path))
    image, _ = _bright_square_scene()
    segmenter.segment(image, [Point(200, 100)], None)
    segmenter.segment(image, [Point(210, 90), Point(20, 20, positive=False)], None)
    assert segmenter.encoder_runs == 1
    other = image.copy()
    other[0, 0] = 0
    segmenter.segment(other, [Point(200, 100)], None)
    assert segmenter.encoder_runs == 2


def test_preprocessing_is_sams():
    image = np.full((512, 256, 3), 255, np.uint8)
    x = preprocess(image)
    assert x.shape == (1, 3, 1024, 1024) and x.dtype == np.float32
    assert np.allclose(
        x[0, :, :, :512],
        ((255 - np.array([123.675, 116.28, 103.53])) / np.array([58.395, 57.12, 57.375]))[:, None, None],
    )
    assert np.all(x[0, :, :, 512:] == 0)
    assert np.allclose(sam_coordinates(np.array([[0.5, 0.5]]), 2.0), [[0.5, 0.5]])


def test_missing_file_not_onnx_and_wrong_decoder_are_named(tmp_path):
    _need("onnxruntime")
    encoder, decoder = _tiny_pair(tmp_path)
    with pytest.raises(ModelFileError, match="missing.onnx: the ONNX model file does not exist"):
        OnnxSegmenter(tmp_path / "missing.onnx", decoder)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not a model")
    with pytest.raises(ModelFileError, match="junk.onnx: not a readable ONNX model"):
        OnnxSegmenter(encoder, junk)
    with pytest.raises(ModelFileError, match="encoder.onnx: not a SAM-style decoder: it lacks the input"):
        OnnxSegmenter(encoder, encoder)


def test_without_onnxruntime_the_message_says_how_to_install_it(tmp_path, monkeypatch):
    real = importlib.import_module

    def refuse(name, *args, **kwargs):
        if name == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", refuse)
    with pytest.raises(ModelFileError, match=r"decoder.onnx: .*onnxruntime.*pip install 'goodsad-studio\[onnx\]'"):
        OnnxSegmenter(tmp_path / "encoder.onnx", tmp_path / "decoder.onnx")
