"""The feature extractor keeps both input paths of the former code bit for bit, reports its stages with true totals
and checks cancel; the method base assembles maps, validates, saves and refuses what it cannot load."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from goodsad_studio.errors import Cancelled, ModelFileError, NotFittedError, ParamError
from goodsad_studio.methods import GridScores, Method, Prediction, load_method
from goodsad_studio.methods.api import Batch, SetupRequest
from goodsad_studio.methods.components.features import FEATURE_PARAMS, FeatureExtractor
from goodsad_studio.methods.persistence import STATE_FILE
from goodsad_studio.params import ParamSpec, validate_params
from goodsad_studio.progress import NO_MONITOR, Monitor, Progress, Stage

from .helpers import texture

HPARAMS = {"image_size": 64, "resize_mode": "resize"}


def _extractor(roles=("s8",), input_path="float", backbone="mobilenet_v2", normalize=True) -> FeatureExtractor:
    return FeatureExtractor.build(
        roles, HPARAMS, SetupRequest("test", backbone, "cpu"), normalize=normalize, input_path=input_path
    )


def test_the_float_path_is_the_numpy_pre_processing_with_the_backbone_maps(mobilenet_weights):
    inputs = _extractor()
    images = [texture(1), texture(2, (48, 80))]
    (batch,) = list(inputs.batches(images, Monitor()))
    expected = np.stack([inputs.preprocess.prepare(image) for image in images])
    assert torch.equal(batch.input, torch.from_numpy(expected))
    assert batch.shapes == ((64, 64), (48, 80)) and set(batch.maps) == {"s8"}
    assert torch.equal(batch.maps["s8"], inputs.taps(torch.from_numpy(expected))["s8"])


def test_the_uint8_path_normalises_the_resized_images_in_torch_and_carries_no_maps(mobilenet_weights):
    inputs = _extractor(input_path="uint8")
    images = [texture(1), texture(2, (48, 80))]
    (batch,) = list(inputs.batches(images, Monitor()))
    resized = torch.from_numpy(np.stack([inputs.preprocess.resize(image) for image in images]))
    mean = torch.tensor(inputs.preprocess.mean).view(1, 3, 1, 1)
    std = torch.tensor(inputs.preprocess.std).view(1, 3, 1, 1)
    assert torch.equal(batch.input, (resized.permute(0, 3, 1, 2).float().div_(255.0) - mean) / std)
    assert batch.maps == {}
    assert set(inputs.of(batch.input)) == {"s8"}


def test_without_a_backbone_the_input_is_imagenet_normalised_or_plain_and_a_backbone_is_refused():
    plain = _extractor(roles=(), backbone="auto", normalize=False, input_path="uint8")
    assert (plain.preprocess.mean, plain.preprocess.std) == ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    assert plain.config()["backbone"] == "none" and plain.info("test").weights_source == "trained from scratch"
    imagenet = _extractor(roles=(), backbone="none")
    assert imagenet.preprocess.mean == (0.485, 0.456, 0.406)
    with pytest.raises(ParamError, match="test trains its own network from scratch; it takes no backbone"):
        _extractor(roles=(), backbone="resnet18")


def test_batches_report_their_stage_check_cancel_and_name_a_bad_image(mobilenet_weights):
    inputs = _extractor()
    seen: list = []
    batches = list(inputs.batches([texture(i) for i in range(5)], Monitor(seen.append), batch_size=2))
    assert [len(b) for b in batches] == [2, 2, 1] and [b.first for b in batches] == [0, 2, 4]
    assert [(e.stage, e.done, e.total) for e in seen] == [(Stage.FEATURES, d, 5) for d in (0, 2, 4, 5)]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        next(inputs.batches([texture(0)], Monitor(cancel=cancel)))
    with pytest.raises(ParamError, match="no images were given"):
        list(inputs.batches([], Monitor()))
    assert list(inputs.batches(iter([]), Monitor(), allow_empty=True)) == []
    with pytest.raises(Exception, match="image 1: expected dtype uint8"):
        list(inputs.batches([texture(0), texture(1).astype(np.float32)], Monitor()))


def test_resized_images_are_a_load_stage_of_true_total():
    inputs = _extractor(roles=(), backbone="auto", input_path="uint8")
    seen: list = []
    cached = inputs.resized((texture(i) for i in range(3)), Monitor(seen.append))  # a generator: total unknown
    assert cached.shape == (3, 64, 64, 3) and cached.dtype == np.uint8
    assert [(e.stage, e.done, e.total) for e in seen] == [(Stage.LOAD, d, None) for d in range(4)]
    assert inputs.resized([texture(0)], Monitor(seen.append)).shape == (1, 64, 64, 3)
    assert seen[-1] == Progress(Stage.LOAD, 1, 1)


class MeanColour(Method):
    """The distance of every pixel's colour to the training images' mean colour: a method of a few lines, to test
    what the base class does (predict, config, save and load)."""

    name = "methods.test_features_and_api:MeanColour"
    params = [*FEATURE_PARAMS, ParamSpec("blur_sigma", "float", 0.0, min=0.0, max=8.0)]

    def setup(self) -> None:
        self.inputs = FeatureExtractor.build((), self.hparams, self.setup_request, input_path="uint8")
        self.mean: np.ndarray | None = None

    def fit(self, images, monitor=NO_MONITOR) -> None:
        pixels = [b.input.mean((2, 3)) for b in self.inputs.batches(images, monitor)]
        self.mean = torch.cat(pixels).mean(0).numpy()

    def score(self, batch: Batch) -> GridScores:
        mean = torch.from_numpy(self.fitted(self.mean)).view(1, 3, 1, 1)
        return GridScores(((batch.input - mean) ** 2).sum(1).sqrt())

    @property
    def is_fitted(self) -> bool:
        return self.mean is not None

    def state(self) -> dict[str, np.ndarray]:
        return {"mean": self.fitted(self.mean)}

    def restore(self, arrays, where) -> None:
        if "mean" not in arrays:
            raise ModelFileError("state array 'mean' is missing", where)
        self.mean = arrays["mean"]


def test_the_base_class_predicts_saves_and_loads_a_small_method(tmp_path):
    method = MeanColour(device="cpu", image_size=64, blur_sigma=1.0)
    with pytest.raises(NotFittedError, match="MeanColour has not been fitted"):
        method.predict([texture(0)])
    method.fit([texture(i) for i in range(4)])
    probe = [texture(9), texture(10, (40, 70))]
    predictions = method.predict(probe)
    assert all(isinstance(p, Prediction) for p in predictions)
    assert [p.anomaly_map.shape for p in predictions] == [(64, 64), (40, 70)]
    assert predictions[0].score == float(predictions[0].anomaly_map.max())  # the smoothed map's maximum
    config = method.config()
    assert config["params"] == validate_params(MeanColour.params, {"image_size": 64, "blur_sigma": 1.0})
    assert config["method"] == MeanColour.name and config["backbone"] == "none"
    method.save(tmp_path / "m")
    loaded = load_method(tmp_path / "m", device="cpu")  # its name is its import path: found without a registry
    assert type(loaded) is MeanColour and loaded.config() == config and loaded.save_id == method.save_id
    for a, b in zip(predictions, loaded.predict(probe), strict=True):
        assert a.score == b.score
        np.testing.assert_array_equal(a.anomaly_map, b.anomaly_map)
    (tmp_path / "m" / STATE_FILE).write_bytes(b"")
    with pytest.raises(ModelFileError, match="state.safetensors"):
        load_method(tmp_path / "m")


def test_a_folder_of_another_method_is_refused_by_a_class_that_loads_it(tmp_path, mobilenet_weights):
    method = MeanColour(device="cpu", image_size=32)
    method.fit([texture(0)])
    method.save(tmp_path / "m")
    from goodsad_studio.methods import resolve

    with pytest.raises(ModelFileError, match="method.json: this folder holds a .*MeanColour' model, not 'rd4ad'"):
        resolve("rd4ad").load(tmp_path / "m")
