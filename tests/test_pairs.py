"""roc_auc against brute-force pair counting and scikit-learn; pair_metrics against per-triplet loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from latentatlas.analysis.pairs import pair_metrics, roc_auc
from latentatlas.errors import DataError


def auc_by_counting(scores: np.ndarray, targets: np.ndarray) -> float:
    pos, neg = scores[targets == 1], scores[targets == 0]
    wins = sum(1.0 if sp > sn else 0.5 if sp == sn else 0.0 for sp in pos for sn in neg)
    return wins / (len(pos) * len(neg))


@pytest.mark.parametrize("ties", [False, True])
def test_roc_auc_matches_pair_counting_and_sklearn(rng, ties):
    targets = rng.integers(0, 2, size=150)
    targets[:2] = [0, 1]
    scores = rng.normal(size=150) + 0.7 * targets
    if ties:
        scores = np.round(scores, 1)  # many exact ties, inside and across the two groups
    got = roc_auc(scores, targets)
    assert got == pytest.approx(auc_by_counting(scores, targets), abs=1e-12)
    assert got == pytest.approx(roc_auc_score(targets, scores), abs=1e-12)


def test_roc_auc_invariant_to_monotone_transform_and_order(rng):
    targets = rng.integers(0, 2, size=80)
    targets[:2] = [0, 1]
    scores = rng.normal(size=80)
    perm = rng.permutation(80)
    assert roc_auc(np.exp(3 * scores), targets) == pytest.approx(roc_auc(scores, targets), abs=1e-12)
    assert roc_auc(scores[perm], targets[perm].astype(bool)) == pytest.approx(roc_auc(scores, targets), abs=1e-12)
    assert roc_auc(-scores, targets) == pytest.approx(1 - roc_auc(scores, targets), abs=1e-12)


def test_pair_metrics_match_per_triplet_loops(rng):
    t, d = 60, 5
    a = rng.normal(size=(t, d))
    p = a + 0.8 * rng.normal(size=(t, d))
    n = rng.normal(size=(t, d))
    got = pair_metrics(torch.from_numpy(a).float(), p.astype(np.float32), n.astype(np.float32))
    a, p, n = a.astype(np.float32).astype(np.float64), p.astype(np.float32), n.astype(np.float32)

    def cos(u, v):
        return float(u @ v) / math.sqrt(float(u @ u) * float(v @ v))

    cap = [cos(a[i], p[i]) for i in range(t)]
    can = [cos(a[i], n[i]) for i in range(t)]
    assert got["mean_cos_ap"] == pytest.approx(np.mean(cap), abs=1e-7)
    assert got["mean_cos_an"] == pytest.approx(np.mean(can), abs=1e-7)
    assert got["mean_dist_ap"] == pytest.approx(np.mean([np.linalg.norm(a[i] - p[i]) for i in range(t)]), abs=1e-6)
    assert got["mean_dist_an"] == pytest.approx(np.mean([np.linalg.norm(a[i] - n[i]) for i in range(t)]), abs=1e-6)
    assert got["good_triplet_ratio"] == pytest.approx(np.mean([cap[i] > can[i] for i in range(t)]))
    scores, targets = np.r_[cap, can], np.r_[np.ones(t), np.zeros(t)]
    assert got["pair_auc"] == pytest.approx(auc_by_counting(scores, targets), abs=1e-9)


def test_bad_inputs_raise(rng):
    with pytest.raises(DataError, match="targets hold a single class"):
        roc_auc([0.1, 0.2], [1, 1])
    with pytest.raises(DataError, match="targets must be 0/1"):
        roc_auc([0.1, 0.2], [1, 2])
    with pytest.raises(DataError, match="3 scores but 2 targets"):
        roc_auc([0.1, 0.2, 0.3], [0, 1])
    a = rng.normal(size=(4, 3))
    with pytest.raises(DataError, match=r"triplets: shapes \(4, 3\), \(4, 3\), \(3, 3\) differ"):
        pair_metrics(a, a, a[:3])
