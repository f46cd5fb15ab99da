"""Training a network: the one loop (:class:`Trainer`) and the thin base of the trained methods
(:class:`TrainedMethod`).

A trained method subclasses :class:`TrainedMethod`, sets ``name``, ``params`` (usually
``[*training_params(epochs=..., batch_size=..., lr=...), ...own knobs]``), ``roles`` (backbone taps it reads;
``()`` for a method trained from scratch, e.g. DRAEM) and ``normalize`` (ImageNet normalisation of the network
input, or ``False`` for plain ``[0, 1]`` RGB), and implements:

* ``build_model(self) -> nn.Module`` — every trained module in one ``nn.Module`` (its ``state_dict`` is what is
  saved); called under the seed, so the initialisation is reproducible;
* ``build_optimizers(self, model) -> dict[str, Optimizer]`` — one or several (a GAN has three);
* ``step(self, ctx: StepContext, batch) -> dict[str, float]`` — one optimisation step (``ctx.update(loss)`` is
  zero_grad, backward, step); returns the losses, at least ``"loss"``. Randomness comes from ``ctx.rng`` (numpy)
  and torch's global generator (both reseeded from (seed, step) before every step);
* ``infer(self, model, batch: Batch) -> GridScores`` — maps on any grid, and image scores or None (the maximum
  of the smoothed map); the base runs it in eval mode without gradients.

Optional: ``schedule(self) -> Schedule | None`` (the learning rate as a function of (step, total steps), set on
every optimizer before each step: a resumed run sets the same rates), ``training_data(self, images, monitor)``
(what batches are cut from; default the cached ``N x S x S x 3`` uint8 images; e.g. frozen backbone features
through ``self.inputs.cache``), ``finish(self, model, data)`` after the last step (e.g. fit a density into
buffers), ``extra_config(self)`` (extend ``super()``'s).

:class:`Trainer` seeds everything (``torch.manual_seed(seed)`` before ``build_model``; batch order from
``numpy.random.default_rng([seed, epoch])``; per-step generators from ``(seed, step)``), runs
``epochs x steps_per_epoch`` steps (capped by ``max_steps``), reports stage ``TRAIN`` (``total`` = the steps) and a
:class:`~goodsad_studio.progress.TrainingStatus` after every step, calls ``monitor.check()`` before every step and
writes checkpoints (:mod:`.checkpoint`) to ``monitor.checkpoint_dir`` every ``checkpoint_every`` steps (default:
every epoch), at the end, and on cancel. A fit whose ``checkpoint_dir`` holds a checkpoint of the same
configuration and training data resumes from it, giving the same weights as an uninterrupted run. A loss that is
not finite raises :class:`~goodsad_studio.errors.TrainingDiverged`. On cancel :class:`Cancelled` is raised and the
method keeps its previously fitted model (if any).

``budget_minutes`` (every trained method has it) fits within that many minutes: probe steps taken across the planned
schedule give the seconds per step, the model and optimizers are put back, and the steps that fit are trained with
the schedule compressed to them (the same weights as ``max_steps`` of that count; :mod:`.budget`, docs/adr/0011).
What a fit ran is a :class:`~.budget.TrainingRun`, saved in ``training_log.run`` and said in
:attr:`TrainedMethod.info`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import time
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
import torch
from torch import nn

from goodsad_studio.errors import Cancelled, ModelFileError, ParamError, TrainingDiverged
from goodsad_studio.methods.api import Batch, Capability, GridScores, Method, MethodInfo
from goodsad_studio.methods.components.budget import Budget, Probe, TrainingRun, steps_that_fit
from goodsad_studio.methods.components.checkpoint import (
    Checkpoint,
    join_tensors,
    read_latest_checkpoint,
    split_tensors,
    write_checkpoint,
)
from goodsad_studio.methods.components.features import FeatureExtractor
from goodsad_studio.methods.components.preprocess import PREPROCESS_PARAMS
from goodsad_studio.methods.components.schedules import Schedule
from goodsad_studio.params import ParamSpec
from goodsad_studio.progress import NO_MONITOR, Monitor, Stage, TrainingStatus

log = logging.getLogger(__name__)

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
            unset="all epochs",
        ),
        ParamSpec(
            "budget_minutes",
            "float",
            None,
            min=0.05,
            max=100000.0,
            optional=True,
            keyed_when_set=True,
            help="fit within this many minutes: the steps that fit, timed on a few probe steps, with the "
            "schedule compressed to them (None = the whole schedule); for CPU users",
            unset="no limit",
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


def step_seed(seed: int, step: int) -> int:
    """A 63-bit torch seed derived from (seed, step)."""
    return int(np.random.SeedSequence([seed, step, 0x5EED]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group's learning rate."""
    for group in optimizer.param_groups:
        group["lr"] = lr


@dataclass
class StepContext(Generic[ModelT]):
    """What a training step sees: the model, its optimizers, the step counters, this step's numpy ``rng`` and the
    learning rate the schedule set (None without a schedule)."""

    model: ModelT
    optimizers: dict[str, torch.optim.Optimizer]
    total_steps: int
    steps_per_epoch: int
    step: int = 0
    rng: np.random.Generator = field(default_factory=np.random.default_rng)
    lr: float | None = None
    losses: list[dict[str, float]] = field(default_factory=list)

    @property
    def epoch(self) -> int:
        return self.step // self.steps_per_epoch

    def update(self, loss: torch.Tensor, *names: str) -> None:
        """``zero_grad``, ``backward`` and ``step`` of the named optimizers (all of them when none is named)."""
        chosen = [self.optimizers[n] for n in names] if names else list(self.optimizers.values())
        for optimizer in chosen:
            optimizer.zero_grad()
        torch.autograd.backward(loss)  # loss.backward(), which torch leaves untyped
        for optimizer in chosen:
            optimizer.step()


@dataclass(frozen=True)
class TrainPlan(Generic[ModelT]):
    """What :meth:`Trainer.run` trains: how to build the model and its optimizers (under the seed), the data (built
    after them, still under the seed), the step, the schedule and what to do after the last step."""

    build_model: Callable[[], ModelT]
    build_optimizers: Callable[[ModelT], dict[str, torch.optim.Optimizer]]
    data: Callable[[], TrainData]
    step: Callable[[StepContext[ModelT], TrainData], Mapping[str, float]]
    schedule: Schedule | None = None
    finish: Callable[[ModelT, TrainData], None] | None = None


@dataclass(frozen=True)
class TrainResult(Generic[ModelT]):
    model: ModelT
    losses: list[dict[str, float]]
    steps_per_epoch: int
    resumed_from_step: int | None
    run: TrainingRun | None = None


def _take(data: TrainData, index: np.ndarray) -> TrainData:
    if isinstance(data, dict):
        return {k: _take(v, index) for k, v in data.items()}
    if isinstance(data, torch.Tensor):
        return data[torch.from_numpy(index)]
    return data[index]


class Trainer:
    """The one training loop (see the module docstring). ``identity`` names the configuration and training data a
    checkpoint must have been written for to be resumed; ``every``: steps between checkpoints (None: an epoch)."""

    def __init__(
        self,
        method: str,
        hparams: Mapping[str, Any],
        device: torch.device,
        monitor: Monitor,
        *,
        identity: str,
        every: int | None = None,
        keep: int = 1,
    ):
        if every is not None and every < 1:
            raise ParamError(f"checkpoint_every must be at least 1, got {every}")
        self.method = method
        self.hparams = hparams
        self.device = device
        self.monitor = monitor
        self.identity = identity
        self.every = every
        self.keep = keep
        self.checkpoint_dir: Path | None = monitor.checkpoint_dir
        self.step_seconds: float | None = None
        self._n = 0
        self._order: tuple[int, np.ndarray] | None = None
        """Under a budget, the probe's seconds per step (recorded in checkpoints, so a resumed run keeps its count)."""

    def steps(self, n: int) -> tuple[int, int, int]:
        """``(batch size, steps per epoch, total steps)`` for ``n`` training images."""
        p = self.hparams
        batch_size = min(p["batch_size"], n)
        steps_per_epoch = max(1, n // batch_size)
        total: int = p["epochs"] * steps_per_epoch
        if p["max_steps"] is not None:
            total = min(total, p["max_steps"])
        return batch_size, steps_per_epoch, total

    def run(self, plan: TrainPlan[ModelT], n: int, *, started: float | None = None) -> TrainResult[ModelT]:
        """Train on ``n`` training images (the first axis of ``plan.data()``). ``started``: when the fit began
        (``time.perf_counter()``), what a ``budget_minutes`` counts from (None: now)."""
        p, monitor = self.hparams, self.monitor
        started = time.perf_counter() if started is None else started
        batch_size, steps_per_epoch, planned = self.steps(n)
        self._n, self._order = n, None
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(p["seed"])
            model = plan.build_model().to(self.device)
            ctx = StepContext(model, plan.build_optimizers(model), planned, steps_per_epoch)
            data = plan.data()
            checkpoint = self._matching_checkpoint()
            if p.get("budget_minutes") is not None:
                budget = self._budget(plan, ctx, data, batch_size, started, checkpoint)
                ctx.total_steps, self.step_seconds = budget.steps, budget.step_seconds
            total = ctx.total_steps
            resumed = self._resume(ctx, checkpoint)
            last_saved = ctx.step if resumed is not None else -1
            monitor.stage(Stage.TRAIN, total)
            if resumed:
                monitor.advance(ctx.step, f"resumed at step {ctx.step}")
            training_started = time.perf_counter()
            while ctx.step < total:
                try:
                    monitor.check(f"training {self.method}")
                except Cancelled as exc:
                    if self.checkpoint_dir is not None and ctx.step != last_saved:
                        self._write_checkpoint(ctx)
                    raise Cancelled(f"training {self.method} cancelled at step {ctx.step} of {total}") from exc
                losses = self._one_step(plan, ctx, data, batch_size)
                ctx.losses.append(losses)
                ctx.step += 1
                epoch = (ctx.step - 1) // steps_per_epoch + 1
                monitor.status(TrainingStatus(epoch, p["epochs"], ctx.step, total, losses["loss"]))
                monitor.advance(ctx.step)
                every = self.every or steps_per_epoch
                if self.checkpoint_dir is not None and (ctx.step % every == 0 or ctx.step == total):
                    self._write_checkpoint(ctx)
                    last_saved = ctx.step
            if self.checkpoint_dir is not None and last_saved != ctx.step:
                self._write_checkpoint(ctx)
            model.eval()
            if plan.finish is not None:
                with torch.no_grad():
                    plan.finish(model, data)
        run = TrainingRun(
            steps=len(ctx.losses),
            planned_steps=planned,
            planned_epochs=p["epochs"],
            seconds=time.perf_counter() - started,
            train_seconds=time.perf_counter() - training_started,
            budget_minutes=p.get("budget_minutes"),
            step_seconds=self.step_seconds,
        )
        return TrainResult(model, ctx.losses, steps_per_epoch, resumed, run)

    def _epoch_order(self, epoch: int, n: int) -> np.ndarray:
        """The order of the ``n`` training images in ``epoch``, drawn from (seed, epoch); the last one is kept."""
        if self._order is None or self._order[0] != epoch:
            self._order = (epoch, np.random.default_rng([self.hparams["seed"], epoch]).permutation(n))
        return self._order[1]

    def _one_step(
        self, plan: TrainPlan[ModelT], ctx: StepContext[ModelT], data: TrainData, batch_size: int
    ) -> dict[str, float]:
        """Step ``ctx.step`` of ``ctx.total_steps``: its batch (the epoch's order), its generators (from (seed,
        step)) and learning rate; the losses, checked to be finite."""
        p = self.hparams
        order = self._epoch_order(ctx.epoch, self._n)
        position = ctx.step % ctx.steps_per_epoch
        index = order[position * batch_size : (position + 1) * batch_size]
        ctx.rng = np.random.default_rng([p["seed"], ctx.step, 1])
        torch.manual_seed(step_seed(p["seed"], ctx.step))
        ctx.lr = None if plan.schedule is None else plan.schedule(ctx.step, ctx.total_steps)
        if ctx.lr is not None:
            for optimizer in ctx.optimizers.values():
                set_learning_rate(optimizer, ctx.lr)
        ctx.model.train()
        losses = {k: float(v) for k, v in plan.step(ctx, _take(data, index)).items()}
        if "loss" not in losses or not math.isfinite(losses["loss"]):
            raise TrainingDiverged(
                f"{self.method}: training loss is {losses.get('loss')!r} at step "
                f"{ctx.step}; try a smaller learning rate"
            )
        return losses

    # -- a time budget -----------------------------------------------------------------------------------------
    def _budget(
        self,
        plan: TrainPlan[ModelT],
        ctx: StepContext[ModelT],
        data: TrainData,
        batch_size: int,
        started: float,
        checkpoint: Checkpoint | None,
    ) -> Budget:
        """The steps of the planned ``ctx.total_steps`` that fit ``budget_minutes``: a resumable checkpoint's own
        count, else :func:`~.budget.steps_that_fit` of this run's own steps (the model and optimizers put back
        afterwards: the budgeted run is the planned schedule compressed to that count, the same on every run)."""
        planned = ctx.total_steps
        if checkpoint is not None and 0 < int(checkpoint.meta.get("total_steps", 0)) <= planned:
            return Budget(int(checkpoint.meta["total_steps"]), checkpoint.meta.get("step_seconds"))

        def step_at(position: int) -> None:
            ctx.step = position
            self._one_step(plan, ctx, data, batch_size)

        probe = Probe(
            ctx.model,
            ctx.optimizers,
            planned,
            step_at,
            None if self.checkpoint_dir is None else (lambda folder: self._write_checkpoint(ctx, folder)),
            self.every or ctx.steps_per_epoch,
        )
        budget = steps_that_fit(probe, self.hparams["budget_minutes"], started, self.monitor, f"training {self.method}")
        ctx.step, ctx.lr = 0, None
        return budget

    # -- checkpoints -------------------------------------------------------------------------------------------
    def _write_checkpoint(self, ctx: StepContext[ModelT], directory: Path | None = None) -> None:
        """Write ``ctx``'s checkpoint into ``directory`` (None: the monitor's checkpoint folder)."""
        directory = self.checkpoint_dir if directory is None else directory
        assert directory is not None  # only called with checkpoints on
        arrays: dict[str, np.ndarray] = {}
        model_tree = split_tensors(dict(ctx.model.state_dict()), "model", arrays)
        optim_tree = split_tensors({k: o.state_dict() for k, o in ctx.optimizers.items()}, "optim", arrays)
        meta = {
            "method": self.method,
            "identity": self.identity,
            "step": ctx.step,
            "epoch": ctx.epoch,
            "total_steps": ctx.total_steps,
            "step_seconds": self.step_seconds,
            "seed": self.hparams["seed"],
            "rng": "numpy default_rng([seed, epoch]) orders batches; step generators from (seed, step)",
            "model": model_tree,
            "optimizers": optim_tree,
            "losses": ctx.losses,
        }
        write_checkpoint(directory, Checkpoint(arrays, meta), keep=self.keep)

    def _matching_checkpoint(self) -> Checkpoint | None:
        """The latest checkpoint, when it was written for this configuration and training data."""
        if self.checkpoint_dir is None:
            return None
        try:
            checkpoint = read_latest_checkpoint(self.checkpoint_dir)
        except ModelFileError as exc:
            log.warning("ignoring an unreadable checkpoint: %s", exc)
            return None
        if checkpoint is None:
            return None
        if checkpoint.meta.get("identity") != self.identity or checkpoint.meta.get("method") != self.method:
            log.info(
                "checkpoint in %s is for another configuration or training set; starting afresh", self.checkpoint_dir
            )
            return None
        return checkpoint

    def _resume(self, ctx: StepContext[ModelT], checkpoint: Checkpoint | None) -> int | None:
        """Load ``checkpoint`` (a matching one, or None) into ``ctx`` when it is within the run's steps."""
        if checkpoint is None or checkpoint.step > ctx.total_steps:
            return None
        model_state = join_tensors(checkpoint.meta["model"], checkpoint.tensors, checkpoint.path)
        ctx.model.load_state_dict({k: v.to(self.device) for k, v in model_state.items()})
        optim_state = join_tensors(checkpoint.meta["optimizers"], checkpoint.tensors, checkpoint.path)
        for name, optimizer in ctx.optimizers.items():
            optimizer.load_state_dict(optim_state[name])
        ctx.step = checkpoint.step
        ctx.losses = list(checkpoint.meta.get("losses", []))
        return checkpoint.step


class TrainedMethod(Method, Generic[ModelT]):
    """Base of SimpleNet, CFLOW-AD, RD4AD, DRAEM, NSA, CutPaste, f-AnoGAN (see the module docstring); generic in
    the network class ``build_model`` returns (``class Draem(TrainedMethod[DraemModel])``)."""

    normalize: ClassVar[bool] = True
    checkpoint_keep: ClassVar[int] = 1
    capabilities = frozenset({Capability.CHECKPOINTS})
    smoke_params: ClassVar[dict[str, Any]] = {"max_steps": 2}

    inputs: FeatureExtractor

    def setup(self) -> None:
        self.inputs = FeatureExtractor.build(
            self.roles, self.hparams, self.setup_request, normalize=self.normalize, input_path="uint8"
        )
        self.device = self.inputs.device
        self.model: ModelT | None = None
        self.loss_history: list[dict[str, float]] = []
        """One dict of losses per training step of the fitted model (restored by :meth:`load`)."""
        self.resumed_from_step: int | None = None
        """The step the last fit resumed from (None when it started afresh)."""
        self.checkpoint_every: int | None = None
        """Steps between checkpoints when ``monitor.checkpoint_dir`` is set (None: every epoch)."""
        self._trained_steps_per_epoch = 0
        self.training_run: TrainingRun | None = None
        """What the fitted model's training ran (steps of the planned ones, minutes, budget); restored by load."""

    # -- hooks -------------------------------------------------------------------------------------------------
    @abstractmethod
    def build_model(self) -> ModelT:
        """The trainable network (built after the seed is set, so initialisation is reproducible)."""

    @abstractmethod
    def build_optimizers(self, model: ModelT) -> dict[str, torch.optim.Optimizer]:
        """Named optimizers of ``model`` (their state is checkpointed by name)."""

    @abstractmethod
    def step(self, ctx: StepContext[ModelT], batch: TrainData) -> Mapping[str, float]:
        """One optimisation step on ``batch``; returns the losses to log (at least ``"loss"``)."""

    @abstractmethod
    def infer(self, model: ModelT, batch: Batch) -> GridScores:
        """Maps (any grid) and image scores (None: the maximum of each smoothed map) of a batch, in eval mode."""

    def schedule(self) -> Schedule | None:
        """The learning rate of every step, or None to leave the optimizers' own rates."""
        return None

    def training_data(self, images: np.ndarray, monitor: Monitor) -> TrainData:
        """What batches are cut from (indexed on the first axis); default: the cached uint8 training images."""
        return images

    def finish(self, model: ModelT, data: TrainData) -> None:
        """After the last step (model in eval mode, no grad): e.g. fit a density on training embeddings."""

    # -- helpers -----------------------------------------------------------------------------------------------
    def to_input(self, images: np.ndarray | torch.Tensor) -> torch.Tensor:
        """uint8 ``B x S x S x 3`` -> normalised float ``B x 3 x S x S`` on the device."""
        return self.inputs.to_input(images)

    # -- fitting -----------------------------------------------------------------------------------------------
    def fit(self, images: Iterable[np.ndarray], monitor: Monitor = NO_MONITOR) -> None:
        started = time.perf_counter()
        cached = self.inputs.resized(images, monitor)
        trainer = Trainer(
            self.name,
            self.hparams,
            self.device,
            monitor,
            identity=self.training_identity(cached),
            every=self.checkpoint_every,
            keep=self.checkpoint_keep,
        )
        plan = TrainPlan(
            self.build_model,
            self.build_optimizers,
            lambda: self.training_data(cached, monitor),
            self.step,
            self.schedule(),
            self.finish,
        )
        result = trainer.run(plan, len(cached), started=started)
        self.model = result.model
        self.training_run = result.run
        self.loss_history = result.losses
        self.resumed_from_step = result.resumed_from_step
        self._trained_steps_per_epoch = result.steps_per_epoch

    def training_identity(self, cached: np.ndarray) -> str:
        """The configuration (without the training log) and the training images, hashed: what a checkpoint must
        have been written for to be resumed."""
        config = {k: v for k, v in self.config().items() if k != "training_log"}
        digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode())
        digest.update(str(cached.shape).encode())
        digest.update(hashlib.sha256(cached.tobytes()).digest())
        return digest.hexdigest()

    # -- prediction --------------------------------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return self.model is not None

    def score(self, batch: Batch) -> GridScores:
        model = self.fitted(self.model)
        model.eval()
        with torch.no_grad():
            return self.infer(model, batch)

    # -- reporting and persistence -----------------------------------------------------------------------------
    def training_summary(self) -> dict[str, Any]:
        """Steps run, final loss and the mean loss of every epoch (empty before training)."""
        if not self.loss_history:
            return {}
        losses = np.asarray([h["loss"] for h in self.loss_history])
        per_epoch = max(1, self._trained_steps_per_epoch or 1)
        epochs = [float(losses[i : i + per_epoch].mean()) for i in range(0, len(losses), per_epoch)]
        run = {} if self.training_run is None else {"run": self.training_run.as_dict()}
        return {
            "steps": len(losses),
            "steps_per_epoch": per_epoch,
            "final_loss": float(losses[-1]),
            "epoch_mean_loss": epochs,
            **run,
        }

    def paper_schedule(self) -> bool:
        """Whether epochs, batch size and max_steps are the method's defaults (its paper's schedule)."""
        defaults = {spec.name: spec.default for spec in self.params}
        return all(self.hparams[k] == defaults[k] for k in ("epochs", "batch_size", "max_steps"))

    def training_note(self) -> str:
        """What the fitted model trained, in words ("" before a fit, and for a model saved before runs were
        recorded)."""
        return "" if self.training_run is None else self.training_run.describe(self.paper_schedule())

    @property
    def info(self) -> MethodInfo:
        return dataclasses.replace(super().info, training=self.training_note())

    def extra_config(self) -> dict[str, Any]:
        """Once trained (or loaded): ``training_log`` (loss per epoch), informative only — a fresh instance's
        config, the one model keys hash, has none."""
        summary = self.training_summary()
        return {"training_log": summary} if summary else {}

    def check_saved(self, saved: Mapping[str, Any], where: Path) -> None:
        super().check_saved(saved, where)
        log_entry = saved.get("training_log") or {}
        self._trained_steps_per_epoch = int(log_entry.get("steps_per_epoch", 0) or 0)
        run = log_entry.get("run")
        self.training_run = TrainingRun.from_dict(run) if isinstance(run, Mapping) else None

    def state(self) -> dict[str, np.ndarray]:
        model = self.fitted(self.model)
        arrays = {f"model/{k}": v.detach().cpu().numpy() for k, v in model.state_dict().items()}
        if self.loss_history:
            names = sorted({k for h in self.loss_history for k in h})
            for name in names:
                arrays[f"history/{name}"] = np.asarray([h.get(name, np.nan) for h in self.loss_history], np.float64)
        return arrays

    def restore(self, arrays: dict[str, np.ndarray], where: Path) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.hparams["seed"])
            model = self.build_model()
        expected = model.state_dict()
        found = {k[len("model/") :]: v for k, v in arrays.items() if k.startswith("model/")}
        missing = sorted(set(expected) - set(found))
        unexpected = sorted(set(found) - set(expected))
        if missing or unexpected:
            raise ModelFileError(
                f"saved {self.name} network does not match: missing {missing[:3]}, unexpected {unexpected[:3]}", where
            )
        for key, value in expected.items():
            if found[key].size == value.numel() == 1:  # safetensors keeps 0-d arrays as 1-element vectors
                found[key] = found[key].reshape(tuple(value.shape))
            if tuple(found[key].shape) != tuple(value.shape):
                raise ModelFileError(
                    f"saved tensor {key!r} has shape {found[key].shape}, expected {tuple(value.shape)}", where
                )
        model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in found.items()})
        self.model = model.to(self.device).eval()
        history = {k[len("history/") :]: v for k, v in arrays.items() if k.startswith("history/")}
        steps = len(next(iter(history.values()))) if history else 0
        self.loss_history = [{k: float(v[i]) for k, v in history.items() if not np.isnan(v[i])} for i in range(steps)]


__all__ = [
    "ModelT",
    "StepContext",
    "TrainData",
    "TrainPlan",
    "TrainResult",
    "TrainedMethod",
    "TrainingRun",
    "Trainer",
    "set_learning_rate",
    "step_seed",
    "training_params",
]
