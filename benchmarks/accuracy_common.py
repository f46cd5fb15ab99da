"""What the two accuracy benchmarks share: the real datasets beside the repo, loading a split, and fitting one
method then scoring it at both protocols ("224": maps and masks at 224 x 224, as reference figures are computed;
"native": maps at each image's own resolution against the masks as annotated)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from goodsad_studio.dataset.imageio import read_image, read_mask  # noqa: E402
from goodsad_studio.dataset.index import scan_dataset  # noqa: E402
from goodsad_studio.metrics import CategoryEvaluator  # noqa: E402

DATA = REPO.parent / "shared" / "data"
DATASETS = {"mpdd": "mpdd_metal_plate_512", "mtd": "mtd_magnetic_tile"}


def load_split(root: Path, max_train: int | None = None):
    """(train records, test records) of a one-category MVTec-layout root; ``max_train`` subsamples the training
    set evenly."""
    index = scan_dataset(root)
    train = [r for r in index.records if r.split == "train"]
    test = [r for r in index.records if r.split == "test"]
    if max_train and len(train) > max_train:
        keep = np.linspace(0, len(train) - 1, max_train).round().astype(int)
        train = [train[i] for i in keep]
    return train, test


def load_test(test):
    """The test images and their masks (None for good images)."""
    return [read_image(r.image_path) for r in test], [read_mask(r.mask_path) if r.mask_path else None for r in test]


def fit_and_score(method, train, test, test_images, masks) -> dict:
    """Fit ``method`` on ``train``, predict ``test``; returns fit seconds, predict ms/image, the method's info line
    and image AUROC / pixel AUROC / AUPRO per protocol."""
    started = time.perf_counter()
    method.fit([read_image(r.image_path) for r in train])
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    predictions = method.predict(test_images)
    predict_ms = 1000 * (time.perf_counter() - started) / len(test_images)
    row = {"fit_s": fit_s, "predict_ms": predict_ms, "info": str(method.info)}
    for protocol in ("224", "native"):
        evaluator = CategoryEvaluator(protocol=protocol)
        for record, prediction, image, mask in zip(test, predictions, test_images, masks, strict=False):
            evaluator.add(
                prediction.score,
                record.defect != "good",
                prediction.anomaly_map,
                mask,
                image_shape=image.shape[:2],
                name=record.key,
            )
        result = evaluator.result()
        row[protocol] = {"image_auroc": result.image_auroc, "pixel_auroc": result.pixel_auroc, "pro": result.pro}
    return row


def add_common_arguments(parser: argparse.ArgumentParser, datasets: str) -> None:
    """--data, --datasets (default ``datasets``), --threads and --json."""
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--datasets", default=datasets)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write all figures here")


def set_threads(threads: int) -> None:
    import faiss
    import torch

    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)


def each_dataset(args: argparse.Namespace, max_train: int | None = None) -> Iterator[tuple]:
    """``(key, root, train, test, test_images, masks)`` of every dataset in ``args.datasets`` that is present
    (an absent one is reported and skipped)."""
    for key in args.datasets.split(","):
        if key not in DATASETS:
            raise SystemExit(f"unknown dataset {key!r}: use one of {', '.join(DATASETS)}")
        root = args.data / DATASETS[key]
        if not root.is_dir():
            print(f"skipping {key}: {root} is absent")
            continue
        train, test = load_split(root, max_train)
        yield (key, root, train, test, *load_test(test))
