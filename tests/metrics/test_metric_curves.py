"""Ranking metrics: hand-computed cases, scikit-learn's conventions, and invariants (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goodsad_studio.metrics import auroc, average_precision, f1_max, pr_curve, rank_counts, roc_curve
from goodsad_studio.metrics.curves import rank_counts_from_groups

# Small score/label samples with both classes present; scores from a small set so ties are common.
samples = (
    st.integers(2, 40)
    .flatmap(
        lambda n: st.tuples(
            st.lists(st.sampled_from([-2.0, -0.5, 0.0, 0.25, 0.5, 1.0, 3.0, 7.5]), min_size=n, max_size=n),
            st.lists(st.booleans(), min_size=n, max_size=n),
        )
    )
    .filter(lambda s: 0 < sum(s[1]) < len(s[1]))
)


def mann_whitney_auroc(scores, labels) -> float:
    """AUROC as the probability that a random positive outranks a random negative (ties count one half)."""
    pos = [s for s, y in zip(scores, labels, strict=False) if y]
    neg = [s for s, y in zip(scores, labels, strict=False) if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def reference_average_precision(scores, labels) -> float:
    """sum over distinct thresholds (descending) of (recall gain) x precision, by counting at each threshold."""
    n_pos = sum(labels)
    total, previous_recall = 0.0, 0.0
    for t in sorted(set(scores), reverse=True):
        predicted = [y for s, y in zip(scores, labels, strict=False) if s >= t]
        recall = sum(predicted) / n_pos
        total += (recall - previous_recall) * sum(predicted) / len(predicted)
        previous_recall = recall
    return total


def test_scikit_learn_documentation_example():
    # roc_auc_score / average_precision_score doc example: 0.75 and 0.8333...
    labels = [0, 0, 1, 1]
    scores = [0.1, 0.4, 0.35, 0.8]
    assert auroc(scores, labels) == pytest.approx(0.75)
    assert average_precision(scores, labels) == pytest.approx(0.8333333333)
    fpr, tpr, thresholds = roc_curve(scores, labels)
    assert fpr.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert tpr.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert thresholds[0] == math.inf and thresholds[1:].tolist() == [0.8, 0.4, 0.35, 0.1]


def test_f1_max_by_hand():
    # thresholds 0.8: P=1 R=.5 F1=.667; 0.4: P=.5 R=.5; 0.35: P=2/3 R=1 F1=.8; 0.1: P=.5 R=1
    best, threshold = f1_max([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    assert best == pytest.approx(0.8)
    assert threshold == 0.35


def test_ties_count_half_and_all_equal_scores_give_one_half():
    assert auroc([1.0, 1.0, 1.0, 1.0], [0, 1, 0, 1]) == 0.5
    # one positive tied with one of two negatives, above the other: (1 + 0.5) / 2
    assert auroc([0.5, 0.5, 0.1], [1, 0, 0]) == pytest.approx(0.75)
    precision, recall, thresholds = pr_curve([0.5, 0.5, 0.1], [1, 0, 0])
    assert thresholds.tolist() == [0.5, 0.1]
    assert precision.tolist() == [0.5, pytest.approx(1 / 3)]
    assert recall.tolist() == [1.0, 1.0]


def test_undefined_metrics_are_nan_not_errors():
    assert math.isnan(auroc([0.1, 0.2], [0, 0]))
    assert math.isnan(auroc([0.1, 0.2], [1, 1]))
    assert math.isnan(average_precision([0.1, 0.2], [0, 0]))
    assert all(math.isnan(v) for v in f1_max([0.1, 0.2], [0, 0]))
    assert math.isnan(auroc([], []))


def test_bad_input_is_refused_clearly():
    with pytest.raises(ValueError, match="non-finite"):
        auroc([0.1, float("nan")], [0, 1])
    with pytest.raises(ValueError, match="binary"):
        auroc([0.1, 0.2], [0, 2])
    with pytest.raises(ValueError, match="differ in length"):
        auroc([0.1, 0.2, 0.3], [0, 1])


@settings(max_examples=60, deadline=None)
@given(samples)
def test_auroc_is_the_mann_whitney_probability(sample):
    scores, labels = sample
    value = auroc(scores, labels)
    assert 0.0 <= value <= 1.0
    assert value == pytest.approx(mann_whitney_auroc(scores, labels), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(samples)
def test_average_precision_matches_the_definition(sample):
    scores, labels = sample
    value = average_precision(scores, labels)
    assert 0.0 < value <= 1.0
    assert value == pytest.approx(reference_average_precision(scores, labels), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(samples, st.sampled_from(["exp", "affine", "cube"]))
def test_metrics_ignore_strictly_increasing_transforms(sample, transform):
    scores, labels = sample
    scores = np.asarray(scores)
    moved = {"exp": np.exp(scores), "affine": 3.0 * scores - 11.0, "cube": scores**3}[transform]
    assert auroc(moved, labels) == pytest.approx(auroc(scores, labels), abs=1e-12)
    assert average_precision(moved, labels) == pytest.approx(average_precision(scores, labels), abs=1e-12)
    assert f1_max(moved, labels)[0] == pytest.approx(f1_max(scores, labels)[0], abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 20), st.integers(1, 20), st.floats(-5, 5), st.floats(0.01, 5))
def test_perfect_and_reversed_rankings(n_pos, n_neg, low, gap):
    scores = np.concatenate([np.linspace(low + gap, low + 2 * gap, n_pos), np.linspace(low - gap, low, n_neg)])
    labels = np.array([True] * n_pos + [False] * n_neg)
    assert auroc(scores, labels) == 1.0
    assert average_precision(scores, labels) == 1.0
    best, threshold = f1_max(scores, labels)
    assert best == 1.0 and threshold == pytest.approx(low + gap)
    assert auroc(-scores, labels) == 0.0


@settings(max_examples=40, deadline=None)
@given(samples)
def test_counts_from_separate_groups_equal_counts_from_labels(sample):
    scores, labels = sample
    scores, labels = np.asarray(scores), np.asarray(labels)
    a = rank_counts(scores, labels)
    b = rank_counts_from_groups(scores[labels], scores[~labels])
    assert a.thresholds.tolist() == b.thresholds.tolist()
    assert a.tp.tolist() == b.tp.tolist() and a.fp.tolist() == b.fp.tolist()
