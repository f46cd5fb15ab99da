"""The state folder of a dataset: the only code that names and parses the folders of models, their checkpoints,
the results cache and saved evaluations (inside a model folder the files are the method's, methods/persistence.py;
inside a result set, engine/cache.py's).

::

    <state dir>/models/<category>/<goods id or "all">/<method>-<key>/   method.json + state.safetensors
    <state dir>/models/<category>/<goods id or "all">/<method>-<key>.checkpoints/
    <state dir>/cache/<key>/...                                         see engine/cache.py
    <state dir>/evaluations/<category>__<method, "/" as "+">.json

``<state dir>`` is ``<root>/.goodsad-studio`` or, for a read-only dataset, a folder in the user's data dir
(:func:`goodsad_studio.paths.dataset_state_dir`). A plug-in method named by import path (``pkg.mod:Class``) gets
a folder-safe name (``pkg.mod+Class``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ALL_GOODS = "all"
CHECKPOINTS_SUFFIX = ".checkpoints"


@dataclass(frozen=True)
class ModelFolder:
    """What a model folder's path says: its category, goods id (None: the whole category), method and key."""

    category: str
    goods_id: str | None
    method: str
    key: str


def _safe(method: str) -> str:
    return method.replace(":", "+").replace("/", "+")


@dataclass(frozen=True)
class StateLayout:
    """Paths under one dataset's state folder; see the module docstring."""

    state_dir: Path

    @property
    def models_dir(self) -> Path:
        return self.state_dir / "models"

    @property
    def cache_dir(self) -> Path:
        return self.state_dir / "cache"

    @property
    def evaluations_dir(self) -> Path:
        return self.state_dir / "evaluations"

    def model_dir(self, category: str, goods_id: str | None, method: str, key: str) -> Path:
        return self.models_dir / category / (goods_id or ALL_GOODS) / f"{_safe(method)}-{key}"

    @staticmethod
    def checkpoints_of(model_dir: Path) -> Path:
        """Where a trained method checkpoints while it fits the model of ``model_dir`` (a cancelled or killed fit
        resumes from there; the saved model supersedes them)."""
        return model_dir.with_name(model_dir.name + CHECKPOINTS_SUFFIX)

    @staticmethod
    def parse_model_dir(model_dir: Path) -> ModelFolder:
        """The parts of a path made by :meth:`model_dir`; ValueError for anything else."""
        method, dash, key = model_dir.name.rpartition("-")
        if not dash or not method or not key:
            raise ValueError(f"not a model folder name: {model_dir.name!r}")
        goods = model_dir.parent.name
        return ModelFolder(model_dir.parent.parent.name, None if goods == ALL_GOODS else goods, method, key)

    def evaluation_file(self, category: str, method: str) -> Path:
        return self.evaluations_dir / f"{category}__{_safe(method)}.json"
