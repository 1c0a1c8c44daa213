"""`analyze` above its sample thresholds (the million-vector path, checked at small N): the euclidean class matrix
and the O(N^2) spread metrics run on their documented seeded samples and equal brute force on those same rows;
cosine stays exact on every row."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from latentatlas.analysis.analyze import analyze
from latentatlas.analysis.distances import class_sample
from latentatlas.analysis.spread import koleo, subsample_rows, uniformity


def data(rng, n=400, sizes=(150, 120, 80, 40, 7, 3), d=6):
    y = np.repeat(np.arange(len(sizes)), sizes)
    y = np.concatenate([y, rng.integers(0, len(sizes), n - len(y))])
    rng.shuffle(y)
    x = (rng.normal(size=(len(sizes), d))[y] * 2 + rng.normal(size=(n, d))).astype(np.float32)
    return x, y


def brute_class_means(x: np.ndarray, y: np.ndarray, c: int) -> np.ndarray:
    d = cdist(x.astype(np.float64), x.astype(np.float64))
    out = np.zeros((c, c))
    for i in range(c):
        for j in range(c):
            block = d[np.ix_(y == i, y == j)]
            out[i, j] = block[~np.eye(*block.shape, dtype=bool)].mean() if i == j else block.mean()
    return out


def test_class_sample_is_stratified_seeded_and_keeps_a_pair_per_class(rng):
    _, y = data(rng)
    rows = class_sample(y, 60, seed=5)
    assert np.array_equal(rows, class_sample(y, 60, seed=5)) and not np.array_equal(rows, class_sample(y, 60, 6))
    assert np.all(np.diff(rows) > 0) and len(set(rows)) == len(rows)
    got = np.bincount(y[rows], minlength=6)
    want = np.minimum(np.bincount(y), np.maximum(2, np.rint(np.bincount(y) * 60 / len(y))))
    assert np.array_equal(got, want) and got.min() >= 2


def test_euclidean_above_the_sample_equals_brute_force_on_that_sample(rng):
    x, y = data(rng)
    a = analyze(x, y, metric="euclidean", euclidean_sample=80, spread_sample=90, seed=2)
    rows = class_sample(y, 80, seed=2)
    d = a.to_dict()["distances"]
    assert d["sampled"] is True and d["n_points"] == len(rows) and d["counts"] == np.bincount(y).tolist()
    np.testing.assert_allclose(a.distances.matrix, brute_class_means(x[rows], y[rows], 6), rtol=1e-10)
    pick = subsample_rows(len(x), 90, seed=0).numpy()
    s = a.spread
    assert s["n_subsample"] == 90 and s["subsampled"] and s["silhouette_rows"] == 90
    assert s["koleo"] == pytest.approx(koleo(x[pick]), rel=1e-10)
    assert s["uniformity"] == pytest.approx(uniformity(x[pick]), rel=1e-10)
    full = analyze(x, y, metric="euclidean")  # below the threshold: exact on every pair
    assert full.to_dict()["distances"]["sampled"] is False and full.to_dict()["distances"]["n_points"] == len(x)
    np.testing.assert_allclose(full.distances.matrix, brute_class_means(x, y, 6), rtol=1e-10)


def test_cosine_class_matrix_and_silhouette_stay_exact_on_every_row(rng):
    x, y = data(rng)
    a = analyze(x, y, euclidean_sample=50, spread_sample=60)
    assert a.to_dict()["distances"]["sampled"] is False and a.spread["silhouette_rows"] == len(x)
    u = x.astype(np.float64) / np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)
    cos = 1.0 - u @ u.T
    for i in range(6):
        block = cos[np.ix_(y == i, y == i)]
        assert a.distances.matrix[i, i] == pytest.approx(block[~np.eye(len(block), dtype=bool)].mean(), rel=1e-9)
    assert torch.equal(subsample_rows(10, 20), torch.arange(10))
