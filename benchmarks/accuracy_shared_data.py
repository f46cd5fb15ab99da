"""Accuracy of PatchCore (1%, 10%), PaDiM and SPADE on the real data beside the repo (../shared/data).

Data: MPDD metal_plate (54 train / 97 test) and MTD magnetic_tile (761 train / 583 test, grayscale, 100-620 px),
both in MVTec layout with pixel masks. Every method is fitted on the FULL training set with the offline
mobilenet_v2 weights at 224x224, no crop (the defaults), and evaluated with goodsad_studio.metrics at both
protocols: "224" (maps and masks at 224x224, as the reference figures were computed) and "native" (maps at the
image's own resolution against the masks as annotated).

Printed: image AUROC, pixel AUROC, AUPRO (FPR <= 0.3), fit seconds, predict ms/image, next to the figures other
implementations reached on the same data with the same backbone, and the bars ours must clear.

    .venv/bin/python benchmarks/accuracy_shared_data.py [--datasets mpdd,mtd] [--methods patchcore10,padim]
        [--threads 2] [--json results.json]
"""

from __future__ import annotations

import argparse
import json

from accuracy_common import DATASETS, add_common_arguments, each_dataset, fit_and_score, set_threads

from goodsad_studio.methods import create_method

METHODS = {
    "patchcore1": ("patchcore", {"coreset_ratio": 0.01}),
    "patchcore10": ("patchcore", {"coreset_ratio": 0.1}),
    # the coreset per block of patches, cut to one radius (see methods/components/coreset.py)
    "patchcore10-blocks16k": ("patchcore", {"coreset_ratio": 0.1, "coreset_block": 16384}),
    "patchcore10-blocks64k": ("patchcore", {"coreset_ratio": 0.1, "coreset_block": 65536}),
    "padim": ("padim", {}),
    "spade": ("spade", {}),
    "gde": ("gde", {}),  # the worked example of methods/README.md: an image-level baseline
}
# (image AUROC, pixel AUROC, AUPRO) of other implementations, mobilenet_v2, pixel metrics at 224x224
REFERENCE = {
    "mpdd": [
        ("patchcore-inspection 10% resize256+crop224", (0.940, 0.981, 0.919)),
        ("anomalib PatchCore 10%", (1.000, 0.988, 0.930)),
        ("anomalib PaDiM", (0.574, 0.932, 0.771)),
    ],
    "mtd": [
        ("patchcore-inspection 10% crop (200 train, fit 346 s)", (0.872, 0.773, 0.729)),
        ("patchcore-inspection 1% no crop (200 train)", (0.876, 0.744, 0.739)),
        ("anomalib PaDiM no crop", (0.931, 0.752, 0.757)),
    ],
}
BARS = {"mpdd": {"image_auroc": 0.97, "pro": 0.92}, "mtd": {"image_auroc": 0.90, "pro": 0.74}}
MTD_FIT_BAR_S = 346.0


def evaluate(name: str, params: dict, train, test, test_images, masks) -> dict:
    method = create_method(name, backbone="mobilenet_v2", **params)
    return {**fit_and_score(method, train, test, test_images, masks), "config": method.config()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser, ",".join(DATASETS))
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args()
    set_threads(args.threads)

    results: dict[str, dict] = {}
    for key, root, train, test, test_images, masks in each_dataset(args):
        print(
            f"\n== {key}: {root.name} — {len(train)} train, {len(test)} test "
            f"({sum(r.defect != 'good' for r in test)} anomalous)",
            flush=True,
        )
        results[key] = {}
        for label in args.methods.split(","):
            name, params = METHODS[label]
            row = evaluate(name, params, train, test, test_images, masks)
            results[key][label] = row
            for protocol in ("224", "native"):
                m = row[protocol]
                print(
                    f"{label:12s} {protocol:>6s}  image AUROC {m['image_auroc']:.3f}  pixel AUROC "
                    f"{m['pixel_auroc']:.3f}  AUPRO {m['pro']:.3f}  fit {row['fit_s']:7.1f} s  predict "
                    f"{row['predict_ms']:6.1f} ms/img",
                    flush=True,
                )
        print(f"   weights: {row['info']}")
        for reference, (image, pixel, pro) in REFERENCE[key]:
            print(f"   reference {reference}: {image:.3f} / {pixel:.3f} / {pro:.3f}")
        for label, row in results[key].items():
            if not label.startswith("patchcore"):
                continue
            bars = BARS[key]
            checks = [
                f"{metric} {row['224'][metric]:.3f} >= {bar} {'ok' if row['224'][metric] >= bar else 'MISSED'}"
                for metric, bar in bars.items()
            ]
            if key == "mtd" and label == "patchcore10":
                ok = row["fit_s"] < MTD_FIT_BAR_S
                checks.append(f"fit {row['fit_s']:.0f} s < {MTD_FIT_BAR_S:.0f} s {'ok' if ok else 'MISSED'}")
            print(f"   bars {label}: " + "; ".join(checks))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
