"""Record the golden outputs: ``python tests/golden/record.py [method ...]`` from the repository root.

Writes tests/golden/<method>.npz (scores, maps, config JSON) and tests/golden/models/<method>/ (the saved folder).
Re-recording is a commit of its own that says why.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1]))

from golden.common import (
    MAX_FOLDER_BYTES,
    METHODS,
    MODELS,
    SCHEDULE_STEPS,
    SCHEDULED,
    SCHEDULES,
    build,
    config_json,
    fit_images,
    golden_file,
    outputs,
    probe_images,
    single_thread,
    state_manifest,
)


def record(name: str) -> None:
    method = build(name)
    method.fit(fit_images())
    scores, maps = outputs(method, probe_images())
    folder = MODELS / name
    if folder.exists():
        shutil.rmtree(folder)
    with tempfile.TemporaryDirectory() as scratch:
        saved = method.save(Path(scratch) / name)
        manifest = state_manifest(saved)
        size = sum(p.stat().st_size for p in saved.iterdir())
        if size <= MAX_FOLDER_BYTES:
            shutil.copytree(saved, folder)
    arrays = {f"map_{i}": m for i, m in enumerate(maps)}
    np.savez_compressed(
        golden_file(name),
        scores=scores,
        config=np.array(config_json(method.config())),
        manifest=np.array(json.dumps(manifest, sort_keys=True)),
        **arrays,
    )
    kept = "kept" if folder.exists() else "manifest only"
    print(f"{name}: scores {np.round(scores, 4).tolist()}, model folder {size / 1e6:.2f} MB ({kept})")


def learning_rates(name: str, steps: int = SCHEDULE_STEPS) -> np.ndarray:
    """The learning rate of each step of a ``steps``-step run: ``method.schedule()(step, steps)``, which the trainer
    sets on every optimizer before the step. (The tables were recorded on the old code by capturing the rate each
    method's own training step set.)"""
    from goodsad_studio.methods import resolve

    method = resolve(name)(backbone="auto" if name in ("draem", "nsa") else "mobilenet_v2", device="cpu")
    schedule = method.schedule()
    assert schedule is not None, name
    return np.asarray([schedule(step, steps) for step in range(steps)], np.float64)


def record_schedules() -> None:
    tables = {name: learning_rates(name) for name in SCHEDULED}
    np.savez_compressed(SCHEDULES, **tables)
    print("schedules:", {k: (v[0], v[-1]) for k, v in tables.items()})


def main(argv: list[str]) -> None:
    single_thread()
    if not argv or "schedules" in argv:
        record_schedules()
        argv = [a for a in argv if a != "schedules"]
        if not argv and len(sys.argv) > 1:
            return
    for name in argv or METHODS:
        if name not in METHODS:
            raise SystemExit(f"unknown method {name!r}; recorded: {', '.join(METHODS)}")
        record(name)


if __name__ == "__main__":
    main(sys.argv[1:])
