"""Text and JSON renderings of a dataset's counts and validation findings, for ``goodsad-studio info``."""

from __future__ import annotations

from collections import defaultdict

from goodsad_studio.dataset.index import DatasetIndex
from goodsad_studio.dataset.summary import category_table, goods_table, split_defect_counts, summary_dict
from goodsad_studio.dataset.validation import ValidationReport

MAX_FINDINGS_SHOWN = 50


def _table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [headers] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[col]) for row in cells) for col in range(len(headers))]
    lines = [
        "  ".join(
            cell.ljust(width) if col == 0 else cell.rjust(width)
            for col, (cell, width) in enumerate(zip(row, widths, strict=False))
        )
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def info_text(
    index: DatasetIndex, report: ValidationReport, *, goods: bool = False, seconds: float | None = None
) -> str:
    """The human-readable ``info`` output: dataset table, split x defect counts, goods table, findings."""
    parts = [
        f"dataset {index.root}: {len(index.records)} images in {len(index.categories)} categories"
        + (f" (indexed and validated in {seconds:.2f} s)" if seconds is not None else "")
    ]
    rows = category_table(index)
    parts.append(
        _table(
            ["category", "train good", "test good", "test defective", "with mask", "goods types"],
            [[r.category, r.train_good, r.test_good, r.test_defective, r.with_mask, r.goods_types] for r in rows]
            + [
                [
                    "total",
                    sum(r.train_good for r in rows),
                    sum(r.test_good for r in rows),
                    sum(r.test_defective for r in rows),
                    sum(r.with_mask for r in rows),
                    sum(r.goods_types for r in rows),
                ]
            ],
        )
    )
    by_category: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for (category, split, defect), count in sorted(split_defect_counts(index).items()):
        by_category[category].append((split, defect, count))
    split_rows = [
        [category, split, defect, count] for category, items in by_category.items() for split, defect, count in items
    ]
    parts.append(_table(["category", "split", "defect", "images"], split_rows))
    if goods:
        parts.append(
            _table(
                ["category", "goods id", "train good", "test good", "test defective"],
                [[r.category, r.goods_id, r.train_good, r.test_good, r.test_defective] for r in goods_table(index)],
            )
        )
    findings = report.findings
    errors = len(report.errors)
    parts.append(f"validation: {errors} errors, {len(findings) - errors} warnings, {len(index.notes)} notes")
    lines = [str(finding) for finding in findings[:MAX_FINDINGS_SHOWN]]
    lines += [f"[note] {note}" for note in index.notes[:MAX_FINDINGS_SHOWN]]
    hidden = max(0, len(findings) - MAX_FINDINGS_SHOWN) + max(0, len(index.notes) - MAX_FINDINGS_SHOWN)
    if hidden:
        lines.append(f"... and {hidden} more (use --json for all)")
    if lines:
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def info_json(index: DatasetIndex, report: ValidationReport) -> dict[str, object]:
    """Everything of ``info`` as plain data."""
    data = summary_dict(index)
    data["findings"] = [finding.to_dict() for finding in report.findings]
    data["notes"] = [{"path": str(note.path), "message": note.message} for note in index.notes]
    data["ok"] = report.ok
    return data
