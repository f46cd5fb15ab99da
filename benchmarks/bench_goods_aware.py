"""Goods-aware detection on a multi-goods category built from real photos (benchmarks/multi_goods.py), in one run:
category-wide, per-goods, retrieval-conditioned and calibrated scoring and their combinations, through the
engine as the studio and the CLI run them, and the goods-id accuracy of the descriptors.

    .venv/bin/python benchmarks/bench_goods_aware.py [--set /tmp/goodsad-multi] [--method patchcore]
        [--variants category,per-goods,goods,goods:3,3,category+cal,goods+cal,goods:3+cal,per-goods+cal]
        [--param coreset_ratio=0.1] [--threads 2] [--json out.json]

Printed per variant: category-level image AUROC, pixel AUPR and AUPRO (native protocol), the mean of the per-goods
image AUROCs and the gap between the two (the problem: one threshold over goods whose scores live on different
scales), fit seconds and predict milliseconds per photo with their ratio to category-wide. Then the goods-id
accuracy (top-1 / top-5) of the model's descriptors, leave-one-out on the training photos and on the test photos.
The set is built at ``--set`` when it is not there; models and results go to ``--work`` (emptied first, so that
nothing is reused; never into ../shared).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # multi_goods, accuracy_common, beside this file

import multi_goods
from bench_identify import leave_one_out, on_photos

from goodsad_studio.dataset.index import scan_dataset
from goodsad_studio.engine.contract import MethodSpec, Scope
from goodsad_studio.engine.worker.evaluate import evaluate_category
from goodsad_studio.engine.worker.images import LazyImages
from goodsad_studio.engine.worker.workspace import Workspace
from goodsad_studio.goods.spec import GoodsSpec
from goodsad_studio.native.spec import ViewRequest

VARIANTS = "category,per-goods,goods,goods:3,3,category+cal,goods+cal,goods:3+cal,per-goods+cal,default"


def variant(text: str) -> tuple[Scope, GoodsSpec]:
    """``per-goods`` (one model per goods id), ``category`` or a ``--compare-with`` word, ``+cal`` for calibration;
    ``default``: what the studio and the CLI do unasked (``--compare-with all --calibrate auto``)."""
    if text == "default":
        return Scope.CATEGORY, GoodsSpec()
    base, _, cal = text.partition("+")
    calibrate = cal == "cal"
    if base == "per-goods":
        return Scope.GOODS, GoodsSpec(False, 0, calibrate)
    if base == "category":
        return Scope.CATEGORY, GoodsSpec(False, 0, calibrate)
    return Scope.CATEGORY, GoodsSpec.parse(base, "on" if calibrate else "off")


def parse_params(items: list[str]) -> dict:
    params = {}
    for item in items:
        name, _, value = item.partition("=")
        params[name] = json.loads(value) if value[:1] in "0123456789-[{tfn" else value
    return params


def identification(workspace: Workspace, model, category: str) -> dict[str, tuple[float, float]]:
    """Top-1 / top-5 goods-id accuracy of the model's descriptors: leave-one-out on its training photos, and on
    the test photos (their names give the truth)."""
    aware = model.method.goods_aware
    test = workspace.test_records(category)
    descriptors = aware.method.descriptors(LazyImages(test, model.method.decode_side()))
    return {"train (leave-one-out)": leave_one_out(aware.gallery), "test": on_photos(aware.gallery, descriptors, test)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=Path("/tmp/goodsad-multi"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/goodsad-multi-state"))
    parser.add_argument("--method", default="patchcore")
    parser.add_argument("--backbone", default="mobilenet_v2")
    parser.add_argument("--variants", default=VARIANTS)
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if not (args.set / multi_goods.CATEGORY).is_dir():
        multi_goods.build(args.set)
    index = scan_dataset(args.set)
    category = multi_goods.CATEGORY
    counts = {g: sum(r.goods_id == g for r in index.records) for g in index.goods_ids(category)}
    print(f"{args.set / category}: {len(index.records)} photos; photos per goods {counts}", flush=True)
    if args.work.exists():  # a fresh state: every variant fits and predicts (no model or result is reused)
        shutil.rmtree(args.work)
    workspace = Workspace(index, args.work)
    params = parse_params(args.param)
    header = f"{'variant':16s} {'image AUROC':>11s} {'pixel AUPR':>10s} {'AUPRO':>6s} {'per-goods':>9s} {'gap':>6s}"
    print(f"{header} {'fit s':>7s} {'ms/img':>7s} {'x cost':>6s}", flush=True)
    figures, baseline_ms, aware_model = {}, None, None
    for text in args.variants.split(","):
        scope, goods = variant(text)
        spec = MethodSpec(args.method, params, args.backbone, "auto", "cpu", ViewRequest("off", "off"), goods)
        outcome, models = evaluate_category(workspace, spec, category, protocol="native", scope=scope)
        whole = outcome.rows[0].result
        per_goods = [row.result.image_auroc for row in outcome.rows[1:]]
        mean_goods = float(np.nanmean(per_goods))
        if text == "category":
            baseline_ms = outcome.predict_ms_per_image
        ratio = outcome.predict_ms_per_image / baseline_ms if baseline_ms else float("nan")
        figures[text] = {
            "image_auroc": whole.image_auroc,
            "pixel_aupr": whole.pixel_aupr,
            "aupro": whole.pro,
            "per_goods_image_auroc": dict(zip([r.goods_id for r in outcome.rows[1:]], per_goods, strict=True)),
            "fit_s": outcome.fit_seconds,
            "predict_ms": outcome.predict_ms_per_image,
        }
        print(
            f"{text:16s} {whole.image_auroc:11.3f} {whole.pixel_aupr:10.3f} {whole.pro:6.3f} {mean_goods:9.3f} "
            f"{whole.image_auroc - mean_goods:+6.3f} {outcome.fit_seconds:7.1f} "
            f"{outcome.predict_ms_per_image:7.1f} {ratio:6.2f}",
            flush=True,
        )
        if aware_model is None and scope == Scope.CATEGORY and models[0].method.goods_aware is not None:
            aware_model = models[0]
    if aware_model is not None:
        for where, (top1, top5) in identification(workspace, aware_model, category).items():
            print(f"goods id, {where}: top-1 {top1:.3f}  top-5 {top5:.3f}")
            figures[f"identify {where}"] = {"top1": top1, "top5": top5}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
