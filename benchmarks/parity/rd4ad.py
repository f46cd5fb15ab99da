"""RD4AD against the authors' code (hq-deng/RD4AD): our wide_resnet50_2 teacher (random weights) and our briefly
trained bottleneck and decoder loaded into their ``wide_resnet50_2`` / ``BN_layer`` / ``de_wide_resnet50_2``, one
fixed batch through both. Compared: the network input, the teacher features, the training loss (theirs:
``main.loss_fucntion``; also the paper's per-position loss on their networks' features), the map before and after
smoothing (theirs: ``test.cal_anomaly_map`` with ``amap_mode='a'``, then ``gaussian_filter`` sigma 4, as their
``evaluation``) and the image score (the maximum of the smoothed map)."""

from __future__ import annotations

import copy
import importlib.util
import sys
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from goodsad_studio.methods import create_method
from goodsad_studio.methods.components.training import StepContext
from goodsad_studio.methods.rd4ad.model import ROLES
from goodsad_studio.progress import NO_MONITOR, Stage

from .common import Check, copy_by_name, fixed_images, reference_modules

MARKERS = ("de_resnet.py", "resnet.py")
SIZE = 64
"""Input side: teacher maps of 16, 8 and 4, a bottleneck of 2 x 2 (small enough for one CPU thread)."""
BATCH = 2
STEPS = 2
"""Training steps before the comparison, so that weights and BatchNorm statistics are no longer the initial ones."""
SIGMA = 4.0

_BLOCK = {
    "conv1": "body.0",
    "bn1": "body.1",
    "conv2": "body.3",
    "bn2": "body.4",
    "conv3": "body.6",
    "bn3": "body.7",
    "downsample": "shortcut",
    "upsample": "shortcut",
}
"""Their ResNet block's parts -> our ``Bottleneck``'s (``body`` holds conv, BN, ReLU, conv, BN, ReLU, conv, BN)."""
_FUSION = {
    "conv1": "from_s4.0.0",
    "bn1": "from_s4.0.1",
    "conv2": "from_s4.1.0",
    "bn2": "from_s4.1.1",
    "conv3": "from_s8.0",
    "bn3": "from_s8.1",
}
"""Their ``BN_layer``'s multi-scale fusion -> our ``OneClassBottleneck``'s."""
_STAGES = {"layer1": "to_s16", "layer2": "to_s8", "layer3": "to_s4"}
_UNUSED = ("conv4.", "bn4.")
"""Their ``BN_layer`` builds ``conv4`` / ``bn4`` and never calls them."""


def _block_name(parts: list[str]) -> str:
    index, part, *rest = parts
    return ".".join([index, _BLOCK[part], *rest])


def _bottleneck_name(name: str) -> str:
    parts = name.split(".")
    if parts[0] == "bn_layer":
        return "bottleneck.embed." + _block_name(parts[1:])
    return ".".join(["bottleneck", _FUSION.get(parts[0], parts[0]), *parts[1:]])


def _decoder_name(name: str) -> str:
    parts = name.split(".")
    return ".".join(["decoder", _STAGES[parts[0]], _block_name(parts[1:])])


def _load(source: dict[str, torch.Tensor], target: torch.nn.Module, rename=None, unused=()) -> None:
    missing = [n for n in copy_by_name(source, target, rename) if not n.startswith(tuple(unused))]
    if missing:
        raise ValueError(f"{len(missing)} of their tensors have no counterpart in ours, e.g. {missing[:4]}")


def _gaussian_filter(array, sigma, truncate=4.0, **_):
    """scipy.ndimage.gaussian_filter's default (float64, radius int(truncate * sigma + 0.5), mode 'reflect'), for
    their test.py where scipy is not installed."""
    radius = int(truncate * sigma + 0.5)
    weights = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    weights /= weights.sum()
    out = np.asarray(array, np.float64)
    for axis in range(out.ndim):
        pad = [(radius, radius) if a == axis else (0, 0) for a in range(out.ndim)]
        padded = np.pad(out, pad, mode="symmetric")
        n = out.shape[axis]
        out = sum(w * np.take(padded, np.arange(k, k + n), axis=axis) for k, w in enumerate(weights))
    return out


def _not_compared(*_args, **_kwargs):
    raise NotImplementedError("a stub: their evaluation metrics and plots are not compared")


_STUBS = {
    "sklearn": {},
    "sklearn.metrics": {"roc_auc_score": _not_compared, "auc": _not_compared},
    "sklearn.manifold": {},
    "skimage": {"measure": types.ModuleType("skimage.measure")},
    "pandas": {},
    "matplotlib": {},
    "matplotlib.pyplot": {},
    "matplotlib.ticker": {"NullFormatter": _not_compared},
    "scipy": {},
    "scipy.ndimage": {"gaussian_filter": _gaussian_filter},
    "scipy.spatial": {},
    "scipy.spatial.distance": {"pdist": _not_compared},
}
"""What their test.py imports at the top (metrics, plots, scipy's filter), stubbed where the package is absent."""


def _stub(name: str, attributes: dict) -> Callable[[types.ModuleType], None]:
    def fill(module: types.ModuleType) -> None:
        for key, value in attributes.items():
            setattr(module, key, value)
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)

    return fill


def _shims() -> dict[str, Callable[[types.ModuleType], None]]:
    absent = {n for n in _STUBS if importlib.util.find_spec(n.partition(".")[0]) is None}
    return {n: _stub(n, a) for n, a in _STUBS.items() if n in absent}


def compare(reference: Path) -> list[Check]:
    torch.manual_seed(0)
    images = list(fixed_images(BATCH, SIZE))
    ours = create_method(
        "rd4ad",
        backbone="wide_resnet50_2",
        weights="random",
        device="cpu",
        image_size=SIZE,
        batch_size=BATCH,
        epochs=1,
        max_steps=STEPS,
    )
    ours.fit(images)
    model = ours.fitted(ours.model)
    batch = next(ours.inputs.batches(images, NO_MONITOR, stage=Stage.PREDICT, batch_size=BATCH))
    with torch.no_grad():
        our_teacher = ours.inputs.of(batch.input)
        our_maps = ours.score(batch).maps
    predictions = ours.predict(images)
    train_features = ours.inputs.cache(ours.inputs.resized(images, NO_MONITOR), NO_MONITOR)
    student = copy.deepcopy(model).train()  # as the Trainer sets it; a train-mode forward moves BN statistics
    our_losses = ours.step(StepContext(student, {}, 1, 1), train_features)  # no optimizer: nothing is updated
    ours.hparams["loss"] = "per_position"  # the paper's Eq. 3, the other choice
    our_per_position = ours.step(StepContext(student, {}, 1, 1), train_features)
    ours.hparams["loss"] = "flattened"

    with reference_modules(reference, _shims()) as import_:
        resnet, de_resnet, dataset = import_("resnet"), import_("de_resnet"), import_("dataset")
        test, main = import_("test"), import_("main")
        if not str(test.__file__).startswith(str(Path(reference).resolve())):
            raise RuntimeError(f"'test' resolved to {test.__file__}, not their test.py")
        encoder, bn = resnet.wide_resnet50_2(pretrained=False)
        decoder = de_resnet.de_wide_resnet50_2(pretrained=False)
        _load(ours.inputs.taps.body.state_dict(), encoder, unused=("layer4.", "fc."))  # never tapped: not ours
        ours_state = model.state_dict()
        _load(ours_state, bn, _bottleneck_name, _UNUSED)
        _load(ours_state, decoder, _decoder_name)
        transform, _ = dataset.get_data_transforms(SIZE, SIZE)
        x = torch.stack([transform(Image.fromarray(image)) for image in images])

        for network in (encoder, bn, decoder):
            network.eval()
        with torch.no_grad():
            teacher = encoder(x)
            student_out = decoder(bn(teacher))
        their_teacher = teacher
        maps, smoothed = [], []
        for i in range(BATCH):
            amap, _ = test.cal_anomaly_map(
                [t[i : i + 1] for t in teacher], [s[i : i + 1] for s in student_out], x.shape[-1], amap_mode="a"
            )
            maps.append(amap)
            smoothed.append(test.gaussian_filter(amap, sigma=SIGMA))
        bn.train()  # as their train(); the encoder stays in eval mode
        decoder.train()
        teacher = encoder(x)
        student_out = decoder(bn(teacher))
        their_loss = main.loss_fucntion(teacher, student_out)
        per_position = sum((1 - F.cosine_similarity(t, s)).mean() for t, s in zip(teacher, student_out, strict=True))

    def flat(features) -> torch.Tensor:
        return torch.cat([f.flatten() for f in features])

    return [
        Check.of("network input", batch.input, x),
        Check.of("teacher features s4, s8, s16", flat(our_teacher[r] for r in ROLES), flat(their_teacher)),
        Check.of("training loss (their loss_fucntion: cosine of flattened maps)", our_losses["loss"], their_loss),
        Check.of(
            "training loss per position (paper Eq. 3; loss=per_position) on their networks",
            our_per_position["loss"],
            per_position,
        ),
        Check.of("anomaly map before smoothing", our_maps, np.stack(maps)),
        Check.of("anomaly map after smoothing", np.stack([p.anomaly_map for p in predictions]), np.stack(smoothed)),
        Check.of("image score (max of the smoothed map)", [p.score for p in predictions], [s.max() for s in smoothed]),
    ]
