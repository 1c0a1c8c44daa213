"""retrieval_metrics against pytorch-metric-learning's AccuracyCalculator and a plain per-query loop."""

from __future__ import annotations

import logging
import math
from collections import Counter

import numpy as np
import pytest
import torch
from pytorch_metric_learning.distances import CosineSimilarity, LpDistance
from pytorch_metric_learning.utils.accuracy_calculator import AccuracyCalculator
from pytorch_metric_learning.utils.inference import CustomKNN

from latentatlas.analysis.retrieval import retrieval_metrics
from latentatlas.errors import ConfigError, DataError

PML_KEYS = ("precision_at_1", "r_precision", "mean_average_precision_at_r")


def clustered(rng: np.random.Generator, n: int = 160, d: int = 8, c: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping clusters of unequal sizes, plus one single-member ("lone") class."""
    probs = rng.dirichlet(np.ones(c) * 2)
    labels = rng.choice(np.arange(c) * 3 + 10, size=n, p=probs)
    labels[:c] = np.arange(c) * 3 + 10  # every class present
    labels[-1] = 1000  # a lone query, left out of every metric
    centers = rng.normal(size=(1001, d)) * 1.2
    x = centers[labels] + rng.normal(size=(n, d))
    return x.astype(np.float32), labels


def pml(x: np.ndarray, labels: np.ndarray, metric: str) -> dict[str, float]:
    distance = CosineSimilarity() if metric == "cosine" else LpDistance(normalize_embeddings=False)
    calc = AccuracyCalculator(
        include=PML_KEYS, k="max_bin_count", device=torch.device("cpu"), knn_func=CustomKNN(distance)
    )
    return calc.get_accuracy(torch.from_numpy(x), torch.from_numpy(labels))


def brute_force(x: np.ndarray, labels: np.ndarray, metric: str, ks: tuple[int, ...], knn_k: int) -> dict:
    x = x.astype(np.float64)
    rows = []
    for q in range(len(x)):
        r = int(np.sum(labels == labels[q])) - 1
        if r == 0:
            continue
        others = [j for j in range(len(x)) if j != q]
        if metric == "cosine":
            key = [-(x[q] @ x[j]) / math.sqrt((x[q] @ x[q]) * (x[j] @ x[j])) for j in others]
        else:
            key = [math.dist(x[q], x[j]) for j in others]
        ranked = [labels[j] == labels[q] for _, j in sorted(zip(key, others))]
        hits, ap = 0, 0.0
        for j in range(r):
            if ranked[j]:
                hits += 1
                ap += hits / (j + 1)
        nearest = [labels[others[i]] for i in np.argsort(key, kind="stable")[:knn_k]]
        votes = Counter(nearest)
        best = max(votes.values())
        vote = next(lab for lab in nearest if votes[lab] == best)  # tie -> class met first (nearest)
        row = [ranked[0], hits / r, ap / r, vote == labels[q]] + [any(ranked[:kv]) for kv in ks]
        rows.append(row)
    mean = np.mean(np.array(rows, dtype=float), axis=0)
    names = list(PML_KEYS) + ["knn_accuracy"] + [f"recall_at_{kv}" for kv in ks]
    return dict(zip(names, mean.tolist()))


def without_near_ties(rng: np.random.Generator, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Clustered data whose rankings float32 (PML) and float64 (ours) must agree on: in every row, the sorted
    scores differ by more than 1e-6 relative, far above float32 rounding. Redraws until so."""
    for _ in range(100):
        x, labels = clustered(rng, n=100)
        v = x.astype(np.float64)
        if metric == "cosine":
            v = v / np.linalg.norm(v, axis=1, keepdims=True)
            scores = v @ v.T
        else:
            scores = np.sqrt(((v[:, None, :] - v[None, :, :]) ** 2).sum(-1))
        gaps = np.diff(np.sort(scores, axis=1), axis=1)
        if gaps.min() > 1e-6 * np.abs(scores).max():
            return x, labels
    raise AssertionError("could not draw tie-free data")


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_equals_pml_accuracy_calculator(rng, metric, caplog):
    x, labels = without_near_ties(rng, metric)
    caplog.set_level(logging.WARNING)
    ref = pml(x, labels, metric)
    got = retrieval_metrics(x, labels, metric=metric, block_size=37)  # ragged blocks on purpose
    for key in PML_KEYS:
        assert got[key] == pytest.approx(ref[key], abs=1e-6), key
    lone = sum(int(np.sum(labels == lab) == 1) for lab in labels)
    assert lone >= 1 and got["n_lone_queries"] == lone and got["n_queries"] == len(x) - lone


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_equals_per_query_loop(rng, metric):
    x, labels = clustered(rng, n=90)
    ks = (1, 3, 8)
    ref = brute_force(x, labels, metric, ks, knn_k=7)
    got = retrieval_metrics(
        torch.from_numpy(x), labels, metric=metric, k=ks, knn_k=7, block_size=16, dtype=torch.float64
    )
    for key, value in ref.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key
    single = retrieval_metrics(x, labels, metric=metric, k=3, knn_k=7, dtype=torch.float64)  # int k, default blocks
    assert single["recall_at_3"] == pytest.approx(ref["recall_at_3"], abs=1e-12)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_float32_equals_loop_without_near_ties(rng, metric):
    # Float32 ranks like float64 when no two scores of a row are closer than float32 rounding.
    x, labels = without_near_ties(rng, metric)
    ref = brute_force(x, labels, metric, (1, 4), knn_k=5)
    got = retrieval_metrics(x, labels, metric=metric, k=(1, 4), knn_k=5, block_size=23)
    for key, value in ref.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key


def test_classes_of_very_different_sizes(rng):
    # Blocks mix classes with R from 1 to ~100, so each row needs its own R inside a block's common depth.
    sizes = [2, 3, 120, 7, 40, 1]
    labels = np.repeat(np.arange(len(sizes)) * 7, sizes)
    rng.shuffle(labels)
    x = (rng.normal(size=(len(sizes) * 7, 6))[labels] * 0.8 + rng.normal(size=(len(labels), 6))).astype(np.float32)
    ref = brute_force(x, labels, "cosine", (1, 2), knn_k=3)
    for block in (5, 64, None):
        got = retrieval_metrics(x, labels, k=(1, 2), knn_k=3, block_size=block, dtype=torch.float64)
        for key, value in ref.items():
            assert got[key] == pytest.approx(value, abs=1e-12), (key, block)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_ties_are_ordered_by_index(rng, dtype):
    # Small integer points: squared distances are exact integers whatever the summation order, so many
    # scores tie exactly (pairs, long runs, runs across the R-th position, duplicated points). With the
    # points and their negatives the mean is exactly 0, so centring keeps them integers. The reference is a
    # stable sort (equal distances in index order), the convention retrieval_metrics promises.
    half = rng.integers(-2, 3, size=(45, 3))
    x = np.concatenate([half, -half]).astype(np.float32 if dtype == torch.float32 else np.float64)
    labels = rng.integers(0, 4, size=len(x))
    ref = brute_force(x, labels, "euclidean", (1, 3), knn_k=5)
    got = retrieval_metrics(x, labels, metric="euclidean", k=(1, 3), knn_k=5, block_size=17, dtype=dtype)
    for key, value in ref.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key


def test_all_points_identical_ranks_by_index(rng):
    # Every score ties: the neighbours of query q are the other points in index order.
    labels = rng.integers(0, 3, size=30)
    x = np.ones((30, 4), dtype=np.float32)
    ref = brute_force(x, labels, "euclidean", (1, 2), knn_k=3)
    got = retrieval_metrics(x, labels, metric="euclidean", k=(1, 2), knn_k=3, block_size=7)
    for key, value in ref.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key


def test_knn_tie_goes_to_the_class_with_the_nearest_member():
    # Query 0 at the origin; neighbours at distances 1 (class 1), 2 (class 2), 3 (class 2), 4 (class 1), 10.
    # The mean is 0, so float32 scores are exact and the other rows' ties (query 1: points 0 and 2) are real
    # ties, as in the float64 brute force (with a mean of 10/6 their rounding depended on the CPU's kernels).
    x = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0], [-10.0, 0.0]])
    labels = np.array([1, 1, 2, 2, 1, 1])
    got = retrieval_metrics(x, labels, metric="euclidean", k=(1,), knn_k=4, block_size=1)
    ref = brute_force(x, labels, "euclidean", (1,), knn_k=4)
    assert got["knn_accuracy"] == pytest.approx(ref["knn_accuracy"])


def test_invariances(rng):
    x, labels = clustered(rng, n=100)
    base = retrieval_metrics(x.astype(np.float64), labels)
    perm = rng.permutation(len(x))
    scaled = x.astype(np.float64) * rng.uniform(0.1, 10.0, size=(len(x), 1))
    for xs, ls in ((x[perm].astype(np.float64), labels[perm]), (scaled, labels)):
        other = retrieval_metrics(xs, ls)
        for key in base:
            assert other[key] == pytest.approx(base[key], abs=1e-12), key
    shifted = retrieval_metrics(x.astype(np.float64) + 300.0, labels, metric="euclidean")
    ref = retrieval_metrics(x.astype(np.float64), labels, metric="euclidean")
    assert shifted == pytest.approx(ref, abs=1e-12)


def test_bad_inputs_raise(rng):
    x, labels = clustered(rng, n=30)
    with pytest.raises(ConfigError, match="metric: 'sqeuclidean' is not supported for retrieval"):
        retrieval_metrics(x, labels, metric="sqeuclidean")
    with pytest.raises(ConfigError, match=r"k: 30 is outside 1\.\.29"):
        retrieval_metrics(x, labels, k=(1, 30))
    with pytest.raises(ConfigError, match=r"knn_k: 0 is outside"):
        retrieval_metrics(x, labels, knn_k=0)
    with pytest.raises(ConfigError, match="dtype: torch.float16 is not supported for retrieval"):
        retrieval_metrics(x, labels, dtype=torch.float16)
    with pytest.raises(DataError, match="every class has a single member"):
        retrieval_metrics(x[:5], np.arange(5), k=(1,), knn_k=1)
