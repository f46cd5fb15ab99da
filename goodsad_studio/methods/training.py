"""Shared machinery of methods that train a network: :class:`TrainedMethod`.

A trained method subclasses :class:`TrainedMethod`, sets ``name``, ``params`` (usually
``[*training_params(epochs=..., batch_size=..., lr=...), ...own knobs]``), ``roles`` (backbone taps it needs;
``()`` for a method without a pretrained backbone, e.g. DRAEM) and ``normalize`` (ImageNet normalisation of the
network input, or ``False`` for plain ``[0, 1]`` RGB), and implements:

* ``build_model(self) -> nn.Module`` — every trained module in one ``nn.Module`` (its ``state_dict`` is what is
  saved); called under the seed, so the initialisation is reproducible;
* ``build_optimizers(self, model) -> dict[str, torch.optim.Optimizer]`` — one or several (a GAN has two);
* ``training_step(self, state: TrainState, batch) -> dict[str, float]`` — one step *including*
  ``zero_grad``/``backward``/``optimizer.step()``; returns the losses, at least ``"loss"``. Randomness must come
  from ``state.rng`` (numpy) and torch's global generator (both reseeded from (seed, step) before every step);
  learning-rate schedules must be functions of ``state.step`` (use :func:`set_learning_rate`);
* ``predict_batch(self, model, batch: torch.Tensor) -> (scores or None, maps)`` — ``batch`` is the normalised
  ``B x 3 x S x S`` input on the device; ``maps`` a ``B x h x w`` numpy map on any grid. The base upsamples it to
  the input, smooths it (``blur_sigma``) and resizes it to each image; with ``scores=None`` the image score is
  the maximum of the smoothed map.

Optional hooks: ``prepare_training_data(self, images_u8, cancel)`` turns the cached ``N x S x S x 3`` uint8
training images into what batches are cut from (an array, a tensor or a dict of them, indexed on the first axis;
default: the images themselves — e.g. SimpleNet returns frozen backbone features once); ``finish_training(self,
model, data)`` after the last step (e.g. CutPaste fits its Gaussian density); ``_extra_config(self)``.

Helpers: ``self.to_input(images_u8)`` (uint8 ``B x S x S x 3`` -> normalised float tensor on ``self.device``),
``self.backbone_features(batch)`` (frozen features ``{role: tensor}``, usable in autograd),
``self.cache_backbone_features(images_u8, cancel)`` (frozen features of all training images), ``self.device``,
``self.preprocess``, ``self.hparams``.

The base class's :meth:`TrainedMethod.fit` caches the resized training images, seeds everything
(``torch.manual_seed(seed)`` before ``build_model``; batch order from ``numpy.random.default_rng([seed, epoch])``;
per-step generators from ``(seed, step)``), runs ``epochs x steps_per_epoch`` steps (capped by ``max_steps``),
calls ``progress(done, total)`` (``total`` = training images + steps; loading counts one per image, then one per
step), keeps :attr:`TrainedMethod.status` (epoch, step, last loss) and :attr:`TrainedMethod.loss_history`, checks
``cancel`` before every step and writes checkpoints (:mod:`.checkpoint`) to ``checkpoint_dir`` every
``checkpoint_every`` steps (default: every epoch), at the end, and on cancel. A fit with a ``checkpoint_dir`` that
holds a checkpoint of the same configuration and training data resumes from it, giving the same weights as an
uninterrupted run. On cancel :class:`Cancelled` is raised and the previously fitted model (if any) is kept.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import threading
from abc import abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import cv2
import numpy as np
import torch
from torch import nn

from goodsad_studio.errors import Cancelled, ModelFileError, NotFittedError, ParamError
from goodsad_studio.methods.backbone_method import BackboneMethod, check_cancel, resolve_device
from goodsad_studio.methods.base import AnomalyMethod, MethodInfo, Prediction, ProgressFn
from goodsad_studio.methods.checkpoint import (
    Checkpoint,
    join_tensors,
    read_latest_checkpoint,
    split_tensors,
    write_checkpoint,
)
from goodsad_studio.methods.params import ParamSpec
from goodsad_studio.methods.preprocess import PREPROCESS_PARAMS, RESIZE_CROP, Preprocess, as_rgb_uint8

log = logging.getLogger(__name__)

NO_BACKBONE = "none"
TrainData = Any  # np.ndarray | torch.Tensor | dict[str, np.ndarray | torch.Tensor], indexed on axis 0
ModelT = TypeVar("ModelT", bound=nn.Module)
"""The network a :class:`TrainedMethod` trains: what its ``build_model`` returns and its other hooks receive."""


def training_params(
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    image_size: int = 256,
    resize_mode: str = "resize",
    blur_sigma: float = 4.0,
) -> list[ParamSpec]:
    """The parameters every trained method has, with the method's (paper's) defaults."""
    pre = {spec.name: spec for spec in PREPROCESS_PARAMS}
    return [
        dataclasses.replace(pre["image_size"], default=image_size),
        dataclasses.replace(pre["resize_mode"], default=resize_mode),
        ParamSpec("epochs", "int", epochs, min=1, max=100000, help="passes over the training images"),
        ParamSpec("batch_size", "int", batch_size, min=1, max=4096, help="training images per step"),
        ParamSpec("lr", "float", lr, min=1e-8, max=10.0, help="learning rate"),
        ParamSpec(
            "max_steps",
            "int",
            None,
            min=1,
            max=10**9,
            optional=True,
            help="stop after this many steps (None = epochs x steps per epoch); for short schedules",
        ),
        ParamSpec("seed", "int", 0, min=0, max=2**31 - 1, help="seed of initialisation, batch order and noise"),
        ParamSpec(
            "blur_sigma",
            "float",
            blur_sigma,
            min=0.0,
            max=64.0,
            help="Gaussian smoothing of the map, in network-input pixels",
        ),
    ]


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate (schedules are functions of the step, so resume is exact)."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def step_seed(seed: int, step: int) -> int:
    """A 63-bit torch seed derived from (seed, step)."""
    return int(np.random.SeedSequence([seed, step, 0x5EED]).generate_state(1, np.uint64)[0] >> np.uint64(1))


@dataclass
class TrainState(Generic[ModelT]):
    """What a training step sees: the model, its optimizers, the step counters and this step's numpy ``rng``."""

    model: ModelT
    optimizers: dict[str, torch.optim.Optimizer]
    total_steps: int
    steps_per_epoch: int
    step: int = 0
    rng: np.random.Generator = field(default_factory=np.random.default_rng)
    losses: list[dict[str, float]] = field(default_factory=list)

    @property
    def epoch(self) -> int:
        return self.step // self.steps_per_epoch


@dataclass(frozen=True)
class TrainingStatus:
    """For display: where a training job is (``epoch`` counts from 1) and its last loss."""

    epoch: int
    epochs: int
    step: int
    total_steps: int
    loss: float | None


def _take(data: TrainData, index: np.ndarray) -> TrainData:
    if isinstance(data, dict):
        return {k: _take(v, index) for k, v in data.items()}
    if isinstance(data, torch.Tensor):
        return data[torch.from_numpy(index)]
    return data[index]


def _data_length(data: TrainData) -> int:
    if isinstance(data, dict):
        return len(next(iter(data.values())))
    return len(data)


class TrainedMethod(BackboneMethod, Generic[ModelT]):
    """Base of SimpleNet, CFLOW-AD, RD4AD, DRAEM, NSA, CutPaste, f-AnoGAN (see the module docstring); generic in
    the network class ``build_model`` returns (``class Draem(TrainedMethod[DraemModel])``)."""

    roles: ClassVar[tuple[str, ...]] = ()
    normalize: ClassVar[bool] = True
    checkpoint_keep: ClassVar[int] = 1

    def __init__(
        self,
        *,
        backbone: str = "auto",
        device: str = "auto",
        weights: str = "auto",
        checkpoint_dir: str | Path | None = None,
        checkpoint_every: int | None = None,
        **params: Any,
    ):
        if self.roles:
            super().__init__(backbone=backbone, device=device, weights=weights, **params)
        else:
            if backbone not in ("auto", NO_BACKBONE):
                raise ParamError(
                    f"{self.name} trains its own network from scratch; it takes no backbone (got {backbone!r})"
                )
            AnomalyMethod.__init__(self, backbone=backbone, device=device, weights=weights, **params)
            # no backbone: BackboneMethod declares these non-None, and its uses of them here are behind `self.roles`
            self.backbone_spec = None  # type: ignore[assignment]  # none without a backbone (see above)
            self.weights_source = None  # type: ignore[assignment]  # none without a backbone (see above)
            self.device = resolve_device(device)
            self._extractor = None
        mean, std = (
            (self.backbone_spec.mean, self.backbone_spec.std)
            if self.roles and self.normalize
            else ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
            if self.normalize
            else ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
        )
        self.preprocess = Preprocess(self.hparams["image_size"], self.hparams["resize_mode"], mean, std)
        if checkpoint_every is not None and checkpoint_every < 1:
            raise ParamError(f"checkpoint_every must be at least 1, got {checkpoint_every}")
        self.checkpoint_dir: Path | None = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.checkpoint_every = checkpoint_every
        self.model: ModelT | None = None
        self.loss_history: list[dict[str, float]] = []
        """One dict of losses per training step of the fitted model (restored by :meth:`load`)."""
        self.status: TrainingStatus | None = None
        self.resumed_from_step: int | None = None
        """The step a fit resumed from (None when it started afresh)."""
        self._trained_steps_per_epoch = 0

    # -- hooks -------------------------------------------------------------------------------------------------
    @abstractmethod
    def build_model(self) -> ModelT:
        """The trainable network (built after the seed is set, so initialisation is reproducible)."""

    @abstractmethod
    def build_optimizers(self, model: ModelT) -> dict[str, torch.optim.Optimizer]:
        """Named optimizers of ``model`` (their state is checkpointed by name)."""

    @abstractmethod
    def training_step(self, state: TrainState[ModelT], batch: TrainData) -> dict[str, float]:
        """One optimisation step on ``batch`` (zero_grad, backward, step); returns the losses to log."""

    @abstractmethod
    def predict_batch(self, model: ModelT, batch: torch.Tensor) -> tuple[np.ndarray | None, np.ndarray]:
        """Image scores (None: the maximum of each smoothed map) and ``B x h x w`` anomaly maps on any grid."""

    def prepare_training_data(self, images: np.ndarray, cancel: threading.Event | None) -> TrainData:
        return images

    def finish_training(self, model: ModelT, data: TrainData) -> None:
        """After the last step (model in eval mode): e.g. fit a density on training embeddings into buffers."""

    def _extra_config(self) -> dict[str, Any]:
        return {}

    # -- helpers -----------------------------------------------------------------------------------------------
    def resize_image(self, image: np.ndarray, index: int | None = None) -> np.ndarray:
        """A checked uint8 RGB image -> uint8 ``S x S x 3`` network-input geometry (resize, or resize + crop)."""
        image = as_rgb_uint8(image, index)
        side = self.preprocess.resize_size
        shrinking = side < image.shape[0] or side < image.shape[1]
        out = cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
        if self.preprocess.mode == RESIZE_CROP:
            o, s = self.preprocess.crop_offset, self.preprocess.image_size
            out = out[o : o + s, o : o + s]
        return np.ascontiguousarray(out)

    def to_input(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 ``B x S x S x 3`` -> float32 ``B x 3 x S x S`` on the device, normalised as :attr:`preprocess`."""
        tensor = torch.as_tensor(images).to(self.device)
        tensor = tensor.permute(0, 3, 1, 2).float().div_(255.0)
        mean = torch.tensor(self.preprocess.mean, device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(self.preprocess.std, device=self.device).view(1, 3, 1, 1)
        return (tensor - mean) / std

    def backbone_features(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """Frozen backbone features of a normalised batch, as ordinary tensors (usable as autograd inputs)."""
        return {role: value.clone() for role, value in self.extractor(batch).items()}

    def cache_backbone_features(
        self, images: np.ndarray, cancel: threading.Event | None, limit_bytes: int = 1 << 30
    ) -> dict[str, torch.Tensor]:
        """Frozen backbone features (``{role: N x C x h x w}``, on the CPU) of cached uint8 training images, for
        methods that train on a frozen encoder without augmentation; float16 when float32 would exceed
        ``limit_bytes``. Checks ``cancel`` between batches."""
        parts: dict[str, list[torch.Tensor]] = {r: [] for r in self.roles}
        for begin in range(0, len(images), self.batch_size):
            check_cancel(cancel, f"training {self.name}")
            with torch.no_grad():
                for role, value in self.extractor(self.to_input(images[begin : begin + self.batch_size])).items():
                    parts[role].append(value.cpu().clone())
        features = {r: torch.cat(v) for r, v in parts.items()}
        if sum(v.numel() for v in features.values()) * 4 > limit_bytes:
            features = {r: v.half() for r, v in features.items()}
        return features

    # -- fitting -----------------------------------------------------------------------------------------------
    def fit(
        self, images: Iterable[np.ndarray], *, progress: ProgressFn | None = None, cancel: threading.Event | None = None
    ) -> None:
        p = self.hparams
        n_expected = self._images_total(images)
        cached = self._cache_images(images, progress, cancel, n_expected)
        n = len(cached)
        batch_size = min(p["batch_size"], n)
        steps_per_epoch = max(1, n // batch_size)
        total = p["epochs"] * steps_per_epoch
        if p["max_steps"] is not None:
            total = min(total, p["max_steps"])
        identity = self._training_identity(cached)
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(p["seed"])
            model = self.build_model().to(self.device)
            optimizers = self.build_optimizers(model)
            state = TrainState(model, optimizers, total, steps_per_epoch)
            data = self.prepare_training_data(cached, cancel)
            self.resumed_from_step = self._resume(state, identity)
            last_saved = state.step if self.resumed_from_step is not None else -1
            order: np.ndarray | None = None
            order_epoch = -1
            while state.step < total:
                if cancel is not None and cancel.is_set():
                    if state.step != last_saved:
                        self._write_checkpoint(state, identity)
                    raise Cancelled(f"training {self.name} cancelled at step {state.step} of {total}")
                if state.epoch != order_epoch:
                    order_epoch = state.epoch
                    order = np.random.default_rng([p["seed"], order_epoch]).permutation(n)
                position = state.step % steps_per_epoch
                assert order is not None  # drawn above on the first pass (order_epoch starts at -1)
                index = order[position * batch_size : (position + 1) * batch_size]
                state.rng = np.random.default_rng([p["seed"], state.step, 1])
                torch.manual_seed(step_seed(p["seed"], state.step))
                model.train()
                losses = {k: float(v) for k, v in self.training_step(state, _take(data, index)).items()}
                if "loss" not in losses or not math.isfinite(losses["loss"]):
                    raise FloatingPointError(
                        f"{self.name}: training loss is {losses.get('loss')!r} at step "
                        f"{state.step}; try a smaller learning rate"
                    )
                state.losses.append(losses)
                state.step += 1
                self.status = TrainingStatus(
                    (state.step - 1) // steps_per_epoch + 1, p["epochs"], state.step, total, losses["loss"]
                )
                if progress is not None:
                    progress(n + state.step, n + total)
                every = self.checkpoint_every or steps_per_epoch
                if self.checkpoint_dir is not None and (state.step % every == 0 or state.step == total):
                    self._write_checkpoint(state, identity)
                    last_saved = state.step
            if self.checkpoint_dir is not None and last_saved != state.step:
                self._write_checkpoint(state, identity)
            model.eval()
            with torch.no_grad():
                self.finish_training(model, data)
        self.model = model
        self.loss_history = state.losses
        self._trained_steps_per_epoch = steps_per_epoch

    def _cache_images(
        self, images: Iterable[np.ndarray], progress: ProgressFn | None, cancel: threading.Event | None, n_expected: int
    ) -> np.ndarray:
        check_cancel(cancel, f"training {self.name}")
        cached = []
        for i, image in enumerate(images):
            cached.append(self.resize_image(image, i))
            if progress is not None:
                progress(i + 1, n_expected + self._expected_steps(n_expected) if n_expected else 0)
            check_cancel(cancel, f"training {self.name}")
        if not cached:
            raise ParamError(f"{self.name}: no training images were given")
        return np.stack(cached)

    def _expected_steps(self, n: int) -> int:
        p = self.hparams
        total: int = p["epochs"] * max(1, n // min(p["batch_size"], n))
        max_steps: int | None = p["max_steps"]
        return min(total, max_steps) if max_steps is not None else total

    def _training_identity(self, cached: np.ndarray) -> str:
        digest = hashlib.sha256(json.dumps(self.base_config(), sort_keys=True, default=str).encode())
        digest.update(str(cached.shape).encode())
        digest.update(hashlib.sha256(cached.tobytes()).digest())
        return digest.hexdigest()

    # -- checkpoints -------------------------------------------------------------------------------------------
    def _write_checkpoint(self, state: TrainState[ModelT], identity: str) -> None:
        assert self.checkpoint_dir is not None
        arrays: dict[str, np.ndarray] = {}
        model_tree = split_tensors(dict(state.model.state_dict()), "model", arrays)
        optim_tree = split_tensors({k: o.state_dict() for k, o in state.optimizers.items()}, "optim", arrays)
        meta = {
            "method": self.name,
            "identity": identity,
            "step": state.step,
            "epoch": state.epoch,
            "total_steps": state.total_steps,
            "seed": self.hparams["seed"],
            "rng": "numpy default_rng([seed, epoch]) orders batches; step generators from (seed, step)",
            "model": model_tree,
            "optimizers": optim_tree,
            "losses": state.losses,
        }
        write_checkpoint(self.checkpoint_dir, Checkpoint(arrays, meta), keep=self.checkpoint_keep)

    def _resume(self, state: TrainState[ModelT], identity: str) -> int | None:
        if self.checkpoint_dir is None:
            return None
        try:
            checkpoint = read_latest_checkpoint(self.checkpoint_dir)
        except ModelFileError as exc:
            log.warning("ignoring an unreadable checkpoint: %s", exc)
            return None
        if checkpoint is None:
            return None
        if checkpoint.meta.get("identity") != identity or checkpoint.meta.get("method") != self.name:
            log.info(
                "checkpoint in %s is for another configuration or training set; starting afresh", self.checkpoint_dir
            )
            return None
        if checkpoint.step > state.total_steps:
            return None
        model_state = join_tensors(checkpoint.meta["model"], checkpoint.tensors, checkpoint.path)
        state.model.load_state_dict({k: v.to(self.device) for k, v in model_state.items()})
        optim_state = join_tensors(checkpoint.meta["optimizers"], checkpoint.tensors, checkpoint.path)
        for name, optimizer in state.optimizers.items():
            optimizer.load_state_dict(optim_state[name])
        state.step = checkpoint.step
        state.losses = list(checkpoint.meta.get("losses", []))
        return checkpoint.step

    # -- prediction --------------------------------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return self.model is not None

    def predict(self, images: Sequence[np.ndarray]) -> list[Prediction]:
        if self.model is None:
            raise NotFittedError(f"{self.name} has not been trained: call fit() or load a saved model first")
        self.model.eval()
        results: list[Prediction] = []
        batch_size = max(1, min(self.batch_size, 16))
        for begin in range(0, len(images), batch_size):
            chunk = [as_rgb_uint8(img, begin + i) for i, img in enumerate(images[begin : begin + batch_size])]
            shapes = [(img.shape[0], img.shape[1]) for img in chunk]
            batch = self.to_input(np.stack([self.resize_image(img) for img in chunk]))
            with torch.no_grad():
                scores, maps = self.predict_batch(self.model, batch)
            for i, shape in enumerate(shapes):
                smoothed = self.preprocess.smooth(np.asarray(maps[i], np.float32), self.hparams["blur_sigma"])
                score = float(smoothed.max()) if scores is None else float(scores[i])
                results.append(Prediction(score=score, anomaly_map=self.preprocess.to_image(smoothed, shape)))
        return results

    # -- reporting and persistence -----------------------------------------------------------------------------
    @property
    def info(self) -> MethodInfo:
        if self.roles:
            return super().info
        return MethodInfo(self.name, NO_BACKBONE, "trained from scratch", str(self.device))

    def training_summary(self) -> dict[str, Any]:
        """Steps run, final loss and the mean loss of every epoch (empty before training)."""
        if not self.loss_history:
            return {}
        losses = np.asarray([h["loss"] for h in self.loss_history])
        per_epoch = self._steps_per_epoch_trained()
        epochs = [float(losses[i : i + per_epoch].mean()) for i in range(0, len(losses), per_epoch)]
        return {
            "steps": len(losses),
            "steps_per_epoch": per_epoch,
            "final_loss": float(losses[-1]),
            "epoch_mean_loss": epochs,
        }

    def _steps_per_epoch_trained(self) -> int:
        return max(1, self._trained_steps_per_epoch or 1)

    def base_config(self) -> dict[str, Any]:
        """The output-determining configuration, without the training log."""
        return super().config()

    def config(self) -> dict[str, Any]:
        """As :meth:`AnomalyMethod.config`; once trained (or loaded) it also holds ``training_log`` (loss per
        epoch), which is informative only: a fresh instance's config, used for cache keys, has none."""
        config = self.base_config()
        summary = self.training_summary()
        if summary:
            config["training_log"] = summary
        return config

    def _config_extra(self) -> dict[str, Any]:
        base: dict[str, Any] = (
            super()._config_extra()
            if self.roles
            else {"backbone": NO_BACKBONE, "preprocess": self.preprocess.to_config()}
        )
        return {**base, **self._extra_config()}

    def _check_saved_config(self, saved: dict[str, Any], path: Path) -> None:
        if self.roles:
            super()._check_saved_config(saved, path)
        log_entry = saved.get("training_log") or {}
        self._trained_steps_per_epoch = int(log_entry.get("steps_per_epoch", 0) or 0)

    def _state_arrays(self) -> dict[str, np.ndarray]:
        assert self.model is not None
        arrays = {f"model/{k}": v.detach().cpu().numpy() for k, v in self.model.state_dict().items()}
        if self.loss_history:
            names = sorted({k for h in self.loss_history for k in h})
            for name in names:
                arrays[f"history/{name}"] = np.asarray([h.get(name, np.nan) for h in self.loss_history], np.float64)
        return arrays

    def _load_state_arrays(self, arrays: dict[str, np.ndarray], path: Path) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.hparams["seed"])
            model = self.build_model()
        expected = model.state_dict()
        found = {k[len("model/") :]: v for k, v in arrays.items() if k.startswith("model/")}
        missing = sorted(set(expected) - set(found))
        unexpected = sorted(set(found) - set(expected))
        if missing or unexpected:
            raise ModelFileError(
                f"saved {self.name} network does not match: missing {missing[:3]}, unexpected {unexpected[:3]}", path
            )
        for key, value in expected.items():
            if found[key].size == value.numel() == 1:  # safetensors keeps 0-d arrays as 1-element vectors
                found[key] = found[key].reshape(tuple(value.shape))
            if tuple(found[key].shape) != tuple(value.shape):
                raise ModelFileError(
                    f"saved tensor {key!r} has shape {found[key].shape}, expected {tuple(value.shape)}", path
                )
        model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in found.items()})
        self.model = model.to(self.device).eval()
        history = {k[len("history/") :]: v for k, v in arrays.items() if k.startswith("history/")}
        steps = len(next(iter(history.values()))) if history else 0
        self.loss_history = [{k: float(v[i]) for k, v in history.items() if not np.isnan(v[i])} for i in range(steps)]


__all__ = [
    "NO_BACKBONE",
    "TrainState",
    "TrainedMethod",
    "TrainingStatus",
    "set_learning_rate",
    "step_seed",
    "training_params",
]
