"""Naming the goods of a photo: the engine's Identify request (a gallery of the training photos' goods
descriptors, kept in the state folder) and ``goodsad-studio identify``."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from methods.conftest import mobilenet_weights  # noqa: F401

from goodsad_studio.cli import main
from goodsad_studio.dataset.demo import generate_demo
from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.contract import MethodSpec
from goodsad_studio.engine.worker.identify import GALLERIES, identify
from goodsad_studio.engine.worker.workspace import Workspace
from goodsad_studio.errors import ParamError, StudioError

pytestmark = pytest.mark.usefixtures("mobilenet_weights")
SPEC = MethodSpec("patchcore", {"image_size": 128}, backbone="mobilenet_v2", device="cpu")


@pytest.fixture(scope="module")
def shelf(tmp_path_factory):
    root = tmp_path_factory.mktemp("identify") / "demo"
    return generate_demo(root, size=256, categories=["drink_can"], goods_per_category=4, train_per_goods=4)


def test_each_photo_gets_its_goods_ids_ranked_and_a_training_photo_is_its_own_goods(shelf, tmp_path):
    workspace = Workspace(scan_dataset(shelf), tmp_path / "state")
    train = workspace.training_records("drink_can")
    test = [r for r in workspace.test_records("drink_can") if r.defect == "good"]
    renamed = tmp_path / "unnamed.jpg"  # a training photo under a name without a goods id
    shutil.copy(train[4].image_path, renamed)
    found = identify(workspace, SPEC, "drink_can", [renamed, *(r.image_path for r in test)], top=3)
    assert found.images[0] == str(renamed) and found.training_photos == len(train)
    first = found.matches[0]
    assert first[0].goods_id == train[4].goods_id and first[0].similarity == pytest.approx(1.0, abs=1e-4)
    for matches in found.matches:
        assert len(matches) == 3 and len({m.goods_id for m in matches}) == 3
        assert [m.similarity for m in matches] == sorted((m.similarity for m in matches), reverse=True)
    hits = [matches[0].goods_id == r.goods_id for matches, r in zip(found.matches[1:], test, strict=True)]
    assert np.mean(hits) >= 0.75, hits  # look-alike shelf photos of four goods, at 128 px


def test_the_gallery_is_kept_and_computed_again_when_a_training_photo_changes(shelf, tmp_path):
    root = shutil.copytree(shelf, tmp_path / "copy")
    workspace = Workspace(scan_dataset(root), tmp_path / "state")
    photo = workspace.training_records("drink_can")[0].image_path
    first = identify(workspace, SPEC, "drink_can", [photo])
    saved = list((tmp_path / "state" / GALLERIES / "drink_can").iterdir())
    assert len(saved) == 1
    assert identify(workspace, SPEC, "drink_can", [photo]) == first
    other = workspace.training_records("drink_can")[5].image_path
    shutil.copy(other, photo)  # the training photo is now another one: another key
    workspace = Workspace(scan_dataset(root), tmp_path / "state")
    identify(workspace, SPEC, "drink_can", [photo])
    assert len(list((tmp_path / "state" / GALLERIES / "drink_can").iterdir())) == 2


def test_bad_requests_say_what_is_wrong(shelf, tmp_path):
    workspace = Workspace(scan_dataset(shelf), tmp_path / "state")
    photo = workspace.training_records("drink_can")[0].image_path
    with pytest.raises(StudioError, match="no such image file") as missing:
        identify(workspace, SPEC, "drink_can", [tmp_path / "gone.jpg"])
    assert missing.value.path == tmp_path / "gone.jpg"
    with pytest.raises(ParamError, match="goods-aware method"):
        identify(workspace, MethodSpec("padim", backbone="mobilenet_v2", device="cpu"), "drink_can", [photo])
    with pytest.raises(ParamError, match="1 to 100"):
        identify(workspace, SPEC, "drink_can", [photo], top=0)
    with pytest.raises(StudioError, match="not in this dataset"):
        identify(workspace, SPEC, "bottle", [photo])
    unnamed = tmp_path / "plain" / "bottle" / "train" / "good"
    unnamed.mkdir(parents=True)
    shutil.copy(photo, unnamed / "shelf.jpg")
    plain = Workspace(scan_dataset(tmp_path / "plain"), tmp_path / "state2")
    with pytest.raises(StudioError, match="has a goods id in its name"):
        identify(plain, SPEC, "bottle", [photo])


def test_the_cli_prints_goods_ids_and_json(shelf, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    root = shutil.copytree(shelf, tmp_path / "copy")
    photo = scan_dataset(root).records[0].image_path
    common = ["--backbone", "mobilenet_v2", "--device", "cpu", "--param", "image_size=128"]
    assert main(["identify", str(root), str(photo), "--top", "2", *common]) == 0
    out = capsys.readouterr().out
    assert f"{photo}: " in out and "training photos with goods ids" in out
    assert main(["identify", str(root), str(photo), "--json", *common]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["image"] == str(photo) and len(listed[0]["goods"]) == 4
    assert set(listed[0]["goods"][0]) == {"id", "similarity"} and len(listed[0]["goods"][0]["id"]) == 3
