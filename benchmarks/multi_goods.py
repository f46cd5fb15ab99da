"""Build a multi-goods category from real photos: each real set of ../shared/data becomes one goods id of one
category (GoodsAD 6-digit names, masks kept), beside demo goods, as a GoodsAD category mixes dozens of products.

    .venv/bin/python benchmarks/multi_goods.py DEST [--mtd-train 120] [--mtd-test 120] [--demo-goods 4]
        [--demo-size 512]

Goods 001: MPDD metal_plate (all of it, 512 px); goods 002: MTD magnetic_tile (an even subsample, grayscale,
100-620 px); goods 003...: demo drink_can goods at ``--demo-size``. Defect folders keep their sets' names; a
photo's name is its goods id and a serial within the goods (``001000.png``), its mask ``001000_mask.png``. The
mapping from every written file to its source is in ``DEST/multi_goods/SOURCES.csv``.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # accuracy_common, beside this file

from accuracy_common import DATA, DATASETS

from goodsad_studio.dataset.demo import generate_demo
from goodsad_studio.dataset.index import ImageRecord, scan_dataset

CATEGORY = "multi_goods"


def _even(records: list[ImageRecord], count: int | None) -> list[ImageRecord]:
    if count is None or len(records) <= count:
        return records
    keep = np.linspace(0, len(records) - 1, count).round().astype(int)
    return [records[i] for i in keep]


def _sources(data: Path, mtd_train: int, mtd_test: int, demo_goods: int, demo_size: int, scratch: Path):
    """(goods id, records) per goods, in goods id order."""
    goods: list[list[ImageRecord]] = []
    for name, train_count, test_count in (("mpdd", None, None), ("mtd", mtd_train, mtd_test)):
        index = scan_dataset(data / DATASETS[name])
        train = _even([r for r in index.records if r.split == "train"], train_count)
        test = _even([r for r in index.records if r.split == "test"], test_count)
        goods.append(train + test)
    if demo_goods:
        demo = generate_demo(
            scratch / "demo", size=demo_size, categories=["drink_can"], goods_per_category=demo_goods,
            train_per_goods=8, test_good_per_goods=4, defective_per_goods=6,
        )  # fmt: skip
        index = scan_dataset(demo)
        for goods_id in index.goods_ids("drink_can"):
            goods.append([r for r in index.records if r.goods_id == goods_id])
    return [(f"{number + 1:03d}", records) for number, records in enumerate(goods)]


def build(dest: Path, data: Path = DATA, *, mtd_train: int = 120, mtd_test: int = 120, demo_goods: int = 4,
          demo_size: int = 512) -> Path:  # fmt: skip
    """Write the category under ``dest`` (a new or empty folder) and return ``dest``."""
    category = dest / CATEGORY
    if category.exists():
        shutil.rmtree(category)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for goods_id, records in _sources(data, mtd_train, mtd_test, demo_goods, demo_size, Path(scratch)):
            for serial, record in enumerate(records):
                stem = f"{goods_id}{serial:03d}"
                image = category / record.split / record.defect / f"{stem}{record.image_path.suffix.lower()}"
                image.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(record.image_path, image)
                mask = ""
                if record.mask_path is not None:
                    target = category / "ground_truth" / record.defect / f"{stem}_mask.png"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(record.mask_path, target)
                    mask = str(target.relative_to(dest))
                source = record.image_path.relative_to(data) if record.image_path.is_relative_to(data) else "demo"
                rows.append([str(image.relative_to(dest)), mask, goods_id, str(source)])
    with (category / "SOURCES.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "mask", "goods_id", "source"])
        writer.writerows(rows)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--mtd-train", type=int, default=120)
    parser.add_argument("--mtd-test", type=int, default=120)
    parser.add_argument("--demo-goods", type=int, default=4)
    parser.add_argument("--demo-size", type=int, default=512)
    args = parser.parse_args()
    build(args.dest, args.data, mtd_train=args.mtd_train, mtd_test=args.mtd_test, demo_goods=args.demo_goods,
          demo_size=args.demo_size)  # fmt: skip
    index = scan_dataset(args.dest)
    counts = {g: sum(r.goods_id == g for r in index.records) for g in index.goods_ids(CATEGORY)}
    print(f"{args.dest / CATEGORY}: {len(index.records)} photos, goods {counts}")


if __name__ == "__main__":
    main()
