"""class_distance_matrix against a plain double loop over all pairs, for every metric and self-pair choice."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from latentatlas.analysis.distances import class_distance_matrix
from latentatlas.errors import ConfigError, DataError


def _dist(a: np.ndarray, b: np.ndarray, metric: str) -> float:
    if metric == "cosine":
        return 1.0 - float(a @ b) / math.sqrt(float(a @ a) * float(b @ b))
    sq = float(((a - b) ** 2).sum())
    return sq if metric == "sqeuclidean" else math.sqrt(sq)


def brute_force(x: np.ndarray, labels: np.ndarray, metric: str, exclude_self: bool) -> np.ndarray:
    classes = sorted(set(labels.tolist()))
    total = np.zeros((len(classes), len(classes)))
    count = np.zeros((len(classes), len(classes)))
    for a in range(len(x)):
        for b in range(len(x)):
            if exclude_self and a == b:
                continue
            i, j = classes.index(labels[a]), classes.index(labels[b])
            total[i, j] += 0.0 if a == b else _dist(x[a], x[b], metric)
            count[i, j] += 1
    with np.errstate(invalid="ignore"):
        return total / count


def clustered(rng: np.random.Generator, n: int = 70, d: int = 6, c: int = 4) -> tuple[np.ndarray, np.ndarray]:
    labels = rng.integers(-3, -3 + c, size=n) * 7  # arbitrary, negative, non-contiguous labels
    centers = rng.normal(size=(c, d)) * 2
    x = centers[(labels // 7) + 3] + rng.normal(size=(n, d)) + 5.0  # offset: far from the origin
    return x.astype(np.float32), labels


@pytest.mark.parametrize("metric", ["cosine", "sqeuclidean", "euclidean"])
@pytest.mark.parametrize("exclude_self", [True, False])
def test_matches_brute_force(rng, metric, exclude_self):
    x, labels = clustered(rng)
    ref = brute_force(x.astype(np.float64), labels, metric, exclude_self)
    # A small memory budget forces many euclidean blocks, including a ragged last one.
    got = class_distance_matrix(x, labels, metric=metric, exclude_self=exclude_self, memory_budget=20_000)
    np.testing.assert_allclose(got.matrix, ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(got.classes, np.unique(labels))
    np.testing.assert_array_equal(got.counts, [np.sum(labels == c) for c in np.unique(labels)])
    off = ~np.eye(len(ref), dtype=bool)
    assert got.intra_mean == pytest.approx(np.diag(ref).mean(), rel=1e-10)
    assert got.intra_std == pytest.approx(np.diag(ref).std(), rel=1e-8)
    assert got.inter_mean == pytest.approx(ref[off].mean(), rel=1e-10)
    assert got.inter_std == pytest.approx(ref[off].std(), rel=1e-8)
    assert got.margin == pytest.approx(ref[off].mean() - np.diag(ref).mean(), rel=1e-9, abs=1e-12)


def test_including_self_pairs_lowers_the_diagonal_only(rng):
    x, labels = clustered(rng)
    without = class_distance_matrix(x, labels, exclude_self=True).matrix
    with_self = class_distance_matrix(x, labels, exclude_self=False).matrix
    n = np.array([np.sum(labels == c) for c in np.unique(labels)])
    # mean over n^2 pairs with n zero self-distances = mean over n (n - 1) pairs * (n - 1) / n
    np.testing.assert_allclose(np.diag(with_self), np.diag(without) * (n - 1) / n, rtol=1e-12)
    off = ~np.eye(len(n), dtype=bool)
    np.testing.assert_allclose(with_self[off], without[off], rtol=1e-12)


@pytest.mark.parametrize("metric", ["cosine", "sqeuclidean", "euclidean"])
def test_row_permutation_and_torch_input_change_nothing(rng, metric):
    x, labels = clustered(rng)
    perm = rng.permutation(len(x))
    a = class_distance_matrix(x, labels, metric=metric).matrix
    b = class_distance_matrix(torch.from_numpy(x[perm]), torch.from_numpy(labels[perm]), metric=metric).matrix
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_cosine_ignores_row_scale(rng):
    x, labels = clustered(rng)
    x = x.astype(np.float64)
    a = class_distance_matrix(x, labels).matrix
    b = class_distance_matrix(x * rng.uniform(0.01, 100.0, size=(len(x), 1)), labels).matrix
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_euclidean_is_translation_invariant_far_from_origin(rng):
    # Far from the origin the naive ||a||^2 + ||b||^2 - 2ab loses digits; centering must keep it exact.
    x, labels = clustered(rng, n=40)
    ref = brute_force(x.astype(np.float64), labels, "euclidean", True)
    got = class_distance_matrix(x.astype(np.float64) + 1e5, labels, metric="euclidean").matrix
    np.testing.assert_allclose(got, ref, rtol=1e-7)


def test_single_member_class_gives_nan_diagonal_with_warning(rng):
    x, labels = clustered(rng, n=30, c=3)
    labels[0] = 99  # a class with exactly one member
    with pytest.warns(UserWarning, match=r"classes \[99\] have a single member"):
        got = class_distance_matrix(x, labels, metric="euclidean")
    assert np.isnan(got.matrix[-1, -1])
    assert np.isfinite(np.delete(np.diag(got.matrix), -1)).all()
    ref = brute_force(x.astype(np.float64), labels, "euclidean", True)
    assert got.intra_mean == pytest.approx(np.nanmean(np.diag(ref)), rel=1e-10)
    assert np.isfinite(got.matrix[-1, :-1]).all()
    d = got.to_dict()
    assert d["classes"][-1] == 99 and math.isnan(d["matrix"][-1][-1])


def test_bad_inputs_raise_one_line_errors(rng):
    x, labels = clustered(rng, n=20)
    with pytest.raises(ConfigError, match="metric: 'l1' is not supported; use one of cosine"):
        class_distance_matrix(x, labels, metric="l1")
    with pytest.raises(DataError, match=r"labels: shape \(19,\) does not match \(20,\)"):
        class_distance_matrix(x, labels[:19])
    with pytest.raises(DataError, match="labels: dtype .* is not integer"):
        class_distance_matrix(x, labels.astype(float))
    with pytest.raises(DataError, match="labels: dtype <U.* is not integer"):
        class_distance_matrix(x, labels.astype(str))
    with pytest.raises(DataError, match=r"embeddings: shape \(20,\) is not \(N, D\)"):
        class_distance_matrix(x[:, 0], labels)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(DataError, match="embeddings: contains NaN or inf"):
        class_distance_matrix(bad, labels)
    bad = x.copy()
    bad[3] = 0
    with pytest.raises(DataError, match="rows are all zeros, so cosine is undefined"):
        class_distance_matrix(bad, labels)
