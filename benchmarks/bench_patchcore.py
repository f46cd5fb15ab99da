"""PatchCore speed and memory on synthetic images, against baselines measured in the same run.

1. Predict latency: per-image PatchCore predict at 224 (one image per call) vs the bare backbone forward on the
   same images (pre-processing + truncated network only). Goal: ratio <= 1.3. Measured for the exact (flat) and
   approximate (IVF, HNSW) indexes, on a bank fitted with a 10% coreset.
2. Fit: time and peak memory (peak RSS of a fresh child process per configuration, reset just before fitting —
   Linux carries ru_maxrss over from the parent — minus the RSS at that moment) for coreset 1%, 10%, 100% on
   ``--images`` images (default 1000), and 100% with a float16
   bank at PatchCore's paper dimension (1024) — the case where a float32 bank would need 1000 x 784 x 1024 x 4 B.

    .venv/bin/python benchmarks/bench_patchcore.py [--images 1000] [--threads 2] [--backbone mobilenet_v2]
        [--weights auto|random] [--skip-fit] [--skip-predict]

With ``--backbone wide_resnet50_2 --weights random`` the timings are those of the paper's backbone (weights do not
change speed; the random-weights warning is expected).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def synthetic_images(count: int, size: int = 224, seed: int = 0) -> list[np.ndarray]:
    """Textured surfaces (smooth noise at several scales, random tint), a few with a dark scratch."""
    rng = np.random.default_rng(seed)
    images = []
    for i in range(count):
        layers = [
            cv2.resize(rng.normal(0, 1, (s, s)).astype(np.float32), (size, size), interpolation=cv2.INTER_CUBIC) * w
            for s, w in ((4, 30), (16, 15), (64, 8))
        ]
        gray = 128 + sum(layers)
        tint = rng.uniform(0.8, 1.2, 3)
        image = np.clip(gray[..., None] * tint, 0, 255).astype(np.uint8)
        if i % 10 == 9:
            x0, y0 = rng.integers(20, size - 60, 2)
            cv2.line(image, (int(x0), int(y0)), (int(x0) + 40, int(y0) + 25), (20, 20, 20), 3)
        images.append(image)
    return images


def set_threads(threads: int) -> None:
    import faiss
    import torch

    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def reset_peak_rss() -> None:
    """Linux keeps ru_maxrss across fork and exec, so a child would report its parent's peak: reset it."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def peak_rss_mb() -> float:
    """This process's peak RSS since :func:`reset_peak_rss` (VmHWM), else ru_maxrss."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_fit(args: argparse.Namespace) -> None:
    """Child process: fit one configuration, print a JSON line with time and memory."""
    from goodsad_studio.methods.patchcore import PatchCore

    set_threads(args.threads)
    params = json.loads(args.one_fit)
    images = synthetic_images(args.images)
    model = PatchCore(backbone=args.backbone, weights=args.weights, device="cpu", **params)
    _ = model.inputs.taps  # build the network before measuring
    reset_peak_rss()
    before = rss_mb()
    started = time.perf_counter()
    model.fit(images)
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    print(
        json.dumps(
            {
                "params": params,
                "fit_s": seconds,
                "bank": list(model.bank.rows.shape),
                "bank_mb": model.bank.rows.nbytes / 2**20,
                "rss_before_mb": before,
                "peak_rss_mb": peak,
                "images_mb": sum(i.nbytes for i in images) / 2**20,
            }
        )
    )


def bench_fit(args: argparse.Namespace) -> None:
    configs = [
        {"coreset_ratio": 0.01},
        {"coreset_ratio": 0.1},
        {"coreset_ratio": 1.0},
        {"coreset_ratio": 1.0, "bank_dtype": "float16", "pretrain_dim": 1024, "target_dim": 1024},
    ]
    print(f"\n== fit on {args.images} synthetic 224 px images, {args.backbone}, {args.threads} threads")
    print(f"{'configuration':58s} {'fit s':>7s} {'bank':>16s} {'bank MB':>8s} {'peak RSS MB':>11s} {'over start':>10s}")
    for params in configs:
        command = [
            sys.executable,
            __file__,
            "--one-fit",
            json.dumps(params),
            "--images",
            str(args.images),
            "--threads",
            str(args.threads),
            "--backbone",
            args.backbone,
            "--weights",
            args.weights,
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        row = json.loads(out)
        label = ", ".join(f"{k}={v}" for k, v in params.items())
        print(
            f"{label:58s} {row['fit_s']:7.1f} {str(tuple(row['bank'])):>16s} {row['bank_mb']:8.0f} "
            f"{row['peak_rss_mb']:11.0f} {row['peak_rss_mb'] - row['rss_before_mb']:10.0f}",
            flush=True,
        )
    n_patches = args.images * 28 * 28
    print(
        f"(a float32 bank of all {n_patches} patches at 1024 dims would be {n_patches * 1024 * 4 / 2**20:.0f} MB; "
        f"the synthetic images themselves take {args.images * 224 * 224 * 3 / 2**20:.0f} MB)"
    )


def bench_predict(args: argparse.Namespace) -> None:
    import torch

    from goodsad_studio.methods.components.nn_index import make_index
    from goodsad_studio.methods.patchcore import PatchCore

    set_threads(args.threads)
    train = synthetic_images(args.images)
    test = synthetic_images(args.predict_images, seed=1)
    print(
        f"\n== predict, one 224 px image per call, {args.backbone}, {args.threads} threads, bank from "
        f"{args.images} images at 10%"
    )
    base = PatchCore(backbone=args.backbone, weights=args.weights, device="cpu", coreset_ratio=0.1)
    started = time.perf_counter()
    base.fit(train)
    print(f"fit {time.perf_counter() - started:.1f} s, bank {base.bank.rows.shape}")
    extractor = base.inputs.taps

    def backbone_only(image: np.ndarray) -> None:
        batch, _ = base.inputs.preprocess.batch([image])
        extractor(torch.from_numpy(batch))

    def timed(fn, images) -> float:
        fn(images[0])  # warm-up
        started = time.perf_counter()
        for image in images:
            fn(image)
        return 1000 * (time.perf_counter() - started) / len(images)

    backbone_ms = timed(backbone_only, test)
    print(f"{'bare backbone forward':34s} {backbone_ms:7.1f} ms/img")
    for index in ("flat", "ivf", "hnsw"):
        model = (
            base
            if index == "flat"
            else PatchCore(backbone=args.backbone, weights=args.weights, device="cpu", coreset_ratio=0.1, index=index)
        )
        if index != "flat":
            model.bank, model.index = base.bank, make_index(index, base.bank)  # same bank, other index
        ms = timed(lambda image, model=model: model.predict([image]), test)
        again = timed(backbone_only, test)  # re-measure the baseline: the machine is shared
        print(
            f"{'PatchCore predict, index=' + index:34s} {ms:7.1f} ms/img   ratio to backbone "
            f"{ms / ((backbone_ms + again) / 2):5.2f}",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--predict-images", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backbone", default="mobilenet_v2")
    parser.add_argument("--weights", default="auto")
    parser.add_argument("--skip-fit", action="store_true")
    parser.add_argument("--skip-predict", action="store_true")
    parser.add_argument("--one-fit", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_fit:
        one_fit(args)
        return 0
    if not args.skip_predict:
        bench_predict(args)
    if not args.skip_fit:
        bench_fit(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
