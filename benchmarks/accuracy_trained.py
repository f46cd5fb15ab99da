"""Accuracy of the trained methods (SimpleNet, CFLOW-AD, RD4AD, ...) beside PatchCore, on the real data beside the
repo (../shared/data), each trained within a CPU time BUDGET (``--budget``, 10 minutes by default): the papers'
schedules (their epochs and learning-rate schedules, the methods' defaults), of which the trainer keeps the steps
that fit (``budget_minutes``; see docs/cli.md). Smaller inputs or networks than the papers' where a CPU needs them,
as listed in :data:`METHODS`.

Every method runs on the offline mobilenet_v2 weights (the default when WideResNet50 weights are absent), is
fitted on the training set (``--max-train`` subsamples it evenly, for MTD's 761 images) and evaluated with
goodsad_studio.metrics at the "224" protocol (maps and masks at 224 x 224, as the reference figures are computed)
and "native" (maps at the image's own resolution). PatchCore (10% coreset) is the baseline, run in the same
process on the same images.

Printed per method: image AUROC, pixel AUROC, AUPRO (FPR <= 0.3), fit seconds, predict ms/image, what was trained
("trained 9.7 min (budget 10 min): 1,240 of the paper's 20,000 steps (200 epochs)"), the first/last loss, each
metric's difference to PatchCore's, and the method's place in the GoodsAD paper's ranking; at the end a table of
all methods.

    .venv/bin/python benchmarks/accuracy_trained.py [--datasets mpdd,mtd] [--methods patchcore,simplenet,cflow]
        [--budget 10] [--max-train 120] [--threads 2] [--json results.json]

``--methods`` takes labels of :data:`METHODS` or ``name:key=value:key=value`` for any registered method, e.g.
``draem:epochs=3:image_size=128`` (the budget applies unless the label sets ``budget_minutes``; ``--budget 0``:
the whole schedule).
"""

from __future__ import annotations

import argparse
import json

from accuracy_common import add_common_arguments, each_dataset, fit_and_score, set_threads

from goodsad_studio.methods import create_method, resolve

# label -> (method, params): the papers' schedules (the defaults) within the budget; smaller inputs and networks
# where a CPU needs them
METHODS = {
    "patchcore": ("patchcore", {"coreset_ratio": 0.1}),
    "simplenet": ("simplenet", {"image_size": 224, "resize_mode": "resize"}),
    "rd4ad": ("rd4ad", {"image_size": 256, "batch_size": 16}),
    "cflow": ("cflow", {"image_size": 256, "batch_size": 8}),
    "draem": ("draem", {"image_size": 64, "rec_width": 16, "disc_width": 16, "batch_size": 8, "lr": 1e-3}),
    "nsa": ("nsa", {"image_size": 128, "width": 32, "batch_size": 16, "lr": 1e-3}),
    # 192 px: GradCAM's map is the last feature map (6 x 6 here; 3 x 3 at 96 px gave AUPRO 0.39, 256 px too few steps)
    "cutpaste": ("cutpaste", {"image_size": 192, "batch_size": 8, "lr": 0.01}),
    "fanogan": ("fanogan", {"image_size": 64, "width": 16, "batch_size": 16, "lr": 5e-4, "latent_dim": 64}),
}
# the GoodsAD paper's ranking by image AUROC (one model per category at 224 x 224), with the figures it gives
GOODSAD_RANKING = [
    ("patchcore", "PatchCore-100% 85.5"),
    ("patchcore-1%", "PatchCore-1% 81.4"),
    ("simplenet", "SimpleNet 75.3"),
    ("cflow", "CFLOW-AD"),
    ("nsa", "NSA"),
    ("rd4ad", "RD4AD"),
    ("draem", "DRAEM"),
    ("spade", "SPADE"),
    ("fanogan", "f-AnoGAN"),
    ("cutpaste", "CutPaste"),
]
BASELINE = "patchcore"


def parse_method(label: str) -> tuple[str, dict]:
    if label in METHODS:
        return METHODS[label]
    name, *pairs = label.split(":")
    spec = {p.name: p for p in resolve(name).params}
    params = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key not in spec:
            raise SystemExit(f"{name} has no parameter {key!r}; it has {', '.join(spec)}")
        params[key] = spec[key].validate(value)
    return name, params


def paper_place(label: str) -> str:
    """``label``'s place in the GoodsAD paper's ranking, e.g. "3rd of 10 in GoodsAD (SimpleNet 75.3)"."""
    name = label.split(":")[0]
    for place, (method, text) in enumerate(GOODSAD_RANKING, 1):
        if method == name:
            suffix = {1: "st", 2: "nd", 3: "rd"}.get(place, "th")
            return f"{place}{suffix} of {len(GOODSAD_RANKING)} in GoodsAD ({text})"
    return "not in the GoodsAD table"


def evaluate(name: str, params: dict, budget: float, train, test, test_images, masks) -> dict:
    # methods trained from scratch (no backbone roles) take no backbone argument
    backbone = {"backbone": "mobilenet_v2"} if resolve(name).roles else {}
    trains = any(spec.name == "budget_minutes" for spec in resolve(name).params)
    if trains and budget > 0:
        params = {"budget_minutes": budget, **params}
    method = create_method(name, **backbone, **params)
    row = fit_and_score(method, train, test, test_images, masks)
    history = getattr(method, "loss_history", [])
    note = method.training_note() if hasattr(method, "training_note") else ""
    return {
        **row,
        "params": params,
        "steps": len(history),
        "trained": note,
        "first_loss": history[0]["loss"] if history else None,
        "last_loss": history[-1]["loss"] if history else None,
    }


def print_table(key: str, rows: dict[str, dict]) -> None:
    print(f"\n{key}, 224 protocol:\n")
    print("| method | image AUROC | pixel AUROC | AUPRO | fit s | trained | GoodsAD paper |")
    print("|---|---|---|---|---|---|---|")
    for label, row in rows.items():
        m = row["224"]
        print(
            f"| {label} | {m['image_auroc']:.3f} | {m['pixel_auroc']:.3f} | {m['pro']:.3f} | {row['fit_s']:.0f} | "
            f"{row['trained'] or '-'} | {paper_place(label)} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, "mpdd")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--max-train", type=int, default=120, help="subsample larger training sets (MTD: 761)")
    parser.add_argument(
        "--budget", type=float, default=10.0, help="minutes of fit per trained method (0: the papers' whole schedules)"
    )
    args = parser.parse_args()
    set_threads(args.threads)

    results: dict[str, dict] = {}
    for key, root, train, test, test_images, masks in each_dataset(args, args.max_train):
        print(
            f"\n== {key}: {root.name} — {len(train)} train, {len(test)} test "
            f"({sum(r.defect != 'good' for r in test)} anomalous), mobilenet_v2, {args.threads} threads, "
            f"budget {args.budget:g} min per trained method",
            flush=True,
        )
        results[key] = {}
        labels = args.methods.split(",")
        if BASELINE not in labels:
            labels.insert(0, BASELINE)
        for label in labels:
            name, params = parse_method(label)
            row = evaluate(name, params, args.budget, train, test, test_images, masks)
            results[key][label] = row
            base = results[key].get(BASELINE)
            for protocol in ("224", "native"):
                m = row[protocol]
                delta = ""
                if base is not None and label != BASELINE:
                    b = base[protocol]
                    delta = (
                        f"  vs PatchCore {m['image_auroc'] - b['image_auroc']:+.3f} "
                        f"{m['pixel_auroc'] - b['pixel_auroc']:+.3f} {m['pro'] - b['pro']:+.3f}"
                    )
                print(
                    f"{label:10s} {protocol:>6s}  image AUROC {m['image_auroc']:.3f}  pixel AUROC "
                    f"{m['pixel_auroc']:.3f}  AUPRO {m['pro']:.3f}  fit {row['fit_s']:7.1f} s  predict "
                    f"{row['predict_ms']:6.1f} ms/img{delta}",
                    flush=True,
                )
            if row["steps"]:
                print(
                    f"{'':10s} {row['steps']} steps, loss {row['first_loss']:.4f} -> {row['last_loss']:.4f}; "
                    f"{row['params']}",
                    flush=True,
                )
                print(f"{'':10s} {row['trained']}; {paper_place(label)}", flush=True)
            if base is not None and label != BASELINE:
                ratio = row["fit_s"] / max(base["fit_s"], 1e-9)
                print(
                    f"{'':10s} fit time {ratio:.1f}x PatchCore's, predict "
                    f"{row['predict_ms'] / max(base['predict_ms'], 1e-9):.1f}x",
                    flush=True,
                )
        print_table(key, results[key])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
