"""SimpleNet against the authors' code (https://github.com/DonaldRR/SimpleNet): their ``SimpleNet`` loaded as their
run.sh configures it (layer2 + layer3 of torchvision's wide_resnet50_2, 1536 / 1536 embedding, one projection layer,
a discriminator of 2 layers, th 0.5; noise std 0.5, see ``NOISE_STD``), with our backbone, adaptor and discriminator
weights, on one fixed batch of 2 images at 64 px that both see as the same normalised tensor.

Checked: the patch-aggregated features (their ``_embed``), the loss of one training step with the same Gaussian
noise (ours drawn by ``torch.randn_like``, theirs by ``torch.normal``: both are handed one draw), the loss of a second
step on the same batch and noise (after one update of both optimizers, so their learning rates and weight decays are
compared too), and, after those two steps, the smoothed anomaly map at the network input and the image score (their
``_predict``).

Their backbone is handed over in eval mode: their ``load`` probes the feature sizes with a forward pass of an all-ones
image while the freshly built backbone is still in training mode, which moves every BatchNorm's running statistics
10% towards that image's (a side effect ours does not reproduce: see the README). Their modules import tensorboard,
scikit-learn, pandas, scikit-image and matplotlib for logging, metrics and plots only: empty stand-ins are made for
those. scipy (their map smoothing) must be installed.
"""

from __future__ import annotations

import contextlib
import io
import types
from pathlib import Path
from unittest import mock

import numpy as np
import torch
import torchvision  # type: ignore[import-untyped]

from .common import Check, copy_by_name, copy_by_order, fixed_images, reference_modules

MARKERS = ("simplenet.py", "common.py", "backbones.py")
SIZE = 64
BATCH = 2
BACKBONE = "wide_resnet50_2"
LAYERS = {"s8": "layer2", "s16": "layer3"}
EMBED = 1536
NOISE_STD = 0.5
"""Not the paper's 0.015: the random backbone's features reach ~40, and at 0.015 another draw of the noise would
move the loss by less than the tolerance (at 0.5, by 10 to 30 times it)."""


def _summary_writer(module: types.ModuleType) -> None:
    module.SummaryWriter = object  # type: ignore[attr-defined]  # only constructed by set_model_dir, not used here


def _sklearn(module: types.ModuleType) -> None:
    module.metrics = types.ModuleType("sklearn.metrics")  # type: ignore[attr-defined]


def _matplotlib(module: types.ModuleType) -> None:
    module.pyplot = types.ModuleType("matplotlib.pyplot")  # type: ignore[attr-defined]


def _skimage(module: types.ModuleType) -> None:
    module.measure = types.ModuleType("skimage.measure")  # type: ignore[attr-defined]


def _empty(module: types.ModuleType) -> None:
    pass


SHIMS = {
    "torch.utils.tensorboard": _summary_writer,
    "sklearn": _sklearn,
    "matplotlib": _matplotlib,
    "matplotlib.pyplot": _empty,
    "pandas": _empty,
    "skimage": _skimage,
}


class _Scalars:
    """Their training loop logs loss, p_true and p_fake to tensorboard: recorded here instead."""

    def __init__(self) -> None:
        self.logger = self
        self.g_iter = 0
        self.values: dict[str, list[float]] = {}

    def add_scalar(self, name: str, value, step) -> None:
        self.values.setdefault(name, []).append(float(value))

    def step(self) -> None:
        self.g_iter += 1


def compare(reference: Path) -> list[Check]:
    from goodsad_studio.methods import create_method
    from goodsad_studio.methods.components.training import StepContext

    ours = create_method(
        "simplenet",
        backbone=BACKBONE,
        weights="random",
        device="cpu",
        image_size=SIZE,
        resize_mode="resize",
        batch_size=BATCH,
        noise_std=NOISE_STD,
    )
    p = ours.hparams
    images = list(fixed_images(BATCH, SIZE))
    x = ours.to_input(np.stack(images))  # the network input both codes see
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(p["seed"])
        model = ours.build_model()
    optimizers = ours.build_optimizers(model)
    ctx = StepContext(model, optimizers, total_steps=2, steps_per_epoch=1)

    with reference_modules(reference, SHIMS) as import_:
        simplenet = import_("simplenet")
        backbone = torchvision.models.wide_resnet50_2(weights=None)  # run.sh's "wideresnet50", pretrained=False
        missing = copy_by_name(ours.inputs.taps.body.state_dict(), backbone)
        if any(not name.startswith(("layer4.", "fc.")) for name in missing):
            raise ValueError(f"backbone tensors without a source: {missing[:5]}")
        theirs = simplenet.SimpleNet(torch.device("cpu"))
        theirs.load(
            backbone=backbone.eval(),  # see the module docstring: their load() probes in training mode
            layers_to_extract_from=list(LAYERS.values()),
            device=torch.device("cpu"),
            input_shape=(3, SIZE, SIZE),
            pretrain_embed_dimension=EMBED,
            target_embed_dimension=EMBED,
            patchsize=3,
            meta_epochs=40,
            gan_epochs=1,
            noise_std=p["noise_std"],
            dsc_layers=2,
            dsc_hidden=p["dsc_hidden"],
            dsc_margin=p["margin"],
            pre_proj=1,
        )
        copy_by_order(model.adaptor, theirs.pre_projection)
        copy_by_order(model.discriminator, theirs.discriminator)
        scalars = _Scalars()
        theirs.logger = scalars

        their_features = theirs._embed(x, evaluation=True)[0]
        our_embedded = ours.embed(ours.inputs.of(x))
        checks = [Check.of("patch features (layer2 + layer3, 1536)", our_embedded.reshape(-1, EMBED), their_features)]

        unit = torch.randn(len(their_features), EMBED, generator=torch.Generator().manual_seed(1))
        noise = unit * p["noise_std"]
        for label in ("training loss", "training loss after one update of both optimizers"):
            model.train()
            with mock.patch.object(torch, "randn_like", lambda t: unit.clone()):
                our_loss = ours.step(ctx, our_embedded)["loss"]
            with mock.patch.object(torch, "normal", lambda mean, std, size: noise.clone()):
                with contextlib.redirect_stderr(io.StringIO()):  # their progress bar
                    theirs._train_discriminator([{"image": x}])
            checks.append(Check.of(label, our_loss, scalars.values["loss"][-1]))

        ours.model = model.eval()
        predictions = ours.predict(images)
        their_scores, their_maps, _ = theirs._predict(x)
    checks.append(
        Check.of(
            "anomaly map (input size, sigma 4)", np.stack([q.anomaly_map for q in predictions]), np.stack(their_maps)
        )
    )
    checks.append(Check.of("image score", [q.score for q in predictions], np.asarray(their_scores).reshape(-1)))
    return checks
