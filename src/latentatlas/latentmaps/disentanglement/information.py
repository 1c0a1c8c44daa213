"""Discrete entropy and mutual information from joint histograms (counts), in nats.

`mutual_information` is the plug-in estimate `I(a; b) = sum_ab p(a, b) log(p(a, b) / (p(a) p(b)))` over the
joint histogram of two label columns, the quantity scikit-learn's `mutual_info_score` returns and the one MIG
(Chen et al. 2018) uses through disentanglement_lib's `discrete_mutual_info`.
"""

from __future__ import annotations

import numpy as np


def joint_counts(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Contingency table of two label columns a, b: (N,) ints >= 0 -> (max(a) + 1, max(b) + 1) int64 counts."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    na, nb = int(a.max()) + 1, int(b.max()) + 1
    return np.bincount(a * nb + b, minlength=na * nb).reshape(na, nb)


def _mi_from_counts(counts: np.ndarray) -> float:
    p = counts / counts.sum()  # (A, B)
    pa, pb = p.sum(axis=1, keepdims=True), p.sum(axis=0, keepdims=True)
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / (pa @ pb)[nz])))


def mutual_information(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Mutual information of every (latent, factor) pair of label columns.

    Args:
        codes: (N, L) int labels (e.g. histogram bins of the latent codes).
        factors: (N, K) int labels of the factors.

    Returns:
        (L, K) float64, nats; >= 0 up to rounding (clipped at 0).
    """
    codes, factors = np.asarray(codes), np.asarray(factors)
    out = np.zeros((codes.shape[1], factors.shape[1]))
    for i in range(codes.shape[1]):
        for j in range(factors.shape[1]):
            out[i, j] = _mi_from_counts(joint_counts(codes[:, i], factors[:, j]))
    return np.maximum(out, 0.0)


def entropy(labels: np.ndarray) -> np.ndarray:
    """Plug-in entropy `H = -sum p log p` of each label column: (N, K) ints -> (K,) float64 nats."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.zeros(labels.shape[1])
    for j in range(labels.shape[1]):
        p = np.bincount(labels[:, j]) / len(labels)
        p = p[p > 0]
        out[j] = float(-np.sum(p * np.log(p)))
    return out
