"""The paper-style report: the GoodsAD paper's Table IV (image AUROC / AUPR) and Table V (pixel AUROC / AUPR /
PRO) as markdown, CSV and JSON.

Input: a list of :class:`ReportRow` (category, method, weights/backbone description, :class:`CategoryResult`,
optionally a goods id for per-goods rows). Tables have one row per category (in the order given) and a ``Mean``
row, and per method one column per metric, in percent rounded to ``decimals`` (the paper uses one). Means are
taken over unrounded values; a mean over fewer categories than the table has (a method missing a category, or
an undefined value) is marked ``*``. Undefined values show as ``—`` (markdown) or an empty cell (CSV).

With per-goods rows the report also names the hardest goods (:mod:`goodsad_studio.metrics.hardest`): per
category and method the goods ids with the lowest image AUROC, and apart from them the goods whose AUROC is
undefined, with the reason.

The header states the evaluation protocol and each method's weights, because numbers under different protocols
or weights are not comparable; rows with different protocols are refused. CSV files hold the same tables as the
markdown (percent, rounded); the JSON holds the tables and every result at full precision (fractions in [0, 1]).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goodsad_studio.errors import StudioError
from goodsad_studio.fsutil import atomic_write_text
from goodsad_studio.metrics.hardest import HARDEST_COUNT, HardestGoods, hardest_goods
from goodsad_studio.metrics.results import CategoryResult

PROTOCOL_TEXT = {
    "native": "native — anomaly maps resized (bilinear) to each ground-truth mask's own resolution",
    "224": "224 — anomaly maps and masks at 224x224 as in the GoodsAD paper (mask cell anomalous when the defect "
    "covers >= 50% of it)",
}
IMAGE_METRICS = (("image_auroc", "AUROC"), ("image_aupr", "AUPR"))
PIXEL_METRICS = (("pixel_auroc", "AUROC"), ("pixel_aupr", "AUPR"), ("pro", "PRO"))
GOODS_METRICS = (
    ("image_auroc", "I-AUROC"),
    ("image_aupr", "I-AUPR"),
    ("pixel_auroc", "P-AUROC"),
    ("pixel_aupr", "P-AUPR"),
    ("pro", "PRO"),
)
MEAN_LABEL = "Mean"
NO_MASKS = "n/a (no masks)"
"""What a pixel metric's cell says for a result evaluated without masks (an image-level-only dataset)."""
PIXEL_METRIC_NAMES = frozenset(name for name, _ in PIXEL_METRICS)
HARDEST = "hardest"
"""The name of the hardest-goods table (its CSV is ``<stem>_hardest.csv``)."""
HARDEST_METRICS = (("image_auroc", "I-AUROC"), ("pixel_aupr", "P-AUPR"), ("pro", "PRO"))
HARDEST_COLUMNS = (
    "category",
    "method",
    "rank",
    "goods id",
    *(short for _, short in HARDEST_METRICS),
    "test photos",
    "defective photos",
)


@dataclass(frozen=True)
class ReportRow:
    """One method's result on one category, or on one goods id of a category when ``goods_id`` is given."""

    category: str
    method: str
    result: CategoryResult
    weights: str = ""
    goods_id: str | None = None


@dataclass(frozen=True)
class Table:
    """A rendered-agnostic table: ``cells[r][c]`` is a fraction (``nan`` undefined); ``starred`` marks means over
    fewer entries than the table has rows."""

    name: str
    title: str
    row_labels: list[str]
    columns: list[str]
    cells: list[list[float]]
    starred: set[tuple[int, int]]
    row_header: str = "category"
    no_masks: frozenset[tuple[int, int]] = frozenset()  # cells of results evaluated without masks


def _methods(rows: list[ReportRow]) -> list[str]:
    return list(dict.fromkeys(r.method for r in rows))


def check_rows(rows: list[ReportRow]) -> str:
    """Validate rows for one report and return their common protocol; :class:`StudioError` otherwise."""
    if not rows:
        raise StudioError("nothing to report: no results")
    protocols = sorted({r.result.protocol for r in rows})
    if len(protocols) > 1:
        raise StudioError(
            f"results use different evaluation protocols ({', '.join(protocols)}); their numbers "
            "are not comparable — report them separately"
        )
    seen: set[tuple[str, str, str | None]] = set()
    for r in rows:
        key = (r.category, r.method, r.goods_id)
        if key in seen:
            where = f"{r.category}/{r.goods_id}" if r.goods_id else r.category
            raise StudioError(f"two results for method {r.method!r} on {where}")
        seen.add(key)
    return protocols[0]


def _table(
    name: str,
    title: str,
    rows: list[ReportRow],
    metrics: tuple[tuple[str, str], ...],
    label_of: Callable[[ReportRow], str],
    with_mean: bool,
) -> Table:
    methods = _methods(rows)
    labels = list(dict.fromkeys(label_of(r) for r in rows))
    by_key = {(label_of(r), r.method): r.result for r in rows}
    columns = [f"{method} {short}" for method in methods for _, short in metrics]
    cells: list[list[float]] = []
    no_masks: set[tuple[int, int]] = set()
    for r, label in enumerate(labels):
        line: list[float] = []
        for method in methods:
            result = by_key.get((label, method))
            for metric, _ in metrics:
                if result is not None and result.pixel_mode == "none" and metric in PIXEL_METRIC_NAMES:
                    no_masks.add((r, len(line)))
                line.append(result.metric(metric) if result else math.nan)
        cells.append(line)
    starred: set[tuple[int, int]] = set()
    if with_mean and cells:
        mean_line = []
        for c in range(len(columns)):
            values = [line[c] for line in cells if math.isfinite(line[c])]
            mean_line.append(sum(values) / len(values) if values else math.nan)
            if values and len(values) < len(cells):
                starred.add((len(cells), c))
        cells.append(mean_line)
        labels.append(MEAN_LABEL)
    if with_mean and cells:  # a mean of nothing but image-level-only results has no pixels either
        last = len(cells) - 1
        for c in range(len(columns)):
            if all((r, c) in no_masks for r in range(last)):
                no_masks.add((last, c))
    row_header = "category" if with_mean else "category/goods id"
    return Table(name, title, labels, columns, cells, starred, row_header, frozenset(no_masks))


def build_tables(rows: list[ReportRow]) -> list[Table]:
    """Table IV (image), Table V (pixel; "n/a (no masks)" for results without masks) and per-goods rows (when
    given)."""
    check_rows(rows)
    category_rows = [r for r in rows if r.goods_id is None]
    goods_rows = [r for r in rows if r.goods_id is not None]
    tables = []
    if category_rows:
        tables.append(
            _table(
                "image",
                "Table IV — image-level anomaly detection (AUROC / AUPR, %)",
                category_rows,
                IMAGE_METRICS,
                lambda r: r.category,
                True,
            )
        )
        if category_rows:  # results without masks show their pixel cells as n/a
            tables.append(
                _table(
                    "pixel",
                    "Table V — pixel-level anomaly localisation (AUROC / AUPR / PRO, %)",
                    category_rows,
                    PIXEL_METRICS,
                    lambda r: r.category,
                    True,
                )
            )
    if goods_rows:
        tables.append(
            _table(
                "goods", "Per goods id (%)", goods_rows, GOODS_METRICS, lambda r: f"{r.category}/{r.goods_id}", False
            )
        )
    return tables


def format_value(value: float, decimals: int = 1, missing: str = "—") -> str:
    """A fraction as a percentage rounded to ``decimals`` (``missing`` when undefined)."""
    return missing if not math.isfinite(value) else f"{100.0 * value:.{decimals}f}"


def _header_lines(rows: list[ReportRow], protocol: str) -> list[str]:
    limits = sorted({r.result.pro_limit for r in rows})
    lines = [
        f"Protocol: {PROTOCOL_TEXT.get(protocol, protocol)}.",
        "AUPR is average precision (scikit-learn's definition); PRO is the area under the per-region-overlap "
        f"curve up to FPR {', '.join(f'{v:g}' for v in limits)}, normalised to [0, 100].",
    ]
    for method in _methods(rows):
        weights = sorted({r.weights for r in rows if r.method == method and r.weights})
        lines.append(f"Weights of {method}: {'; '.join(weights) if weights else 'not stated'}.")
    bounds = [v for r in rows for v in r.result.error_bounds.values() if math.isfinite(v)]
    if any(r.result.pixel_mode == "binned" for r in rows):
        lines.append(f"Pixel metrics from binned scores; largest error bound {max(bounds, default=0.0):.1e}.")
    return lines


def render_markdown(rows: list[ReportRow], *, title: str = "Anomaly detection results", decimals: int = 1) -> str:
    """The whole report as markdown: title, header (protocol, weights), then each table."""
    protocol = check_rows(rows)
    out = [f"# {title}", ""]
    out += [f"- {line}" for line in _header_lines(rows, protocol)]
    for table in build_tables(rows):
        out += ["", f"## {table.title}", ""]
        out.append("| " + " | ".join([table.row_header.capitalize(), *table.columns]) + " |")
        out.append("|" + "|".join([" --- "] + [" ---: "] * len(table.columns)) + "|")
        for r, (label, line) in enumerate(zip(table.row_labels, table.cells, strict=True)):
            texts = [
                NO_MASKS
                if (r, c) in table.no_masks
                else format_value(v, decimals) + ("*" if (r, c) in table.starred else "")
                for c, v in enumerate(line)
            ]
            shown = f"**{label}**" if label == MEAN_LABEL and r == len(table.cells) - 1 else label
            out.append("| " + " | ".join([shown, *texts]) + " |")
        if table.starred:
            out += ["", "\\* mean over the categories that have a value."]
    out += _hardest_markdown(hardest_goods(rows), decimals)
    return "\n".join(out) + "\n"


def metric_text(row: ReportRow, metric: str, decimals: int = 1, missing: str = "—") -> str:
    """One metric of a row as a report shows it: percent, ``missing`` when undefined, :data:`NO_MASKS` for a pixel
    metric of a result evaluated without masks."""
    if row.result.pixel_mode == "none" and metric in PIXEL_METRIC_NAMES:
        return NO_MASKS
    return format_value(row.result.metric(metric), decimals, missing)


def hardest_cells(group: HardestGoods, decimals: int = 1, missing: str = "—") -> list[list[str]]:
    """The ranked goods of ``group`` as lines of :data:`HARDEST_COLUMNS`."""
    return [
        [
            group.category,
            group.method,
            str(rank),
            str(row.goods_id),
            *(metric_text(row, metric, decimals, missing) for metric, _ in HARDEST_METRICS),
            str(row.result.counts.n_images),
            str(row.result.counts.n_anomalous_images),
        ]
        for rank, row in enumerate(group.ranked, 1)
    ]


def _hardest_markdown(groups: list[HardestGoods], decimals: int) -> list[str]:
    if not groups:
        return []
    out = ["", f"## Hardest goods — the {HARDEST_COUNT} lowest image AUROCs per category and method (%)"]
    lines = [line for group in groups for line in hardest_cells(group, decimals)]
    if lines:
        out += [
            "",
            "| " + " | ".join(name[0].upper() + name[1:] for name in HARDEST_COLUMNS) + " |",
            "|" + "|".join([" --- "] * 2 + [" ---: ", " --- "] + [" ---: "] * (len(HARDEST_COLUMNS) - 4)) + "|",
            *("| " + " | ".join(line) + " |" for line in lines),
        ]
    out += ["", *(f"- {group.category}, {group.method}: {_ranked_text(group)}" for group in groups)]
    unranked = [(group, item) for group in groups for item in group.unranked]
    if unranked:
        out += ["", "Not ranked:", ""]
        out += [f"- {g.category}/{item.row.goods_id} ({g.method}): {item.reason}." for g, item in unranked]
    return out


def _ranked_text(group: HardestGoods) -> str:
    if not group.n_ranked:
        return "no goods id has an image AUROC."
    shown = len(group.ranked)
    return f"{shown} of {group.n_ranked} goods ids with an image AUROC shown."


def table_names(rows: list[ReportRow]) -> list[str]:
    """The tables this report has, as :func:`render_csv` names them."""
    names = [t.name for t in build_tables(rows)]
    return names + [HARDEST] if hardest_goods(rows) else names


def render_csv(rows: list[ReportRow], table: str = "image", *, decimals: int = 1) -> str:
    """One table (``"image"``, ``"pixel"``, ``"goods"`` or ``"hardest"``) as CSV, percent rounded as in the
    markdown. The hardest-goods CSV ends with the goods left out of the ranking: no rank or metrics, the reason in
    its ``not ranked`` column."""
    names = table_names(rows)
    if table not in names:
        raise StudioError(f"no {table!r} table in this report (have: {', '.join(names)})")
    if table == HARDEST:
        return _hardest_csv(hardest_goods(rows), decimals)
    chosen = {t.name: t for t in build_tables(rows)}[table]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([chosen.row_header, *chosen.columns])
    for r, (label, line) in enumerate(zip(chosen.row_labels, chosen.cells, strict=True)):
        texts = (NO_MASKS if (r, c) in chosen.no_masks else format_value(v, decimals, "") for c, v in enumerate(line))
        writer.writerow([label, *texts])
    return buffer.getvalue()


def _hardest_csv(groups: list[HardestGoods], decimals: int) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*HARDEST_COLUMNS, "not ranked"])
    for group in groups:
        writer.writerows([*line, ""] for line in hardest_cells(group, decimals, ""))
    for group in groups:
        for item in group.unranked:
            counts = item.row.result.counts
            blank = [""] * len(HARDEST_METRICS)
            writer.writerow(
                [group.category, group.method, "", item.row.goods_id, *blank]
                + [counts.n_images, counts.n_anomalous_images, item.reason]
            )
    return buffer.getvalue()


def _json_value(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _hardest_json(group: HardestGoods) -> dict[str, Any]:
    def goods(row: ReportRow) -> dict[str, Any]:
        return {
            "goods_id": row.goods_id,
            "image_auroc": _json_value(row.result.image_auroc),
            "image_aupr": _json_value(row.result.image_aupr),
            "pixel_aupr": _json_value(row.result.pixel_aupr),
            "pro": _json_value(row.result.pro),
            "pixel_mode": row.result.pixel_mode,
            "n_images": row.result.counts.n_images,
            "n_anomalous_images": row.result.counts.n_anomalous_images,
        }

    return {
        "category": group.category,
        "method": group.method,
        "n_ranked": group.n_ranked,
        "ranked": [{"rank": rank, **goods(row)} for rank, row in enumerate(group.ranked, 1)],
        "unranked": [{**goods(item.row), "reason": item.reason} for item in group.unranked],
    }


def render_json(rows: list[ReportRow], *, title: str = "Anomaly detection results") -> str:
    """Header, tables (fractions), the hardest goods and every result (without curves) as JSON."""
    protocol = check_rows(rows)
    data = {
        "title": title,
        "protocol": protocol,
        "protocol_text": PROTOCOL_TEXT.get(protocol, protocol),
        "header": _header_lines(rows, protocol),
        "weights": {m: sorted({r.weights for r in rows if r.method == m and r.weights}) for m in _methods(rows)},
        "tables": {
            t.name: {
                "title": t.title,
                "columns": [t.row_header, *t.columns],
                "rows": [
                    [label, *(_json_value(v) for v in line)] for label, line in zip(t.row_labels, t.cells, strict=True)
                ],
                "partial_means": sorted([list(k) for k in t.starred]),
                "no_masks": sorted([list(k) for k in t.no_masks]),
            }
            for t in build_tables(rows)
        },
        "hardest_goods": [_hardest_json(group) for group in hardest_goods(rows)],
        "results": [
            {
                "category": r.category,
                "goods_id": r.goods_id,
                "method": r.method,
                "weights": r.weights,
                **r.result.to_dict(curves=False),
            }
            for r in rows
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def write_report(
    rows: list[ReportRow],
    directory: str | Path,
    *,
    stem: str = "report",
    title: str = "Anomaly detection results",
    decimals: int = 1,
    skipped: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write ``stem.md``, ``stem.json`` and ``stem_<table>.csv`` per table into ``directory`` (atomic saves);
    return the paths written. ``skipped`` (path -> reason) lists images the evaluation left out: the markdown
    ends with them and the JSON has them under ``"skipped"``, so a figure never hides that it is partial."""
    directory = Path(directory)
    written = []
    skipped = dict(skipped or {})
    markdown = render_markdown(rows, title=title, decimals=decimals)
    if skipped:
        markdown += f"\n## {len(skipped)} image{'s' if len(skipped) != 1 else ''} skipped\n\n"
        markdown += "".join(f"- {path} — {reason}\n" for path, reason in skipped.items())
    report_json = render_json(rows, title=title)
    if skipped:
        data = json.loads(report_json)
        data["skipped"] = [{"path": path, "reason": reason} for path, reason in skipped.items()]
        report_json = json.dumps(data, indent=2) + "\n"
    outputs = {f"{stem}.md": markdown, f"{stem}.json": report_json}
    for name in table_names(rows):
        outputs[f"{stem}_{name}.csv"] = render_csv(rows, name, decimals=decimals)
    for filename, text in outputs.items():
        atomic_write_text(directory / filename, text)
        written.append(directory / filename)
    return written
