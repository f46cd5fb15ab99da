"""What the golden check fits and compares: every built-in method on fixed tiny images, on the CPU, one thread.

The goldens were recorded on the code before the methods were rebuilt by composition (see docs/adr/); a refactoring
must reproduce them. Re-recording is a commit of its own that says why.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

if str(Path(__file__).parents[1]) not in sys.path:  # run as a script: the tests folder, as pytest puts it
    sys.path.insert(0, str(Path(__file__).parents[1]))

from methods.helpers import FAST, texture, with_defect

HERE = Path(__file__).parent
METHODS = ("patchcore", "padim", "spade", "simplenet", "cflow", "rd4ad", "draem", "nsa", "cutpaste", "fanogan", "gde")
MODELS = HERE / "models"
SCHEDULES = HERE / "schedules.npz"
SCHEDULED = ("cflow", "nsa", "cutpaste", "draem")
"""Methods with a learning-rate schedule: the rate of every step of a 1,000-step run is recorded, compared with ==."""
SCHEDULE_STEPS = 1000
"""Saved model folders of the old code (method.json + state.safetensors), kept where one is under 2 MB."""
MAX_FOLDER_BYTES = 2_000_000
SMALL = {
    "padim": {"n_features": 24},
    "simplenet": {"dsc_hidden": 32, "embed_dim": 32},
    "cflow": {"coupling_blocks": 2, "condition_dim": 16},
    "draem": {"rec_width": 4, "disc_width": 4},
    "nsa": {"width": 4},
    "cutpaste": {"head_width": 16},
    "fanogan": {"latent_dim": 16, "width": 4},
}
"""Small widths, so that saved folders stay small (backbone-finetuning CutPaste and RD4AD's decoder stay large:
their folders are described by a manifest of state names and shapes instead)."""


def fit_images() -> list[np.ndarray]:
    return [texture(seed) for seed in range(8)]


def probe_images() -> list[np.ndarray]:
    """4 test images, 2 of them with a defect; one is not square."""
    return [
        texture(100),
        texture(102, (48, 96)),
        with_defect(texture(103)),
        with_defect(texture(104), center=(44, 22), radius=6),
    ]


def single_thread() -> None:
    import faiss
    import torch

    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)


def build(name: str) -> Any:
    """The method with the fast parameters of the conformance tests (mobilenet_v2, 64 px, 2 steps if trained)."""
    from goodsad_studio.methods import resolve

    cls = resolve(name)
    quick = {"max_steps": 2} if any(spec.name == "max_steps" for spec in cls.params) else {}
    backbone = "mobilenet_v2" if getattr(cls, "roles", ()) else "auto"
    return cls(backbone=backbone, device="cpu", **{**FAST, **quick, **SMALL.get(name, {})})


def config_json(config: dict[str, Any]) -> str:
    """The config as recorded: JSON, sorted, without the per-save id."""
    return json.dumps({k: v for k, v in config.items() if k != "save_id"}, sort_keys=True, default=str)


def outputs(method: Any, images: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    predictions = method.predict(images)
    return np.asarray([p.score for p in predictions], np.float64), [p.anomaly_map for p in predictions]


def golden_file(name: str) -> Path:
    return HERE / f"{name}.npz"


def state_manifest(folder: Path) -> dict[str, list[int]]:
    """Names and shapes of a saved folder's state arrays: what a folder saved by the old code must still load."""
    from goodsad_studio.methods.persistence import read_safetensors

    arrays, _ = read_safetensors(folder / "state.safetensors")
    return {name: list(array.shape) for name, array in arrays.items()}
