"""knn, top_k_by_index and rank_keys against NumPy brute force, ties included."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentatlas.analysis.neighbours import knn, top_k_by_index
from latentatlas.analysis.rank_keys import key_columns, rank_keys
from latentatlas.errors import ConfigError, DataError


def grid_points(rng: np.random.Generator, n: int, d: int = 3) -> np.ndarray:
    """Small integers and their negatives: exact float32 scores (euclidean, mean exactly 0), many exact ties."""
    half = rng.integers(-2, 3, size=(n // 2, d))
    return np.concatenate([half, -half]).astype(np.float32)


def signs(rng: np.random.Generator, n: int, d: int = 6) -> np.ndarray:
    """Rows with four entries +-1 and the rest 0: norm 2, so unit rows and cosines are exact in float32."""
    x = np.zeros((n, d), dtype=np.float32)
    for i in range(n):
        x[i, rng.choice(d, 4, replace=False)] = rng.choice([-1.0, 1.0], 4)
    return x


def brute_knn(q: np.ndarray, ref: np.ndarray, k: int, metric: str, exclude_self: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per query: sort (distance, index) in float64 and take the first k."""
    q, ref = q.astype(np.float64), ref.astype(np.float64)
    if metric == "cosine":
        qn = q / np.linalg.norm(q, axis=1, keepdims=True)
        rn = ref / np.linalg.norm(ref, axis=1, keepdims=True)
        dist = 1.0 - qn @ rn.T
    else:
        dist = np.sqrt(((q[:, None, :] - ref[None, :, :]) ** 2).sum(-1))
    idx, dd = [], []
    for i in range(len(q)):
        cols = [j for j in range(len(ref)) if not (exclude_self and j == i)]
        order = sorted(cols, key=lambda j: (dist[i, j], j))[:k]
        idx.append(order)
        dd.append(dist[i, order])
    return np.array(idx), np.array(dd)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("exclude_self", [False, True])
def test_knn_equals_brute_force_with_ties(rng, metric, exclude_self):
    x = signs(rng, 80) if metric == "cosine" else grid_points(rng, 80)
    queries = x if exclude_self else x[rng.choice(len(x), 25, replace=False)]
    for k, budget in ((1, 10**9), (7, 10**9), (7, 1), (len(x) - int(exclude_self), 10**9)):  # budget 1: one row
        idx, dist = knn(queries, x, k, metric=metric, exclude_self=exclude_self, memory_budget=budget)
        ref_idx, ref_dist = brute_knn(queries, x, k, metric, exclude_self)
        assert idx.dtype == torch.int64 and idx.shape == (len(queries), k)
        np.testing.assert_array_equal(idx.numpy(), ref_idx)
        np.testing.assert_allclose(dist.numpy(), ref_dist, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_knn_on_continuous_data(rng, dtype):
    ref = rng.normal(size=(300, 16))
    q = rng.normal(size=(40, 16))
    idx, dist = knn(torch.from_numpy(q), torch.from_numpy(ref), 10, metric="euclidean", dtype=dtype)
    ref_idx, ref_dist = brute_knn(q, ref, 10, "euclidean", False)
    np.testing.assert_array_equal(idx.numpy(), ref_idx)
    np.testing.assert_allclose(dist.numpy(), ref_dist, atol=1e-12)


def test_top_k_by_index_equals_stable_sort(rng):
    # Pairs, runs and ties across the cut, in float32.
    scores = torch.from_numpy(rng.integers(0, 6, size=(30, 40)).astype(np.float32))
    scores[3, 5] = -torch.inf
    for depth in (1, 4, 39, 40):
        got = top_k_by_index(scores.clone(), depth)
        ref = np.argsort(-scores.numpy(), axis=1, kind="stable")[:, :depth]
        np.testing.assert_array_equal(got.numpy(), ref)


def test_top_k_by_index_of_permuted_columns_orders_ties_by_id(rng):
    # Columns stored in another order (ids[j] is column j's id): the same ids as the scores in id order.
    scores = torch.from_numpy(rng.integers(0, 6, size=(30, 40)).astype(np.float32))
    scores[3, 5] = -torch.inf
    ids = torch.from_numpy(rng.permutation(40))
    columns = torch.argsort(ids)
    for depth in (1, 4, 39, 40):
        ref = np.argsort(-scores.numpy(), axis=1, kind="stable")[:, :depth]
        for inverse in (columns, None):  # the inverse given, or derived
            got = top_k_by_index(scores[:, ids].clone(), depth, ids, inverse)
            np.testing.assert_array_equal(got.numpy(), ref)


def test_rank_keys_order_like_score_then_index(rng):
    values = np.concatenate([rng.normal(size=200), rng.integers(-3, 4, size=200), [0.0, -0.0, -np.inf, 1e-40]])
    values = values.astype(np.float32)
    cols = rng.permutation(len(values) * 3)[: len(values)].astype(np.int64)
    keys = rank_keys(torch.from_numpy(values), torch.from_numpy(cols)).numpy()
    expected = np.lexsort((cols, -values.astype(np.float64)))  # score descending, then index ascending
    np.testing.assert_array_equal(np.argsort(-keys, kind="stable"), expected)
    assert len(np.unique(keys)) == len(keys)
    np.testing.assert_array_equal(key_columns(torch.from_numpy(-keys), len(values) * 3).numpy(), cols)


def test_knn_bad_inputs(rng):
    x = rng.normal(size=(10, 3))
    with pytest.raises(ConfigError, match=r"k: 10 is outside 1\.\.9"):
        knn(x, x, 10, exclude_self=True)
    with pytest.raises(ConfigError, match=r"k: 0 is outside 1\.\.10"):
        knn(x, x, 0)
    with pytest.raises(ConfigError, match="exclude_self: 4 queries are not the 10 references"):
        knn(x[:4], x, 2, exclude_self=True)
    with pytest.raises(DataError, match="queries: dimension 2 is not the references' 3"):
        knn(x[:, :2], x, 2)
    with pytest.raises(ConfigError, match="metric: 'manhattan' is not supported for neighbours"):
        knn(x, x, 2, metric="manhattan")
    with pytest.raises(ConfigError, match="dtype: torch.float16 is not supported for neighbours"):
        knn(x, x, 2, dtype=torch.float16)
    zero = x.copy()
    zero[3] = 0.0
    with pytest.raises(DataError, match="queries: some rows are all zeros"):
        knn(zero, x, 2)
