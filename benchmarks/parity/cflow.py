"""CFLOW-AD against the authors' code (https://github.com/gudovskiy/cflow-ad): their encoder (``load_encoder_arch``:
wide_resnet50_2, layer2..layer4 hooked, pretrained=False) and FrEIA decoders (``load_decoder_arch``:
``freia-cflow``, AllInOneBlock with SOFTPLUS global affine and soft permutation, clamp 1.9, condition 128),
configured as their main.py does, with our backbone and flow weights, on one fixed batch of 2 images at 128 px that
both see as the same normalised tensor; 2 coupling blocks and fibers of 32 vectors (their N), so that every scale
gives whole fibers (16, 4 and 1).

Checked: the positional encoding, the pooled encoder activations of the three scales (their ``activation`` hooks),
the learning rate of every step of a whole 25 x 8 meta/sub-epoch run (their ``adjust_learning_rate`` and
``warmup_learning_rate`` against our schedule), the loss of every fiber of one training step (their
``train_meta_epoch``, one sub-epoch of one batch: 21 fibers, each one Adam step; the fibers' order is drawn by
``torch.randperm`` in both, from the same seed), then, with the trained flows, the log-likelihood per dimension of every
position (their ``test_meta_epoch``), the anomaly map and the image score as their ``train`` computes them from it.

Their encoder pads its 3x3 and 7x7 convolutions by reflection (``custom_models/resnet.py``); ours is torchvision's,
padded with zeros. Their encoder's convolutions are set to zero padding here, so that the rest can be compared (the
difference stays: see the README). Their modules import timm, scikit-learn, scikit-image and matplotlib for other
encoders, metrics and plots only, and their ``custom_datasets`` imports ``torchvision.io.read_video``, which today's
torchvision no longer has: empty stand-ins are made for those (the batch is handed over directly). FrEIA must be
installed (``pip install FrEIA``).
"""

from __future__ import annotations

import contextlib
import io
import math
import types
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import torch
import torch.nn.functional as F

from .common import Check, copy_by_name, fixed_images, reference_modules

MARKERS = ("model.py", "train.py", "custom_models/utils.py", "custom_models/resnet.py")
SIZE = 128
BATCH = 2
BLOCKS = 2
FIBER = 32
SEED = 0
BACKBONE = "wide_resnet50_2"
POOL = {"s8": "layer2", "s16": "layer3", "s32": "layer4"}
"""Our taps and the encoder layers their ``load_encoder_arch`` hooks (as ``activation['layer0'..'layer2']``)."""


def _with(*names: str):
    def fill(module: types.ModuleType) -> None:
        for name in names:
            setattr(module, name, types.ModuleType(f"{module.__name__}.{name}"))

    return fill


def _matplotlib(module: types.ModuleType) -> None:
    _with("pyplot")(module)
    module.colors = types.SimpleNamespace(Normalize=lambda **kwargs: None)  # type: ignore[attr-defined]


SHIMS = {
    "timm": _with("data"),
    "sklearn": _with("metrics"),
    "sklearn.metrics": _with("roc_auc_score", "auc", "precision_recall_curve"),
    "skimage": _with("measure", "morphology", "segmentation"),
    "skimage.measure": _with("label", "regionprops"),
    "skimage.segmentation": _with("mark_boundaries"),
    "matplotlib": _matplotlib,
    "custom_datasets": _with(),
    "matplotlib.pyplot": _with(),
}


def their_config(lr: float) -> types.SimpleNamespace:
    """What their config.py and main.py set for MVTec with wide_resnet50_2, with our small sizes."""
    meta_epochs, decay, warm = 25, 0.1, 2
    eta_min = lr * decay**3
    return types.SimpleNamespace(
        enc_arch="wide_resnet50_2",
        dec_arch="freia-cflow",
        pool_layers=3,
        coupling_blocks=BLOCKS,
        clamp_alpha=1.9,
        condition_vec=128,
        lr=lr,
        meta_epochs=meta_epochs,
        sub_epochs=8,
        lr_decay_epochs=[i * meta_epochs // 100 for i in (50, 75, 90)],
        lr_decay_rate=decay,
        lr_warm_epochs=warm,
        lr_warm=True,
        lr_cosine=True,
        lr_warmup_from=lr / 10.0,
        lr_warmup_to=eta_min + (lr - eta_min) * (1 + math.cos(math.pi * warm / meta_epochs)) / 2,
        crp_size=(SIZE, SIZE),
        device=torch.device("cpu"),
        verbose=False,
        viz=False,
        hide_tqdm_bar=True,
    )


class _Loader(list):
    """Their loops take a loader: ``len``, iteration and (for a frames-per-second line) ``.dataset``. A list, not a
    DataLoader: a DataLoader's iterator draws a seed from torch's generator, which would move the fibers' order."""

    @property
    def dataset(self) -> _Loader:
        return self


class _FiberLosses:
    """``F.logsigmoid`` that records ``-mean`` of every call: each fiber's loss, in ours and theirs
    (their ``torch.nn.LogSigmoid`` calls it too)."""

    def __init__(self) -> None:
        self.original = F.logsigmoid
        self.losses: list[float] = []

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = self.original(x)
        self.losses.append(float(-out.detach().mean()))
        return out


def _their_learning_rates(utils: types.ModuleType, c: types.SimpleNamespace, batches: int) -> list[float]:
    """The rate of every batch of their ``train``: ``adjust_learning_rate`` per meta-epoch, then
    ``warmup_learning_rate`` per batch, as ``train_meta_epoch`` calls them."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=c.lr)
    rates = []
    for epoch in range(c.meta_epochs):
        utils.adjust_learning_rate(c, optimizer, epoch)
        for sub_epoch in range(c.sub_epochs):
            for i in range(batches):
                rates.append(
                    utils.warmup_learning_rate(c, epoch, i + sub_epoch * batches, batches * c.sub_epochs, optimizer)
                )
    return rates


def compare(reference: Path) -> list[Check]:
    from goodsad_studio.methods import create_method
    from goodsad_studio.methods.cflow.model import positional_encoding_2d
    from goodsad_studio.methods.components.training import StepContext, set_learning_rate

    ours = create_method(
        "cflow",
        backbone=BACKBONE,
        weights="random",
        device="cpu",
        image_size=SIZE,
        batch_size=BATCH,
        coupling_blocks=BLOCKS,
        fiber_batch=FIBER,
        seed=SEED,
    )
    p = ours.hparams
    if tuple(ours.roles) != tuple(POOL):
        raise ValueError(f"our taps {ours.roles} are not the encoder layers the reference hooks {tuple(POOL.values())}")
    images = list(fixed_images(BATCH, SIZE))
    x = ours.to_input(np.stack(images))  # the network input both codes see
    features = ours.inputs.of(x)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(p["seed"])
        model = ours.build_model()
    ctx = StepContext(model, ours.build_optimizers(model), total_steps=p["epochs"], steps_per_epoch=1)

    checks = []
    with reference_modules(reference, SHIMS) as import_:
        their_model = import_("model")
        train = import_("train")
        utils = import_("custom_models.utils")
        resnet = import_("custom_models.resnet")
        c = their_config(p["lr"])

        schedule = ours.schedule()
        their_rates = _their_learning_rates(utils, c, batches=2)
        our_rates = [schedule(step, len(their_rates)) for step in range(len(their_rates))]
        checks.append(Check.of(f"learning rate of each of {len(their_rates)} steps", our_rates, their_rates))

        height, width = features["s8"].shape[-2:]
        checks.append(
            Check.of(
                f"positional encoding ({p['condition_dim']} x {height} x {width})",
                positional_encoding_2d(p["condition_dim"], height, width),
                their_model.positionalencoding2d(c.condition_vec, height, width),
            )
        )

        def untrained(pretrained: bool = False, progress: bool = True, **kwargs):
            return resnet.wide_resnet50_2(pretrained=False, progress=progress, **kwargs)

        with mock.patch.object(their_model, "wide_resnet50_2", untrained):
            encoder, pool_layers, pool_dims = their_model.load_encoder_arch(c, c.pool_layers)
        missing = copy_by_name(ours.inputs.taps.body.state_dict(), encoder)
        if any(not name.startswith("fc.") for name in missing):
            raise ValueError(f"encoder tensors without a source: {missing[:5]}")
        for module in encoder.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.padding_mode = "zeros"  # see the module docstring
        encoder = encoder.eval()

        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # their coder sizes are printed; FrEIA warns of slow soft permutations
            decoders = [their_model.load_decoder_arch(c, dim) for dim in pool_dims]
        for role, decoder in zip(POOL, decoders, strict=True):
            ours_flow = model.flows[role].state_dict()
            missing = copy_by_name(ours_flow, decoder, lambda name: name.replace("module_list.", "blocks."))
            state = decoder.state_dict()
            for name in missing:
                if not name.endswith(".w_perm_inv"):
                    raise ValueError(f"flow tensor {name} has no source")
                state[name] = state[name.replace("w_perm_inv", "w_perm")].T.contiguous()
            decoder.load_state_dict(state)
        params = [q for decoder in decoders for q in decoder.parameters()]
        optimizer = torch.optim.Adam(params, lr=c.lr)

        with torch.no_grad():
            encoder(x)
        for role, layer in zip(POOL, pool_layers, strict=True):
            checks.append(
                Check.of(f"encoder activations {POOL[role]} ({role})", features[role], their_model.activation[layer])
            )

        lr = schedule(0, ctx.total_steps)
        for optimizer_ in ctx.optimizers.values():
            set_learning_rate(optimizer_, lr)
        model.train()
        ours_fibers, their_fibers = _FiberLosses(), _FiberLosses()
        torch.manual_seed(SEED)
        with mock.patch.object(F, "logsigmoid", ours_fibers):
            ours.step(ctx, features)
        loader = _Loader([(x, torch.zeros(BATCH), torch.zeros(BATCH, 1, SIZE, SIZE))])
        c.sub_epochs = 1
        torch.manual_seed(SEED)
        with mock.patch.object(F, "logsigmoid", their_fibers):
            train.train_meta_epoch(c, 0, loader, encoder, decoders, optimizer, pool_layers, FIBER)
        begin = 0
        for role in POOL:  # one check per scale: their losses differ by orders of magnitude between scales
            n = features[role][:, 0].numel() // FIBER
            ours_part, theirs_part = ours_fibers.losses[begin : begin + n], their_fibers.losses[begin : begin + n]
            checks.append(Check.of(f"training loss of every fiber of {role} ({n})", ours_part, theirs_part))
            begin += n
        if begin != len(their_fibers.losses) or begin != len(ours_fibers.losses):
            raise ValueError(f"{len(ours_fibers.losses)} fibers against {len(their_fibers.losses)}, expected {begin}")

        ours.model = model.eval()
        with torch.no_grad():
            ours.finish(model, features)  # reference log-likelihoods: the maxima over this batch, as theirs
            our_logp = ours._log_likelihoods(model, features)
        predictions = ours.predict(images)
        heights, widths, _, test_dist, _, _ = train.test_meta_epoch(c, 0, loader, encoder, decoders, pool_layers, FIBER)

    for role, dist in zip(POOL, test_dist, strict=True):
        checks.append(Check.of(f"log-likelihood per dimension, {role}", our_logp[role].reshape(-1), dist))
    # their train(): per scale exp(log p - its maximum over the test set), bilinear (align_corners) to the input,
    # summed; the map is the summed map's maximum over the test set minus it, the image score its maximum
    total = np.zeros((BATCH, SIZE, SIZE))
    for dist, h, w in zip(test_dist, heights, widths, strict=True):
        logp = torch.tensor(dist, dtype=torch.double)
        prob = torch.exp(logp - logp.max()).reshape(-1, h, w)
        total += F.interpolate(prob.unsqueeze(1), size=(SIZE, SIZE), mode="bilinear", align_corners=True)[:, 0].numpy()
    their_map = total.max() - total
    our_map = np.stack([q.anomaly_map for q in predictions])
    shift = our_map.min()  # ours is 3 - the sum: their map plus the constant 3 - their test-set maximum
    checks.append(Check.of("anomaly map (ours less its batch minimum)", our_map - shift, their_map))
    checks.append(
        Check.of(
            "image score (ours less the map's batch minimum)",
            [q.score - shift for q in predictions],
            their_map.reshape(BATCH, -1).max(1),
        )
    )
    return checks
