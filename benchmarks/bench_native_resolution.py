"""Native resolution against the 224 squash: PatchCore (10 %, mobilenet_v2) seeing each photo whole (the papers'
224 x 224 squash), through the object crop, in tiles, and in tiles and whole at once (multi-scale), in one run.

Sets: the GoodsAD-shaped small-defect demo (``goodsad-studio demo --size 3000 --defects small``: one category,
defects of 0.05-0.5 % of the photo at random places; generated into ``--work`` once) and the real sets of
../shared/data at their native sizes (MPDD metal_plate 512 px; MTD magnetic_tile 100-620 px, subsampled evenly with
``--mtd-train`` / ``--mtd-test``). Photos are decoded as the engine decodes them for each view (the JPEG decoder's
reduction for the squash, full size for tiles) and go through the engine's own adapter
(``goodsad_studio.engine.worker.views.ViewedMethod``).

Printed per set and view: image AUROC, pixel AUPR and AUPRO (maps against the masks at the photos' own size),
seconds per test image, the cost ratio (seconds per image over tiles per image x one bare predict of a tile-sized
image, measured in the same run), the share of the photo the crop keeps, the predict phase's peak resident memory
(sampled) and the run's peak. Every (set, view) runs in a fresh process, so the memory figures are its own.

    .venv/bin/python benchmarks/bench_native_resolution.py [--sets small,mpdd,mtd] [--views squash,crop,tiled,multi]
        [--work /tmp/goodsad-native] [--small-goods 4] [--tile 448:112] [--real-tile 224:56] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from goodsad_studio.dataset.demo import generate_demo  # noqa: E402
from goodsad_studio.dataset.imageio import probe_image, read_mask, read_reduced  # noqa: E402
from goodsad_studio.dataset.index import scan_dataset  # noqa: E402
from goodsad_studio.native.crop import share  # noqa: E402
from goodsad_studio.native.spec import TileSpec, ViewSpec, parse_tiling  # noqa: E402

DATA = REPO.parent / "shared" / "data"
REAL = {"mpdd": "mpdd_metal_plate_512", "mtd": "mtd_magnetic_tile"}
SMALL_CATEGORY = "food_box"


def views(tile: TileSpec) -> dict[str, ViewSpec]:
    return {
        "squash": ViewSpec(),
        "crop": ViewSpec(crop=True),
        "tiled": ViewSpec(True, tile),
        "multi": ViewSpec(True, tile, multiscale=True),
    }


class PeakSampler:
    """The peak resident memory of this process while running, sampled every 20 ms from /proc."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def rss() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.02)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


class Decoded:
    """Photos decoded on access as the engine decodes them for a view (re-iterable, one photo in memory)."""

    def __init__(self, records, side: int):
        self.records, self.side = records, side

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):
        for record in self.records:
            yield read_reduced(record.image_path, self.side)[0]


def split(root: Path, max_train: int | None, max_test: int | None):
    index = scan_dataset(root)
    train = [r for r in index.records if r.split == "train"]
    test = [r for r in index.records if r.split == "test"]

    def even(records, limit):
        if not limit or len(records) <= limit:
            return records
        keep = np.linspace(0, len(records) - 1, limit).round().astype(int)
        return [records[i] for i in keep]

    return even(train, max_train), even(test, max_test)


def run_one(root: str, view_config: dict, max_train: int | None, max_test: int | None, threads: int) -> dict:
    """Fit and evaluate one view on one set (in a fresh process)."""
    import faiss
    import torch

    from goodsad_studio.engine.worker.views import ViewedMethod
    from goodsad_studio.methods import create_method
    from goodsad_studio.metrics import CategoryEvaluator

    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)
    view = ViewSpec.from_config(view_config)
    train, test = split(Path(root), max_train, max_test)
    method = ViewedMethod(create_method("patchcore", backbone="mobilenet_v2", coreset_ratio=0.1), view)
    side = method.decode_side()
    started = time.perf_counter()
    method.fit(Decoded(train, side))
    fit_s = time.perf_counter() - started

    evaluator = CategoryEvaluator(protocol="native")
    seconds, tiles, shares = [], [], []
    bare_inputs = []
    with PeakSampler() as sampler:
        for record in test:
            image = read_reduced(record.image_path, side)[0]
            info = probe_image(record.image_path)
            began = time.perf_counter()
            (prediction,) = method.predict([image])
            seconds.append(time.perf_counter() - began)
            tiles.append(max(1, len(prediction.tiles)) + (1 if view.multiscale else 0))
            shares.append(1.0 if prediction.crop is None else share(prediction.crop, image.shape))
            mask = read_mask(record.mask_path) if record.mask_path else None
            evaluator.add(
                prediction.score,
                record.defect != "good",
                prediction.anomaly_map,
                mask,
                image_shape=(info.height, info.width),
                name=record.key,
            )
            if len(bare_inputs) < 16:  # tile-sized inputs for the bare-predict baseline
                box = prediction.tiles[0] if prediction.tiles else (0, 0, image.shape[1], image.shape[0])
                bare_inputs.append(np.ascontiguousarray(image[box[1] : box[3], box[0] : box[2]]))
    predict_peak = sampler.peak
    began = time.perf_counter()
    method.method.predict(bare_inputs)
    bare_s = (time.perf_counter() - began) / len(bare_inputs)
    result = evaluator.result()
    per_image = statistics.mean(seconds)
    return {
        "view": str(view),
        "train": len(train),
        "test": len(test),
        "image_auroc": result.image_auroc,
        "pixel_aupr": result.pixel_aupr,
        "pro": result.pro,
        "fit_s": fit_s,
        "s_per_image": per_image,
        "tiles_per_image": statistics.mean(tiles),
        "cost_ratio": per_image / (statistics.mean(tiles) * bare_s),
        "crop_share": statistics.mean(shares),
        "predict_peak_gb": predict_peak / 1e9,
        "run_peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9,
        "largest_photo": max(max(probe_image(r.image_path).width, probe_image(r.image_path).height) for r in test),
    }


def small_set(work: Path, goods: int) -> Path:
    started = time.perf_counter()
    root = generate_demo(
        work / "small3000",
        size=3000,
        categories=[SMALL_CATEGORY],
        goods_per_category=goods,
        train_per_goods=4,
        test_good_per_goods=2,
        defective_per_goods=3,
        defect_size="small",
    )
    print(f"small-defect set ready in {time.perf_counter() - started:.0f} s: {root}", flush=True)
    return root / SMALL_CATEGORY


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="small,mpdd,mtd")
    parser.add_argument("--views", default="squash,crop,tiled,multi")
    parser.add_argument("--work", type=Path, default=Path("/tmp/goodsad-native"))
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--small-goods", type=int, default=4)
    parser.add_argument("--tile", default="448:112", help="tiles on the 3000 px set (photo pixels)")
    parser.add_argument("--real-tile", default="224:56", help="tiles on the real sets (photo pixels)")
    parser.add_argument("--mtd-train", type=int, default=200)
    parser.add_argument("--mtd-test", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    rows = []
    for name in args.sets.split(","):
        if name == "small":
            root, limits, tile = small_set(args.work, args.small_goods), (None, None), args.tile
        else:
            folder = args.data / REAL[name]
            if not folder.is_dir():
                print(f"skipping {name}: {folder} is absent")
                continue
            root = next(p for p in sorted(folder.iterdir()) if p.is_dir())
            limits = (args.mtd_train, args.mtd_test) if name == "mtd" else (None, None)
            tile = args.real_tile
        spec = parse_tiling(tile)
        assert isinstance(spec, TileSpec)
        chosen = views(spec)
        for view_name in args.views.split(","):
            with context.Pool(1) as pool:
                row = pool.apply(run_one, (str(root), chosen[view_name].config(), *limits, args.threads))
            row.update(set=name, name=view_name)
            rows.append(row)
            print(
                f"{name:6s} {view_name:7s} img AUROC {row['image_auroc']:.3f}  pix AUPR {row['pixel_aupr']:.3f}  "
                f"AUPRO {row['pro']:.3f}  {row['s_per_image']:.2f} s/img  cost x{row['cost_ratio']:.2f} "
                f"({row['tiles_per_image']:.1f} views/img)  crop keeps {row['crop_share']:.0%}  "
                f"predict peak {row['predict_peak_gb']:.2f} GB (run {row['run_peak_gb']:.2f})  "
                f"fit {row['fit_s']:.0f} s",
                flush=True,
            )
    print("\n| set | view | image AUROC | pixel AUPR | AUPRO | s/img | cost ratio | crop keeps | predict peak GB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['set']} | {row['name']} ({row['view']}) | {row['image_auroc']:.3f} | {row['pixel_aupr']:.3f} | "
            f"{row['pro']:.3f} | {row['s_per_image']:.2f} | {row['cost_ratio']:.2f} | {row['crop_share']:.0%} | "
            f"{row['predict_peak_gb']:.2f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
