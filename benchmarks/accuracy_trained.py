"""Accuracy of the trained methods (SimpleNet, CFLOW-AD, RD4AD, ...) beside PatchCore, on the real data beside the
repo (../shared/data), with SHORT CPU schedules (minutes per method, not the papers' 160-200 epochs).

Every method runs on the offline mobilenet_v2 weights (the default when WideResNet50 weights are absent), is
fitted on the training set (``--max-train`` subsamples it evenly, for MTD's 761 images) and evaluated with
goodsad_studio.metrics at the "224" protocol (maps and masks at 224 x 224, as the reference figures are computed)
and "native" (maps at the image's own resolution). PatchCore (10% coreset) is the baseline, run in the same
process on the same images.

Printed per method: image AUROC, pixel AUROC, AUPRO (FPR <= 0.3), fit seconds, predict ms/image, training steps
and the first/last loss — and each metric's difference to PatchCore's.

    .venv/bin/python benchmarks/accuracy_trained.py [--datasets mpdd,mtd] [--methods patchcore,simplenet,cflow]
        [--max-train 120] [--threads 2] [--json results.json]

``--methods`` takes labels of :data:`METHODS` or ``name:key=value:key=value`` for any registered method, e.g.
``draem:epochs=3:image_size=128``.
"""

from __future__ import annotations

import argparse
import json

from accuracy_common import add_common_arguments, each_dataset, fit_and_score, set_threads

from goodsad_studio.methods import create_method, resolve

# label -> (method, params): short CPU schedules; the papers' schedules are the methods' defaults
METHODS = {
    "patchcore": ("patchcore", {"coreset_ratio": 0.1}),
    "simplenet": ("simplenet", {"image_size": 224, "resize_mode": "resize", "epochs": 40}),
    "rd4ad": ("rd4ad", {"image_size": 256, "batch_size": 16, "epochs": 10}),
    "cflow": ("cflow", {"image_size": 256, "batch_size": 8, "epochs": 3}),  # 18 steps x 168 flow updates
    "draem": (
        "draem",
        {"image_size": 64, "rec_width": 16, "disc_width": 16, "batch_size": 8, "max_steps": 150, "lr": 1e-3},
    ),
    "nsa": ("nsa", {"image_size": 128, "width": 32, "batch_size": 16, "max_steps": 60, "lr": 1e-3}),
    "cutpaste": ("cutpaste", {"image_size": 96, "batch_size": 8, "max_steps": 30, "lr": 0.01}),
    "fanogan": (
        "fanogan",
        {"image_size": 64, "width": 16, "batch_size": 16, "max_steps": 200, "lr": 5e-4, "latent_dim": 64},
    ),
}
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


def evaluate(name: str, params: dict, train, test, test_images, masks) -> dict:
    # methods trained from scratch (no backbone roles) take no backbone argument
    backbone = {"backbone": "mobilenet_v2"} if resolve(name).roles else {}
    method = create_method(name, **backbone, **params)
    row = fit_and_score(method, train, test, test_images, masks)
    history = getattr(method, "loss_history", [])
    return {
        **row,
        "params": params,
        "steps": len(history),
        "first_loss": history[0]["loss"] if history else None,
        "last_loss": history[-1]["loss"] if history else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, "mpdd")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--max-train", type=int, default=120, help="subsample larger training sets (MTD: 761)")
    args = parser.parse_args()
    set_threads(args.threads)

    results: dict[str, dict] = {}
    for key, root, train, test, test_images, masks in each_dataset(args, args.max_train):
        print(
            f"\n== {key}: {root.name} — {len(train)} train, {len(test)} test "
            f"({sum(r.defect != 'good' for r in test)} anomalous), mobilenet_v2, {args.threads} threads",
            flush=True,
        )
        results[key] = {}
        labels = args.methods.split(",")
        if BASELINE not in labels:
            labels.insert(0, BASELINE)
        for label in labels:
            name, params = parse_method(label)
            row = evaluate(name, params, train, test, test_images, masks)
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
            if base is not None and label != BASELINE:
                ratio = row["fit_s"] / max(base["fit_s"], 1e-9)
                print(
                    f"{'':10s} fit time {ratio:.1f}x PatchCore's, predict "
                    f"{row['predict_ms'] / max(base['predict_ms'], 1e-9):.1f}x",
                    flush=True,
                )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
