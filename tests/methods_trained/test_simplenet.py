"""SimpleNet on tiny images: the training contract, its paper defaults and what it detects."""

from __future__ import annotations

from goodsad_studio.methods import create_method, resolve

from .conftest import check_contract, textured_images, with_defect

IMAGES = textured_images(8, (64, 64))


def make(**kw):
    kw.setdefault("dsc_hidden", 128)
    return create_method("simplenet", device="cpu", image_size=64, resize_mode="resize", batch_size=4, **kw)


def test_training_contract(tmp_path):
    check_contract(make, tmp_path, IMAGES, steps=6)


def test_paper_defaults_and_backbone_stated():
    defaults = {p.name: p.default for p in resolve("simplenet").params}
    assert (defaults["epochs"], defaults["batch_size"], defaults["lr"], defaults["dsc_lr"]) == (160, 8, 1e-4, 2e-4)
    assert (defaults["noise_std"], defaults["margin"], defaults["image_size"]) == (0.015, 0.5, 224)
    method = make()
    assert method.config()["backbone"] in ("wide_resnet50_2", "mobilenet_v2")
    wrn = method.config()["backbone"] == "wide_resnet50_2"
    assert method.hparams["embed_dim"] == (1536 if wrn else method.inputs.spec.patchcore_dims[1])


def test_defect_scores_above_normal_after_short_training():
    method = make(epochs=100, noise_std=0.1, seed=0)  # 200 steps; noise larger than the paper for a quick fit
    method.fit(IMAGES)
    normal = textured_images(3, (64, 64), seed=21)
    preds = method.predict(normal + [with_defect(img) for img in normal])
    assert min(p.score for p in preds[3:]) > max(p.score for p in preds[:3])
    hot = preds[3].anomaly_map
    assert hot[22:38, 22:38].mean() > hot[:12, :12].mean()
