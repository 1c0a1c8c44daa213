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
from latentatlas.analysis.spread import koleo, nearest_neighbor_distances, sphere_stats, subsample_rows, uniformity
from latentatlas.report.analysis_report import figure_captions, make_figures
from latentatlas.report.figures import FIGURE_MAX, LEGEND_MAX, SCATTER_MAX


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


def test_sphere_stats_equal_the_two_separate_passes(rng):
    x = rng.normal(size=(150, 5))
    u, nn = sphere_stats(x, memory_budget=9_000)
    assert u == uniformity(x, memory_budget=9_000)
    np.testing.assert_array_equal(nn, nearest_neighbor_distances(x, memory_budget=9_000))


def test_large_sets_say_what_the_figures_draw_and_many_classes_stay_readable(rng):
    n, c = SCATTER_MAX + 1000, 70
    y = np.arange(n) % c
    x = (rng.normal(size=(c, 4))[y] + rng.normal(size=(n, 4))).astype(np.float32)
    a = analyze(x, y, metric="euclidean", queries=300, euclidean_sample=2_000, spread_sample=400)
    caps = figure_captions(a)
    assert f"Drawn: a seeded random {SCATTER_MAX:,} of the {n:,} points" in caps["pca_ellipses"]
    assert "subsample of 400 of the 6,000 embeddings" in caps["nn_distances"]
    assert f"sample of {a.distances.n_points:,} of the 6,000 embeddings" in caps["class_distances"]
    figs = make_figures(a)
    legend = figs["pca_ellipses"][0].axes[0].get_legend()
    assert len(legend.get_texts()) == LEGEND_MAX and legend.get_title().get_text() == "first 20 of 70 classes"
    heat = figs["class_distances"][0]
    assert len(heat.axes[0].get_xticklabels()) == 60 and max(heat.get_size_inches()) <= FIGURE_MAX
    small = analyze(x[:600], y[:600] % 5)
    small_caps = figure_captions(small)
    assert "Drawn" not in small_caps["pca_ellipses"] and "sample" not in small_caps["nn_distances"]
