"""The interface a promptable segmenter plugs into, the built-in GrabCut one, and SAM-style ONNX models.

A :class:`Segmenter` takes the same clicks and box as the other tools and returns a full-size bool mask. The
studio ships :class:`GrabCutSegmenter`; :class:`OnnxSegmenter` runs a SAM-class encoder/decoder pair exported to
ONNX (SAM, MobileSAM, EfficientSAM... exported with their authors' scripts, see docs/outlining.md) through
``onnxruntime``, an optional extra (``pip install 'goodsad-studio[onnx]'``) imported only when such a model is
opened. Nothing is downloaded: the user points the studio at the two files.
"""

from __future__ import annotations

import hashlib
import importlib
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from goodsad_studio.annotation.assist.crop import WorkCrop
from goodsad_studio.annotation.assist.grabcut import grabcut
from goodsad_studio.annotation.assist.image_input import image_shape, rgb_crop
from goodsad_studio.annotation.assist.prompts import BoxPrompt, Point
from goodsad_studio.errors import ModelFileError

#: SAM's input side: the image's longest side is resized to it and the rest padded
SAM_SIDE = 1024
#: ImageNet mean and standard deviation in 0-255 RGB, as SAM normalises its input
PIXEL_MEAN = np.array([123.675, 116.28, 103.53], np.float32)
PIXEL_STD = np.array([58.395, 57.12, 57.375], np.float32)
#: the decoder inputs and outputs of SAM's ONNX export (segment_anything/utils/onnx.py)
DECODER_INPUTS = ("image_embeddings", "point_coords", "point_labels", "mask_input", "has_mask_input", "orig_im_size")
DECODER_OUTPUTS = ("masks", "iou_predictions", "low_res_masks")
ONNX_HINT = "install the optional extra: pip install 'goodsad-studio[onnx]'"


@runtime_checkable
class Segmenter(Protocol):
    """Anything that segments the object the clicks and box point at."""

    def segment(self, image: np.ndarray, points: Sequence[Point], box: BoxPrompt | None) -> np.ndarray:
        """A full-size bool mask of the object (positive clicks on it, negative ones off it, the box around it)."""
        ...


class GrabCutSegmenter:
    """The built-in segmenter: GrabCut on the work crop (:func:`~goodsad_studio.annotation.assist.grabcut.grabcut`)."""

    def __init__(self, iterations: int = 3) -> None:
        self.iterations = iterations

    def segment(self, image: np.ndarray, points: Sequence[Point], box: BoxPrompt | None) -> np.ndarray:
        return grabcut(image, box=box, points=points, iterations=self.iterations)


class OnnxSegmenter:
    """A SAM-style ONNX pair: ``encoder`` (image -> image_embeddings) and ``decoder`` (SAM's ONNX signature).

    The encoder's one input takes the preprocessed image ``(1, 3, 1024, 1024)`` float32 (longest side resized to
    1024, normalised by ImageNet mean/std, padded right and bottom); its first output is the embedding, cached per
    image (by content), so clicking on one image runs the encoder once and each click only the decoder.
    """

    def __init__(self, encoder: Path, decoder: Path, *, cache_size: int = 4) -> None:
        self.encoder_path, self.decoder_path = Path(encoder), Path(decoder)
        runtime = _onnxruntime(self.decoder_path)
        self._encoder = _session(runtime, self.encoder_path)
        self._decoder = _session(runtime, self.decoder_path)
        names = [i.name for i in self._decoder.get_inputs()]
        missing = [n for n in DECODER_INPUTS if n not in names]
        if missing:
            raise ModelFileError(
                f"not a SAM-style decoder: it lacks the input(s) {', '.join(missing)} (it has {', '.join(names)})",
                self.decoder_path,
            )
        outputs = [o.name for o in self._decoder.get_outputs()]
        if "masks" not in outputs:
            raise ModelFileError(
                f"not a SAM-style decoder: it has no 'masks' output (it has {', '.join(outputs)})", self.decoder_path
            )
        inputs = self._encoder.get_inputs()
        if len(inputs) != 1:
            raise ModelFileError(f"an image encoder takes one input, this one takes {len(inputs)}", self.encoder_path)
        self._encoder_input = inputs[0].name
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = max(1, int(cache_size))
        self.encoder_runs = 0  #: how many times the encoder ran (the cache spares the rest)

    def embedding(self, image: np.ndarray) -> np.ndarray:
        """The image's embedding, from the cache when this image was encoded before."""
        image_shape(image)
        key = hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=16).hexdigest() + str(image.shape)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        try:
            found = np.asarray(self._encoder.run(None, {self._encoder_input: preprocess(image)})[0], np.float32)
        except Exception as error:  # onnxruntime raises its own exception types
            raise ModelFileError(
                f"the encoder failed on a {image.shape[1]}x{image.shape[0]} image: {error}", self.encoder_path
            ) from error
        self.encoder_runs += 1
        self._cache[key] = found
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return found

    def segment(self, image: np.ndarray, points: Sequence[Point], box: BoxPrompt | None) -> np.ndarray:
        height, width = image_shape(image)
        if not points and box is None:
            raise ValueError("the segmenter needs at least one click or a box")
        scale = SAM_SIDE / max(height, width)
        coords: list[tuple[float, float]] = [(p.x, p.y) for p in points]
        labels: list[float] = [1.0 if p.positive else 0.0 for p in points]
        if box is not None:
            b = box.ordered()
            coords += [(b.x0, b.y0), (b.x1, b.y1)]
            labels += [2.0, 3.0]
        else:
            coords.append((0.5 / scale, 0.5 / scale))  # SAM's padding point (label -1), placed to map to 0
            labels.append(-1.0)
        feeds = {
            "image_embeddings": self.embedding(image),
            "point_coords": sam_coordinates(np.asarray(coords, np.float64), scale)[None].astype(np.float32),
            "point_labels": np.asarray(labels, np.float32)[None],
            "mask_input": np.zeros((1, 1, SAM_SIDE // 4, SAM_SIDE // 4), np.float32),
            "has_mask_input": np.zeros(1, np.float32),
            "orig_im_size": np.array([height, width], np.float32),
        }
        try:
            outputs = self._decoder.run(None, feeds)
        except Exception as error:
            raise ModelFileError(f"the decoder failed: {error}", self.decoder_path) from error
        named = dict(zip([o.name for o in self._decoder.get_outputs()], outputs, strict=True))
        masks = np.asarray(named["masks"])
        if masks.ndim != 4:
            raise ModelFileError(f"the decoder's masks have shape {masks.shape}, not (1, K, H, W)", self.decoder_path)
        best = 0
        if "iou_predictions" in named and masks.shape[1] > 1:
            best = int(np.argmax(np.asarray(named["iou_predictions"]).reshape(-1)))
        logits = masks[0, best].astype(np.float32)
        if logits.shape != (height, width):
            logits = cv2.resize(logits, (width, height), interpolation=cv2.INTER_LINEAR)
        return np.asarray(logits > 0.0, dtype=bool)


def preprocess(image: np.ndarray) -> np.ndarray:
    """SAM's input ``(1, 3, 1024, 1024)`` float32: longest side resized to 1024 (bilinear), ImageNet mean/std,
    padded with zeros right and bottom (after normalising, as SAM does)."""
    height, width = image_shape(image)
    scale = SAM_SIDE / max(height, width)
    size = (int(width * scale + 0.5), int(height * scale + 0.5))
    rgb = rgb_crop(image, WorkCrop(0, 0, width, height))
    resized = cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR).astype(np.float32)
    out = np.zeros((SAM_SIDE, SAM_SIDE, 3), np.float32)
    out[: size[1], : size[0]] = (resized - PIXEL_MEAN) / PIXEL_STD
    return np.ascontiguousarray(out.transpose(2, 0, 1)[None])


def sam_coordinates(xy: np.ndarray, scale: float) -> np.ndarray:
    """Image coordinates (pixel centres at +0.5) to the coordinates SAM's decoder takes: pixel indices of the
    resized image, to which SAM's prompt encoder adds 0.5 itself. The centre ``c + 0.5`` of an image pixel maps to
    ``(c + 0.5) * scale`` in the resized image, which is pixel index ``(c + 0.5) * scale - 0.5`` there."""
    return np.asarray(xy, np.float64) * scale - 0.5


def _onnxruntime(path: Path) -> Any:
    try:
        return importlib.import_module("onnxruntime")
    except ImportError as error:
        raise ModelFileError(
            f"opening an ONNX model needs onnxruntime, which is not installed: {ONNX_HINT}", path
        ) from error


def _session(runtime: Any, path: Path) -> Any:
    if not path.is_file():
        raise ModelFileError(
            "the ONNX model file does not exist" if not path.exists() else "the ONNX model path is not a file", path
        )
    try:
        return runtime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises InvalidProtobuf, Fail, ... for what is not a usable model
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFileError(f"not a readable ONNX model ({first})", path) from error
