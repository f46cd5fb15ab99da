"""NSA against the authors' code (github.com/hmsch/natural-synthetic-anomalies): our network's weights loaded into
their ``resnet18_enc_dec`` (pooling, no pre-activation, sigmoid output: the "Shift-Intensity" setting of
``train_mvtec.py``); one batch with our synthetic anomalies and logistic labels (made once) fed to both. Compared:
the training loss as ``experiments/training_utils.py`` computes it (``nn.BCELoss`` on the sigmoid output), and the
anomaly map and image score as ``experiments/mvtec_tasks.py:test_real_anomalies`` computes them. The anomaly
generation itself (their ``self_sup_data/self_sup_tasks.py``) cannot be compared number for number: its differences
are listed in the method's README."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torchvision import transforms as T

from goodsad_studio.methods import create_method
from goodsad_studio.methods.api import Batch
from goodsad_studio.methods.components.training import StepContext
from goodsad_studio.progress import NO_MONITOR

from .common import Check, copy_by_order, fixed_images, reference_modules, spread_batch_norms

MARKERS = ("self_sup_data/self_sup_tasks.py", "model/resnet.py", "train_mvtec.py")
SIZE = 64
"""Network input side (a multiple of 32: the network gives the map at the input size)."""
WIDTH = 64
"""Their network has ResNet-18's widths, fixed."""
SYNTHESIS_SEED = 0
IMAGENET = T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
"""Their dataset's ``norm_transform`` after ``ToTensor``."""


def _normalised(images: np.ndarray) -> torch.Tensor:
    """uint8 ``B x H x W x 3`` -> what their dataset returns: ``Normalize(ToTensor(image))`` for each image."""
    return torch.stack([IMAGENET(T.ToTensor()(image)) for image in images])


def compare(reference: Path) -> list[Check]:
    torch.manual_seed(0)
    ours = create_method("nsa", device="cpu", image_size=SIZE, width=WIDTH, batch_size=2, seed=0)
    model = ours.build_model()
    spread_batch_norms(model)
    ours.model = model
    images = fixed_images(2, SIZE)
    data = ours.training_data(images, NO_MONITOR)
    augmented, labels = ours.synthesize(images, data["index"], np.random.default_rng(SYNTHESIS_SEED))
    assert all((label > 0).any() for label in labels), f"seed {SYNTHESIS_SEED}: an image without an anomaly"

    with reference_modules(reference) as import_:
        resnet = import_("model.resnet")
        theirs = resnet.resnet18_enc_dec(num_classes=1, pool=True, preact=False, final_activation="sigmoid")
    copy_by_order(model, theirs)

    # test_real_anomalies on the augmented batch (eval mode, before a training forward moves the statistics)
    shapes = ((SIZE, SIZE),) * len(augmented)
    scores = ours.score(Batch(ours.to_input(augmented), {}, shapes))
    theirs.eval()
    with torch.no_grad():
        pred = theirs.forward(_normalised(augmented))
        their_map = pred[:, 0]
        their_score = torch.mean(pred, dim=(1, 2, 3))

    # train_and_save_model's loss on the same synthesized batch (train mode); ours through Nsa.step, fed that batch
    ours.synthesize = lambda batch, indices, rng: (augmented, labels)  # type: ignore[method-assign]
    model.train()
    ctx = StepContext(model=model, optimizers={}, total_steps=1, steps_per_epoch=1, lr=ours.hparams["lr"])
    logged = ours.step(ctx, data)
    theirs.train()
    loss = torch.nn.BCELoss()(theirs.forward(_normalised(augmented)), torch.from_numpy(labels[:, None]))
    return [
        Check.of("training loss: BCE on the logistic labels", logged["loss"], loss),
        Check.of("anomaly map (sigmoid output)", scores.maps, their_map),
        Check.of("image score (mean of the map)", scores.images, their_score),
    ]
