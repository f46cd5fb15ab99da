"""Indexing speed on a GoodsAD-sized tree: 6 categories, 484 goods ids, 6124 files (empty: indexing reads no pixels).

Prints the time to index, against a baseline measured in the same run: a bare ``os.walk`` listing of the same
tree (the least any index must do). Goal: well under a second.

    .venv/bin/python benchmarks/bench_index.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from goodsad_studio.dataset.index import scan_dataset

CATEGORIES = {  # category: (goods ids, train good, test good, test defective) — GoodsAD's table, rounded
    "cigarette_box": (29, 522, 132, 159),
    "drink_bottle": (115, 883, 221, 288),
    "drink_can": (69, 587, 142, 245),
    "food_bottle": (89, 1014, 192, 346),
    "food_box": (119, 611, 148, 150),
    "food_package": (63, 326, 98, 60),
}
DEFECTS = ("surface_damage", "cap_open", "deformation", "opened")


def build_tree(root: Path) -> int:
    files = 0
    for category, (goods, train, test_good, defective) in CATEGORIES.items():
        for split, defect, count in (("train", "good", train), ("test", "good", test_good)):
            folder = root / category / split / defect
            folder.mkdir(parents=True)
            for i in range(count):
                (folder / f"{i % goods:03d}{i // goods:03d}.jpg").touch()
                files += 1
        for i in range(defective):
            defect = DEFECTS[i % len(DEFECTS)]
            for folder in (root / category / "test" / defect, root / category / "ground_truth" / defect):
                folder.mkdir(parents=True, exist_ok=True)
            name = f"{i % goods:03d}{500 + i // goods:03d}"
            (root / category / "test" / defect / f"{name}.jpg").touch()
            (root / category / "ground_truth" / defect / f"{name}_mask.png").touch()
            files += 1
    return files


def timed(function, repeats: int = 7) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        images = build_tree(root)
        baseline = timed(lambda: sum(len(names) for _, _, names in os.walk(root)))
        index_time = timed(lambda: scan_dataset(root))
        index = scan_dataset(root)
        assert len(index) == images, (len(index), images)
        print(
            f"GoodsAD-sized tree: {images} images, {sum(len(index.goods_ids(c)) for c in index.categories)} "
            f"goods ids, {len(index.filter(has_mask=True))} masks"
        )
        print(f"os.walk baseline     {baseline * 1000:8.1f} ms")
        print(
            f"scan_dataset         {index_time * 1000:8.1f} ms   ({index_time / baseline:.1f}x the bare walk; "
            f"goal: well under 1000 ms)"
        )


if __name__ == "__main__":
    main()
