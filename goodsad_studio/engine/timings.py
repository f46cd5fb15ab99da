"""The cost side of an evaluation: fit seconds and predict milliseconds per image, per method and category."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from goodsad_studio.fsutil import atomic_write_text

if TYPE_CHECKING:
    from goodsad_studio.engine.contract import CategoryOutcome


def timings_markdown(outcomes: Sequence[CategoryOutcome]) -> str:
    lines = [
        "| category | method | weights | train images | test images | fit s | predict ms/img |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for outcome in outcomes:
        lines.append(
            f"| {outcome.category} | {outcome.method} | {outcome.label} | {outcome.train_images} | "
            f"{outcome.test_images} | {outcome.fit_seconds:.1f} | {outcome.predict_ms_per_image:.1f} |"
        )
    return (
        "\n".join(lines) + "\n\nfit s is 0 where a saved model with the same key was reused; predict ms/img is 0 "
        "where every result came from the cache.\n"
    )


def write_timings(outcomes: Sequence[CategoryOutcome], directory: str | Path) -> str:
    """Write ``timings.md`` into ``directory`` and return its text."""
    text = "# Timings\n\n" + timings_markdown(outcomes)
    atomic_write_text(Path(directory) / "timings.md", text)
    return text
