"""The pixel accumulator: exact and binned modes agree, binned errors stay within their reported bounds, and the
bins follow score ranges that are not known in advance."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from goodsad_studio.errors import MaskError, StudioError
from goodsad_studio.metrics import PixelAccumulator
from goodsad_studio.metrics.binning import AdaptiveHistogram
from goodsad_studio.metrics.curves import auroc_from_counts, average_precision_from_counts
from goodsad_studio.metrics.pro import aupro_from_counts


def blob_images(seed: int, n: int = 6, size: int = 40, shift: float = 0.0, scale: float = 1.0):
    """Maps of noise with brighter blobs where the mask has defects (about half the images are good)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        mask = np.zeros((size, size), bool)
        if i % 2:
            for _ in range(rng.integers(1, 4)):
                y, x = rng.integers(0, size - 6, 2)
                mask[y : y + rng.integers(1, 7), x : x + rng.integers(1, 7)] = True
        scores = rng.normal(0.0, 1.0, (size, size)) + 1.5 * mask + 0.5 * rng.normal(0.0, 1.0, (size, size)) * mask
        out.append(((scores * scale + shift).astype(np.float32), mask))
    return out


def metrics(accumulator: PixelAccumulator) -> dict[str, float]:
    counts = accumulator.counts()
    return {
        "pixel_auroc": auroc_from_counts(counts),
        "pixel_aupr": average_precision_from_counts(counts),
        "pro": aupro_from_counts(counts),
    }


def feed(accumulator: PixelAccumulator, images) -> PixelAccumulator:
    for scores, mask in images:
        accumulator.update(scores, mask)
    return accumulator


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binned_metrics_agree_with_exact_to_1e_3_and_within_their_bound(seed):
    images = blob_images(seed)
    exact = feed(PixelAccumulator(mode="exact"), images)
    binned = feed(PixelAccumulator(mode="binned"), images)
    assert exact.mode == "exact" and binned.mode == "binned"
    bounds = binned.error_bounds()
    for name, value in metrics(exact).items():
        error = abs(metrics(binned)[name] - value)
        assert error <= 1e-3
        assert error <= bounds[name] + 1e-12
        assert bounds[name] <= 1e-3
    assert exact.error_bounds() == {"pixel_auroc": 0.0, "pixel_aupr": 0.0, "pro": 0.0}


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([16, 64, 256]), st.sampled_from(["normal", "heavy_tail"]))
def test_binned_error_never_exceeds_the_reported_bound(seed, n_bins, distribution):
    images = blob_images(seed, n=4, size=12)
    if distribution == "heavy_tail":  # most pixels crowd into a few bins
        images = [(np.exp(3.0 * s).astype(np.float32), k) for s, k in images]
    assume(any(k.any() for _, k in images))
    exact = metrics(feed(PixelAccumulator(mode="exact"), images))
    binned_accumulator = feed(PixelAccumulator(mode="binned", n_bins=n_bins), images)
    binned, bounds = metrics(binned_accumulator), binned_accumulator.error_bounds()
    for name in exact:
        assert abs(binned[name] - exact[name]) <= bounds[name] + 1e-9


def test_auto_mode_switches_to_bins_past_the_limit_and_keeps_earlier_images():
    images = blob_images(3, n=8)
    auto = PixelAccumulator(exact_limit=3 * 40 * 40)
    for k, (scores, mask) in enumerate(images):
        auto.update(scores, mask)
        assert auto.mode == ("exact" if k < 3 else "binned")
    exact = feed(PixelAccumulator(mode="exact"), images)
    assert (auto.n_pixels, auto.n_anomalous_pixels, auto.n_regions) == (
        exact.n_pixels,
        exact.n_anomalous_pixels,
        exact.n_regions,
    )
    assert auto.counts().n_pos == exact.counts().n_pos and auto.counts().n_neg == exact.counts().n_neg
    for name, value in metrics(exact).items():
        assert metrics(auto)[name] == pytest.approx(value, abs=1e-4)


def test_bins_grow_to_cover_scores_far_outside_the_first_range():
    # Images arrive with score ranges of very different places and widths: binned counts at each bin edge must
    # still equal the exact number of pixels at or above that edge.
    parts = (
        blob_images(4, n=2)
        + blob_images(5, n=2, shift=50.0, scale=10.0)
        + blob_images(6, n=2, shift=-1e4, scale=0.01)
        + blob_images(7, n=2, shift=3.0)
    )
    histogram = AdaptiveHistogram(n_bins=1024)
    for scores, mask in parts:
        histogram.add(scores, mask)
    counts = histogram.counts()
    pos = np.concatenate([s[k] for s, k in parts]).astype(np.float64)
    neg = np.concatenate([s[~k] for s, k in parts]).astype(np.float64)
    assert counts.n_pos == pos.size and counts.n_neg == neg.size
    expected_tp = [(pos >= t).sum() for t in counts.thresholds]
    expected_fp = [(neg >= t).sum() for t in counts.thresholds]
    assert counts.tp.tolist() == expected_tp
    assert counts.fp.tolist() == expected_fp
    assert counts.thresholds[0] <= max(pos.max(), neg.max()) and counts.thresholds[-1] <= min(pos.min(), neg.min())


def test_a_constant_first_map_does_not_break_the_bins():
    histogram = AdaptiveHistogram(n_bins=64)
    histogram.add(np.zeros((4, 4)))
    histogram.add(np.linspace(-1e6, 1e6, 100))
    counts = histogram.counts()
    assert counts.n_neg == 116 and counts.fp[-1] == 116
    assert 2e6 / 64 <= histogram.bin_width <= 4 * 2e6 / 64


def test_good_images_need_their_size_under_the_native_protocol():
    accumulator = PixelAccumulator()
    with pytest.raises(StudioError, match="image size"):
        accumulator.update(np.zeros((8, 8), np.float32), None, name="good/001.png")
    accumulator.update(np.zeros((8, 8), np.float32), None, image_shape=(32, 24))
    assert accumulator.n_pixels == 32 * 24 and accumulator.n_anomalous_pixels == 0


def test_non_binary_masks_are_refused_with_the_name():
    mask = np.zeros((8, 8), np.uint8)
    mask[2:4, 2:4] = 128
    with pytest.raises(MaskError, match="not binary") as error:
        PixelAccumulator().update(np.zeros((8, 8), np.float32), mask, name="ground_truth/crack/003_mask.png")
    assert "003_mask.png" in str(error.value)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="mode"):
        PixelAccumulator(mode="fast")
    with pytest.raises(ValueError, match="protocol"):
        PixelAccumulator(protocol="256")
    with pytest.raises(ValueError, match="n_bins"):
        AdaptiveHistogram(n_bins=15)
    with pytest.raises(ValueError, match="score_range"):
        AdaptiveHistogram(score_range=(1.0, 1.0))
