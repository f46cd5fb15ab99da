"""Fit time of PatchCore's coreset against the number of patches: one greedy pass over all (the paper's) against
blocks of ``--block`` patches cut to one covering radius (``coreset_block``), in one run, with a log-log plot.

    .venv/bin/python benchmarks/bench_coreset_scaling.py [--photos 48,96,192,384,761] [--ratio 0.1]
        [--block 65536] [--oversample 2] [--image-size 224] [--greedy-up-to N] [--plot fit.png] [--threads 2]
        [--synthetic]

Features: PatchCore's own coreset points (locally aware patches of mobilenet_v2 at ``--image-size``, randomly
projected to 128 dimensions) of the first N training photos of MTD (../shared/data/mtd_magnetic_tile, 784
patches a photo at 224 px, 3,136 at 448), or
with ``--synthetic`` a mixture of 400 anisotropic Gaussian clusters in 128 dimensions of the same sizes. Printed
per size: seconds of each, their ratio, and
the coverage each leaves: the 99th percentile and the maximum over 20,000 sampled points of the distance to the
nearest chosen point (lower is better; the greedy pass minimises the maximum). Last: the slope of log(seconds)
against log(patches) for each (goal for the blocks: at most 1.2).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # accuracy_common, beside this file

from goodsad_studio.methods.components.coreset import blocked_coreset, greedy_coreset
from goodsad_studio.methods.components.nn_index import exact_knn
from goodsad_studio.progress import NO_MONITOR


def features(n: int, dim: int = 128, clusters: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (clusters, dim)).astype(np.float32)
    scales = rng.uniform(0.3, 1.5, (clusters, dim)).astype(np.float32)
    label = rng.integers(0, clusters, n)
    return (centres[label] + rng.normal(0, 1, (n, dim)).astype(np.float32) * scales[label]).astype(np.float32)


def coverage(points: np.ndarray, chosen: np.ndarray, sample: int = 20000) -> tuple[float, float]:
    rng = np.random.default_rng(1)
    probe = points[rng.choice(len(points), min(sample, len(points)), replace=False)]
    d2, _ = exact_knn(probe, np.ascontiguousarray(points[chosen]), 1)
    d = np.sqrt(d2[:, 0])
    return float(np.percentile(d, 99)), float(d.max())


def real_points(photos: int, image_size: int) -> np.ndarray:
    """PatchCore's projected points (what its coreset sees) of the first ``photos`` MTD training photos."""
    from accuracy_common import DATA, DATASETS, load_split

    from goodsad_studio.dataset.imageio import read_image
    from goodsad_studio.methods import create_method
    from goodsad_studio.methods.components.bank import RowCollector
    from goodsad_studio.methods.components.coreset import random_projection

    train, _ = load_split(DATA / DATASETS["mtd"] / "magnetic_tile")
    method = create_method("patchcore", backbone="mobilenet_v2", device="cpu", image_size=image_size)
    p = method.hparams
    rows = RowCollector(p["target_dim"], np.dtype("float32"), photos, random_projection(p["target_dim"], 128, 0))
    images = (read_image(record.image_path) for record in train[:photos])
    for batch in method.inputs.batches(images, NO_MONITOR):
        rows.add(method.embed(batch), None)
    _, points = rows.finish()
    assert points is not None
    return np.ascontiguousarray(points)


def loglog_plot(path: Path, sizes: list[int], times: dict[str, list[float]]) -> None:
    """Seconds against patches on log-log axes (one polyline per variant, a dashed slope-1 guide), as a PNG."""
    import cv2

    width, height, margin = 720, 480, 60
    all_times = [t for seconds in times.values() for t in seconds]
    xs = np.log10([sizes[0], sizes[-1]])
    ys = np.log10([min(all_times), max(all_times)])
    ys = ys + np.array([-0.1, 0.1]) * max(ys[1] - ys[0], 0.1)

    def at(n: float, t: float) -> tuple[int, int]:
        x = margin + (np.log10(n) - xs[0]) / max(xs[1] - xs[0], 1e-9) * (width - 2 * margin)
        y = height - margin - (np.log10(t) - ys[0]) / max(ys[1] - ys[0], 1e-9) * (height - 2 * margin)
        return int(x), int(y)

    image = np.full((height, width, 3), 255, np.uint8)
    cv2.rectangle(image, (margin, margin), (width - margin, height - margin), (0, 0, 0), 1)
    t0 = times["blocks"][0]
    guide = [at(sizes[0], t0), at(sizes[-1], t0 * sizes[-1] / sizes[0])]
    cv2.line(image, *guide, (160, 160, 160), 1, cv2.LINE_AA)
    colours = {"greedy": (40, 40, 220), "blocks": (200, 120, 0)}
    for name, seconds in times.items():
        points = [at(n, t) for n, t in zip(sizes, seconds, strict=False)]
        for a, b in zip(points, points[1:], strict=False):
            cv2.line(image, a, b, colours[name], 2, cv2.LINE_AA)
        for point in points:
            cv2.circle(image, point, 4, colours[name], -1, cv2.LINE_AA)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for row, (name, colour) in enumerate(colours.items()):
        cv2.putText(image, name, (margin + 10, margin + 22 + 20 * row), font, 0.55, colour, 1, cv2.LINE_AA)
    cv2.putText(image, "grey: slope 1", (margin + 10, margin + 62), font, 0.5, (120, 120, 120), 1, cv2.LINE_AA)
    cv2.putText(image, f"patches {sizes[0]}..{sizes[-1]} (log)", (margin, height - 20), font, 0.5, (0, 0, 0), 1)
    cv2.putText(image, "fit seconds (log)", (5, margin - 20), font, 0.5, (0, 0, 0), 1)
    cv2.imwrite(str(path), image)
    print(f"log-log plot: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", default="48,96,192,384,761", help="training photos of MTD (784 patches each)")
    parser.add_argument("--synthetic", action="store_true", help="clustered random features instead of MTD's")
    parser.add_argument("--ratio", type=float, default=0.1)
    parser.add_argument("--block", type=int, default=65536)
    parser.add_argument("--oversample", type=float, default=2.0)
    parser.add_argument(
        "--image-size", type=int, default=224, help="PatchCore's input side (448: 3136 patches a photo)"
    )
    parser.add_argument(
        "--greedy-up-to", type=int, default=10**9, help="time the one pass only up to this many patches"
    )
    parser.add_argument("--plot", type=Path, default=None, help="write the log-log plot of seconds to this PNG")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    photos = [int(s) for s in args.photos.split(",")]
    pool = features(photos[-1] * 784) if args.synthetic else real_points(photos[-1], args.image_size)
    per_photo = len(pool) // photos[-1]
    sizes = [min(len(pool), n * per_photo) for n in photos]
    header = f"{'patches':>8s} {'greedy s':>9s} {'blocks s':>9s} {'x':>6s}"
    print(f"{header}  {'p99 / max greedy':>17s}  {'p99 / max blocks':>17s}")
    greedy_coreset(pool[:5000], 500)  # warm-up: thread pools and BLAS start once, outside the timings
    times: dict[str, list[float]] = {"greedy": [], "blocks": []}
    for n in sizes:
        points = np.ascontiguousarray(pool[:n])  # the first photos' patches, in order
        k = max(1, int(n * args.ratio))
        started = time.perf_counter()
        blocked = blocked_coreset(points, k, block=args.block, oversample=args.oversample)
        times["blocks"].append(time.perf_counter() - started)
        bp, bm = coverage(points, blocked)
        line = f"{n:8d} {'-':>9s} {times['blocks'][-1]:9.2f} {'-':>6s}  {'-':>17s}  {bp:8.3f} / {bm:6.3f}"
        if n <= args.greedy_up_to:
            started = time.perf_counter()
            whole = greedy_coreset(points, k)
            times["greedy"].append(time.perf_counter() - started)
            gp, gm = coverage(points, whole)
            line = (
                f"{n:8d} {times['greedy'][-1]:9.2f} {times['blocks'][-1]:9.2f} "
                f"{times['greedy'][-1] / times['blocks'][-1]:6.1f}  {gp:8.3f} / {gm:6.3f}  {bp:8.3f} / {bm:6.3f}"
            )
        print(line, flush=True)
    for name, seconds in times.items():
        if len(seconds) >= 2:
            logs = np.log(np.asarray(sizes[: len(seconds)], np.float64))
            slope = np.polyfit(logs, np.log(np.asarray(seconds)), 1)[0]
            print(f"slope of log(seconds) over log(patches), {name}: {slope:.2f} ({len(seconds)} sizes)")
    if args.plot is not None:
        loglog_plot(args.plot, sizes, times)


if __name__ == "__main__":
    main()
