"""DRAEM against the authors' code (github.com/VitjanZ/DRAEM): our two networks' weights loaded into their
``ReconstructiveSubNetwork`` and ``DiscriminativeSubNetwork``; one batch with our synthetic anomalies (made once)
fed to both. Compared: the training loss and its three terms (L2, 1 - SSIM, focal) as ``train_DRAEM.py`` computes
them, and the anomaly map and image score as ``test_DRAEM.py`` computes them. The anomaly generation itself (their
``data_loader.py``) cannot be compared number for number: its differences are listed in the method's README."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from goodsad_studio.methods import create_method
from goodsad_studio.methods.api import Batch
from goodsad_studio.methods.components.training import StepContext

from .common import Check, copy_by_name, fixed_images, reference_modules, spread_batch_norms

MARKERS = ("model_unet.py", "loss.py", "train_DRAEM.py")
SIZE = 64
"""Network input side: the discriminative U-Net pools 5 times, so a multiple of 32."""
REC_WIDTH, DISC_WIDTH = 8, 8
SYNTHESIS_SEED = 9
"""The seed of the one synthesized batch: one image with an anomaly, one without (anomaly_prob 0.5), one rotated."""
SCORE_WINDOW = 21
"""``test_DRAEM.py``'s mean filter before the maximum."""


def _rename(offset: int):
    """Their parameter name -> ours. ``offset``: their decoder's first ``upN``/``dbN`` index in our lists (the
    reconstructive decoder counts from ``up1``, the discriminative one from ``up_b``, then ``up1``)."""

    def rename(name: str) -> str:
        name = re.sub(r"^encoder(?:_segment)?\.block(\d)\.", lambda m: f"encoder.{int(m[1]) - 1}.", name)
        name = re.sub(r"^decoder(?:_segment)?\.up_b\.", "ups.0.", name)
        name = re.sub(r"^decoder(?:_segment)?\.db_b\.", "blocks.0.", name)
        name = re.sub(r"^decoder(?:_segment)?\.up(\d)\.", lambda m: f"ups.{int(m[1]) - 1 + offset}.", name)
        name = re.sub(r"^decoder(?:_segment)?\.db(\d)\.", lambda m: f"blocks.{int(m[1]) - 1 + offset}.", name)
        return re.sub(r"^decoder(?:_segment)?\.fin_out\.0\.", "out.", name)

    return rename


@contextlib.contextmanager
def _cuda_is_cpu() -> Iterator[None]:
    """Their ``SSIM()`` moves its window with ``.cuda()`` when it is built (its forward builds the 3-channel window
    it uses anyway): a no-op here, so that it builds on a machine without a GPU."""
    original = torch.Tensor.cuda
    torch.Tensor.cuda = lambda self, *args, **kwargs: self  # type: ignore[method-assign]
    try:
        yield
    finally:
        torch.Tensor.cuda = original  # type: ignore[method-assign]


def spread(model: torch.nn.Module) -> None:
    """Weights away from DRAEM's initialisation, under the current torch seed: with its N(0, 0.02) convs every map
    value lies within 0.002 of 0.54, a weak test. Kaiming-normal convs, and batch norms with random affines and
    running statistics (which eval mode uses), spread the outputs."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                if module.bias is not None:
                    module.bias.normal_(0.0, 0.1)
    spread_batch_norms(model)


def _chw(images: np.ndarray) -> torch.Tensor:
    """uint8 ``B x H x W x C`` -> float ``B x C x H x W`` in [0, 1], as their data loader gives it."""
    return torch.from_numpy((images.astype(np.float32) / 255.0).transpose(0, 3, 1, 2).copy())


def compare(reference: Path) -> list[Check]:
    torch.manual_seed(0)
    ours = create_method(
        "draem", device="cpu", image_size=SIZE, rec_width=REC_WIDTH, disc_width=DISC_WIDTH, batch_size=2, seed=0
    )
    model = ours.build_model()
    spread(model)
    ours.model = model
    images = fixed_images(2, SIZE)
    normal, augmented, masks = ours.synthesize(images, np.random.default_rng(SYNTHESIS_SEED))
    has = masks.reshape(len(masks), -1).any(1)
    assert has.tolist() == [True, False], f"seed {SYNTHESIS_SEED} no longer gives one anomaly and one normal image"

    with reference_modules(reference) as import_:
        unet = import_("model_unet")
        losses = import_("loss")
        rec = unet.ReconstructiveSubNetwork(in_channels=3, out_channels=3, base_width=REC_WIDTH)
        seg = unet.DiscriminativeSubNetwork(in_channels=6, out_channels=2, base_channels=DISC_WIDTH)
        with _cuda_is_cpu():
            loss_ssim = losses.SSIM()
        loss_focal = losses.FocalLoss()
    missing = copy_by_name(model.reconstructive.state_dict(), rec, rename=_rename(0))
    missing += copy_by_name(model.discriminative.state_dict(), seg, rename=_rename(1))
    if missing:
        raise ValueError(f"their tensors without one of ours: {missing[:5]}")

    # test_DRAEM.py on the augmented batch (eval mode, before any training forward moves the batch-norm statistics)
    shapes = ((SIZE, SIZE),) * len(augmented)
    scores = ours.score(Batch(ours.to_input(augmented), {}, shapes))
    rec.eval()
    seg.eval()
    with torch.no_grad():
        gray_batch = _chw(augmented)
        gray_rec = rec(gray_batch)
        out_mask_sm = torch.softmax(seg(torch.cat((gray_rec.detach(), gray_batch), dim=1)), dim=1)
        their_map = out_mask_sm[:, 1]
        averaged = F.avg_pool2d(out_mask_sm[:, 1:], SCORE_WINDOW, stride=1, padding=SCORE_WINDOW // 2)
        their_score = averaged.flatten(1).max(1).values

    # train_DRAEM.py's loss on the same synthesized batch (train mode); ours through Draem.step, fed that batch
    ours.synthesize = lambda batch, rng: (normal, augmented, masks)  # type: ignore[method-assign]
    model.train()
    ctx = StepContext(model=model, optimizers={}, total_steps=1, steps_per_epoch=1)
    logged = ours.step(ctx, images)
    rec.train()
    seg.train()
    target, aug = _chw(normal), _chw(augmented)
    anomaly_mask = torch.from_numpy(masks[:, None].astype(np.float32))
    gray_rec = rec(aug)
    out_mask_sm = torch.softmax(seg(torch.cat((gray_rec, aug), dim=1)), dim=1)
    l2 = torch.nn.MSELoss()(gray_rec, target)
    ssim = loss_ssim(gray_rec, target)
    focal = loss_focal(out_mask_sm, anomaly_mask)
    return [
        Check.of("training loss: L2", logged["l2"], l2),
        Check.of("training loss: 1 - SSIM", logged["ssim"], ssim),
        Check.of("training loss: focal", logged["focal"], focal),
        Check.of("training loss: total", logged["loss"], l2 + ssim + focal),
        Check.of("anomaly map (softmax, anomalous channel)", scores.maps, their_map),
        Check.of("image score (max of the 21x21 mean)", scores.images, their_score),
    ]
