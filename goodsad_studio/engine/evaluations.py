"""Evaluation outcomes kept on disk, so that reopening a dataset shows its metrics tables and curves at once.

One JSON file per category and method under ``<state dir>/evaluations/``, written atomically; reading never
unpickles anything, and an unreadable or foreign file is skipped (it is only a cache of numbers that an
evaluation recomputes).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from goodsad_studio import strict_json
from goodsad_studio.engine.contract import CategoryOutcome
from goodsad_studio.engine.layout import StateLayout
from goodsad_studio.fsutil import atomic_write_text
from goodsad_studio.metrics.report import ReportRow
from goodsad_studio.metrics.results import CategoryResult

FORMAT = "goodsad-studio-evaluation"


def save_outcome(state_dir: str | Path, outcome: CategoryOutcome) -> Path:
    """Write ``outcome`` (rows with their curves, costs) to ``<state dir>/evaluations/``; returns the path."""
    data = {
        "format": FORMAT,
        "version": 1,
        **{k: v for k, v in asdict(outcome).items() if k != "rows"},
        "rows": [
            {
                "category": row.category,
                "method": row.method,
                "weights": row.weights,
                "goods_id": row.goods_id,
                "result": row.result.to_dict(curves=True),
            }
            for row in outcome.rows
        ],
    }
    path = StateLayout(Path(state_dir)).evaluation_file(outcome.category, outcome.method)
    atomic_write_text(path, json.dumps(data, indent=1))
    return path


def load_outcomes(state_dir: str | Path) -> list[CategoryOutcome]:
    """Every readable saved outcome (see the module docstring)."""
    outcomes = []
    for path in sorted(StateLayout(Path(state_dir)).evaluations_dir.glob("*.json")):
        try:
            data = strict_json.loads(path.read_text(encoding="utf-8"), finite=False)
            if data.get("format") != FORMAT:
                continue
            rows = [
                ReportRow(
                    row["category"],
                    row["method"],
                    CategoryResult.from_dict(row["result"]),
                    row.get("weights", ""),
                    row.get("goods_id"),
                )
                for row in data["rows"]
            ]
            outcomes.append(
                CategoryOutcome(
                    data["category"],
                    data["method"],
                    rows,
                    float(data["fit_seconds"]),
                    float(data["predict_ms_per_image"]),
                    int(data["train_images"]),
                    int(data["test_images"]),
                    str(data["label"]),
                    dict(data.get("timings", {})),
                    tuple((str(path), str(reason)) for path, reason in data.get("skipped", [])),
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return outcomes
