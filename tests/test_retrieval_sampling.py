"""retrieval_metrics(queries=Q): stratified sample, exact per query, 95% intervals that cover the full-N value."""

from __future__ import annotations

import numpy as np
import pytest

from latentatlas.analysis.retrieval import retrieval_metrics
from latentatlas.analysis.retrieval_sampling import stratified_queries
from latentatlas.errors import ConfigError, DataError

METRICS = ("precision_at_1", "r_precision", "mean_average_precision_at_r", "recall_at_1", "recall_at_5", "knn_accuracy")


def overlapping(rng: np.random.Generator, n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping clusters of unequal sizes, several tiny classes and two lone points: metrics well inside (0, 1)."""
    sizes = [n * 25 // 60, n * 15 // 60, n * 10 // 60, n * 6 // 60, 20, 6, 5, 4, 3]
    sizes[0] += n - 2 - sum(sizes)
    labels = np.concatenate([np.repeat(np.arange(len(sizes)), sizes), [50, 51]])
    rng.shuffle(labels)
    x = rng.normal(size=(60, 8))[labels] * 0.7 + rng.normal(size=(len(labels), 8))
    return x.astype(np.float32), labels


def test_interval_covers_the_full_value(rng):
    x, labels = overlapping(rng)
    full = retrieval_metrics(x, labels, k=(1, 5))
    covered = dict.fromkeys(METRICS, 0)
    widths = []
    for seed in range(50):
        est = retrieval_metrics(x, labels, k=(1, 5), queries=120, seed=seed)
        assert est["estimate"] is True and est["queries"] == 120 and est["n_references"] == len(x)
        assert est["n_queries"] + est["n_lone_queries"] == 120
        for key in METRICS:
            lo, hi = est[f"{key}_ci"]
            assert 0.0 <= lo <= est[key] <= hi <= 1.0, key
            covered[key] += lo <= full[key] <= hi
            widths.append(hi - lo)
    assert all(c >= 45 for c in covered.values()), covered  # >= 90% of 50 trials
    assert 0.0 < np.median(widths) < 0.4


def test_all_queries_is_the_exact_computation(rng):
    x, labels = overlapping(rng, n=300)
    exact = retrieval_metrics(x, labels, k=(1, 5))
    est = retrieval_metrics(x, labels, k=(1, 5), queries=len(x), seed=3)
    for key in METRICS:
        assert est[key] == pytest.approx(exact[key], abs=1e-12), key
        assert est[f"{key}_ci"] == [pytest.approx(exact[key], abs=1e-12)] * 2, key
    assert est["n_queries"] == exact["n_queries"] and est["n_lone_queries"] == exact["n_lone_queries"] == 2


def test_stratified_allocation(rng):
    labels = np.concatenate([np.repeat(np.arange(6), [400, 300, 200, 60, 30, 10]), np.arange(6, 16)])
    codes = np.unique(labels, return_inverse=True)[1]
    n = len(codes)
    for q in (1, 7, 50, 333, n):
        s = stratified_queries(codes, q, seed=int(rng.integers(1000)))
        assert len(s.rows) == q == s.taken.sum() and len(np.unique(s.rows)) == q
        assert (s.taken <= s.sizes).all() and s.sizes.sum() == n
        np.testing.assert_array_equal(np.bincount(s.stratum, minlength=len(s.sizes)), s.taken)
        own = s.sizes[:-1] if len(s.sizes) > 1 else s.sizes
        assert (np.abs(s.taken[: len(own)] - q * own / n) <= 2).all()  # proportional (+- a moved query)
    s = stratified_queries(codes, 50, seed=0)  # 50 / 1010: classes under 41 points share the last stratum
    assert len(s.sizes) == 5 and s.sizes[-1] == 30 + 10 + 10 and s.taken[-1] >= 2
    again = stratified_queries(codes, 50, seed=0)
    np.testing.assert_array_equal(s.rows, again.rows)  # seeded


def test_bad_query_counts(rng):
    x, labels = overlapping(rng, n=300)
    for q in (0, -3, len(x) + 1, True, 2.5):
        with pytest.raises(ConfigError, match=rf"queries: {q!r} is outside 1\.\.{len(x)}"):
            retrieval_metrics(x, labels, queries=q)


def test_sample_without_a_partner_raises(rng):
    # Two points share a class, the rest are alone: find a seed whose 2 queries are both lone points.
    labels = np.concatenate([[0, 0], np.arange(1, 199)])
    x = rng.normal(size=(200, 4))
    codes = np.unique(labels, return_inverse=True)[1]
    seed = next(s for s in range(100) if (stratified_queries(codes, 2, s).rows >= 2).all())
    with pytest.raises(DataError, match="queries: none of the 2 sampled queries has another member of its class"):
        retrieval_metrics(x, labels, queries=2, seed=seed)
    est = retrieval_metrics(x, labels, k=1, knn_k=1, queries=200)  # all of them: the pair is scored
    assert est["n_queries"] == 2 and est["n_lone_queries"] == 198
