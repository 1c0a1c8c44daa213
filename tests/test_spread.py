"""Spread metrics against double loops over pairs, numpy's SVD and scikit-learn's silhouette."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import silhouette_score

from latentatlas.analysis.spread import (
    alignment,
    effective_rank,
    koleo,
    koleo_by_batch,
    mean_norm,
    nearest_neighbor_distances,
    silhouette,
    spread_metrics,
    uniformity,
)
from latentatlas.errors import DataError


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_uniformity_and_alignment_match_loops(rng):
    x = rng.normal(size=(50, 4)) + 0.5
    u = unit(x)
    terms = [math.exp(-2.0 * float(((u[i] - u[j]) ** 2).sum())) for i in range(50) for j in range(i + 1, 50)]
    assert uniformity(x, memory_budget=10_000) == pytest.approx(math.log(np.mean(terms)), rel=1e-12)
    terms3 = [math.exp(-3.0 * float(((u[i] - u[j]) ** 2).sum())) for i in range(50) for j in range(i + 1, 50)]
    assert uniformity(torch.from_numpy(x), t=3.0) == pytest.approx(math.log(np.mean(terms3)), rel=1e-12)
    y = x + 0.3 * rng.normal(size=x.shape)
    uy = unit(y)
    ref = np.mean([np.linalg.norm(u[i] - uy[i]) ** 3 for i in range(50)])
    assert alignment(x, y, alpha=3) == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("normalize", [True, False])
def test_nearest_neighbours_and_koleo_match_double_loop(rng, normalize):
    x = rng.normal(size=(60, 5)) * 3 + 100.0  # far from the origin
    v = unit(x) if normalize else x
    ref = [min(math.dist(v[i], v[j]) for j in range(60) if j != i) for i in range(60)]
    got = nearest_neighbor_distances(x, normalize=normalize, memory_budget=20_000)
    np.testing.assert_allclose(got, ref, rtol=1e-7)
    if normalize:
        assert koleo(x) == pytest.approx(-np.mean(np.log(np.array(ref) + 1e-8)), rel=1e-7)
        scaled = x * rng.uniform(0.5, 2.0, size=(60, 1))
        assert koleo(scaled) == pytest.approx(koleo(x), rel=1e-9)  # KoLeo ignores per-row scale


def test_koleo_of_duplicates_uses_eps():
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert koleo(x, eps=1e-3) == pytest.approx(-(2 * math.log(1e-3) + math.log(math.sqrt(2) + 1e-3)) / 3)


def test_effective_rank_and_mean_norm(rng):
    x = rng.normal(size=(80, 6)) @ np.diag([5, 3, 1, 0.5, 0.1, 0.01]) + 2.0
    s = np.linalg.svd(x - x.mean(axis=0), compute_uv=False)
    p = s / s.sum()
    assert effective_rank(x) == pytest.approx(math.exp(-np.sum(p * np.log(p))), rel=1e-9)
    assert effective_rank(np.c_[rng.normal(size=(30, 1)), np.zeros((30, 3))]) == pytest.approx(1.0)
    assert effective_rank(rng.normal(size=(20000, 3))) == pytest.approx(3.0, abs=0.05)
    assert mean_norm(x) == pytest.approx(np.mean([np.linalg.norm(r) for r in x]), rel=1e-12)


def silhouette_loop(x: np.ndarray, labels: np.ndarray, metric: str) -> float:
    def dist(a, b):
        if metric == "cosine":
            return 1 - a @ b / math.sqrt((a @ a) * (b @ b))
        sq = float(((a - b) ** 2).sum())
        return sq if metric == "sqeuclidean" else math.sqrt(sq)

    out = []
    for i in range(len(x)):
        own = [dist(x[i], x[j]) for j in range(len(x)) if j != i and labels[j] == labels[i]]
        if not own:
            out.append(0.0)
            continue
        a = np.mean(own)
        b = min(
            np.mean([dist(x[i], x[j]) for j in range(len(x)) if labels[j] == c])
            for c in set(labels.tolist())
            if c != labels[i]
        )
        out.append((b - a) / max(a, b))
    return float(np.mean(out))


@pytest.mark.parametrize("metric", ["cosine", "sqeuclidean", "euclidean"])
def test_silhouette_matches_loop_and_sklearn(rng, metric):
    labels = rng.integers(0, 4, size=70) * 2 - 3
    labels[0] = 50  # single-member class: s = 0
    x = rng.normal(size=(70, 5)) + labels[:, None] * 0.4 + 3.0
    got = silhouette(x, labels, metric=metric, memory_budget=15_000)
    assert got == pytest.approx(silhouette_loop(x, labels, metric), rel=1e-9)
    assert got == pytest.approx(silhouette_score(x, labels, metric=metric), rel=1e-9)
    perm = rng.permutation(70)
    assert silhouette(x[perm], labels[perm], metric=metric) == pytest.approx(got, rel=1e-10)


def test_spread_metrics_subsamples_large_sets_and_says_so(rng):
    x = rng.normal(size=(300, 6))
    labels = rng.integers(0, 3, size=300)
    full = spread_metrics(x, labels, max_points=1000)
    assert not full["subsampled"] and full["n_subsample"] == 300
    assert full["koleo"] == pytest.approx(koleo(x), rel=1e-12)
    assert full["uniformity"] == pytest.approx(uniformity(x), rel=1e-12)
    assert full["silhouette"] == pytest.approx(silhouette(x, labels), rel=1e-12)
    assert sum(full["nn_hist_counts"]) == 300 and len(full["nn_hist_edges"]) == 31
    part = spread_metrics(x, labels, metric="euclidean", max_points=100, seed=3)
    again = spread_metrics(x, labels, metric="euclidean", max_points=100, seed=3)
    assert part["subsampled"] and part["n_subsample"] == 100 and part == again
    assert part["effective_rank"] == full["effective_rank"]  # O(N D^2): always on every row


def test_spread_metrics_single_class_gives_nan_silhouette(rng):
    out = spread_metrics(rng.normal(size=(40, 3)), np.full(40, 4))
    assert math.isnan(out["silhouette"]) and out["silhouette_metric"] == "cosine"


def test_bad_inputs_raise(rng):
    with pytest.raises(DataError, match="silhouette needs 2..N-1 classes, got 1"):
        silhouette(rng.normal(size=(5, 2)), np.zeros(5, dtype=int))
    with pytest.raises(DataError, match="cannot be L2-normalized"):
        koleo(np.zeros((3, 2)))
    with pytest.raises(DataError, match=r"alignment: shapes \(3, 2\) and \(4, 2\) differ"):
        alignment(rng.normal(size=(3, 2)), rng.normal(size=(4, 2)))


def _koleo_loop(x: np.ndarray) -> float:
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    nn = [min(np.linalg.norm(x[i] - x[j]) for j in range(len(x)) if j != i) for i in range(len(x))]
    return float(-np.mean(np.log(np.array(nn) + 1e-8)))


def test_koleo_by_batch_matches_loops_on_the_same_draws(rng):
    x = rng.normal(size=(40, 6))
    out = koleo_by_batch(x, batch=24, parts=4, n_batches=3, seed=7)
    gen = torch.Generator().manual_seed(7)  # the documented draw: randperm(N)[:batch] per batch
    whole, micro = [], []
    for _ in range(3):
        rows = x[torch.randperm(40, generator=gen)[:24].numpy()]
        whole.append(_koleo_loop(rows))
        micro.append(np.mean([_koleo_loop(rows[k * 6 : (k + 1) * 6]) for k in range(4)]))
    assert out["whole"] == pytest.approx(np.mean(whole), rel=1e-9)
    assert out["micro"] == pytest.approx(np.mean(micro), rel=1e-9)
    assert out["whole_std"] == pytest.approx(np.std(whole, ddof=1), rel=1e-9)


def test_koleo_by_batch_micro_never_exceeds_whole_and_equals_it_for_one_part(rng):
    x = rng.normal(size=(300, 16))
    one = koleo_by_batch(x, batch=300, parts=1, n_batches=1)
    assert one["whole"] == one["micro"] == pytest.approx(_koleo_loop(x), rel=1e-9)
    for parts in (2, 4, 8):
        out = koleo_by_batch(x, batch=192, parts=parts, n_batches=20, seed=parts)
        assert out["micro"] < out["whole"]  # fewer neighbours are farther: the micro-batch loss reads lower


def test_koleo_by_batch_refuses_bad_sizes(rng):
    x = rng.normal(size=(10, 3))
    for batch, parts, match in ((12, 2, "> 10 embeddings"), (9, 2, "multiple of parts"), (4, 4, ">= 2 rows")):
        with pytest.raises(DataError, match=match):
            koleo_by_batch(x, batch=batch, parts=parts)
