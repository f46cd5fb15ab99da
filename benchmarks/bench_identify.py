"""Goods-id accuracy of the goods descriptor (what ``goodsad-studio identify`` and the studio's rename suggestion
use), in one run: top-1 / top-5 leave-one-out on the training photos and on the test photos (their 6-digit names
give the truth), with seconds per photo, on the multi-goods set (benchmarks/multi_goods.py) and on a demo category
of look-alike goods at 3000 px (built when absent).

    .venv/bin/python benchmarks/bench_identify.py [--multi /tmp/goodsad-multi] [--demo /tmp/goodsad-demo40]
        [--demo-goods 40] [--demo-size 3000] [--method patchcore] [--backbone mobilenet_v2] [--threads 2]

The galleries go to ``--work`` (emptied first; never into ../shared). Besides the shipped descriptor
(``centre-gem``: a centre-weighted generalised mean), the plain spatial mean of the same taps is measured in the
same run as the baseline it replaced.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))  # multi_goods beside this file

import multi_goods

from goodsad_studio.dataset.demo import generate_demo
from goodsad_studio.dataset.index import ImageRecord, scan_dataset
from goodsad_studio.engine.contract import MethodSpec
from goodsad_studio.engine.worker.identify import identifying_method, training_gallery
from goodsad_studio.engine.worker.images import LazyImages
from goodsad_studio.engine.worker.workspace import Workspace
from goodsad_studio.goods.retrieval import Gallery
from goodsad_studio.methods.api import Batch
from goodsad_studio.methods.components.embeddings import GOODS_TAPS, goods_descriptor
from goodsad_studio.progress import NO_MONITOR


def leave_one_out(gallery: Gallery) -> tuple[float, float]:
    """Top-1 / top-5 accuracy of naming each training photo's goods from the others."""
    hits = np.zeros((len(gallery.keys), 2))
    for j in range(len(gallery.keys)):
        others = [i for i in range(len(gallery.keys)) if i != j]
        rest = Gallery(
            tuple(gallery.keys[i] for i in others), tuple(gallery.goods[i] for i in others), gallery.descriptors[others]
        )
        top = [g for g, _ in rest.identify(gallery.descriptors[j : j + 1])[0]]
        hits[j] = [top[0] == gallery.goods[j], gallery.goods[j] in top]
    return float(hits[:, 0].mean()), float(hits[:, 1].mean())


def on_photos(gallery: Gallery, descriptors: np.ndarray, records: list[ImageRecord]) -> tuple[float, float]:
    """Top-1 / top-5 accuracy of naming ``records``' goods (their names give the truth)."""
    tops = gallery.identify(descriptors)
    hits = [[t[0][0] == r.goods_id, r.goods_id in [g for g, _ in t]] for t, r in zip(tops, records, strict=True)]
    return tuple(np.asarray(hits, float).mean(0))  # type: ignore[return-value]


def mean_descriptor(batch: Batch) -> np.ndarray:
    """The baseline: each tap's plain spatial mean, of unit length, joined."""
    parts = [F.normalize(batch.maps[role].float().mean(dim=(2, 3)), dim=1) for role in GOODS_TAPS]
    return F.normalize(torch.cat(parts, dim=1), dim=1).cpu().numpy()


def measure(root: Path, category: str, spec: MethodSpec, work: Path) -> None:
    index = scan_dataset(root)
    workspace = Workspace(index, work / root.name)
    method = identifying_method(spec)
    side = int(method.hparams.get("image_size") or 224)
    train = [r for r in workspace.training_records(category) if r.goods_id is not None]
    test = [r for r in workspace.test_records(category) if r.goods_id is not None]
    goods = len({r.goods_id for r in train})
    print(f"{root / category}: {goods} goods, {len(train)} training photos, {len(test)} test photos", flush=True)
    describers: dict[str, Callable[[Batch], np.ndarray]] = {
        "mean (before)": mean_descriptor,
        "centre-gem": goods_descriptor,
    }
    for name, describe in describers.items():
        started = time.perf_counter()
        if describe is goods_descriptor:
            gallery = training_gallery(workspace, method, category, NO_MONITOR)
        else:
            gallery = Gallery(
                tuple(r.key for r in train), tuple(r.goods_id for r in train), _describe(method, train, side, describe)
            )
        train_s = time.perf_counter() - started
        started = time.perf_counter()
        test_descriptors = _describe(method, test, side, describe)
        per_photo = (time.perf_counter() - started) / max(1, len(test))
        loo, on_test = leave_one_out(gallery), on_photos(gallery, test_descriptors, test)
        print(
            f"  {name:14s} leave-one-out top-1 {loo[0]:.3f} top-5 {loo[1]:.3f}   test top-1 {on_test[0]:.3f} "
            f"top-5 {on_test[1]:.3f}   gallery {train_s:.1f} s, {per_photo * 1000:.0f} ms per photo",
            flush=True,
        )


def _describe(method, records: list[ImageRecord], side: int, describe: Callable[[Batch], np.ndarray]) -> np.ndarray:
    batches = method.inputs.batches(LazyImages(records, side), NO_MONITOR, batch_size=method.batch_size)
    return np.concatenate([describe(batch) for batch in batches]).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--multi", type=Path, default=Path("/tmp/goodsad-multi"))
    parser.add_argument("--demo", type=Path, default=Path("/tmp/goodsad-demo40"))
    parser.add_argument("--demo-goods", type=int, default=40)
    parser.add_argument("--demo-size", type=int, default=3000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/goodsad-identify-state"))
    parser.add_argument("--method", default="patchcore")
    parser.add_argument("--backbone", default="mobilenet_v2")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.work.exists():
        shutil.rmtree(args.work)
    spec = MethodSpec(args.method, {}, args.backbone, "auto", "cpu")
    if not (args.multi / multi_goods.CATEGORY).is_dir():
        multi_goods.build(args.multi)
    measure(args.multi, multi_goods.CATEGORY, spec, args.work)
    if not (args.demo / "drink_can").is_dir():
        print(f"building {args.demo_goods} demo goods at {args.demo_size} px in {args.demo} ...", flush=True)
        generate_demo(args.demo, size=args.demo_size, categories=["drink_can"], goods_per_category=args.demo_goods)
    measure(args.demo, "drink_can", spec, args.work)


if __name__ == "__main__":
    main()
