"""k-NN review against NumPy brute force: neighbours, votes, confusion counts, mistakes and typical examples."""

from collections import Counter

import numpy as np
import pytest
import torch

from latentatlas.analysis import confusion
from latentatlas.analysis.confusion import confusion_matrix, knn_predict, knn_review, nearest_neighbours
from latentatlas.analysis.retrieval import retrieval_metrics
from latentatlas.errors import ConfigError, DataError


def brute_distances(x, metric):
    x = np.asarray(x, np.float64)
    if metric == "cosine":
        u = x / np.linalg.norm(x, axis=1, keepdims=True)
        d = 1.0 - u @ u.T
    else:
        d = np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    return d


def brute_neighbours(x, k, metric):
    d = brute_distances(x, metric)
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]  # ties by index
    return idx, np.take_along_axis(d, idx, axis=1)


def brute_vote(neighbour_labels):
    out = []
    for row in neighbour_labels:
        counts = Counter(row.tolist())
        top = max(counts.values())
        out.append(next(c for c in row.tolist() if counts[c] == top))  # the nearest of the tied classes
    return np.array(out)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_neighbours_equal_brute_force(rng, metric):
    x = rng.normal(size=(130, 7)) + rng.normal(size=7)
    idx, dist = nearest_neighbours(x, 9, metric)
    ref_idx, ref_dist = brute_neighbours(x, 9, metric)
    assert np.array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-9, atol=1e-12)


def exact_rows(rng, metric):
    """Rows whose distances are exact in any summation order, with duplicates, so ties are exact ties.

    Cosine: entries in {-1, 0, 1} with 1 or 4 non-zeros in 4-D, so unit rows hold 0, +-1 or +-0.5. Euclidean: small
    integers and their negatives (mean exactly 0, so centring changes nothing)."""
    if metric == "cosine":
        pool = np.concatenate([np.eye(4), -np.eye(4), rng.choice([-1.0, 1.0], size=(12, 4))])
        base = pool[rng.integers(0, len(pool), size=20)]
        return np.concatenate([base, base, base[:5]])
    base = rng.integers(-2, 3, size=(20, 3)).astype(np.float64)
    return np.concatenate([base, base, -base, -base])


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_equal_distances_are_ordered_by_index_also_across_blocks_and_the_cut(rng, monkeypatch, metric):
    x = exact_rows(rng, metric)
    monkeypatch.setattr(confusion, "BLOCK_BYTES", 8 * len(x) * 7)  # blocks of 7 rows
    for k in (1, 2, 3, 6):
        idx, dist = nearest_neighbours(x, k, metric)
        assert np.array_equal(idx, brute_neighbours(x, k, metric)[0]), k
    assert (dist[:, 1:] == dist[:, :-1]).any()  # the data does tie


def test_vote_and_confusion_equal_a_plain_count(rng):
    labels = rng.integers(0, 4, size=300)
    neighbour_labels = rng.integers(0, 4, size=(300, 6))
    pred = knn_predict(neighbour_labels, 4)
    assert np.array_equal(pred, brute_vote(neighbour_labels))
    counts = np.zeros((4, 4), dtype=np.int64)
    for t, p in zip(labels, pred):
        counts[t, p] += 1
    assert np.array_equal(confusion_matrix(labels, pred, 4), counts)


def test_review_accuracy_is_the_retrieval_knn_accuracy(rng):
    labels = np.repeat(np.arange(5), 40)
    x = rng.normal(size=(200, 6)) + 0.8 * np.eye(6)[labels]
    review = knn_review(x, labels, k=7, metric="cosine")
    pred = brute_vote(labels[brute_neighbours(x, 7, "cosine")[0]])
    assert np.array_equal(review.predictions, pred)
    assert review.confusion.sum() == 200 and np.array_equal(review.confusion.sum(1), np.bincount(labels))
    r = retrieval_metrics(torch.from_numpy(x), labels, metric="cosine", k=1, knn_k=7, dtype=torch.float64)
    assert review.accuracy == pytest.approx(r["knn_accuracy"], abs=1e-12)


def test_mistakes_are_queries_whose_nearest_neighbour_has_another_class(rng):
    labels = np.repeat(np.arange(3), 30)
    x = rng.normal(size=(90, 4)) + 0.7 * np.eye(4)[labels]
    review = knn_review(x, labels, k=5, metric="euclidean")
    idx, dist = brute_neighbours(x, 5, "euclidean")
    wrong = set(np.flatnonzero(labels[idx[:, 0]] != labels).tolist())
    got = review.mistakes(n=1000)
    assert set(got.tolist()) == wrong and len(got) == len(wrong)
    share = (labels[idx] == labels[:, None]).mean(1)
    keys = [(share[q], dist[q, 0], q) for q in got]
    assert keys == sorted(keys)  # most other-class neighbours first, then the nearest first neighbour
    capped = review.mistakes(n=1000, per_class=2)
    assert max(Counter(labels[capped].tolist()).values()) <= 2
    assert list(capped) == [q for q in got if q in set(capped.tolist())]


def test_typical_are_the_best_retrieved_of_each_class(rng):
    labels = np.repeat(np.arange(3), 25)
    x = rng.normal(size=(75, 4)) + 1.5 * np.eye(4)[labels]
    review = knn_review(x, labels, k=4)
    idx, dist = brute_neighbours(x, 4, "cosine")
    share, mean_d = (labels[idx] == labels[:, None]).mean(1), dist.mean(1)
    typical = review.typical(per_class=2)
    assert labels[typical].tolist() == [0, 0, 1, 1, 2, 2]
    for c in range(3):
        members = np.flatnonzero(labels == c)
        ranked = sorted(members, key=lambda q: (-share[q], mean_d[q], q))
        assert typical[2 * c : 2 * c + 2].tolist() == ranked[:2]


def test_confused_pairs_are_the_largest_off_diagonal_counts():
    labels = np.array([0] * 10 + [1] * 10 + [2] * 10)
    review = knn_review(np.eye(30) + 1.0, labels, k=1)  # stand-in; the counts are set below
    review.confusion = np.array([[6, 4, 0], [1, 9, 0], [0, 3, 7]])
    assert review.confused_pairs(2) == [(0, 1, 4, 0.4), (2, 1, 3, 0.3)]


def test_bad_input_is_named():
    x = np.ones((4, 2))
    with pytest.raises(ConfigError, match="k: 4 is outside 1..3"):
        nearest_neighbours(x, 4)
    with pytest.raises(ConfigError, match="metric: 'manhattan'"):
        nearest_neighbours(x, 1, "manhattan")
    with pytest.raises(DataError, match="all zeros"):
        nearest_neighbours(np.zeros((3, 2)), 1)
    with pytest.raises(DataError, match="NaN or inf"):
        nearest_neighbours(np.array([[1.0, np.nan], [1.0, 2.0]]), 1)
    with pytest.raises(DataError, match="class codes 0..C-1"):
        knn_review(x, np.array(["a", "b", "a", "b"]), k=1)
